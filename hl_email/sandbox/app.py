"""`hl-email dev`: the whole gateway in one process with no mail account.

* SQLite in a local folder (``./.hl-email-dev/`` by default).
* An in-process SMTP server (aiosmtpd) that the gateway's outbox sends to; it captures every
  message into a local Maildir per recipient address (``mail/<address>/``).
* The agent's Maildir is fed to the gateway's normal inbound pipeline
  (:meth:`Gateway.handle_inbound`) by :class:`~hl_email.inbound.maildir.MaildirSource`: a message
  is written to disk before it is processed, and marked seen only after its outcome is stored.
* The HTTP API (``/humanlayer/v1``) and a web inbox at ``/dev/inbox`` where you read each email
  as the person would see it and answer it. A reply written there is a real RFC 5322 reply
  (threading headers, the original quoted below), submitted over SMTP like any mail client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import ipaddress
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import aiosmtplib
import jinja2
from aiosmtpd.smtp import SMTP as SmtpServerProtocol
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

from ..config import GatewayConfig, load_config, normalize_address
from ..inbound.maildir import Maildir, MaildirSource
from ..routing import RouteConfig
from ..tokens import find_reply_keys

__all__ = [
    "DEFAULT_AGENT_ADDRESS",
    "DEFAULT_DATA_DIR",
    "DEFAULT_PORT",
    "Sandbox",
    "build_reply",
    "parse_mailto",
    "quote_text",
    "rewrite_mailto_links",
    "sandbox_store_path",
]

log = logging.getLogger("hl_email.sandbox")

DEFAULT_PORT = 8040
DEFAULT_DATA_DIR = ".hl-email-dev"
DEFAULT_AGENT_ADDRESS = "agent@hl-email.test"
# Who a call with no channel and no default route asks in the sandbox.
DEFAULT_PERSON = "you@hl-email.test"
USER_AGENT = "hl-email dev sandbox"

_TEMPLATES = Path(__file__).parent.parent / "sandbox_templates"


def sandbox_store_path(data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR) -> Path:
    """Where `hl-email dev --data-dir DIR` keeps its database (`hl-email requests --dev` reads it)."""
    return Path(data_dir).resolve() / "hl-email.db"


# ---------------------------------------------------------------------------------------------
# Pure helpers: mailto parsing, reply construction, HTML link rewriting


def parse_mailto(uri: str) -> dict[str, str]:
    """`mailto:addr?subject=…&body=…` (RFC 6068) → {"to", "subject", "body", "cc"}."""
    parts = urlsplit(uri.strip())
    if parts.scheme.lower() != "mailto":
        raise ValueError(f"not a mailto: URI: {uri[:80]!r}")
    # RFC 6068: `+` is a literal plus, only %20 is a space; parse_qs would turn `+` into a space.
    query = parse_qs(parts.query.replace("+", "%2B"), keep_blank_values=True)
    fields = {k.lower(): v for k, v in query.items()}
    to = [unquote(parts.path)] if parts.path else []
    to += fields.get("to", [])
    return {
        "to": ", ".join(a for a in to if a),
        "cc": ", ".join(fields.get("cc", [])),
        "subject": (fields.get("subject") or [""])[0],
        "body": (fields.get("body") or [""])[0].replace("\r\n", "\n"),
    }


def _plain_text(msg: Message) -> str:
    """The text a mail client would quote: the text/plain part, else the HTML part's text."""
    if isinstance(msg, EmailMessage):
        part = msg.get_body(preferencelist=("plain", "html"))
    else:
        part = None
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        tree = LexborHTMLParser(content)
        for node in tree.css("style, script, head"):
            node.decompose()
        body = tree.body
        content = body.text(separator="\n") if body is not None else ""
        content = re.sub(r"\n\s*\n\s*\n+", "\n\n", content)
    return content.replace("\r\n", "\n")


def quote_text(text: str) -> str:
    """Prefix every line with `> ` the way mail clients quote (`>` alone on an empty line)."""
    lines = text.rstrip("\n").split("\n")
    return "\n".join(
        (">" + line) if line.startswith(">") else ("> " + line if line else ">") for line in lines
    )


