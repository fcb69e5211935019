"""Cancel over the real mail stack: the SDK's timeout cancels (HTTP and in-process), the humans
are told in the thread, a late answer changes nothing and is told so, a vanished waiter cancels
nothing, and `hl-email requests cancel` works with and without a running gateway."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest
from hl_email_sdk import (
    AsyncHumanLayer,
    ContactChannel,
    EmailContactChannel,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContactSpec,
    HumanLayer,
    HumanLayerTimeoutError,
    RequestCancelledError,
)

from hl_email.api import API_PREFIX, ApiServer
from hl_email.gateway import Gateway

ALICE = "alice@corp.test"
KEY = "agent-key"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))


def containing(needle: str):
    def match(msg) -> bool:
        part = msg.get_body(preferencelist=("plain", "html"))
        return part is not None and needle in part.get_content()

    return match


@pytest.fixture
async def served(gateway_config):
    cfg = gateway_config(api={"host": "127.0.0.1", "port": 0, "api_keys": [KEY]})
    gateway = Gateway(cfg)
    await gateway.start()
    server = ApiServer(gateway, cfg)
    await server.start()
    try:
        yield gateway, server.base_url + API_PREFIX, cfg
    finally:
        await server.stop()
        await gateway.stop()


async def test_http_timeout_cancels_and_a_late_answer_is_told_so(served, mail_client):
    gateway, base, _ = served
    alice = mail_client(ALICE)
    hl = AsyncHumanLayer(api_base_url=base, api_key=KEY, run_id="cancel-agent")
    ran: list[int] = []

    @hl.require_approval(contact_channel=CHANNEL, timeout=0.5)
    async def wire_money(usd: int) -> str:
        ran.append(usd)
        return "wired"

    result = await wire_money(usd=900)
    assert result.startswith("Error fetching approval for wire_money: no approval")
    assert "cancelled" in result
    ask = await alice.wait_for_message(containing("wire_money"))
    note = await alice.wait_for_message(containing("no longer needed"))
    assert note.msg["In-Reply-To"] == ask.msg["Message-ID"]
    (row,) = await gateway.store.list_requests()
    assert row.state == "failed" and row.status["cancelled"] is True
    assert row.status["approved"] is False  # an SDK that knows no cancel reads a denial

    await alice.reply(ask, "Approved, go ahead.", style="gmail")
    late = await alice.wait_for_message(containing("cancelled by the agent"))
    assert "will go ahead" not in late.text()
    row = await gateway.store.get_request(call_id=row.call_id)
    assert row.status["approved"] is False and row.state == "failed"
    inbound = await gateway.store.list_inbound(request_id=row.id)
    assert [i.outcome for i in inbound] == ["late"]
    assert ran == []
    await hl.close()


async def test_cancel_on_timeout_false_keeps_the_request_open(served, mail_client):
    gateway, base, _ = served
    alice = mail_client(ALICE)
    async with AsyncHumanLayer(api_base_url=base, api_key=KEY) as hl:
        call = await hl.create_function_call(
            FunctionCallSpec(fn="deploy", kwargs={"env": "prod"}, channel=CHANNEL)
        )
        with pytest.raises(HumanLayerTimeoutError, match="stays open"):
            await hl.wait_for_approval(call.call_id, timeout=0.3, cancel_on_timeout=False)
        assert (await gateway.store.get_request(call_id=call.call_id)).state == "pending"
        ask = await alice.wait_for_message(containing("deploy"))
        await alice.reply(ask, "approve")
        done = await hl.wait_for_approval(call.call_id, timeout=30)
        assert done.call.status.approved is True


async def test_explicit_cancel_wakes_the_waiter_and_tells_every_recipient(
    gateway_config, mail_client
):
    bob = "bob@corp.test"
    channel = ContactChannel(
        email=EmailContactChannel(
            address=ALICE, additional_recipients=[{"address": bob, "field": "cc"}]
        )
    )
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        contact = await hl.create_human_contact(
            HumanContactSpec(msg="Which region should we use?", channel=channel)
        )
        waiter = asyncio.create_task(hl.wait_for_human_response(contact.call_id, timeout=60))
        await mail_client(ALICE).wait_for_message(containing("Which region"))
        cancelled = await hl.cancel_human_contact(contact.call_id, "found it in the wiki")
        assert cancelled.status.cancelled is True
        assert "found it in the wiki" in cancelled.status.error
        with pytest.raises(RequestCancelledError, match="found it in the wiki"):
            await asyncio.wait_for(waiter, 30)
        for address in (ALICE, bob):
            await mail_client(address).wait_for_message(containing("no longer needed"))
        again = await hl.cancel_human_contact(contact.call_id)  # idempotent
        assert again.status.cancelled is True
        timers = await hl.transport.gateway.store.next_timer_due()
        assert timers is None


async def test_a_vanished_waiter_cancels_nothing(served, mail_client):
    gateway, base, _ = served
    async with AsyncHumanLayer(api_base_url=base, api_key=KEY) as hl:
        call = await hl.create_function_call(
            FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL)
        )
        waiter = asyncio.create_task(hl.wait_for_approval(call.call_id, timeout=60))
        for _ in range(400):  # the long-poll is parked on the gateway
            if gateway.waiters.futures.get(call.call_id):
                break
            await asyncio.sleep(0.01)
        assert gateway.waiters.futures.get(call.call_id)
        waiter.cancel()  # the agent process goes away mid-wait
        with pytest.raises(asyncio.CancelledError):
            await waiter
        for _ in range(400):
            if not gateway.waiters.futures.get(call.call_id):
                break
            await asyncio.sleep(0.01)
        assert not gateway.waiters.futures.get(call.call_id)
        assert (await gateway.store.get_request(call_id=call.call_id)).state == "pending"
        # ... and waiting resumes by call_id, then an answer decides as usual.
        alice = mail_client(ALICE)
        ask = await alice.wait_for_message(containing("deploy"))
        await alice.reply(ask, "approve")
        assert (await hl.wait_for_approval(call.call_id, timeout=30)).call.status.approved


async def test_cancel_endpoint_rules(served):
    gateway, base, _ = served
    async with AsyncHumanLayer(api_base_url=base, api_key=KEY) as hl:
        call = await hl.create_function_call(
            FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL)
        )
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}) as client:
        wrong_kind = await client.post(f"{base}/agent/human_contacts/{call.call_id}/cancel")
        assert wrong_kind.status_code == 404
        no_key = await client.post(
            f"{base}/agent/function_calls/{call.call_id}/cancel", headers={"Authorization": ""}
        )
        assert no_key.status_code == 401
        bad = await client.post(
            f"{base}/agent/function_calls/{call.call_id}/cancel", json={"reason": 5}
        )
        assert bad.status_code == 422
        ok = await client.post(f"{base}/agent/function_calls/{call.call_id}/cancel")
        assert ok.status_code == 200 and ok.json()["status"]["cancelled"] is True
        assert ok.headers["X-HL-Email-State"] == "failed"
        call2 = await client.post(
            f"{base}/function_calls",
            json={
                "run_id": "r",
                "call_id": "decided-1",
                "spec": {"fn": "f", "kwargs": {}, "channel": CHANNEL.model_dump()},
            },
        )
        assert call2.status_code == 200
    await gateway.respond_to_function_call("decided-1", FunctionCallStatus(approved=True))
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}) as client:
        decided = await client.post(f"{base}/agent/function_calls/decided-1/cancel")
        assert decided.status_code == 400 and "already done" in decided.json()["detail"]


async def test_sync_twin_cancels_on_timeout_and_explicitly(gateway_config, mail_client):
    cfg = gateway_config()

    def agent() -> tuple[str, str]:
        with HumanLayer.local(config=cfg) as hl:
            with pytest.raises(HumanLayerTimeoutError) as timed_out:
                hl.fetch_approval(
                    FunctionCallSpec(fn="drop_table", kwargs={}, channel=CHANNEL), timeout=0.3
                )
            first = str(timed_out.value)
            row = hl._loop.run(hl._core.transport.gateway.store.list_requests())[0]
            assert row.status.get("cancelled") is True
            call = hl.create_function_call(
                FunctionCallSpec(fn="truncate", kwargs={}, channel=CHANNEL)
            )
            second = hl.cancel_function_call(call.call_id, "not needed")
            return first, second.status.error or ""

    first, second = await asyncio.to_thread(agent)
    assert "cancelled" in first
    assert second == "cancelled by the agent: not needed"


async def test_requests_cancel_cli_through_the_api_and_in_the_store(served, mail_client, tmp_path):
    gateway, base, cfg = served
    alice = mail_client(ALICE)
    async with AsyncHumanLayer(api_base_url=base, api_key=KEY) as hl:
        one = await hl.create_function_call(
            FunctionCallSpec(fn="deploy", kwargs={"n": 1}, channel=CHANNEL), call_id="cli-c1"
        )
        two = await hl.create_function_call(
            FunctionCallSpec(fn="deploy", kwargs={"n": 2}, channel=CHANNEL), call_id="cli-c2"
        )
    toml = tmp_path / "cli.toml"
    toml.write_text(
        f'[store]\nurl = "sqlite:///{cfg.sqlite_path}"\n[security]\nsecret = "{cfg.security.secret}"\n'
        f'[agent]\naddress = "{cfg.agent.address}"\n[api]\napi_keys = ["{KEY}"]\n',
        encoding="utf-8",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "hl_email.cli",
                "requests",
                "cancel",
                *args,
                "--config",
                str(toml),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    via_api = await asyncio.to_thread(run, one.call_id, "--api-url", base, "--reason", "dup")
    assert via_api.returncode == 0, via_api.stderr
    assert "through the gateway" in via_api.stdout
    assert (await gateway.store.get_request(call_id=one.call_id)).status["error"].endswith("dup")
    await alice.wait_for_message(containing("no longer needed"))
    # No gateway at that URL: the store is changed directly.
    offline = await asyncio.to_thread(run, two.call_id, "--api-url", "http://127.0.0.1:9/x")
    assert offline.returncode == 0, offline.stderr
    assert "in the store" in offline.stdout
    row = await gateway.store.get_request(call_id=two.call_id)
    assert row.state == "failed" and row.status["cancelled"] is True
    notes = [o for o in await gateway.store.outbox_for_request(row.id) if o.purpose == "note"]
    assert len(notes) == 1 and notes[0].state == "pending"  # sent when a gateway runs
    missing = await asyncio.to_thread(run, "nope", "--api-url", base)
    assert missing.returncode == 1 and "nope" in missing.stderr


async def test_http_question_timeout_and_explicit_cancel(served, mail_client):
    gateway, base, _ = served
    async with AsyncHumanLayer(api_base_url=base, api_key=KEY) as hl:
        tool = hl.human_as_tool(contact_channel=CHANNEL, timeout=0.3)
        with pytest.raises(HumanLayerTimeoutError, match="cancelled"):
            await tool("Which region should we use?")
        contact = await hl.create_human_contact(
            HumanContactSpec(msg="Which plan?", channel=CHANNEL)
        )
        cancelled = await hl.cancel_human_contact(contact.call_id, "not needed")
        assert cancelled.status.cancelled is True
        with pytest.raises(RequestCancelledError):
            await hl.wait_for_human_response(contact.call_id, timeout=30)
    rows = await gateway.store.list_requests()
    assert {r.state for r in rows} == {"failed"} and all(r.status["cancelled"] for r in rows)
    alice = mail_client(ALICE)
    for _ in range(2):
        await alice.wait_for_message(containing("no longer needed"))
