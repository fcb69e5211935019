"""HttpTransport without sockets: long-poll loop, reconnects, timeouts, error mapping."""

from __future__ import annotations

import json

import httpx
import pytest
from hl_email_sdk.errors import HumanLayerException
from hl_email_sdk.http import HttpTransport

from hl_email.errors import NotFoundError, RequestInvalidError

BASE = "http://gw.test/humanlayer/v1"


def call_json(approved=None, comment=None) -> dict:
    return {
        "run_id": "r",
        "call_id": "c1",
        "spec": {"fn": "f", "kwargs": {}},
        "status": {"approved": approved, "comment": comment},
    }


def transport(handler) -> HttpTransport:
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), headers={"Authorization": "Bearer k"}
    )
    return HttpTransport(BASE, "k", client=client, backoff_initial=0.001, backoff_max=0.01)


async def test_wait_survives_network_errors_and_5xx():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        n = len(seen)
        if n == 1:
            raise httpx.ConnectError("refused", request=request)
        if n == 2:
            return httpx.Response(503, json={"detail": "restarting"})
        if n == 3:
            raise httpx.ReadError("reset", request=request)
        if n == 4:  # a long-poll that ran out while still pending
            return httpx.Response(200, json=call_json(), headers={"X-HL-Email-State": "pending"})
        return httpx.Response(
            200, json=call_json(False, "no"), headers={"X-HL-Email-State": "done"}
        )

    t = transport(handler)
    call = await t.wait_function_call("c1", timeout=5)
    assert call.status.approved is False and call.status.comment == "no"
    assert len(seen) == 5
    assert all(r.url.path == "/humanlayer/v1/function_calls/c1" for r in seen)
    assert all("wait" in r.url.params for r in seen)
    assert all(r.headers["authorization"] == "Bearer k" for r in seen)


async def test_wait_times_out_with_the_last_error():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    t = transport(handler)
    with pytest.raises(TimeoutError, match="ConnectError"):
        await t.wait_human_contact("c1", timeout=0.1)


async def test_failed_state_ends_the_wait():
    def handler(request: httpx.Request) -> httpx.Response:
        body = call_json()
        body["status"]["error"] = "email delivery failed"
        return httpx.Response(200, json=body, headers={"X-HL-Email-State": "failed"})

    call = await transport(handler).wait_function_call("c1", timeout=1)
    assert call.status.error == "email delivery failed"


async def test_error_mapping_and_wire_format():
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            bodies.append(json.loads(request.content))
        path = request.url.path
        if path.endswith("/missing"):
            return httpx.Response(404, json={"detail": "no function call with call_id 'missing'"})
        if path.endswith("/bad"):
            return httpx.Response(
                422, json={"detail": [], "error": "invalid request: body.spec.fn: Field required"}
            )
        if path.endswith("/denied"):
            return httpx.Response(401, json={"detail": "invalid API key"})
        return httpx.Response(200, json=call_json(True))

    t = transport(handler)
    with pytest.raises(NotFoundError, match="missing"):
        await t.get_function_call("missing")
    with pytest.raises(RequestInvalidError, match="body.spec.fn"):
        await t.get_function_call("bad")
    with pytest.raises(HumanLayerException, match="401"):
        await t.get_function_call("denied")
    from hl_email.models import FunctionCall, FunctionCallSpec, FunctionCallStatus

    await t.create_function_call(
        FunctionCall(run_id="r", call_id="c1", spec=FunctionCallSpec(fn="f", kwargs={"a": 1}))
    )
    await t.respond_to_function_call("c/1", FunctionCallStatus(approved=True))
    assert bodies[0]["call_id"] == "c1" and bodies[0]["spec"]["kwargs"] == {"a": 1}
    assert bodies[1]["approved"] is True


async def test_server_without_long_poll_is_polled(monkeypatch):
    """No X-HL-Email-State header (e.g. a plain HumanLayer server): decide from the body."""
    import hl_email_sdk.http as http_mod

    monkeypatch.setattr(http_mod, "POLL_INTERVAL", 0.01)
    n = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal n
        n += 1
        return httpx.Response(200, json=call_json(True if n >= 3 else None))

    call = await transport(handler).wait_function_call("c1", timeout=5)
    assert call.status.approved is True and n == 3


async def test_connection_errors_name_the_url():
    from hl_email_sdk import GatewayUnreachableError

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(GatewayUnreachableError) as caught:
        await transport(handler).get_function_call("c1")
    message = str(caught.value)
    assert f"{BASE}/function_calls/c1" in message
    assert "Connection refused" in message and "HUMANLAYER_API_BASE" in message
