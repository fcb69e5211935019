"""The HTTP API's trust rules over a real gateway (SQLite, no mail sent): key scopes,
`[security] allowed_recipients`, encoded-word header injection and deep JSON (issue 10)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from hl_email.api import MAX_JSON_DEPTH, create_app
from hl_email.config import ConfigError, load_config
from hl_email.gateway import Gateway

AGENT_KEY = "agent-key-for-unit-tests"
APPROVER_KEY = "approver-key-for-unit-tests"
ADMIN_KEY = "admin-key-for-unit-tests"
SECRET = "unit-test-secret-0123456789-abcdefgh"
ALICE = "alice@corp.test"
V1 = "/humanlayer/v1"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _no_send(mail_from: str, rcpt_to: list[str], data: bytes) -> None:
    return None


Api = Callable[..., Any]


@pytest.fixture
def api(tmp_path) -> Api:
    @asynccontextmanager
    async def make(**security: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
        config = load_config(
            None,
            agent={"address": "agent@example.test"},
            imap={"enabled": False},
            store={"url": f"sqlite:///{tmp_path / 'api.db'}"},
            security={"secret": SECRET, **security},
            api={
                "api_keys": [AGENT_KEY],
                "approver_keys": [APPROVER_KEY],
                "admin_keys": [ADMIN_KEY],
            },
        )
        gateway = Gateway(config, send=_no_send)
        await gateway.start(inbound=False, outbox=False, timers=False)
        app = create_app(gateway, config)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as client:
                yield client, gateway
        finally:
            await gateway.stop()

    return make


def fc(call_id: str, address: str = ALICE, **spec: Any) -> dict[str, Any]:
    channel = spec.pop("channel", {"email": {"address": address}})
    return {
        "run_id": "r",
        "call_id": call_id,
        "spec": {"fn": "send_refund", "kwargs": {"amount": 1}, "channel": channel, **spec},
    }


# -- scopes ---------------------------------------------------------------------------------------


async def test_agent_key_cannot_respond_approver_key_can(api):
    async with api() as (http, gateway):
        r = await http.post(f"{V1}/function_calls", json=fc("s-1"), headers=auth(AGENT_KEY))
        assert r.status_code == 200, r.text
        for path, body in (
            ("function_calls/s-1/respond", {"approved": True, "comment": "self-approved"}),
            ("human_contacts/s-1/respond", {"response": "yes"}),
        ):
            r = await http.post(f"{V1}/agent/{path}", json=body, headers=auth(AGENT_KEY))
            assert r.status_code == 403, r.text
            assert "approver_keys" in r.json()["detail"]
            assert "cannot approve or answer its own calls" in r.json()["detail"]
        row = await gateway.store.get_request(call_id="s-1")
        assert row is not None and row.state == "pending" and "approved" not in row.status
        # The admin console may read, but not answer.
        r = await http.get(f"{V1}/function_calls/s-1", headers=auth(ADMIN_KEY))
        assert r.status_code == 200
        r = await http.post(
            f"{V1}/agent/function_calls/s-1/respond",
            json={"approved": True},
            headers=auth(ADMIN_KEY),
        )
        assert r.status_code == 403
        # An approver key answers on a human's behalf, and may read, but not create.
        r = await http.post(
            f"{V1}/agent/function_calls/s-1/respond",
            json={"approved": False, "comment": "no"},
            headers=auth(APPROVER_KEY),
        )
        assert r.status_code == 200 and r.json()["status"]["approved"] is False
        r = await http.get(f"{V1}/function_calls/s-1", headers=auth(APPROVER_KEY))
        assert r.status_code == 200
        for key in (APPROVER_KEY, ADMIN_KEY):
            r = await http.post(f"{V1}/function_calls", json=fc("s-2"), headers=auth(key))
            assert r.status_code == 403 and "api_keys" in r.json()["detail"]
            r = await http.post(
                f"{V1}/agent/function_calls/s-1/escalate_email",
                json={"escalation_msg": "x"},
                headers=auth(key),
            )
            assert r.status_code == 403
        assert await gateway.store.get_request(call_id="s-2") is None
        r = await http.post(f"{V1}/function_calls", json=fc("s-3"), headers=auth("wrong"))
        assert r.status_code == 401


def test_a_key_in_both_agent_and_approver_lists_is_refused():
    with pytest.raises(ConfigError, match="approve its own calls"):
        load_config(None, api={"api_keys": ["same-key"], "approver_keys": ["same-key"]})
    config = load_config(None)
    assert config.api.approver_keys == [] and config.api.admin_keys == []


# -- allowed_recipients ---------------------------------------------------------------------------


async def test_allowed_recipients_limit_every_address_the_agent_supplies(api):
    async with api(allowed_recipients=["@corp.test", "auditor@partner.test"]) as (http, gateway):
        ok = await http.post(f"{V1}/function_calls", json=fc("a-1"), headers=auth(AGENT_KEY))
        assert ok.status_code == 200, ok.text
        r = await http.post(
            f"{V1}/function_calls", json=fc("a-2", "mallory@evil.test"), headers=auth(AGENT_KEY)
        )
        assert r.status_code == 400
        assert "mallory@evil.test" in r.json()["detail"]
        assert "allowed_recipients" in r.json()["detail"]
        extra = {
            "email": {
                "address": ALICE,
                "additional_recipients": [
                    {"address": "auditor@partner.test"},
                    {"address": "mallory@corp.test.evil.test", "field": "bcc"},
                ],
            }
        }
        r = await http.post(
            f"{V1}/function_calls", json=fc("a-3", channel=extra), headers=auth(AGENT_KEY)
        )
        assert r.status_code == 400 and "mallory@corp.test.evil.test" in r.json()["detail"]
        assert "additional_recipients[1]" in r.json()["detail"]
        r = await http.post(
            f"{V1}/contact_requests",
            json={
                "run_id": "r",
                "call_id": "a-4",
                "spec": {"msg": "q?", "channel": {"email": {"address": "x@evil.test"}}},
            },
            headers=auth(AGENT_KEY),
        )
        assert r.status_code == 400 and "x@evil.test" in r.json()["detail"]
        for body in (
            {"escalation_msg": "help", "additional_recipients": [{"address": "m@evil.test"}]},
            {"escalation_msg": "help", "channel": {"email": {"address": "m@evil.test"}}},
        ):
            r = await http.post(
                f"{V1}/agent/function_calls/a-1/escalate_email", json=body, headers=auth(AGENT_KEY)
            )
            assert r.status_code == 400 and "m@evil.test" in r.json()["detail"], r.text
        recipients = await gateway.store.get_recipients(
            (await gateway.store.get_request(call_id="a-1")).id
        )
        assert [r.address for r in recipients] == [ALICE]
        for call_id in ("a-2", "a-3", "a-4"):
            assert await gateway.store.get_request(call_id=call_id) is None
        r = await http.post(
            f"{V1}/agent/function_calls/a-1/escalate_email",
            json={"escalation_msg": "help", "additional_recipients": [{"address": "b@corp.test"}]},
            headers=auth(AGENT_KEY),
        )
        assert r.status_code == 200, r.text


# -- header injection through the API -------------------------------------------------------------

INJECT = "=?utf-8?q?x=0D=0ABcc:_mallory@evil.test?="


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (fc("h-1", fn=f"refund{INJECT}"), "fn"),
        (fc("h-2", channel={"email": {"address": ALICE, "subject": INJECT}}), "subject"),
        (
            fc("h-3", channel={"email": {"address": ALICE, "in_reply_to_message_id": INJECT}}),
            "in_reply_to",
        ),
        (fc("h-4", channel={"email": {"address": f"{INJECT}@corp.test"}}), "address"),
        (
            fc("h-5", channel={"email": {"address": ALICE, "references_message_id": INJECT}}),
            "references",
        ),
        (
            fc(
                "h-6",
                channel={
                    "email": {
                        "address": ALICE,
                        "additional_recipients": [{"address": f"{INJECT}@corp.test"}],
                    }
                },
            ),
            "additional_recipients[0]",
        ),
    ],
)
async def test_encoded_line_breaks_are_a_400_naming_the_field(api, body, field):
    async with api() as (http, gateway):
        r = await http.post(f"{V1}/function_calls", json=body, headers=auth(AGENT_KEY))
        assert r.status_code == 400, r.text
        assert field in r.json()["detail"] and "encoded word" in r.json()["detail"]
        assert await gateway.store.list_requests() == []


async def test_question_subject_through_the_api(api):
    async with api() as (http, gateway):
        contact = {
            "run_id": "r",
            "call_id": "hq-1",
            "spec": {"msg": "q?", "subject": INJECT, "channel": {"email": {"address": ALICE}}},
        }
        r = await http.post(f"{V1}/contact_requests", json=contact, headers=auth(AGENT_KEY))
        assert r.status_code == 400 and "'subject'" in r.json()["detail"], r.text
        # The first line of the question is neutralised: the ask is created, with no Bcc.
        contact["call_id"] = "hq-2"
        contact["spec"] = {"msg": f"{INJECT}\nmore", "channel": {"email": {"address": ALICE}}}
        r = await http.post(f"{V1}/contact_requests", json=contact, headers=auth(AGENT_KEY))
        assert r.status_code == 200, r.text
        row = await gateway.store.get_request(call_id="hq-2")
        [ask] = await gateway.store.outbox_for_request(row.id)
        head = ask.message.split(b"\r\n\r\n", 1)[0]
        assert b"\r\nBcc:" not in head and b"\r\nReply-To:" not in head


# -- deep JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 5, 100_000])
async def test_deeply_nested_json_is_a_400_not_a_500(api, depth):
    async with api() as (http, gateway):
        nested = "[" * depth + "]" * depth
        raw = json.dumps(fc("d-1")).replace('"amount": 1', f'"amount": {nested}')
        r = await http.post(
            f"{V1}/function_calls",
            content=raw.encode(),
            headers={**auth(AGENT_KEY), "content-type": "application/json"},
        )
        assert r.status_code == 400, r.text[:200]
        assert "nested deeper" in r.json()["detail"]
        assert await gateway.store.list_requests() == []
        ok = fc("d-2", kwargs={"a": {"b": {"c": [1, [2, [3]]]}}})
        r = await http.post(f"{V1}/function_calls", json=ok, headers=auth(AGENT_KEY))
        assert r.status_code == 200, r.text
