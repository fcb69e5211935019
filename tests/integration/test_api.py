"""The HTTP API and the remote SDK over the real Dovecot + SMTP stack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hl_email_sdk import (
    AsyncHumanLayer,
    ContactChannel,
    EmailContactChannel,
    EmailRecipient,
    Escalation,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContactSpec,
    HumanLayer,
    HumanLayerTimeoutError,
)
from hl_email_sdk.errors import HumanLayerException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from hl_email.api import API_PREFIX, ApiServer, create_app
from hl_email.config import GatewayConfig
from hl_email.errors import NotFoundError, RequestInvalidError
from hl_email.gateway import Gateway

ALICE = "alice@corp.test"
BOB = "bob@corp.test"
KEY = "test-api-key-123"
# Answers through the API need an approver key: an agent key may not respond (issue 10).
APPROVER = "test-approver-key-456"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))
AUTH = {"Authorization": f"Bearer {KEY}"}
APPROVER_AUTH = {"Authorization": f"Bearer {APPROVER}"}


@dataclass
class Running:
    gateway: Gateway
    server: ApiServer
    config: GatewayConfig

    @property
    def base(self) -> str:
        return self.server.base_url + API_PREFIX

    def client(self, *, key: str = KEY, **kwargs: Any) -> AsyncHumanLayer:
        return AsyncHumanLayer(api_base_url=self.base, api_key=key, **kwargs)

    def http(self, auth: bool = True) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.server.base_url, headers=AUTH if auth else {}, timeout=30
        )


@pytest.fixture
async def api(gateway_config):
    started: list[Running] = []

    async def make(
        *,
        allow_unauthenticated: bool = False,
        api_keys=(KEY,),
        approver_keys=(APPROVER,),
        **overrides,
    ) -> Running:
        cfg = gateway_config(
            api={
                "host": "127.0.0.1",
                "port": 0,
                "api_keys": list(api_keys),
                "approver_keys": list(approver_keys),
            },
            **overrides,
        )
        gateway = Gateway(cfg)
        await gateway.start()
        app = create_app(gateway, cfg, allow_unauthenticated=allow_unauthenticated)
        server = ApiServer(gateway, cfg, app=app)
        await server.start()
        running = Running(gateway, server, cfg)
        started.append(running)
        return running

    yield make
    for running in reversed(started):
        await running.server.stop()
        await running.gateway.stop()


def containing(needle: str):
    """Match an unseen message whose text body contains `needle` (skips confirmations)."""

    def match(msg) -> bool:
        part = msg.get_body(preferencelist=("plain", "html"))
        return part is not None and needle in part.get_content()

    return match


def fc_body(call_id: str, address: str = ALICE, **spec: Any) -> dict[str, Any]:
    return {
        "run_id": "run-1",
        "call_id": call_id,
        "spec": {
            "fn": "send_refund",
            "kwargs": {"amount": 120},
            "channel": {"email": {"address": address}},
            **spec,
        },
    }


# -- remote SDK: push waits over the real mail stack ------------------------------------------------


async def test_remote_sdk_require_approval_and_reject(api, mail_client):
    running = await api()
    alice = mail_client(ALICE)
    async with running.client(run_id="refund-agent") as hl:

        @hl.require_approval(contact_channel=CHANNEL)
        async def send_refund(order: str, amount: int) -> str:
            return f"refunded {amount} on {order}"

        task = asyncio.create_task(send_refund(order="A-17", amount=120))
        ask = await alice.wait_for_message()
        assert "A-17" in ask.text() and "120" in ask.text()
        await alice.reply(ask, "Approve, go ahead.", style="gmail")
        assert await asyncio.wait_for(task, 60) == "refunded 120 on A-17"

        task = asyncio.create_task(send_refund(order="A-18", amount=900))
        ask = await alice.wait_for_message(
            lambda m: "A-18" in str(m.get_body(("plain",)).get_content())
        )
        await alice.reply(ask, "REJECT: too much, ask finance", style="outlook")
        result = await asyncio.wait_for(task, 60)
        assert result == "User denied send_refund with message: too much, ask finance"
    rows = await running.gateway.store.list_requests()
    assert {r.run_id for r in rows} == {"refund-agent"}
    assert all(r.state == "done" for r in rows)


async def test_remote_human_as_tool_and_wait_on_existing_call(api, mail_client):
    running = await api()
    alice = mail_client(ALICE)
    async with running.client() as hl:
        contact = await hl.create_human_contact(
            HumanContactSpec(msg="Which plan should this customer get?", channel=CHANNEL),
            call_id="q-restart-1",
        )
        assert contact.call_id == "q-restart-1"
    # A different process (a restart) waits on the same call_id.
    async with running.client() as hl2:
        task = asyncio.create_task(hl2.wait_for_human_response("q-restart-1", timeout=30))
        ask = await alice.wait_for_message()
        assert "Which plan" in ask.text()
        await asyncio.sleep(0.1)
        assert not task.done()
        await alice.reply(ask, "The Pro plan, with the yearly discount.", style="apple")
        completed = await asyncio.wait_for(task, 60)
        assert completed.as_completed() == "The Pro plan, with the yearly discount."
        tool = hl2.human_as_tool(contact_channel=CHANNEL)
        task = asyncio.create_task(tool("Second question: ship today?"))
        ask = await alice.wait_for_message(containing("ship today"))
        await alice.reply(ask, "Yes, ship it today.", style="plain")
        assert await asyncio.wait_for(task, 60) == "Yes, ship it today."


async def test_sync_remote_client(api, mail_client):
    """The sync twin HumanLayer(api_base_url=...), called from a worker thread."""
    running = await api()
    alice = mail_client(ALICE)

    def agent() -> str:
        with HumanLayer(api_base_url=running.base, api_key=KEY) as hl:
            gated = hl.require_approval(contact_channel=CHANNEL)(lambda amount: f"paid {amount}")
            return gated(amount=5)

    task = asyncio.create_task(asyncio.to_thread(agent))
    ask = await alice.wait_for_message()
    await alice.reply(ask, "yes, approved")
    assert await asyncio.wait_for(task, 60) == "paid 5"


async def test_env_vars_configure_the_remote_client(api, monkeypatch):
    running = await api()
    monkeypatch.setenv("HUMANLAYER_API_BASE", running.base)
    monkeypatch.setenv("HUMANLAYER_API_KEY", KEY)
    async with AsyncHumanLayer() as hl:
        call = await hl.create_function_call(
            FunctionCallSpec(fn="deploy", kwargs={"env": "prod"}, channel=CHANNEL), call_id="env-1"
        )
        assert call.call_id == "env-1"
        assert (await hl.get_function_call("env-1")).spec.kwargs == {"env": "prod"}


# -- long-poll, SSE, reconnect, timeout -------------------------------------------------------------


async def test_long_poll_returns_on_resolution(api):
    running = await api()
    async with running.http() as http:
        r = await http.post(f"{API_PREFIX}/function_calls", json=fc_body("lp-1"))
        assert r.status_code == 200, r.text
        assert r.headers["X-HL-Email-State"] == "pending"
        poll = asyncio.create_task(
            http.get(f"{API_PREFIX}/function_calls/lp-1", params={"wait": 30})
        )
        await asyncio.sleep(0.3)
        assert not poll.done(), "a long-poll on a pending call must hold the request"
        r = await http.post(
            f"{API_PREFIX}/agent/function_calls/lp-1/respond",
            json={"approved": False, "comment": "not now"},
            headers=APPROVER_AUTH,
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"]["approved"] is False
        got = await asyncio.wait_for(poll, 60)
        assert got.status_code == 200
        assert got.headers["X-HL-Email-State"] == "done"
        assert got.json()["status"]["comment"] == "not now"
        # wait=0 and a short wait on a pending call return the pending object.
        await http.post(
            f"{API_PREFIX}/contact_requests",
            json={
                **fc_body("lp-2"),
                "spec": {"msg": "hi?", "channel": {"email": {"address": ALICE}}},
            },
        )
        r = await http.get(f"{API_PREFIX}/contact_requests/lp-2", params={"wait": 0.2})
        assert r.status_code == 200 and r.headers["X-HL-Email-State"] == "pending"
        assert r.json()["status"]["response"] is None


async def test_sse_stream_sends_the_final_state(api):
    running = await api()
    async with running.http() as http:
        await http.post(f"{API_PREFIX}/function_calls", json=fc_body("sse-1"))
        events: list[str] = []
        first = asyncio.Event()

        async def listen() -> None:
            async with http.stream("GET", f"{API_PREFIX}/function_calls/sse-1/events") as resp:
                assert resp.headers["content-type"].startswith("text/event-stream")
                async for line in resp.aiter_lines():
                    if line.startswith("data: "):
                        events.append(line[6:])
                        first.set()

        task = asyncio.create_task(listen())
        await asyncio.wait_for(first.wait(), 60)
        assert json.loads(events[0])["state"] == "pending"
        async with running.client(key=APPROVER) as hl:
            await hl.respond_to_function_call(
                "sse-1", FunctionCallStatus(approved=True, comment="ok")
            )
        await asyncio.wait_for(task, 60)
        final = json.loads(events[-1])
        assert final["state"] == "done" and final["call"]["status"]["approved"] is True


async def test_wait_survives_a_gateway_restart(api):
    """The API goes away mid-wait and comes back on the same port: the wait is not lost."""
    running = await api()
    port = running.server.port
    async with running.client() as hl:
        hl.transport.backoff_max = 0.2
        await hl.create_function_call(
            FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL), call_id="rc-1"
        )
        task = asyncio.create_task(hl.wait_for_approval("rc-1", timeout=60))
        await asyncio.sleep(0.2)
        await running.server.stop()
        await asyncio.sleep(0.5)  # the client now gets connection errors and backs off
        assert not task.done()
        cfg = running.config.model_copy(
            update={"api": running.config.api.model_copy(update={"port": port})}
        )
        server = ApiServer(running.gateway, cfg)
        await server.start()
        try:
            await running.gateway.respond_to_function_call(
                "rc-1", FunctionCallStatus(approved=True, comment="go")
            )
            completed = await asyncio.wait_for(task, 60)
            assert completed.as_completed().approved is True
        finally:
            await server.stop()


async def test_remote_wait_timeout(api):
    running = await api()
    async with running.client() as hl:
        with pytest.raises(HumanLayerTimeoutError):
            await hl.fetch_approval(
                FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL), timeout=0.5
            )
        # The decorator fails closed with a message for the LLM.
        ran: list[int] = []
        gated = hl.require_approval(contact_channel=CHANNEL, timeout=0.3)(lambda: ran.append(1))
        out = await gated()
        assert out.startswith("Error fetching approval for <lambda>:") and ran == []


async def test_respond_and_escalate_through_the_sdk(api, mail_client):
    running = await api()
    alice, bob = mail_client(ALICE), mail_client(BOB)
    async with running.client() as hl:
        call = await hl.create_function_call(
            FunctionCallSpec(fn="wire", kwargs={"usd": 1}, channel=CHANNEL), call_id="esc-1"
        )
        await alice.wait_for_message()
        escalated = await hl.escalate_email_function_call(
            call.call_id,
            Escalation(
                escalation_msg="Still waiting: please look",
                additional_recipients=[EmailRecipient(address=BOB)],
            ),
        )
        assert escalated.call_id == "esc-1"
        bob_mail = await bob.wait_for_message()
        assert "Still waiting" in bob_mail.text()
        again = await alice.wait_for_message()
        assert "Still waiting" in again.text()
        # The agent's own key cannot approve its call (403), an approver key can.
        with pytest.raises(HumanLayerException, match="403.*approver_keys"):
            await hl.respond_to_function_call("esc-1", FunctionCallStatus(approved=True))
        assert (await hl.get_function_call("esc-1")).status.approved is None
        async with running.client(key=APPROVER) as approver:
            done = await approver.respond_to_function_call(
                "esc-1", FunctionCallStatus(approved=True, comment="api ok")
            )
            assert done.status.approved is True and done.status.comment == "api ok"
            with pytest.raises(RequestInvalidError, match="already done"):
                await approver.respond_to_function_call(
                    "esc-1", FunctionCallStatus(approved=False, comment="late")
                )
        # Human contact respond + escalate endpoints, and the kind check on escalate.
        await hl.create_human_contact(HumanContactSpec(msg="ok?", channel=CHANNEL), call_id="esc-2")
        with pytest.raises(NotFoundError):
            await hl.escalate_email_function_call("esc-2", Escalation(escalation_msg="x"))
        escalated = await hl.escalate_email_human_contact(
            "esc-2", Escalation(escalation_msg="ping")
        )
        assert escalated.call_id == "esc-2"
        from hl_email_sdk import HumanContactStatus

        with pytest.raises(HumanLayerException, match="403"):
            await hl.respond_to_human_contact("esc-2", HumanContactStatus(response="fine"))
        async with running.client(key=APPROVER) as approver:
            answered = await approver.respond_to_human_contact(
                "esc-2", HumanContactStatus(response="fine")
            )
        assert answered.status.response == "fine"
        assert (await hl.wait_for_human_response("esc-2")).as_completed() == "fine"


# -- auth, validation, errors -------------------------------------------------------------------------


ENDPOINTS = [
    ("POST", "/function_calls", fc_body("auth-1")),
    ("GET", "/function_calls/auth-1", None),
    ("POST", "/agent/function_calls/auth-1/respond", {"approved": True}),
    ("POST", "/agent/function_calls/auth-1/escalate_email", {"escalation_msg": "x"}),
    (
        "POST",
        "/contact_requests",
        {
            "run_id": "r",
            "call_id": "auth-2",
            "spec": {"msg": "q", "channel": {"email": {"address": ALICE}}},
        },
    ),
    ("GET", "/contact_requests/auth-2", None),
    ("POST", "/agent/human_contacts/auth-2/respond", {"response": "x"}),
    ("POST", "/agent/human_contacts/auth-2/escalate_email", {"escalation_msg": "x"}),
    ("GET", "/function_calls/auth-1/events", None),
]


async def test_missing_or_wrong_key_is_401_and_touches_nothing(api, mail_client):
    running = await api()
    async with httpx.AsyncClient(base_url=running.server.base_url, timeout=10) as http:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Basic {KEY}"},
            {"Authorization": "Bearer"},
        ):
            for method, path, body in ENDPOINTS:
                r = await http.request(method, API_PREFIX + path, json=body, headers=headers)
                assert r.status_code == 401, (method, path, headers, r.text)
                assert r.headers["www-authenticate"].startswith("Bearer")
                assert "API key" in r.json()["detail"]
    assert await running.gateway.store.list_requests() == []
    await asyncio.sleep(0.3)
    assert await mail_client(ALICE).inbox() == []
    async with running.client() as hl:  # the right key works
        await hl.create_function_call(FunctionCallSpec(fn="f", kwargs={}, channel=CHANNEL))
    with pytest.raises(HumanLayerException, match="401"):
        async with AsyncHumanLayer(api_base_url=running.base, api_key="nope") as hl:
            await hl.get_function_call("x")


async def test_no_api_keys_refuses_unless_sandbox(api):
    locked = await api(api_keys=(), approver_keys=())
    async with locked.http(auth=False) as http:
        r = await http.post(f"{API_PREFIX}/function_calls", json=fc_body("nk-1"))
        assert r.status_code == 401 and "no API keys configured" in r.json()["detail"]
        r = await http.get(f"{API_PREFIX}/function_calls/nk-1", headers=AUTH)
        assert r.status_code == 401
        assert (await http.get("/healthz")).status_code == 200
    assert await locked.gateway.store.list_requests() == []
    sandbox = await api(api_keys=(), approver_keys=(), allow_unauthenticated=True)
    async with sandbox.http(auth=False) as http:
        r = await http.post(f"{API_PREFIX}/function_calls", json=fc_body("nk-2"))
        assert r.status_code == 200, r.text


async def test_invalid_input_is_422_naming_the_field(api):
    running = await api()
    async with running.http() as http:
        r = await http.post(
            f"{API_PREFIX}/function_calls",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422 and "invalid JSON" in r.json()["error"]
        body = fc_body("v-1")
        del body["spec"]["fn"]
        r = await http.post(f"{API_PREFIX}/function_calls", json=body)
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "spec", "fn"]
        assert "body.spec.fn" in r.json()["error"]
        body = fc_body("v-2")
        body["spec"]["kwargs"] = "not a dict"
        r = await http.post(f"{API_PREFIX}/function_calls", json=body)
        assert r.status_code == 422 and "body.spec.kwargs" in r.json()["error"]
        r = await http.post(
            f"{API_PREFIX}/contact_requests",
            json={"run_id": "r", "call_id": "v-3", "spec": {"channel": None}},
        )
        assert r.status_code == 422 and "body.spec.msg" in r.json()["error"]
        r = await http.post(f"{API_PREFIX}/function_calls", json=[1, 2])
        assert r.status_code == 422
        r = await http.post(f"{API_PREFIX}/function_calls", json=fc_body("v-4"))
        assert r.status_code == 200
        r = await http.get(f"{API_PREFIX}/function_calls/v-4", params={"wait": "soon"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "wait"]
        r = await http.post(
            f"{API_PREFIX}/agent/function_calls/v-4/respond",
            json={"approved": "maybe"},
            headers=APPROVER_AUTH,
        )
        assert r.status_code == 422 and "body.approved" in r.json()["error"]
    assert [r.call_id for r in await running.gateway.store.list_requests()] == ["v-4"]


async def test_gateway_errors_map_to_400_and_404(api):
    running = await api()
    async with running.http() as http:
        r = await http.get(f"{API_PREFIX}/function_calls/nope")
        assert r.status_code == 404 and "nope" in r.json()["detail"]
        r = await http.get(f"{API_PREFIX}/contact_requests/nope", params={"wait": 5})
        assert r.status_code == 404
        r = await http.post(
            f"{API_PREFIX}/function_calls", json=fc_body("bad-1", address="not an address")
        )
        assert r.status_code == 400 and "not a valid email address" in r.json()["detail"]
        r = await http.post(
            f"{API_PREFIX}/function_calls",
            json={**fc_body("nc-1"), "spec": {"fn": "f", "kwargs": {}}},
        )
        assert r.status_code == 400 and "no route" in r.json()["detail"]
        assert (
            await http.post(f"{API_PREFIX}/function_calls", json=fc_body("k-1"))
        ).status_code == 200
        # A function call is not a human contact.
        r = await http.get(f"{API_PREFIX}/contact_requests/k-1")
        assert r.status_code == 404
        # Same call_id, same request: idempotent; different request: 400.
        again = await http.post(f"{API_PREFIX}/function_calls", json=fc_body("k-1"))
        assert again.status_code == 200 and again.json()["call_id"] == "k-1"
        r = await http.post(
            f"{API_PREFIX}/function_calls", json=fc_body("k-1", reject_options=[{"name": "x"}])
        )
        assert r.status_code == 400 and "already exists" in r.json()["detail"]
        r = await http.post(
            f"{API_PREFIX}/agent/function_calls/k-1/respond",
            json={"comment": "no verdict"},
            headers=APPROVER_AUTH,
        )
        assert r.status_code == 400 and "approved" in r.json()["detail"]


async def test_health_ready_and_openapi(api, mail_stack):
    running = await api()
    async with running.http(auth=False) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        for _ in range(1200):  # the IMAP watcher connects in the background (60 s bound)
            r = await http.get("/readyz")
            if r.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 200, r.text
        assert r.json()["ready"] is True and r.json()["checks"]["store"] is True
        schema = (await http.get("/openapi.json")).json()
        assert schema["openapi"].startswith("3.")
        paths = schema["paths"]
        for path in (
            "/humanlayer/v1/function_calls",
            "/humanlayer/v1/function_calls/{call_id}",
            "/humanlayer/v1/agent/function_calls/{call_id}/respond",
            "/humanlayer/v1/agent/function_calls/{call_id}/escalate_email",
            "/humanlayer/v1/contact_requests",
            "/humanlayer/v1/contact_requests/{call_id}",
            "/humanlayer/v1/agent/human_contacts/{call_id}/respond",
            "/humanlayer/v1/agent/human_contacts/{call_id}/escalate_email",
        ):
            assert path in paths
        assert "FunctionCall" in schema["components"]["schemas"]
        assert "fn" in schema["components"]["schemas"]["FunctionCallSpec"]["properties"]
    # IMAP down → not ready, with the reason.
    broken = await api(imap={"port": 1, "reconnect_initial": 0.05})
    async with broken.http(auth=False) as http:
        for _ in range(1200):  # until the watcher's first connection attempt has failed
            r = await http.get("/readyz")
            if r.status_code != 200 and r.json().get("problems"):
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 503
        assert any("IMAP" in p for p in r.json()["problems"])


# -- webhooks -------------------------------------------------------------------------------------


async def test_webhooks_signed_and_retried(api, mail_client):
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request):
        received.append((dict(request.headers), await request.body()))
        if len(received) <= 2:
            return PlainTextResponse("try later", status_code=503)
        return JSONResponse({"ok": True})

    receiver_cfg = GatewayConfig(api={"host": "127.0.0.1", "port": 0})
    receiver = ApiServer(
        None,
        receiver_cfg,
        app=Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
        webhooks=False,
    )
    await receiver.start()
    try:
        secret = "whsec-test-0123456789-abcdefghijklmn"
        running = await api(
            webhooks=[
                {
                    "url": f"{receiver.base_url}/hook",
                    "secret": secret,
                    "events": ["function_call.completed", "human_contact.completed"],
                    "backoff_initial": 0.05,
                    "backoff_max": 0.2,
                }
            ]
        )
        assert running.server.webhooks is not None
        alice = mail_client(ALICE)
        async with running.client() as hl:
            task = asyncio.create_task(
                hl.fetch_approval(
                    FunctionCallSpec(fn="deploy", kwargs={"v": 2}, channel=CHANNEL), call_id="wh-1"
                )
            )
            ask = await alice.wait_for_message()
            await alice.reply(ask, "approved")
            await asyncio.wait_for(task, 60)
        for _ in range(1200):
            if len(received) >= 3:
                break
            await asyncio.sleep(0.05)
        assert len(received) == 3, received
        bodies = {body for _, body in received}
        assert len(bodies) == 1, "every retry sends the same bytes"
        ids = {headers["x-hl-email-delivery"] for headers, _ in received}
        assert len(ids) == 1 and ids == {headers["idempotency-key"] for headers, _ in received}
        headers, body = received[-1]
        signature = headers["x-hl-email-signature"]
        t = int(signature.split(",")[0].removeprefix("t="))
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        assert signature == f"t={t},v1={mac}"
        assert abs(time.time() - t) < 600  # a current timestamp, so receivers can refuse replays
        assert headers["x-hl-email-event"] == "function_call.completed"
        payload = json.loads(body)
        assert payload["type"] == "function_call.completed" and payload["is_test"] is False
        assert payload["event"]["call_id"] == "wh-1"
        assert payload["event"]["spec"]["fn"] == "deploy"
        assert payload["event"]["status"]["approved"] is True
        # The official SDK's own webhook model (and ours) parse the body unchanged.
        from humanlayer.core.models_agent_webhook import V1Beta2FunctionCallCompleted as Theirs

        from hl_email.models import V1Beta2FunctionCallCompleted as Ours

        for model in (Theirs, Ours):
            parsed = model.model_validate_json(body)
            assert parsed.event.call_id == "wh-1" and parsed.event.status.approved is True
        # The third response reached the dispatcher; its "delivered" commit follows it.
        for _ in range(1200):
            rows = await running.server.webhooks.deliveries()
            if rows and rows[0]["state"] != "pending":
                break
            await asyncio.sleep(0.05)
        assert [(r["call_id"], r["state"], r["attempts"]) for r in rows] == [
            ("wh-1", "delivered", 3)
        ]
        assert "503" in (rows[0]["last_error"] or "") or rows[0]["last_error"] is None
    finally:
        await receiver.stop()


async def test_webhook_queue_is_durable_across_restart(api, gateway_config, tmp_path):
    """A completion enqueued while the receiver is down is delivered after a gateway restart."""
    received: list[bytes] = []
    up = asyncio.Event()

    async def hook(request: Request):
        if not up.is_set():
            return PlainTextResponse("down", status_code=500)
        received.append(await request.body())
        return PlainTextResponse("ok")

    receiver = ApiServer(
        None,
        GatewayConfig(api={"host": "127.0.0.1", "port": 0}),
        app=Starlette(routes=[Route("/h", hook, methods=["POST"])]),
        webhooks=False,
    )
    await receiver.start()
    hooks = [
        {
            "url": f"{receiver.base_url}/h",
            "secret": "whsec-durable-0123456789-abcdefghij",
            "backoff_initial": 0.05,
            "backoff_max": 0.1,
            "max_attempts": 10_000,  # stays pending however slow this machine is
        }
    ]
    try:
        first = await api(webhooks=hooks)
        async with first.client() as hl:
            await hl.create_human_contact(
                HumanContactSpec(msg="q", channel=CHANNEL), call_id="dur-1"
            )
            from hl_email_sdk import HumanContactStatus

        async with first.client(key=APPROVER) as approver:
            await approver.respond_to_human_contact("dur-1", HumanContactStatus(response="answer"))
        for _ in range(600):  # generous: CI machines are shared and slow
            rows = await first.server.webhooks.deliveries()
            if rows and rows[0]["attempts"] >= 2:
                break
            await asyncio.sleep(0.05)
        assert rows, "the completion was never enqueued"
        assert rows[0]["state"] == "pending" and rows[0]["event_type"] == "human_contact.completed"
        await first.server.stop()
        await first.gateway.stop()
        up.set()
        second = await api(webhooks=hooks)  # same store file
        for _ in range(600):
            if received:
                break
            await asyncio.sleep(0.05)
        assert len(received) == 1
        assert json.loads(received[0])["event"]["status"]["response"] == "answer"
        for _ in range(600):  # the receiver answered; the row is marked right after
            rows = await second.server.webhooks.deliveries()
            if rows and rows[0]["state"] != "pending":
                break
            await asyncio.sleep(0.05)
        assert [r["state"] for r in rows] == ["delivered"]
    finally:
        await receiver.stop()
