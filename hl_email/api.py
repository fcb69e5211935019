"""HTTP API: the HumanLayer 0.7.x wire format under /humanlayer/v1, plus push waits.

Endpoints (paths and JSON bodies are the ones the official `humanlayer==0.7.9` Python SDK and
`@humanlayer/sdk@0.7.9` TypeScript SDK call, so an agent written against them works by changing
only its base URL and key):

    POST /humanlayer/v1/function_calls                                 body FunctionCall
    GET  /humanlayer/v1/function_calls/{call_id}[?wait=SECONDS]
    POST /humanlayer/v1/agent/function_calls/{call_id}/respond         body FunctionCallStatus
    POST /humanlayer/v1/agent/function_calls/{call_id}/escalate_email  body Escalation
    POST /humanlayer/v1/agent/function_calls/{call_id}/cancel          body {"reason": …} (optional)
    POST /humanlayer/v1/contact_requests                               body HumanContact
    GET  /humanlayer/v1/contact_requests/{call_id}[?wait=SECONDS]
    POST /humanlayer/v1/agent/human_contacts/{call_id}/respond         body HumanContactStatus
    POST /humanlayer/v1/agent/human_contacts/{call_id}/escalate_email  body Escalation
    POST /humanlayer/v1/agent/human_contacts/{call_id}/cancel          body {"reason": …} (optional)
    GET  /humanlayer/v1/function_calls/{call_id}/events                Server-Sent Events
    GET  /humanlayer/v1/contact_requests/{call_id}/events              Server-Sent Events

    GET  /healthz        liveness (no auth)
    GET  /readyz         store reachable, IMAP connected, no SMTP error → 200, else 503 (no auth)
    GET  /openapi.json   the schema (no auth)
    GET  /metrics        Prometheus text format: requests, outcomes, outbox, latency (no auth)

`?wait=SECONDS` (an hl-email addition, at most MAX_WAIT) turns a GET into a long-poll: the
response comes as soon as the request is no longer pending, or after SECONDS with the pending
object. Every call response carries `X-HL-Email-State: pending | done | failed`.

Authentication: `Authorization: Bearer <key>`. A missing or wrong key gets 401 before anything
is read or written. Scopes (hl_email/scopes.py): `[api] api_keys` are agent keys (create, read,
wait, escalate, cancel); `…/respond` needs a key from `[api] approver_keys` (403 otherwise: an
agent cannot approve its own call); `[api] admin_keys` may read and cancel. With no `api_keys` configured the API
refuses every /humanlayer/v1 request (401, saying so), unless the app is created with
`allow_unauthenticated=True`, which only the `hl-email dev` sandbox does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Literal

import uvicorn
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route

from .config import GatewayConfig
from .errors import CallFailedError, NotFoundError, RequestInvalidError
from .models import (
    Escalation,
    FunctionCall,
    FunctionCallStatus,
    HumanContact,
    HumanContactStatus,
)
from .scopes import Action, KeyRing, Scope, refusal

__all__ = ["API_PREFIX", "MAX_WAIT", "ApiServer", "create_app", "serve_api"]

log = logging.getLogger("hl_email.api")

API_PREFIX = "/humanlayer/v1"
# Longest long-poll a single request may ask for; clients loop for longer waits.
MAX_WAIT = 60.0
# SSE keep-alive comment interval.
SSE_PING = 15.0
STATE_HEADER = "X-HL-Email-State"
# Largest accepted JSON body (a request with big kwargs is still far below this).
MAX_BODY = 1 << 20
# Deepest JSON accepted (kwargs of real calls nest a handful of levels).
MAX_JSON_DEPTH = 64

Kind = Literal["function_call", "human_contact"]


# -- errors ---------------------------------------------------------------------------------------


class _HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers


def _loc(parts: Sequence[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _validation_error(exc: ValidationError, prefix: Sequence[str] = ("body",)) -> _HttpError:
    detail = []
    for error in exc.errors(include_url=False):
        loc = [*prefix, *error["loc"]]
        detail.append({"loc": loc, "msg": error["msg"], "type": error["type"]})
    summary = "; ".join(f"{_loc(d['loc'])}: {d['msg']}" for d in detail)
    return _HttpError(422, {"detail": detail, "error": f"invalid request: {summary}"})


def _field_error(loc: list[str], msg: str, type_: str = "value_error") -> _HttpError:
    return _HttpError(
        422,
        {"detail": [{"loc": loc, "msg": msg, "type": type_}], "error": f"{_loc(loc)}: {msg}"},
    )


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise _HttpError(413, {"detail": f"request body larger than {MAX_BODY} bytes"})
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _HttpError(413, {"detail": f"request body larger than {MAX_BODY} bytes"})
        chunks.append(chunk)
    return b"".join(chunks)


def _too_deep(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON data nests deeper than `limit` (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


async def _parse_body(request: Request, model: type[BaseModel]) -> Any:
    raw = await _read_body(request)
    too_deep = _HttpError(
        400, {"detail": f"request body: JSON nested deeper than {MAX_JSON_DEPTH} levels"}
    )
    try:
        data = json.loads(raw) if raw else None
    except RecursionError:
        raise too_deep from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _field_error(["body"], f"invalid JSON: {exc}", "json_invalid") from None
    if data is None:
        raise _field_error(["body"], "a JSON object is required", "missing")
    if _too_deep(data):
        # Deep values would recurse in validation, rendering and storage (a 500, not a 400).
        raise too_deep
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc) from None


def _parse_wait(request: Request) -> float | None:
    value = request.query_params.get("wait")
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise _field_error(
            ["query", "wait"], f"must be a number of seconds, not {value!r}"
        ) from None
    if not math.isfinite(seconds) or seconds < 0:
        raise _field_error(["query", "wait"], "must be a finite number of seconds >= 0")
    return min(seconds, MAX_WAIT)


# -- the app --------------------------------------------------------------------------------------


class _Api:
    def __init__(self, gateway: Any, config: GatewayConfig, *, allow_unauthenticated: bool) -> None:
        self.gateway = gateway
        self.config = config
        self.allow_unauthenticated = allow_unauthenticated
        self.keys = KeyRing(config.api.api_keys, config.api.approver_keys, config.api.admin_keys)
        # Set when the server is shutting down: long-polls and SSE streams return at once.
        self.closing = asyncio.Event()

    # -- auth --

    def check_auth(self, request: Request, action: Action | None = None) -> frozenset[Scope]:
        """401 without a valid key; 403 when the key's scope does not allow `action`."""
        scopes = self._authenticate(request)
        if action is not None:
            why = refusal(action, scopes)
            if why is not None:
                raise _HttpError(403, {"detail": why})
        return scopes

    def _authenticate(self, request: Request) -> frozenset[Scope]:
        if not self.keys:
            if self.allow_unauthenticated:
                return frozenset({Scope.AGENT})
            raise _HttpError(
                401,
                {
                    "detail": "this gateway has no API keys configured; set [api] api_keys "
                    "(or HL_EMAIL_API__API_KEYS='[\"…\"]') and send Authorization: Bearer <key>"
                },
                {"WWW-Authenticate": "Bearer"},
            )
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _HttpError(
                401,
                {"detail": "missing API key: send Authorization: Bearer <key>"},
                {"WWW-Authenticate": "Bearer"},
            )
        # Compared against every key so timing does not reveal which one matched.
        scopes = self.keys.scopes(token.strip().encode())
        if not scopes:
            raise _HttpError(
                401,
                {"detail": "invalid API key"},
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return scopes

    # -- helpers --

    async def _row_state(self, call_id: str) -> str:
        row = await self.gateway.store.get_request(call_id=call_id)
        return row.state if row is not None else "pending"

    async def _get(self, kind: Kind, call_id: str) -> FunctionCall | HumanContact:
        if kind == "function_call":
            return await self.gateway.get_function_call(call_id)
        return await self.gateway.get_human_contact(call_id)

    async def _wait(self, request: Request, kind: Kind, call_id: str, seconds: float) -> None:
        """Until the call is no longer pending, `seconds` pass, the client goes away, or the
        server shuts down; woken by the gateway (no polling)."""
        waiter = asyncio.ensure_future(self.gateway.wait(call_id, seconds))
        closing = asyncio.ensure_future(self.closing.wait())
        gone = asyncio.ensure_future(_client_gone(request))
        try:
            await asyncio.wait({waiter, closing, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, closing, gone):
                if not task.done():
                    task.cancel()
            for task in (waiter, closing, gone):
                with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                    await task

    def _call_response(self, obj: BaseModel, state: str, status_code: int = 200) -> Response:
        return JSONResponse(
            obj.model_dump(mode="json"), status_code=status_code, headers={STATE_HEADER: state}
        )

    # -- endpoints --

    async def create(self, request: Request, kind: Kind) -> Response:
        if kind == "function_call":
            call = await _parse_body(request, FunctionCall)
            created = await self.gateway.create_function_call(call)
        else:
            call = await _parse_body(request, HumanContact)
            created = await self.gateway.create_human_contact(call)
        return self._call_response(created, await self._row_state(created.call_id))

    async def get(self, request: Request, kind: Kind) -> Response:
        call_id = request.path_params["call_id"]
        wait = _parse_wait(request)
        # The state is read before the body: a decision landing between the two reads then
        # shows in the body (never a "done" header on a pending body).
        await self._get(kind, call_id)  # 404 (or wrong kind) before any waiting
        state = await self._row_state(call_id)
        if wait and state == "pending" and not self.closing.is_set():
            await self._wait(request, kind, call_id, wait)
            state = await self._row_state(call_id)
        obj = await self._get(kind, call_id)
        return self._call_response(obj, state)

    async def respond(self, request: Request, kind: Kind) -> Response:
        call_id = request.path_params["call_id"]
        if kind == "function_call":
            status = await _parse_body(request, FunctionCallStatus)
            obj = await self.gateway.respond_to_function_call(call_id, status)
        else:
            status = await _parse_body(request, HumanContactStatus)
            obj = await self.gateway.respond_to_human_contact(call_id, status)
        return self._call_response(obj, await self._row_state(call_id))

    async def escalate(self, request: Request, kind: Kind) -> Response:
        call_id = request.path_params["call_id"]
        escalation = await _parse_body(request, Escalation)
        await self._get(kind, call_id)  # 404 when the call is of the other kind
        obj = await self.gateway.escalate_email(call_id, escalation)
        return self._call_response(obj, await self._row_state(call_id))

    async def cancel(self, request: Request, kind: Kind) -> Response:
        """An agent-scope action: the agent withdraws its own request (body optional:
        `{"reason": "…"}`). Cancelling twice is fine; a decided call is a 400."""
        call_id = request.path_params["call_id"]
        raw = await _read_body(request)
        reason = ""
        if raw.strip():
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise _field_error(["body"], f"invalid JSON: {exc}", "json_invalid") from None
            if not isinstance(data, dict) or not isinstance(data.get("reason", ""), str):
                raise _field_error(["body", "reason"], "must be a string", "string_type")
            reason = data.get("reason", "")
        if kind == "function_call":
            obj: BaseModel = await self.gateway.cancel_function_call(call_id, reason)
        else:
            obj = await self.gateway.cancel_human_contact(call_id, reason)
        return self._call_response(obj, await self._row_state(call_id))

    async def events(self, request: Request, kind: Kind) -> Response:
        """SSE: one `state` event now, then one when the call leaves pending; then the stream ends."""
        call_id = request.path_params["call_id"]
        first = await self._get(kind, call_id)
        state = await self._row_state(call_id)

        async def stream() -> Any:
            yield _sse(state, first)
            if state != "pending":
                return
            while not self.closing.is_set():
                await self._wait(request, kind, call_id, SSE_PING)
                if await request.is_disconnected() or self.closing.is_set():
                    return
                now = await self._row_state(call_id)
                if now != "pending":
                    yield _sse(now, await self._get(kind, call_id))
                    return
                yield b": ping\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", STATE_HEADER: state},
        )


