"""The sandbox's web inbox (`/dev/inbox`): pages that show each email as the person would see it,
with `mailto:` links opening the reply box, and the reply form."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from email.message import EmailMessage, Message
from email.utils import getaddresses
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, unquote

import aiosmtplib
import jinja2
from selectolax.lexbor import LexborHTMLParser
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Route

from ..core.tokens import find_reply_keys
from .mail_client import MailClient, parse_mailto, plain_text, reply_subject
from .mailboxes import Mailboxes, header, mailbox_name, parse_message

__all__ = ["SandboxWeb", "rewrite_mailto_links"]

_TEMPLATES = Path(__file__).parent.parent / "sandbox_templates"

_CSP = (
    "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; "
    "font-src data:; form-action 'none'"
)

# `?error=` codes of the reply form (after a redirect), as the person reads them.
_REPLY_ERRORS = {
    "empty": "Nothing was sent: the reply is empty. Write your answer (for example APPROVE, or "
    "REJECT and a reason) in the box, then press Send.",
}


def rewrite_mailto_links(html: str, compose_url: str) -> str:
    """Make an email's `mailto:` links open the sandbox's reply box.

    Each mailto href becomes `compose_url + "?compose=" + <the mailto URI>` opened in the top
    window (no script needed), with the original URI kept in `data-mailto` for the page's
    script to prefill the reply box without a reload. A Content-Security-Policy is added so
    the email loads nothing from the network, as in a privacy-minded mail client.
    """
    tree = LexborHTMLParser(html)
    for link in tree.css("a[href]"):
        href = (link.attributes.get("href") or "").strip()
        if href.lower().startswith("mailto:"):
            link.attrs["data-mailto"] = href
            link.attrs["href"] = f"{compose_url}?compose={quote(href, safe='')}#reply"
            link.attrs["target"] = "_top"
    head = tree.head
    if head is not None:
        meta = LexborHTMLParser(
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        ).head
        if meta is not None and meta.child is not None:
            head.insert_child(meta.child)
    return tree.html or ""


class _Host(Protocol):
    """What the pages read from the running sandbox: the API to show, the gateway's store."""

    api_key: str
    gateway: Any

    @property
    def api_base_url(self) -> str: ...


