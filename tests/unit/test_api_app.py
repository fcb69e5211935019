"""The ASGI app without sockets or mail: auth, validation, error mapping, readiness."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from hl_email.api import create_app, openapi_schema
from hl_email.config import GatewayConfig
from hl_email.errors import NotFoundError, RequestInvalidError
from hl_email.webhooks import event_id, sign


class FakeGateway:
    def __init__(self, ready: dict | None = None) -> None:
        self.created: list = []
        self.ready = ready or {
            "store": True,
            "imap": True,
            "smtp_last_error": None,
            "imap_last_error": None,
        }

        self.store = self  # the API reads a row's state from gateway.store

    async def get_request(self, *, call_id=None, id=None):
        return (
            SimpleNamespace(state="pending")
            if any(c.call_id == call_id for c in self.created)
            else None
        )

    async def create_function_call(self, call):
        if call.spec.fn == "boom":
            raise RequestInvalidError("spec.channel: no email contact channel")
        self.created.append(call)
        return call

    async def get_function_call(self, call_id):
        raise NotFoundError(f"no function call with call_id {call_id!r}")

    async def readiness(self):
        return self.ready


def client(gateway, keys=("k1", "k2"), **kw) -> httpx.AsyncClient:
    cfg = GatewayConfig(api={"api_keys": list(keys)})
    app = create_app(gateway, cfg, **kw)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


BODY = {"run_id": "r", "call_id": "c", "spec": {"fn": "f", "kwargs": {}}}


async def test_auth_accepts_any_configured_key_and_nothing_else():
    gw = FakeGateway()
    async with client(gw) as c:
        for headers in (
            {},
            {"Authorization": "Bearer k3"},
            {"Authorization": "Token k1"},
            {"Authorization": "Bearer k1x"},
        ):
            r = await c.post("/humanlayer/v1/function_calls", json=BODY, headers=headers)
            assert r.status_code == 401
        assert gw.created == []
        for key in ("k1", "k2"):
            r = await c.post(
                "/humanlayer/v1/function_calls",
                json=BODY,
                headers={"Authorization": f"Bearer {key}"},
            )
            assert r.status_code == 200 and r.json()["call_id"] == "c"
        assert len(gw.created) == 2


async def test_no_keys_refuses_unless_allowed():
    async with client(FakeGateway(), keys=()) as c:
        r = await c.post("/humanlayer/v1/function_calls", json=BODY)
        assert r.status_code == 401 and "no API keys configured" in r.json()["detail"]
    async with client(FakeGateway(), keys=(), allow_unauthenticated=True) as c:
        assert (await c.post("/humanlayer/v1/function_calls", json=BODY)).status_code == 200


async def test_errors_are_mapped():
    auth = {"Authorization": "Bearer k1"}
    async with client(FakeGateway()) as c:
        r = await c.post(
            "/humanlayer/v1/function_calls",
            json={**BODY, "spec": {"fn": "boom", "kwargs": {}}},
            headers=auth,
        )
        assert r.status_code == 400 and "no email contact channel" in r.json()["detail"]
        r = await c.get("/humanlayer/v1/function_calls/x", headers=auth)
        assert r.status_code == 404
        r = await c.post(
            "/humanlayer/v1/function_calls",
            json={"run_id": "r", "spec": {"kwargs": {}}},
            headers=auth,
        )
        assert r.status_code == 422
        locs = [tuple(d["loc"]) for d in r.json()["detail"]]
        assert ("body", "call_id") in locs and ("body", "spec", "fn") in locs


@pytest.mark.parametrize(
    ("ready", "code", "problem"),
    [
        (
            {"store": True, "imap": True, "smtp_last_error": None, "imap_last_error": None},
            200,
            None,
        ),
        (
            {"store": False, "imap": True, "smtp_last_error": None, "imap_last_error": None},
            503,
            "store",
        ),
        (
            {
                "store": True,
                "imap": False,
                "smtp_last_error": None,
                "imap_last_error": "login failed",
            },
            503,
            "login failed",
        ),
        (
            {
                "store": True,
                "imap": None,
                "smtp_last_error": "535 auth failed",
                "imap_last_error": None,
            },
            503,
            "535",
        ),
    ],
)
async def test_readyz(ready, code, problem):
    async with client(FakeGateway(ready)) as c:
        r = await c.get("/readyz", headers={"Authorization": "Bearer k1"})
        assert r.status_code == code
        if problem:
            assert any(problem in p for p in r.json()["problems"])
        # Without a key: the same verdict, but no error texts (they name hosts and accounts).
        anonymous = await c.get("/readyz")
        assert anonymous.status_code == code
        assert len(anonymous.json()["problems"]) == len(r.json()["problems"])
        if problem and problem != "store":
            assert not any(problem in p for p in anonymous.json()["problems"])
        assert "imap_last_error" not in anonymous.json()["checks"]
        assert (await c.get("/healthz")).status_code == 200


def test_openapi_names_every_endpoint_and_model():
    schema = openapi_schema()
    assert len([p for p in schema["paths"] if p.startswith("/humanlayer/v1")]) == 12
    for name in (
        "FunctionCall",
        "FunctionCallStatus",
        "HumanContact",
        "HumanContactStatus",
        "Escalation",
    ):
        assert name in schema["components"]["schemas"]


def test_webhook_signature_and_event_id():
    signed = __import__("hmac").new(b"s", b"1700000000.{}", "sha256").hexdigest()
    assert sign("s", b"{}", 1700000000) == f"t=1700000000,v1={signed}"
    assert event_id("function_call.completed", "c1") == event_id("function_call.completed", "c1")
    assert event_id("function_call.completed", "c1") != event_id("human_contact.completed", "c1")


async def test_oversized_body_is_413_and_not_created():
    gw = FakeGateway()
    big = {**BODY, "spec": {"fn": "f", "kwargs": {"blob": "x" * (2 << 20)}}}
    async with client(gw) as c:
        r = await c.post(
            "/humanlayer/v1/function_calls", json=big, headers={"Authorization": "Bearer k1"}
        )
        assert r.status_code == 413
    assert gw.created == []


async def test_served_openapi_is_the_recorded_document():
    # tests/data/openapi.json is /openapi.json as served before the schema became data: the
    # document, key order included, must not change unnoticed. After a deliberate change
    # (a wire model, an endpoint), record it again: json.dumps(openapi_schema(), indent=2,
    # ensure_ascii=False) + "\n".
    recorded_text = (Path(__file__).parents[1] / "data" / "openapi.json").read_text("utf-8")
    assert json.dumps(openapi_schema(), indent=2, ensure_ascii=False) + "\n" == recorded_text
    async with client(FakeGateway()) as c:
        served = await c.get("/openapi.json")
    assert served.status_code == 200
    compact = json.dumps(json.loads(recorded_text), ensure_ascii=False, separators=(",", ":"))
    assert served.content == compact.encode("utf-8")
