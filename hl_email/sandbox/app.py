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
import ipaddress
import logging
import os
import secrets
from collections.abc import Sequence
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP as SmtpServerProtocol
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from ..config import GatewayConfig, load_config
from ..core.addresses import normalize_address
from ..inbound.maildir import Maildir, MaildirSource
from ..routing import RouteConfig
from .mail_client import USER_AGENT, MailClient
from .mailboxes import Mailboxes, MessageView
from .web import SandboxWeb

__all__ = [
    "DEFAULT_AGENT_ADDRESS",
    "DEFAULT_DATA_DIR",
    "DEFAULT_PERSON",
    "DEFAULT_PORT",
    "Sandbox",
    "run_dev",
    "sandbox_store_path",
]

log = logging.getLogger("hl_email.sandbox")

DEFAULT_PORT = 8040
DEFAULT_DATA_DIR = ".hl-email-dev"
DEFAULT_AGENT_ADDRESS = "agent@hl-email.test"
# Who a call with no channel and no default route asks in the sandbox.
DEFAULT_PERSON = "you@hl-email.test"


def sandbox_store_path(data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR) -> Path:
    """Where `hl-email dev --data-dir DIR` keeps its database (`hl-email requests --dev` reads it)."""
    return Path(data_dir).resolve() / "hl-email.db"


class _SmtpHandler:
    """aiosmtpd handler: every accepted message is delivered into each recipient's mailbox."""

    def __init__(self, mailboxes: Mailboxes) -> None:
        self.mailboxes = mailboxes

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
            self.mailboxes.deliver(rcpt, trace + content)
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
        self._smtp_server: asyncio.base_events.Server | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._http: Any = None
        self.mailboxes = Mailboxes(
            self.mail_dir, self.agent_address, self.data_dir / "outcomes.jsonl"
        )
        self.client = MailClient(self.mailboxes)
        self.web = SandboxWeb(self, self.mailboxes, self.client)

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

    # -- mailboxes, replies and pages (mailboxes.py, mail_client.py, web.py) --------------------

    @property
    def version(self) -> int:
        """Bumped on every delivery; the inbox page polls it to refresh."""
        return self.mailboxes.version

    @property
    def smtp_port(self) -> int:
        """The sandbox's SMTP server (0 until started): the gateway sends to it, replies too."""
        return self.client.smtp_port

    def maildir(self, box: str, folder: str = "inbox") -> Maildir:
        return self.mailboxes.maildir(box, folder)

    def boxes(self) -> list[str]:
        return self.mailboxes.boxes()

    def deliver(self, rcpt: str, raw: bytes) -> str:
        """Store a message in the recipient's mailbox (durably); wake the agent's source."""
        return self.mailboxes.deliver(rcpt, raw)

    def list_messages(self, box: str) -> list[MessageView]:
        return self.mailboxes.list_messages(box)

    def unread(self, box: str) -> int:
        return self.mailboxes.unread(box)

    def read(self, box: str, key: str) -> tuple[str, bytes] | None:
        return self.mailboxes.read(box, key)

    async def request_state(self, msg: Message) -> dict[str, Any] | None:
        """The request a message is about (from the reply key in its Message-ID/References)."""
        return await self.web.request_state(msg)

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
        """`box` answers its message `key` (see MailClient.send_reply)."""
        return await self.client.send_reply(box, key, body=body, to=to, subject=subject, wait=wait)

    def routes(self) -> Sequence[BaseRoute]:
        return self.web.routes()

    def _on_processed(self, key: str, raw: bytes, result: Any) -> None:
        self.client.processed(self.mailboxes.record_outcome(key, raw, result))

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
        self.mailboxes.load_outcomes()
        loop = asyncio.get_running_loop()
        handler = _SmtpHandler(self.mailboxes)
        self._smtp_server = await loop.create_server(
            lambda: SmtpServerProtocol(
                handler, hostname="sandbox.hl-email.test", ident=USER_AGENT, enable_SMTPUTF8=True
            ),
            host="127.0.0.1",
            port=0,
        )
        self.client.smtp_port = self._smtp_server.sockets[0].getsockname()[1]
        self.config = self._make_config()
        self.gateway = Gateway(self.config)
        await self.gateway.start(inbound=False)
        self.maildir(self.agent_address)
        self.source = MaildirSource(
            self.maildir(self.agent_address),
            self.gateway.handle_inbound,
            on_processed=self._on_processed,
        )
        self.mailboxes.on_agent_mail = self.source.poke
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
