"""The operator console on `serve` (`/console`, an `[api] admin_keys` key): pending and decided
requests with filters; each request's thread (asks, reminders, confirmations, replies with their
outcomes and the reason for each refusal); cancel and re-send.

Sign-in is a form that sets an HttpOnly, SameSite=Strict cookie holding an HMAC of the key (not
the key); `Authorization: Bearer <admin key>` works too. Every change is a POST from our own
origin (the cookie is SameSite=Strict and a foreign Origin header is refused).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import NotFoundError, RequestInvalidError
from ..models import Escalation

__all__ = ["COOKIE", "console_routes"]

COOKIE = "hl_console"
_TEMPLATES = Path(__file__).parent / "console_templates"
_TEXT_MAX = 4000


def _token(key: str) -> str:
    return hmac.new(key.encode(), b"hl-email console session", hashlib.sha256).hexdigest()


def _fmt(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _result(row: Any) -> tuple[str, str]:
    status = row.status or {}
    if status.get("cancelled"):
        return "cancelled", "bad"
    if row.state == "pending":
        return "pending", "pending"
    if row.state == "failed":
        return "failed", "bad"
    if row.kind == "function_call":
        return ("approved", "good") if status.get("approved") else ("rejected", "bad")
    return "answered", "good"


def _what(row: Any) -> str:
    if row.kind == "function_call":
        return f"approve {row.spec.get('fn')}"
    first = (row.spec.get("msg") or "").strip().splitlines()
    return "question: " + first[0][:80] if first else "question"


def _body_text(raw: bytes | None) -> str:
    if not raw:
        return ""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
    except Exception:
        return ""
    text = str(text).replace("\r\n", "\n").strip()
    return text if len(text) <= _TEXT_MAX else text[:_TEXT_MAX] + "\n…"


class Console:
    def __init__(self, gateway: Any, config: Any) -> None:
        self.gateway = gateway
        self.config = config
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True, trim_blocks=True
        )
        env.filters["urlq"] = lambda v: quote(str(v), safe="")
        self.jinja = env

    # -- access --

    @property
    def keys(self) -> list[str]:
        return [k for k in getattr(self.config.api, "admin_keys", []) or [] if k]

    def signed_in(self, request: Request) -> bool:
        keys = self.keys
        if not keys:
            return False
        ok = False
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() == "bearer" and presented.strip():
            for key in keys:
                ok |= hmac.compare_digest(presented.strip().encode(), key.encode())
        cookie = request.cookies.get(COOKIE, "")
        if cookie:
            for key in keys:
                ok |= hmac.compare_digest(cookie.encode(), _token(key).encode())
        return ok

    @staticmethod
    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin or origin == "null":
            return origin is None
        return urlsplit(origin).netloc == request.headers.get("host", "")

    def page(self, name: str, request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
        flash = None
        if request.query_params.get("done"):
            flash = {"tone": "good", "text": request.query_params["done"]}
        elif request.query_params.get("failed"):
            flash = {"tone": "bad", "text": request.query_params["failed"]}
        html = self.jinja.get_template(name).render(
            agent=self.config.agent.address,
            signed_in=self.signed_in(request),
            flash=flash,
            **ctx,
        )
        return HTMLResponse(
            html,
            status_code=status,
            headers={
                "Cache-Control": "no-store",
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                "form-action 'self'; base-uri 'none'",
                # Not no-referrer: with it browsers send `Origin: null` on our own forms.
                "Referrer-Policy": "same-origin",
            },
        )

    def login_page(self, request: Request, status: int = 401, error: str = "") -> Response:
        return self.page("login.html", request, status, enabled=bool(self.keys), error=error)

    # -- pages --

    async def index(self, request: Request) -> Response:
        if not self.signed_in(request):
            return self.login_page(request)
        state = request.query_params.get("state", "")
        kind = request.query_params.get("kind", "")
        q = request.query_params.get("q", "").strip().lower()
        store = self.gateway.store
        rows = await store.list_requests(
            state=state if state in ("pending", "done", "failed") else None, limit=500
        )
        out = []
        # PERF: one recipients query per row (up to 500); a join in the store would be one.
        for row in rows:
            if kind and row.kind != kind:
                continue
            recipients = await store.get_recipients(row.id)
            asked = ", ".join(r.address for r in recipients)
            haystack = " ".join([row.call_id, row.run_id, _what(row), asked]).lower()
            if q and q not in haystack:
                continue
            result, tone = _result(row)
            out.append(
                {
                    "call_id": row.call_id,
                    "created": _fmt(row.created_at),
                    "result": result,
                    "tone": tone,
                    "what": _what(row),
                    "asked": asked,
                }
            )
        return self.page("list.html", request, rows=out[:200], state=state, kind=kind, q=q)

    async def detail(self, request: Request) -> Response:
        if not self.signed_in(request):
            return self.login_page(request)
        store = self.gateway.store
        row = await store.get_request(call_id=request.path_params["call_id"])
        if row is None:
            return self.page("list.html", request, 404, rows=[], state="", kind="", q="")
        recipients = await store.get_recipients(row.id)
        by_seq = {r.seq: r.address for r in recipients}
        events: list[dict[str, Any]] = []
        for o in await store.outbox_for_request(row.id):
            events.append(
                {
                    "at": o.sent_at or o.created_at,
                    "when": _fmt(o.sent_at or o.created_at),
                    "direction": "out",
                    "purpose": o.purpose,
                    "to": ", ".join(o.rcpt_to) or by_seq.get(o.recipient_seq, "?"),
                    "state": o.state,
                    "error": o.last_error,
                    "text": _body_text(o.message),
                }
            )
        for i in await store.list_inbound(request_id=row.id, limit=500):
            events.append(
                {
                    "at": i.received_at,
                    "when": _fmt(i.received_at),
                    "direction": "in",
                    "sender": i.from_address,
                    "outcome": i.outcome,
                    "detail": i.detail,
                    "text": _body_text(i.raw),
                }
            )
        events.sort(key=lambda e: e["at"])
        status = row.status or {}
        outcome = [
            (label, status[key])
            for key, label in (("comment", "Comment"), ("response", "Answer"), ("error", "Error"))
            if status.get(key)
        ]
        route = row.route or {}
        result, tone = _result(row)
        return self.page(
            "request.html",
            request,
            row=row,
            what=_what(row),
            result=result,
            tone=tone,
            created=_fmt(row.created_at),
            resolved=_fmt(row.resolved_at) if row.resolved_at else None,
            route=f"{route.get('source', '-')} {route.get('rule') or ''} "
            f"(policy {route.get('policy', 'any')}, quorum {route.get('quorum') or 1})",
            outcome=outcome,
            recipients=recipients,
            events=events,
        )

    # -- actions --

    async def _action(self, request: Request, run: Any, done: str) -> Response:
        call_id = request.path_params["call_id"]
        if not self.signed_in(request):
            return self.login_page(request)
        if not self.same_origin(request):
            return Response("cross-origin request refused", status_code=403)
        url = f"/console/requests/{quote(call_id, safe='')}"
        try:
            await run(call_id)
        except (NotFoundError, RequestInvalidError) as exc:
            return RedirectResponse(f"{url}?failed={quote(str(exc))}", status_code=303)
        return RedirectResponse(f"{url}?done={quote(done)}", status_code=303)

    async def cancel(self, request: Request) -> Response:
        return await self._action(
            request,
            lambda call_id: self.gateway.cancel(call_id, by="an operator (console)"),
            "Cancelled; the people asked are told it is no longer needed.",
        )

    async def resend(self, request: Request) -> Response:
        message = Escalation(
            escalation_msg="A reminder from the operator: this request still needs your answer."
        )
        return await self._action(
            request,
            lambda call_id: self.gateway.escalate_email(call_id, message),
            "Re-sent to everyone who has not answered.",
        )

    async def login(self, request: Request) -> Response:
        if not self.same_origin(request):
            return Response("cross-origin request refused", status_code=403)
        fields = parse_qs((await request.body()).decode("utf-8", "replace")[:4096])
        presented = (fields.get("key") or [""])[0].strip()
        match = next(
            (k for k in self.keys if hmac.compare_digest(presented.encode(), k.encode())), None
        )
        if match is None:
            return self.login_page(request, 401, "That is not an admin key.")
        response = RedirectResponse("/console", status_code=303)
        response.set_cookie(
            COOKIE,
            _token(match),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/console",
        )
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/console", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response


def console_routes(gateway: Any, config: Any) -> list[BaseRoute]:
    console = Console(gateway, config)
    return [
        Route("/console", console.index, methods=["GET"]),
        Route("/console/login", console.login, methods=["POST"]),
        Route("/console/logout", console.logout, methods=["POST"]),
        Route("/console/requests/{call_id:path}/cancel", console.cancel, methods=["POST"]),
        Route("/console/requests/{call_id:path}/resend", console.resend, methods=["POST"]),
        Route("/console/requests/{call_id:path}", console.detail, methods=["GET"]),
    ]