def _sse(state: str, obj: BaseModel) -> bytes:
    data = json.dumps({"state": state, "call": obj.model_dump(mode="json")}, separators=(",", ":"))
    return f"event: {state}\ndata: {data}\n\n".encode()


async def _client_gone(request: Request) -> None:
    """Returns when the client disconnects (the body of a GET is already consumed/empty)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


# What each endpoint handler does, for the scope check (hl_email/scopes.py); a handler not
# listed here needs an admin key.
_HANDLER_ACTIONS = {
    "create": Action.CREATE,
    "get": Action.READ,
    "events": Action.READ,
    "escalate": Action.ESCALATE,
    "cancel": Action.CANCEL,
    "respond": Action.RESPOND,
}


def _endpoint(
    api: _Api,
    handler: Callable[[Request, Kind], Awaitable[Response]],
    kind: Kind,
    action: Action | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    needed = action or _HANDLER_ACTIONS.get(handler.__name__)

    async def endpoint(request: Request) -> Response:
        try:
            scopes = api.check_auth(request)
            if needed is None:
                if Scope.ADMIN not in scopes:
                    raise _HttpError(403, {"detail": "this endpoint needs an [api] admin_keys key"})
            else:
                why = refusal(needed, scopes)
                if why is not None:
                    raise _HttpError(403, {"detail": why})
            return await handler(request, kind)
        except _HttpError as exc:
            return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
        except NotFoundError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)
        except (RequestInvalidError, CallFailedError) as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        except ValidationError as exc:  # a model built from stored data or a nested check
            err = _validation_error(exc)
            return JSONResponse(err.body, status_code=err.status)

    endpoint.__name__ = f"{handler.__name__}_{kind}"
    return endpoint


def _api_routes(api: _Api) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for kind, coll, agent_coll in (
        ("function_call", "function_calls", "function_calls"),
        ("human_contact", "contact_requests", "human_contacts"),
    ):
        k: Kind = kind  # type: ignore[assignment]
        routes += [
            Route(f"/{coll}", _endpoint(api, api.create, k), methods=["POST"]),
            Route(
                f"/{coll}/{{call_id:path}}/events", _endpoint(api, api.events, k), methods=["GET"]
            ),
            Route(
                f"/agent/{agent_coll}/{{call_id:path}}/respond",
                _endpoint(api, api.respond, k),
                methods=["POST"],
            ),
            Route(
                f"/agent/{agent_coll}/{{call_id:path}}/escalate_email",
                _endpoint(api, api.escalate, k),
                methods=["POST"],
            ),
            Route(
                f"/agent/{agent_coll}/{{call_id:path}}/cancel",
                _endpoint(api, api.cancel, k),
                methods=["POST"],
            ),
            Route(f"/{coll}/{{call_id:path}}", _endpoint(api, api.get, k), methods=["GET"]),
        ]
    return routes


def create_app(
    gateway: Any,
    config: GatewayConfig,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    allow_unauthenticated: bool = False,
) -> Starlette:
    """The ASGI app. `extra_routes` (e.g. the dev sandbox's web inbox) are mounted as given,
    without API-key auth; `allow_unauthenticated` lets /humanlayer/v1 run with no api_keys
    configured (only for the `hl-email dev` sandbox)."""
    api = _Api(gateway, config, allow_unauthenticated=allow_unauthenticated)
    schema = openapi_schema()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            details = await gateway.readiness()
        except Exception as exc:  # the check itself failed: not ready
            return JSONResponse(
                {"ready": False, "error": f"{type(exc).__name__}: {exc}"}, status_code=503
            )
        # Anyone may ask whether we are ready (load balancers do); only a caller with an API
        # key sees the error texts, which name mail hosts and accounts.
        try:
            api.check_auth(request)
            detailed = True
        except _HttpError:
            detailed = False
        problems = []
        if not details.get("store"):
            problems.append("store is not reachable")
        if details.get("imap") is False:
            problems.append(
                "IMAP is not connected"
                + (
                    f" ({details['imap_last_error']})"
                    if detailed and details.get("imap_last_error")
                    else ""
                )
            )
        for name, connected in (details.get("mailboxes") or {}).items():
            if connected is False:
                problems.append(f"IMAP of mailbox {name!r} is not connected")
        if details.get("lmtp") is False:
            problems.append("the LMTP listener is not running")
        if details.get("smtp_last_error"):
            problems.append(
                f"SMTP: {details['smtp_last_error']}" if detailed else "SMTP is failing"
            )
        checks = details if detailed else {k: v for k, v in details.items() if "error" not in k}
        body = {"ready": not problems, "problems": problems, "checks": checks}
        return JSONResponse(body, status_code=200 if not problems else 503)

    async def openapi(request: Request) -> Response:
        return JSONResponse(schema)

    async def metrics(request: Request) -> Response:
        # Counts and ages only (no addresses, no texts), so no key, like /healthz.
        from .metrics import render_metrics, snapshot

        try:
            body, content_type = render_metrics(await snapshot(gateway))
        except Exception as exc:
            log.exception("metrics failed")
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=503)
        return Response(body, media_type=content_type)

    mcp = _mcp_app(api)
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Mount(API_PREFIX, routes=_api_routes(api)),
            *([Route("/mcp", mcp)] if mcp is not None else []),
            *_console_routes(gateway, config),
            *extra_routes,
        ]
    )
    app.state.hl_api = api
    app.state.hl_mcp = mcp
    if not config.api.api_keys and not allow_unauthenticated:
        log.warning(
            "[api] api_keys is empty: every %s request will be refused with 401; "
            "set api_keys to let agents in",
            API_PREFIX,
        )
    return app


def _mcp_app(api: _Api) -> Any:
    """`/mcp` (MCP streamable HTTP; agent API keys, as the tools create requests) when the
    `mcp` extra is installed; None otherwise."""
    from .mcp_mount import McpMount, mcp_available

    if not mcp_available():
        return None

    def authorize(request: Request) -> Response | None:
        try:
            api.check_auth(request, Action.CREATE)  # the MCP tools create requests and wait
        except _HttpError as exc:
            return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
        return None

    return McpMount(api.gateway, api.config.mcp, authorize)


def _console_routes(gateway: Any, config: GatewayConfig) -> list[BaseRoute]:
    from .console import console_routes

    return console_routes(gateway, config)


# -- OpenAPI --------------------------------------------------------------------------------------


def openapi_schema() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        FunctionCall,
        FunctionCallStatus,
        HumanContact,
        HumanContactStatus,
        Escalation,
    ]
    _, defs = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas = defs.get("$defs", {})
    schemas["ValidationProblem"] = {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                        "msg": {"type": "string"},
                        "type": {"type": "string"},
                    },
                },
            },
        },
    }
    schemas["Problem"] = {"type": "object", "properties": {"detail": {"type": "string"}}}

    def ref(name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    def body(name: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": ref(name)}}}

    def ok(name: str) -> dict[str, Any]:
        return {
            "200": {
                "description": "the call; header X-HL-Email-State is pending, done or failed",
                "content": {"application/json": {"schema": ref(name)}},
            },
            "400": {
                "description": "request cannot be carried out",
                "content": {"application/json": {"schema": ref("Problem")}},
            },
            "401": {"description": "missing or invalid API key"},
            "403": {
                "description": "the key's scope does not allow this (respond needs an "
                "[api] approver_keys key; agents may not answer their own calls)",
                "content": {"application/json": {"schema": ref("Problem")}},
            },
            "404": {
                "description": "no such call",
                "content": {"application/json": {"schema": ref("Problem")}},
            },
            "422": {
                "description": "invalid JSON or fields",
                "content": {"application/json": {"schema": ref("ValidationProblem")}},
            },
        }

    call_id = {"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}
    wait = {
        "name": "wait",
        "in": "query",
        "required": False,
        "description": f"long-poll: return as soon as the call is no longer pending, or after this many seconds (max {MAX_WAIT:g})",
        "schema": {"type": "number", "minimum": 0},
    }
    paths: dict[str, Any] = {}
    for coll, agent_coll, model, status in (
        ("function_calls", "function_calls", "FunctionCall", "FunctionCallStatus"),
        ("contact_requests", "human_contacts", "HumanContact", "HumanContactStatus"),
    ):
        paths[f"{API_PREFIX}/{coll}"] = {
            "post": {
                "summary": f"create a {model}",
                "requestBody": body(model),
                "responses": ok(model),
            }
        }
        paths[f"{API_PREFIX}/{coll}/{{call_id}}"] = {
            "get": {
                "summary": f"get a {model} (optionally long-poll)",
                "parameters": [call_id, wait],
                "responses": ok(model),
            }
        }
        paths[f"{API_PREFIX}/{coll}/{{call_id}}/events"] = {
            "get": {
                "summary": "Server-Sent Events: the current state, then the final state",
                "parameters": [call_id],
                "responses": {
                    "200": {
                        "description": "text/event-stream",
                        "content": {"text/event-stream": {}},
                    }
                },
            }
        }
        paths[f"{API_PREFIX}/agent/{agent_coll}/{{call_id}}/respond"] = {
            "post": {
                "summary": f"answer a {model} through the API",
                "parameters": [call_id],
                "requestBody": body(status),
                "responses": ok(model),
            }
        }
        paths[f"{API_PREFIX}/agent/{agent_coll}/{{call_id}}/escalate_email"] = {
            "post": {
                "summary": f"re-ask a {model} by email, optionally to more people",
                "parameters": [call_id],
                "requestBody": body("Escalation"),
                "responses": ok(model),
            }
        }
        paths[f"{API_PREFIX}/agent/{agent_coll}/{{call_id}}/cancel"] = {
            "post": {
                "summary": f"cancel a pending {model}: the people asked are told it is no "
                "longer needed; later answers change nothing",
                "parameters": [call_id],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"reason": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": ok(model),
            }
        }
    paths["/healthz"] = {
        "get": {
            "summary": "liveness",
            "security": [],
            "responses": {"200": {"description": "alive"}},
        }
    }
    paths["/readyz"] = {
        "get": {
            "summary": "readiness: store reachable, IMAP connected, no SMTP error",
            "security": [],
            "responses": {
                "200": {"description": "ready"},
                "503": {"description": "not ready, with details"},
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hl-email",
            "version": "0.1.0",
            "description": "HumanLayer-compatible API of a self-hosted email gateway.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


# -- serving --------------------------------------------------------------------------------------


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process owner (`hl-email serve`, tests) handles signals and sets the stop event.
        yield


class ApiServer:
    """uvicorn on a socket we bind ourselves, so that port 0 works and the port is known."""

    def __init__(
        self,
        gateway: Any,
        config: GatewayConfig,
        *,
        app: Any = None,
        webhooks: bool = True,
    ) -> None:
        self.gateway = gateway
        self.config = config
        self.app = app if app is not None else create_app(gateway, config)
        self.webhooks = None
        if webhooks and config.webhooks:
            from .webhooks import WebhookDispatcher

            self.webhooks = WebhookDispatcher(gateway, config.webhooks)
        self.host = config.api.host
        self.port: int | None = None
        self._socket: socket.socket | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> int:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: without it uvicorn's separate header and body writes
        # meet the client's delayed ACK and a long-poll answer takes ~40 ms more.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self.config.api.port))
        except OSError as exc:
            sock.close()
            raise OSError(
                f"cannot listen on {self.host}:{self.config.api.port} ([api] host/port): {exc}"
            ) from None
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        if self.webhooks is not None:
            await self.webhooks.start()
        uv_config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
        )
        self._server = _Server(uv_config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="hl-email-api")
        while not self._server.started:
            if self._task.done():
                await self._task  # raises the start-up error
                raise RuntimeError("the HTTP API stopped during start-up")
            await asyncio.sleep(0.005)
        log.info("HTTP API listening on %s%s", self.base_url, API_PREFIX)
        return self.port

    async def stop(self) -> None:
        api = getattr(getattr(self.app, "state", None), "hl_api", None)
        if api is not None:
            api.closing.set()  # end long-polls and SSE streams so shutdown is quick
        mcp = getattr(getattr(self.app, "state", None), "hl_mcp", None)
        if mcp is not None:
            await mcp.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.webhooks is not None:
            await self.webhooks.stop()


async def serve_api(
    gateway: Any,
    config: GatewayConfig,
    stop: asyncio.Event,
    *,
    app: Any = None,
    on_ready: Callable[[ApiServer], None] | None = None,
) -> None:
    """Serve the API (and webhook delivery, when `[[webhooks]]` are configured) until `stop` is
    set. `on_ready(server)` is called once listening; `server.port` is the bound port (useful
    with port 0)."""
    server = ApiServer(gateway, config, app=app)
    await server.start()
    try:
        if on_ready is not None:
            on_ready(server)
        await stop.wait()
    finally:
        await server.stop()
