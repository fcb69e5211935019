"""The ASGI app: API-key auth and the /humanlayer/v1 endpoints, /healthz, /readyz,
/openapi.json, /metrics, and where mounted, /mcp and /console (the package docstring lists the
endpoints)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route

from ..config import GatewayConfig
from ..errors import NotFoundError, RequestInvalidError
from ..models import (
    Escalation,
    FunctionCall,
    FunctionCallStatus,
    HumanContact,
    HumanContactStatus,
)
from ..scopes import Action, KeyRing, Scope, refusal
from .schema import served_schema
from .wire import (
    API_PREFIX,
    SSE_PING,
    STATE_HEADER,
    HttpError,
    Kind,
    field_error,
    parse_body,
    parse_wait,
    read_body,
    validation_error,
)

__all__ = ["create_app"]

log = logging.getLogger("hl_email.api")

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
                raise HttpError(403, {"detail": why})
        return scopes

    def _authenticate(self, request: Request) -> frozenset[Scope]:
        if not self.keys:
            if self.allow_unauthenticated:
                return frozenset({Scope.AGENT})
            raise HttpError(
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
            raise HttpError(
                401,
                {"detail": "missing API key: send Authorization: Bearer <key>"},
                {"WWW-Authenticate": "Bearer"},
            )
        # Compared against every key so timing does not reveal which one matched.
        scopes = self.keys.scopes(token.strip().encode())
        if not scopes:
            raise HttpError(
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
            call = await parse_body(request, FunctionCall)
            created = await self.gateway.create_function_call(call)
        else:
            call = await parse_body(request, HumanContact)
            created = await self.gateway.create_human_contact(call)
        return self._call_response(created, await self._row_state(created.call_id))

    async def get(self, request: Request, kind: Kind) -> Response:
        call_id = request.path_params["call_id"]
        wait = parse_wait(request)
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
            status = await parse_body(request, FunctionCallStatus)
            obj = await self.gateway.respond_to_function_call(call_id, status)
        else:
            status = await parse_body(request, HumanContactStatus)
            obj = await self.gateway.respond_to_human_contact(call_id, status)
        return self._call_response(obj, await self._row_state(call_id))

    async def escalate(self, request: Request, kind: Kind) -> Response:
        call_id = request.path_params["call_id"]
        escalation = await parse_body(request, Escalation)
        await self._get(kind, call_id)  # 404 when the call is of the other kind
        obj = await self.gateway.escalate_email(call_id, escalation)
        return self._call_response(obj, await self._row_state(call_id))

    async def cancel(self, request: Request, kind: Kind) -> Response:
        """An agent-scope action: the agent withdraws its own request (body optional:
        `{"reason": "…"}`). Cancelling twice is fine; a decided call is a 400."""
        call_id = request.path_params["call_id"]
        raw = await read_body(request)
        reason = ""
        if raw.strip():
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise field_error(["body"], f"invalid JSON: {exc}", "json_invalid") from None
            if not isinstance(data, dict) or not isinstance(data.get("reason", ""), str):
                raise field_error(["body", "reason"], "must be a string", "string_type")
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
                    raise HttpError(403, {"detail": "this endpoint needs an [api] admin_keys key"})
            else:
                why = refusal(needed, scopes)
                if why is not None:
                    raise HttpError(403, {"detail": why})
            return await handler(request, kind)
        except HttpError as exc:
            return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
        except NotFoundError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)
        except RequestInvalidError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        except ValidationError as exc:  # a model built from stored data or a nested check
            err = validation_error(exc)
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


def _readiness(details: dict[str, Any], detailed: bool) -> tuple[dict[str, Any], int]:
    """/readyz's body and status from gateway.readiness(); error texts only when `detailed`."""
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
        problems.append(f"SMTP: {details['smtp_last_error']}" if detailed else "SMTP is failing")
    checks = details if detailed else {k: v for k, v in details.items() if "error" not in k}
    body = {"ready": not problems, "problems": problems, "checks": checks}
    return body, 200 if not problems else 503


def _service_routes(api: _Api) -> list[BaseRoute]:
    """/healthz, /readyz, /openapi.json and /metrics: no key needed."""
    gateway = api.gateway

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
        except HttpError:
            detailed = False
        body, status = _readiness(details, detailed)
        return JSONResponse(body, status_code=status)

    async def openapi(request: Request) -> Response:
        return JSONResponse(served_schema())

    async def metrics(request: Request) -> Response:
        # Counts and ages only (no addresses, no texts), so no key, like /healthz.
        from .metrics import render_metrics, snapshot

        try:
            body, content_type = render_metrics(await snapshot(gateway))
        except Exception as exc:
            log.exception("metrics failed")
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=503)
        return Response(body, media_type=content_type)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


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
    mcp = _mcp_app(api)
    app = Starlette(
        routes=[
            *_service_routes(api),
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
        except HttpError as exc:
            return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
        return None

    return McpMount(api.gateway, api.config.mcp, authorize)


def _console_routes(gateway: Any, config: GatewayConfig) -> list[BaseRoute]:
    from .console import console_routes

    return console_routes(gateway, config)