class SandboxWeb:
    """The inbox routes (they need no API key; the sandbox only answers on loopback)."""

    def __init__(self, host: _Host, mailboxes: Mailboxes, client: MailClient) -> None:
        self.host = host
        self.mailboxes = mailboxes
        self.client = client
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["urlq"] = lambda v: quote(str(v), safe="")
        self._jinja = env

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/", self._root, methods=["GET"]),
            Route("/dev", self._root, methods=["GET"]),
            Route("/favicon.ico", self._favicon, methods=["GET"]),
            Route("/dev/inbox", self._inbox, methods=["GET"]),
            Route("/dev/inbox/state", self._state, methods=["GET"]),
            Route("/dev/inbox/{box}", self._inbox, methods=["GET"]),
            Route("/dev/inbox/{box}/{key}", self._message, methods=["GET"]),
            Route("/dev/inbox/{box}/{key}/raw", self._raw, methods=["GET"]),
            Route("/dev/inbox/{box}/{key}/reply", self._reply, methods=["POST"]),
        ]

    async def request_state(self, msg: Message) -> dict[str, Any] | None:
        """The request a message is about (from the reply key in its Message-ID/References)."""
        keys = find_reply_keys(
            header(msg, "Message-ID"), header(msg, "In-Reply-To"), header(msg, "References")
        )
        for key in keys:
            row = await self.host.gateway.store.get_request(id=key.request_id)
            if row is None:
                continue
            status = row.status or {}
            if row.state == "pending":
                label, tone = "Waiting for an answer", "pending"
            elif row.state == "failed":
                label, tone = f"Failed: {status.get('error') or 'delivery failed'}", "bad"
            elif row.kind == "function_call":
                if status.get("approved"):
                    label, tone = "Approved", "good"
                else:
                    label, tone = f"Rejected: {status.get('comment') or ''}".rstrip(": "), "bad"
            else:
                label, tone = f"Answered: {status.get('response') or ''}", "good"
            what = f"approve {row.spec.get('fn')}" if row.kind == "function_call" else "question"
            return {"call_id": row.call_id, "label": label, "tone": tone, "what": what}
        return None

    def _render(self, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        template = self._jinja.get_template(name)
        boxes = self.mailboxes
        html = template.render(
            agent=boxes.agent_address,
            boxes=[(b, boxes.unread(b)) for b in boxes.boxes()],
            agent_unread=0,
            api_base=self.host.api_base_url,
            api_key=self.host.api_key,
            version=boxes.version,
            **ctx,
        )
        return HTMLResponse(
            html,
            status_code=status,
            headers={"Cache-Control": "no-store", "X-Frame-Options": "SAMEORIGIN"},
        )

    async def _root(self, request: Request) -> Response:
        return RedirectResponse("/dev/inbox", status_code=307)

    async def _favicon(self, request: Request) -> Response:
        return Response(status_code=204)

    async def _state(self, request: Request) -> Response:
        return JSONResponse(
            {"version": self.mailboxes.version}, headers={"Cache-Control": "no-store"}
        )

    def _box(self, request: Request) -> str | None:
        box = mailbox_name(unquote(request.path_params.get("box", "")))
        if box == self.mailboxes.agent_address or box in self.mailboxes.boxes():
            return box
        return None

    async def _inbox(self, request: Request) -> Response:
        boxes = self.mailboxes
        if "box" in request.path_params:
            box = self._box(request)
            if box is None:
                return self._render("not_found.html", 404, what="mailbox")
        else:
            people = boxes.boxes()
            box = people[0] if len(people) == 1 else None
        if box is None:
            # Overview: every person's mailbox, newest message first.
            rows = [m for b in boxes.boxes() for m in boxes.list_messages(b) if m.folder == "inbox"]
            rows.sort(key=lambda v: v.mtime, reverse=True)
            return self._render("inbox.html", box=None, messages=rows)
        return self._render("inbox.html", box=box, messages=boxes.list_messages(box))

    async def _message(self, request: Request) -> Response:
        box = self._box(request)
        key = request.path_params["key"]
        found = self.mailboxes.read(box, key) if box else None
        if box is None or found is None:
            return self._render("not_found.html", 404, what="message")
        folder, raw = found
        agent = self.mailboxes.agent_address
        if folder == "inbox":
            with contextlib.suppress(OSError):
                self.mailboxes.maildir(box).mark_seen(key) if box != agent else None
        msg = parse_message(raw)
        url = f"/dev/inbox/{quote(box, safe='@')}/{key}"
        view, srcdoc, text = _message_body(msg, request.query_params.get("view", "html"), url)
        return self._render(
            "message.html",
            box=box,
            key=key,
            url=url,
            folder=folder,
            view=view,
            has_html=msg.get_body(preferencelist=("html",)) is not None,
            msg={
                "from": header(msg, "From"),
                "to": header(msg, "To"),
                "cc": header(msg, "Cc"),
                "reply_to": header(msg, "Reply-To"),
                "subject": header(msg, "Subject") or "(no subject)",
                "date": header(msg, "Date"),
                "message_id": header(msg, "Message-ID"),
            },
            srcdoc=srcdoc,
            text=text,
            source=raw.decode("utf-8", "replace") if view == "source" else "",
            compose=_compose(request),
            default_to=", ".join(
                a for _, a in getaddresses([header(msg, "Reply-To") or header(msg, "From")]) if a
            ),
            reply_subject=reply_subject(header(msg, "Subject")),
            request_state=await self.request_state(msg),
            outcome=self.mailboxes.outcomes.get(key) if box == agent else None,
            can_reply=box != agent and folder == "inbox",
            sent=_sent(request),
            reply_error=_REPLY_ERRORS.get(request.query_params.get("error", "")),
        )

    async def _raw(self, request: Request) -> Response:
        box = self._box(request)
        found = self.mailboxes.read(box, request.path_params["key"]) if box else None
        if found is None:
            return PlainTextResponse("no such message", status_code=404)
        return PlainTextResponse(found[1].decode("utf-8", "replace"))

    async def _reply(self, request: Request) -> Response:
        box = self._box(request)
        key = request.path_params["key"]
        if box is None or self.mailboxes.read(box, key) is None:
            return self._render("not_found.html", 404, what="message")
        # A plain urlencoded form (no python-multipart dependency needed).
        fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        body = (fields.get("body") or [""])[0]
        to = (fields.get("to") or [""])[0].strip() or None
        subject = (fields.get("subject") or [""])[0].strip() or None
        url = f"/dev/inbox/{quote(box, safe='@')}/{key}"
        if not body.strip():
            return RedirectResponse(f"{url}?error=empty#reply", status_code=303)
        try:
            reply, outcome = await self.client.send_reply(
                box, key, body=body, to=to, subject=subject
            )
        except (ValueError, aiosmtplib.SMTPException) as exc:
            return self._render("not_found.html", 400, what=f"reply ({exc})")
        params = f"sent={quote(str(reply['To']), safe='')}"
        if outcome is not None:
            params += f"&outcome={quote(outcome['outcome'], safe='')}"
            params += f"&detail={quote(outcome.get('detail') or '', safe='')}"
        return RedirectResponse(f"{url}?{params}", status_code=303)


def _message_body(msg: EmailMessage, view: str, url: str) -> tuple[str, str, str]:
    """(view shown, HTML for the sandboxed frame, text) of a message: `view` is html, text or
    source; html falls back to text when the message has no HTML part."""
    html_part = msg.get_body(preferencelist=("html",))
    text_part = msg.get_body(preferencelist=("plain",))
    if view not in ("html", "text", "source") or (view == "html" and html_part is None):
        view = "text"
    srcdoc = ""
    if view == "html" and html_part is not None:
        srcdoc = rewrite_mailto_links(str(html_part.get_content()), url)
    text = ""
    if text_part is not None:
        with contextlib.suppress(LookupError, ValueError):
            text = str(text_part.get_content())
    elif html_part is not None:
        text = plain_text(msg)
    return view, srcdoc, text


def _compose(request: Request) -> dict[str, str]:
    """The reply box prefilled from a `?compose=<mailto URI>` (a mailto link in the email)."""
    compose = {"to": "", "subject": "", "body": ""}
    if request.query_params.get("compose"):
        with contextlib.suppress(ValueError):
            compose = parse_mailto(request.query_params["compose"])
    return compose


def _sent(request: Request) -> dict[str, str] | None:
    """What the page says after a reply was sent (from the redirect's query)."""
    if not request.query_params.get("sent"):
        return None
    return {
        "outcome": request.query_params.get("outcome", ""),
        "detail": request.query_params.get("detail", ""),
        "to": request.query_params.get("sent", ""),
    }