def _msgids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _attribution(original: Message) -> str:
    sender = str(original.get("From") or "").strip() or "someone"
    date_header = original.get("Date")
    when = ""
    if date_header:
        try:
            dt = parsedate_to_datetime(str(date_header))
            when = dt.strftime("%a, %-d %b %Y at %H:%M")
        except (TypeError, ValueError):
            when = str(date_header)
    return f"On {when}, {sender} wrote:" if when else f"{sender} wrote:"


def build_reply(
    original: Message,
    *,
    from_address: str,
    body: str,
    from_name: str = "",
    to: str | None = None,
    subject: str | None = None,
    date: datetime | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A reply to `original` as a mail client writes it.

    From the person, To the original's Reply-To (else From) unless `to` is given, Subject
    `Re: …`, In-Reply-To the original's Message-ID, References its References plus that ID, and
    the original's text quoted below the new text under an attribution line.
    """
    from ..render import reply_subject

    reply = EmailMessage(policy=email.policy.SMTP)
    reply["From"] = Address(display_name=from_name, addr_spec=from_address)
    if to and to.strip():
        targets = [addr for _, addr in getaddresses([to]) if addr]
    else:
        targets = [
            addr
            for _, addr in getaddresses(
                [str(original.get("Reply-To") or original.get("From") or "")]
            )
            if addr
        ]
    if not targets:
        raise ValueError("the reply has no recipient: the original has no From or Reply-To")
    reply["To"] = ", ".join(targets)
    original_subject = str(original.get("Subject") or "")
    reply["Subject"] = (subject or "").strip() or reply_subject(original_subject)
    reply["Date"] = format_datetime(date or datetime.now(UTC))
    domain = from_address.rpartition("@")[2] or "localhost"
    reply["Message-ID"] = message_id or make_msgid(domain=domain)
    parent = _msgids(str(original.get("Message-ID") or ""))
    if parent:
        reply["In-Reply-To"] = parent[0]
        refs = _msgids(str(original.get("References") or ""))
        if not refs:
            refs = _msgids(str(original.get("In-Reply-To") or ""))
        refs = [r for r in refs if r != parent[0]][-20:] + [parent[0]]
        reply["References"] = " ".join(refs)
    reply["MIME-Version"] = "1.0"
    reply["User-Agent"] = USER_AGENT
    new_text = body.replace("\r\n", "\n").rstrip()
    quoted = _plain_text(original)
    text = new_text + "\n\n" + _attribution(original) + "\n" + quote_text(quoted) + "\n"
    reply.set_content(text, subtype="plain", charset="utf-8")
    return reply


_CSP = (
    "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; "
    "font-src data:; form-action 'none'"
)


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


# ---------------------------------------------------------------------------------------------
# Mailboxes


def mailbox_name(address: str) -> str:
    """The sandbox mailbox of an address: lowercased, `+detail` dropped (like Dovecot)."""
    _, addr = parseaddr(address)
    addr = (addr or address).strip().lower()
    local, at, domain = addr.rpartition("@")
    if at and "+" in local:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}" if at else addr


def _dir_name(box: str) -> str:
    return quote(box, safe="@.-_")


def _display_name(address: str) -> str:
    local = address.partition("@")[0]
    words = re.split(r"[._\-]+", local)
    return " ".join(w.capitalize() for w in words if w) or address


@dataclass
class MessageView:
    box: str
    key: str
    folder: str  # "inbox" | "sent"
    from_: str
    to: str
    subject: str
    date: datetime | None
    message_id: str
    seen: bool
    mtime: float
    outcome: dict[str, Any] | None = None

    @property
    def when(self) -> str:
        dt = self.date or datetime.fromtimestamp(self.mtime, tz=UTC)
        return dt.astimezone().strftime("%b %-d, %H:%M")


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:
        return ""
    return str(value) if value is not None else ""


class _SmtpHandler:
    """aiosmtpd handler: every accepted message is delivered into each recipient's mailbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        try:
            normalize_address(address)
        except ValueError as exc:
            return f"550 5.1.3 {exc}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        for rcpt in envelope.rcpt_tos:
            trace = (
                f"Return-Path: <{envelope.mail_from or ''}>\r\nDelivered-To: {rcpt}\r\n"
            ).encode()
            self.sandbox.deliver(rcpt, trace + content)
        return "250 2.0.0 OK: delivered to the sandbox"


# ---------------------------------------------------------------------------------------------
# The sandbox


class Sandbox:
    """One `hl-email dev` instance: gateway + SMTP capture + Maildir inbound + web inbox."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR,
        *,
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        agent_address: str | None = None,
        agent_name: str | None = None,
        api_key: str | None = None,
        config: str | os.PathLike[str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.host = host
        # `--config FILE`: routes, default route, quorum, reminders, templates and languages
        # come from the file; the sandbox's own mail settings (SMTP capture, no IMAP, store)
        # override the file's. Read now, so a bad file fails before anything starts.
        self.file_config: GatewayConfig | None = load_config(config) if config else None
        if agent_address is None:
            agent_address = (
                self.file_config.agent.address
                if self.file_config is not None
                and "address" in self.file_config.agent.model_fields_set
                else DEFAULT_AGENT_ADDRESS
            )
        self.agent_address = normalize_address(agent_address, field="--agent-address")
        if agent_name is None:
            agent_name = (
                self.file_config.agent.name
                if self.file_config is not None
                and "name" in self.file_config.agent.model_fields_set
                else "Dev agent"
            )
        self.agent_name = agent_name
        # None: generated on first start and kept in <data dir>/api_key (as the secret is).
        self.api_key: str = api_key or ""
        self.mail_dir = self.data_dir / "mail"
        self.config: GatewayConfig | None = None
        self.gateway: Any = None
        self.source: MaildirSource | None = None
        self.smtp_port = 0
        self.version = 0  # bumped on every delivery; the inbox page polls it to refresh
        self._smtp_server: asyncio.base_events.Server | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._http: Any = None
        self._outcomes: dict[str, dict[str, Any]] = {}
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed: asyncio.Event | None = None
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["urlq"] = lambda v: quote(str(v), safe="")
        self._jinja = env

    # -- URLs -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def inbox_url(self) -> str:
        return f"{self.base_url}/dev/inbox"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/humanlayer/v1"

    # -- mailboxes ------------------------------------------------------------------------------

    def maildir(self, box: str, folder: str = "inbox") -> Maildir:
        path = self.mail_dir / _dir_name(box)
        if folder == "sent":
            path = path / ".Sent"
        return Maildir(path)

    def boxes(self) -> list[str]:
        if not self.mail_dir.exists():
            return []
        names = sorted(unquote(p.name) for p in self.mail_dir.iterdir() if p.is_dir())
        return [n for n in names if n != self.agent_address]

    def deliver(self, rcpt: str, raw: bytes) -> str:
        """Store a message in the recipient's mailbox (durably); wake the agent's source."""
        box = mailbox_name(rcpt)
        key = self.maildir(box).deliver(raw)
        self.version += 1
        if self._changed is not None:
            self._changed.set()
        if box == self.agent_address and self.source is not None:
            self.source.poke()
        return key

    def _load_outcomes(self) -> None:
        path = self.data_dir / "outcomes.jsonl"
        if not path.exists():
            return
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError):
                item = json.loads(line)
                self._outcomes[item["key"]] = item

    def _on_processed(self, key: str, raw: bytes, result: Any) -> None:
        msg = _parse(raw)
        item = {
            "key": key,
            "message_id": _header(msg, "Message-ID").strip(),
            "outcome": getattr(result, "outcome", str(result)),
            "detail": getattr(result, "detail", ""),
            "call_id": getattr(result, "call_id", None),
            "verdict": getattr(result, "verdict", None),
            "at": time.time(),
        }
        self._outcomes[key] = item
        with open(self.data_dir / "outcomes.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(item) + "\n")
        self.version += 1
        if self._changed is not None:
            self._changed.set()
        future = self._waiting.pop(item["message_id"], None)
        if future is not None and not future.done():
            future.set_result(item)

    # -- lifecycle ------------------------------------------------------------------------------

    def _secret(self, name: str = "secret") -> str:
        """A random value generated once and kept in the data dir (mode 0600)."""
        path = self.data_dir / name
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        secret = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secret + "\n")
        return secret

    def _make_config(self) -> GatewayConfig:
        if not self.api_key:
            self.api_key = self._secret("api_key")
        file = self.file_config
        config = load_config(
            None,
            agent={"address": self.agent_address, "name": self.agent_name},
            smtp={"host": "127.0.0.1", "port": self.smtp_port, "security": "none"},
            imap={"enabled": False},
            store={"url": f"sqlite:///{sandbox_store_path(self.data_dir)}"},
            security={"secret": self._secret()},
            api={"host": self.host, "port": self.port, "api_keys": [self.api_key]},
        )
        if file is not None:
            # Everything that shapes a request comes from the file …
            config = file.model_copy(deep=True)
            config.templates_dir = (
                str(file.resolved_templates_dir) if file.resolved_templates_dir else None
            )
            if not config.security.secret:
                config.security.secret = self._secret()
        # … and the sandbox owns these, whatever the file or HL_EMAIL_* variables say.
        config.smtp.host, config.smtp.port, config.smtp.security = (
            "127.0.0.1",
            self.smtp_port,
            "none",
        )
        config.smtp.username = config.smtp.password = None
        config.smtp.backoff_initial, config.smtp.backoff_max = 0.2, 2.0
        config.imap.enabled = False
        config.store.url = f"sqlite:///{sandbox_store_path(self.data_dir)}"
        config.agent.address = self.agent_address
        config.agent.name = self.agent_name
        config.api.host, config.api.port = self.host, self.port
        if self.api_key not in config.api.api_keys:
            config.api.api_keys = [*config.api.api_keys, self.api_key]
        if config.default_route is None:
            # A call without a channel (the official SDK's bare `require_approval()`) needs
            # somebody to ask: in the sandbox that is DEFAULT_PERSON's web inbox.
            config.default_route = RouteConfig(name="sandbox default", to=[DEFAULT_PERSON])
        config.base_dir = str(self.data_dir)
        return config

    async def start(self) -> None:
        from ..gateway import Gateway

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.mail_dir.mkdir(exist_ok=True)
        self._changed = asyncio.Event()
        self._load_outcomes()
        loop = asyncio.get_running_loop()
        handler = _SmtpHandler(self)
        self._smtp_server = await loop.create_server(
            lambda: SmtpServerProtocol(
                handler, hostname="sandbox.hl-email.test", ident=USER_AGENT, enable_SMTPUTF8=True
            ),
            host="127.0.0.1",
            port=0,
        )
        self.smtp_port = self._smtp_server.sockets[0].getsockname()[1]
        self.config = self._make_config()
        self.gateway = Gateway(self.config)
        await self.gateway.start(inbound=False)
        self.maildir(self.agent_address)
        self.source = MaildirSource(
            self.maildir(self.agent_address),
            self.gateway.handle_inbound,
            on_processed=self._on_processed,
        )
        self._tasks.append(asyncio.create_task(self.source.run(), name="hl-email-dev-maildir"))

    async def stop(self) -> None:
        if self._http is not None:
            with contextlib.suppress(Exception):
                await self._http.stop()
            self._http = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.gateway is not None:
            await self.gateway.stop()
        if self._smtp_server is not None:
            self._smtp_server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._smtp_server.wait_closed(), 2)
            self._smtp_server = None

    def app(self) -> Any:
        """The ASGI app: the HumanLayer HTTP API plus the inbox routes (which need no key)."""
        from ..api import create_app

        assert self.config is not None
        return _LocalOnly(create_app(self.gateway, self.config, extra_routes=self.routes()), self)

    def host_allowed(self, host: str) -> bool:
        """Whether a request's Host names this sandbox: an IP literal, `localhost` or the bound
        host, with the bound port. A DNS-rebinding page reaches us under its own name."""
        name, _, port = host.strip().lower().rpartition(":")
        if port != str(self.port) or not name:
            return False
        if name.startswith("["):  # an IPv6 literal is written in brackets
            if not name.endswith("]"):
                return False
            name = name[1:-1]
        elif ":" in name:
            return False
        if name in ("localhost", self.host.lower()):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    async def start_http(self) -> int:
        """Listen for the API and the inbox (port 0 picks a free port); returns the port."""
        from ..api import ApiServer

        assert self.config is not None
        self._http = ApiServer(self.gateway, self.config, app=self.app())
        self.port = await self._http.start()
        self.config.api.port = self.port
        return self.port

    def banner(self) -> str:
        return (
            f"hl-email dev: sandbox running; mail and database in {self.data_dir}\n"
            f"\n  Web inbox:  {self.inbox_url}\n"
            f"  API:        {self.api_base_url}   (API key: {self.api_key})\n"
            f"  Agent:      {self.agent_address}\n"
            f"  Store:      {sandbox_store_path(self.data_dir)}"
            f"   (hl-email requests list --dev{self._data_dir_arg()})\n"
            f"  Config:     {self._config_text()}\n"
            f"\nAsk a human from your agent (then answer in the web inbox):\n\n"
            f"    from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel\n"
            f'    hl = AsyncHumanLayer(api_base_url="{self.api_base_url}", api_key="{self.api_key}")\n'
            f'    answer = await hl.human_as_tool(ContactChannel(email=EmailContactChannel(address="you@example.com")))("Ship it?")\n'
            f"\nOr the official HumanLayer SDK: HUMANLAYER_API_BASE={self.api_base_url}"
            f" HUMANLAYER_API_KEY={self.api_key}\nDemo: python examples/refund_agent.py"
            f"    Ctrl-C to stop."
        )

    def _data_dir_arg(self) -> str:
        if self.data_dir == Path(DEFAULT_DATA_DIR).resolve():
            return ""
        return f" --data-dir {self.data_dir}"

    def _config_text(self) -> str:
        assert self.config is not None
        route = self.config.default_route
        default = ", ".join(route.to) if route is not None else "none"
        source = "built-in" if self.file_config is None else "--config file"
        return (
            f"{source}; {len(self.config.routes)} route(s); calls without a channel ask {default}"
        )

    # -- reading messages -------------------------------------------------------------------------

    def _view(self, box: str, folder: str, entry: Any) -> MessageView | None:
        try:
            raw = entry.path.read_bytes()
        except FileNotFoundError:
            return None
        # Headers are enough for the list.
        head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
        msg = _parse(head + b"\r\n\r\n")
        date = None
        with contextlib.suppress(TypeError, ValueError):
            date = parsedate_to_datetime(_header(msg, "Date")) if _header(msg, "Date") else None
        return MessageView(
            box=box,
            key=entry.key,
            folder=folder,
            from_=_header(msg, "From"),
            to=_header(msg, "To"),
            subject=_header(msg, "Subject") or "(no subject)",
            date=date,
            message_id=_header(msg, "Message-ID").strip(),
            seen=entry.seen or folder == "sent",
            mtime=entry.mtime,
            outcome=self._outcomes.get(entry.key) if box == self.agent_address else None,
        )

    def list_messages(self, box: str) -> list[MessageView]:
        views: list[MessageView] = []
        for folder in ("inbox", "sent"):
            md = self.maildir(box, folder)
            for entry in md.entries():
                view = self._view(box, folder, entry)
                if view is not None:
                    views.append(view)
        views.sort(key=lambda v: v.mtime, reverse=True)
        return views

    def unread(self, box: str) -> int:
        return sum(1 for e in self.maildir(box).entries() if not e.seen)

    def read(self, box: str, key: str) -> tuple[str, bytes] | None:
        for folder in ("inbox", "sent"):
            raw = self.maildir(box, folder).read(key)
            if raw is not None:
                return folder, raw
        return None

    async def request_state(self, msg: Message) -> dict[str, Any] | None:
        """The request a message is about (from the reply key in its Message-ID/References)."""
        keys = find_reply_keys(
            _header(msg, "Message-ID"), _header(msg, "In-Reply-To"), _header(msg, "References")
        )
        for key in keys:
            row = await self.gateway.store.get_request(id=key.request_id)
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

    # -- replying -------------------------------------------------------------------------------

    async def send_reply(
        self,
        box: str,
        key: str,
        *,
        body: str,
        to: str | None = None,
        subject: str | None = None,
        wait: float = 10.0,
    ) -> tuple[EmailMessage, dict[str, Any] | None]:
        """`box` answers its message `key`: build the reply, submit it over SMTP, keep a copy in
        the person's Sent folder, and wait (bounded) for the gateway to process it."""
        found = self.read(box, key)
        if found is None:
            raise KeyError(f"no message {key} in {box}")
        original = _parse(found[1])
        reply = build_reply(
            original,
            from_address=box,
            from_name=_display_name(box),
            body=body,
            to=to,
            subject=subject,
        )
        message_id = str(reply["Message-ID"]).strip()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._waiting[message_id] = future
        raw = reply.as_bytes(policy=email.policy.SMTP)
        recipients = [addr for _, addr in getaddresses([str(reply["To"])]) if addr]
        try:
            await aiosmtplib.send(
                raw,
                sender=box,
                recipients=recipients,
                hostname="127.0.0.1",
                port=self.smtp_port,
                timeout=10,
            )
        except Exception:
            self._waiting.pop(message_id, None)
            raise
        self.maildir(box, "sent").deliver(raw)
        self.version += 1
        outcome = None
        if any(mailbox_name(r) == self.agent_address for r in recipients):
            try:
                outcome = await asyncio.wait_for(asyncio.shield(future), wait)
            except TimeoutError:
                outcome = None
        self._waiting.pop(message_id, None)
        return reply, outcome

    # -- web routes -----------------------------------------------------------------------------

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

    def _render(self, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        template = self._jinja.get_template(name)
        html = template.render(
            agent=self.agent_address,
            boxes=[(b, self.unread(b)) for b in self.boxes()],
            agent_unread=0,
            api_base=self.api_base_url,
            api_key=self.api_key,
            version=self.version,
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
        return JSONResponse({"version": self.version}, headers={"Cache-Control": "no-store"})

    def _box(self, request: Request) -> str | None:
        box = mailbox_name(unquote(request.path_params.get("box", "")))
        if box == self.agent_address or box in self.boxes():
            return box
        return None

    async def _inbox(self, request: Request) -> Response:
        if "box" in request.path_params:
            box = self._box(request)
            if box is None:
                return self._render("not_found.html", 404, what="mailbox")
        else:
            people = self.boxes()
            box = people[0] if len(people) == 1 else None
        if box is None:
            # Overview: every person's mailbox, newest message first.
            rows = [m for b in self.boxes() for m in self.list_messages(b) if m.folder == "inbox"]
            rows.sort(key=lambda v: v.mtime, reverse=True)
            return self._render("inbox.html", box=None, messages=rows)
        return self._render("inbox.html", box=box, messages=self.list_messages(box))

    async def _message(self, request: Request) -> Response:
        box = self._box(request)
        key = request.path_params["key"]
        found = self.read(box, key) if box else None
        if box is None or found is None:
            return self._render("not_found.html", 404, what="message")
        folder, raw = found
        if folder == "inbox":
            with contextlib.suppress(OSError):
                self.maildir(box).mark_seen(key) if box != self.agent_address else None
        msg = _parse(raw)
        view = request.query_params.get("view", "html")
        html_part = msg.get_body(preferencelist=("html",))
        text_part = msg.get_body(preferencelist=("plain",))
        if view not in ("html", "text", "source") or (view == "html" and html_part is None):
            view = "text"
        url = f"/dev/inbox/{quote(box, safe='@')}/{key}"
        srcdoc = ""
        if view == "html" and html_part is not None:
            srcdoc = rewrite_mailto_links(str(html_part.get_content()), url)
        text = ""
        if text_part is not None:
            with contextlib.suppress(LookupError, ValueError):
                text = str(text_part.get_content())
        elif html_part is not None:
            text = _plain_text(msg)
        compose = {"to": "", "subject": "", "body": ""}
        if request.query_params.get("compose"):
            with contextlib.suppress(ValueError):
                compose = parse_mailto(request.query_params["compose"])
        default_to = ", ".join(
            a for _, a in getaddresses([_header(msg, "Reply-To") or _header(msg, "From")]) if a
        )
        sent = None
        if request.query_params.get("sent"):
            sent = {
                "outcome": request.query_params.get("outcome", ""),
                "detail": request.query_params.get("detail", ""),
                "to": request.query_params.get("sent", ""),
            }
        return self._render(
            "message.html",
            box=box,
            key=key,
            url=url,
            folder=folder,
            view=view,
            has_html=html_part is not None,
            msg={
                "from": _header(msg, "From"),
                "to": _header(msg, "To"),
                "cc": _header(msg, "Cc"),
                "reply_to": _header(msg, "Reply-To"),
                "subject": _header(msg, "Subject") or "(no subject)",
                "date": _header(msg, "Date"),
                "message_id": _header(msg, "Message-ID"),
            },
            srcdoc=srcdoc,
            text=text,
            source=raw.decode("utf-8", "replace") if view == "source" else "",
            compose=compose,
            default_to=default_to,
            reply_subject=_reply_subject(_header(msg, "Subject")),
            request_state=await self.request_state(msg),
            outcome=self._outcomes.get(key) if box == self.agent_address else None,
            can_reply=box != self.agent_address and folder == "inbox",
            sent=sent,
            reply_error=_REPLY_ERRORS.get(request.query_params.get("error", "")),
        )

    async def _raw(self, request: Request) -> Response:
        box = self._box(request)
        found = self.read(box, request.path_params["key"]) if box else None
        if found is None:
            return PlainTextResponse("no such message", status_code=404)
        return PlainTextResponse(found[1].decode("utf-8", "replace"))

    async def _reply(self, request: Request) -> Response:
        box = self._box(request)
        key = request.path_params["key"]
        if box is None or self.read(box, key) is None:
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
            reply, outcome = await self.send_reply(box, key, body=body, to=to, subject=subject)
        except (ValueError, aiosmtplib.SMTPException) as exc:
            return self._render("not_found.html", 400, what=f"reply ({exc})")
        params = f"sent={quote(str(reply['To']), safe='')}"
        if outcome is not None:
            params += f"&outcome={quote(outcome['outcome'], safe='')}"
            params += f"&detail={quote(outcome.get('detail') or '', safe='')}"
        return RedirectResponse(f"{url}?{params}", status_code=303)


# `?error=` codes of the reply form (after a redirect), as the person reads them.
_REPLY_ERRORS = {
    "empty": "Nothing was sent: the reply is empty. Write your answer (for example APPROVE, or "
    "REJECT and a reason) in the box, then press Send.",
}


def _reply_subject(subject: str) -> str:
    from ..render import reply_subject

    return reply_subject(subject) if subject else "Re:"


# ---------------------------------------------------------------------------------------------
# `hl-email dev`


async def run_dev(
    *,
    port: int = DEFAULT_PORT,
    data_dir: str = DEFAULT_DATA_DIR,
    agent_address: str | None = None,
    host: str = "127.0.0.1",
    config: str | None = None,
) -> int:
    """`hl-email dev`: run the sandbox until Ctrl-C."""
    import signal

    # aiosmtpd logs every SMTP command at INFO; the sandbox's own SMTP chatter is noise here.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    try:
        sandbox = Sandbox(
            data_dir, port=port, host=host, agent_address=agent_address, config=config
        )
    except ValueError as exc:  # ConfigError is a ValueError
        print(f"hl-email dev: {exc}", flush=True)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await sandbox.start()
    except Exception as exc:  # e.g. a --config whose secret the gateway refuses
        print(f"hl-email dev: cannot start the sandbox: {exc}", flush=True)
        await sandbox.stop()
        return 1
    try:
        try:
            await sandbox.start_http()
        except OSError as exc:
            print(
                f"hl-email dev: {exc}\n  Is another `hl-email dev` running? "
                "Use --port to pick another port.",
                flush=True,
            )
            return 1
        print(sandbox.banner(), flush=True)
        await stop.wait()
    finally:
        print("hl-email dev: shutting down…", flush=True)
        await sandbox.stop()
    return 0


class _LocalOnly:
    """ASGI wrapper for the sandbox: refuse a Host that is not this sandbox (DNS rebinding),
    and a form post whose Origin is another site (a page that posts an approval)."""

    def __init__(self, app: Any, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not self.sandbox.host_allowed(host):
            response: Response = PlainTextResponse(
                f"hl-email dev: refusing Host {host!r}; open {self.sandbox.inbox_url}",
                status_code=421,
            )
            await response(scope, receive, send)
            return
        origin = headers.get("origin")
        unsafe = scope["method"] not in ("GET", "HEAD", "OPTIONS")
        if unsafe and origin is not None and origin.lower() != f"http://{host.lower()}":
            response = PlainTextResponse(
                f"hl-email dev: refusing a {scope['method']} from another site ({origin})",
                status_code=403,
            )
            await response(scope, receive, send)
            return
        if unsafe and headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            response = PlainTextResponse(
                "hl-email dev: refusing a cross-site request", status_code=403
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
