"""Orchestration: submit requests, process inbound mail, resolve waiting calls."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .config import ConfigError, GatewayConfig
from .core.outcomes import InboundOutcome
from .core.records import Kind
from .core.tokens import (
    ReplyKey,
)
from .credentials import credential_problems
from .errors import RequestInvalidError
from .inbound.imap import ImapWatcher
from .inbound.leader import watch_while_leading
from .inbound.lmtp import listener_for
from .models import (
    EmailPayload,
    Escalation,
    FunctionCall,
    FunctionCallStatus,
    HumanContact,
    HumanContactStatus,
)
from .oauth import mail_token_providers, token_provider
from .outbound.compose import Composer, Identity, identity, reply_address
from .outbound.outbox import OutboxWorker
from .outbound.render import (
    Renderer,
    TemplateError,
)
from .outbound.smtp import SmtpPool
from .routing import Router, RoutingConfig
from .service.escalation import Escalations
from .service.locks import RequestLocks
from .service.requests import Requests, as_model, function_call, human_contact
from .service.timers import Timers, purge_raw_mail, retention_loop
from .service.waiters import Waiters
from .store import (
    CommitResult,
    OutboxRow,
    RecipientRow,
    RequestRow,
    Store,
    open_store,
)

if TYPE_CHECKING:
    from .inbound.receiver import Receiver
    from .replies import Decision

__all__ = ["Gateway", "InboundOutcome"]

log = logging.getLogger("hl_email.gateway")


class Gateway:
    """One gateway: a store, an outbox worker, an inbound watcher and the waiting callers."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        store: Store | None = None,
        renderer: Renderer | None = None,
        send: Callable[[str, list[str], bytes], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
        classifier: Callable[[str], Decision | None] | None = None,
    ) -> None:
        self.config = config
        self.store: Store = store or open_store(config.store.url, base_dir=config.base_dir)
        try:
            self.renderer = renderer or Renderer(config.resolved_templates_dir)
        except TemplateError as exc:
            raise RequestInvalidError(f"templates_dir: {exc}") from None
        self.clock = clock
        self.classifier = classifier
        self.imap_tokens, self.smtp_tokens = mail_token_providers(config, self.store)
        self.smtp = SmtpPool(config.smtp, tokens=self.smtp_tokens)
        # [[mailboxes]]: a submission pool per own [smtp], a watcher per own [imap].
        self.mailbox_smtp: dict[str, SmtpPool] = {}
        self.mailbox_watchers: dict[str, ImapWatcher] = {}
        for entry in config.mailboxes:
            if entry.smtp is not None:
                tokens = token_provider(entry.smtp, secret=config.security.secret, store=self.store)
                self.mailbox_smtp[entry.address] = SmtpPool(entry.smtp, tokens=tokens)
            if entry.imap is not None and entry.imap.enabled:
                tokens = token_provider(entry.imap, secret=config.security.secret, store=self.store)
                self.mailbox_watchers[entry.name] = ImapWatcher(
                    entry.imap, self.store, self.handle_inbound, clock=clock, tokens=tokens
                )
        # Names this gateway in the leases it takes on shared rows (outbox, timers, webhooks).
        self.instance_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.outbox = OutboxWorker(
            self.store,
            send or self._send,
            config.smtp,
            on_permanent_failure=self._outbox_failed,
            clock=clock,
            retry_window=self._outbox_retry_window,
            owner=self.instance_id,
        )
        self.watcher = ImapWatcher(
            config.imap, self.store, self.handle_inbound, clock=clock, tokens=self.imap_tokens
        )
        self.mailbox_role = "stopped"  # leader | standby | stopped (see _watch_mailbox)
        self.mailbox_roles: dict[str, str] = {}  # the same for each [[mailboxes]] watcher
        self.watcher.max_fetch_bytes = config.inbound.max_message_bytes + 1
        for mailbox_watcher in self.mailbox_watchers.values():
            mailbox_watcher.max_fetch_bytes = config.inbound.max_message_bytes + 1
        self.lmtp = listener_for(config, self.handle_inbound)
        self.domain = config.agent.address.rpartition("@")[2]
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._stopping = False
        for route in [*config.routes, *([config.default_route] if config.default_route else [])]:
            if route.language or route.template_set:
                try:
                    self.renderer.check_selection(route.template_set, route.language)
                except (TemplateError, ValueError) as exc:
                    raise RequestInvalidError(f"route {route.name!r}: {exc}") from None
        self.router = Router(
            RoutingConfig(
                routes=list(config.routes),
                default=config.default_route,
                groups=dict(config.groups),
            )
        )
        # -- request services (gwreq)
        self._wire_request_services()
        # -- inbound (gwin): the receiver, built on first use (see _receiver)
        self._inbound: Receiver | None = None

    def _wire_request_services(self) -> None:
        """The request side: create/read/answer/cancel, escalation, timers, waiters."""
        # The services read the gateway's clock at call time (as its own methods do).
        config, clock = self.config, lambda: self.clock()
        self.locks = RequestLocks()
        self.waiters = Waiters(self.store)
        self.composer = Composer(config, self.renderer)
        self.escalations = Escalations(
            self.store,
            config,
            clock=clock,
            composer=self.composer,
            lock_for=self.locks,
            notify=self.waiters.notify,
            wake_outbox=self.outbox.wake,
        )
        self.timers = Timers(
            self.store,
            clock=clock,
            owner=self.instance_id,
            lock_for=self.locks,
            note=self._note,
            escalate=self.escalations.escalate,
            notify=self.waiters.notify,
            wake_outbox=self.outbox.wake,
            lease=float(config.store.timer_lease),
        )
        self.requests = Requests(
            self.store,
            config,
            router=self.router,
            composer=self.composer,
            clock=clock,
            lock_for=self.locks,
            note=self._note,
            notify=self.waiters.notify,
            wake_outbox=self.outbox.wake,
            wake_timers=self.timers.wake.set,
            offer_outbox=self.outbox.offer,
        )

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(
        self, *, inbound: bool | None = None, outbox: bool = True, timers: bool = True
    ) -> None:
        problems = credential_problems(self.config)
        if problems:
            # An empty or example secret lets anyone who read our docs forge a reply key.
            raise ConfigError("refusing to start: " + "; ".join(problems))
        await self.store.open()
        await self.store.listen_changes(self.waiters.on_remote_change)
        self._stopping = False
        if outbox:
            self._tasks.append(asyncio.create_task(self.outbox.run(), name="hl-email-outbox"))
        if inbound if inbound is not None else self.config.imap.enabled:
            self._tasks.append(asyncio.create_task(self._watch_mailbox(), name="hl-email-imap"))
        if timers:
            self._tasks.append(
                asyncio.create_task(self.timers.run(lambda: self._stopping), name="hl-email-timers")
            )
            if self.config.store.keep_raw_mail:
                self._tasks.append(
                    asyncio.create_task(
                        retention_loop(
                            self.purge_raw_mail,
                            self.config.store.keep_raw_mail,
                            lambda: self._stopping,
                        ),
                        name="hl-email-retention",
                    )
                )
        if inbound is not False:
            for name, watcher in self.mailbox_watchers.items():
                # Like the default mailbox: one gateway of several on PostgreSQL watches it.
                leadership = self.store.leadership(watcher.mailbox_key)

                def on_role(role: str, name: str = name) -> None:
                    self.mailbox_roles[name] = role

                self._tasks.append(
                    asyncio.create_task(
                        watch_while_leading(leadership, watcher.run, on_role=on_role),
                        name=f"hl-email-imap-{name}",
                    )
                )
        if self.lmtp is not None and inbound is not False:
            await self.lmtp.start()
        self._started = True

    async def stop(self) -> None:
        if self.lmtp is not None:
            await self.lmtp.stop()
        self.outbox.stopping = True
        self.watcher.stopping = True
        for watcher in self.mailbox_watchers.values():
            watcher.stopping = True
        self._stopping = True
        for task in self._tasks:
            # Libraries that wrap I/O in wait_for can swallow one cancellation (a known
            # asyncio pitfall before 3.12), so cancel until the task is really done.
            for _ in range(50):
                if task.done():
                    break
                task.cancel()
                await asyncio.wait({task}, timeout=0.2)
            if not task.done():
                log.error("task %s did not stop", task.get_name())
            elif not task.cancelled() and task.exception() is not None:
                log.error("task %s had failed: %r", task.get_name(), task.exception())
        self._tasks.clear()
        await self.outbox.flush()
        await self.smtp.close()
        for pool in self.mailbox_smtp.values():
            await pool.close()
        self.waiters.cancel_all()
        if self._started:
            await self.store.close()
        self._started = False

    async def _watch_mailbox(self) -> None:
        """Watch the mailbox while this gateway leads it (always, with an embedded store)."""

        def on_role(role: str) -> None:
            self.mailbox_role = role

        leadership = self.store.leadership(self.watcher.mailbox_key)
        await watch_while_leading(leadership, self.watcher.run, on_role=on_role)

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def readiness(self) -> dict[str, Any]:
        return {
            "store": await self.store.ping(),
            # A standby gateway (another one leads the mailbox) is ready without IMAP.
            "imap": self.watcher.connected
            if self.config.imap.enabled and self.mailbox_role != "standby"
            else None,
            "mailbox_role": self.mailbox_role if self.config.imap.enabled else None,
            "smtp_last_error": self.outbox.last_error,
            "smtp_paused": self.outbox.paused is not None,  # the reason is in smtp_last_error
            "imap_last_error": self.watcher.last_error,
            "lmtp": self.lmtp.listening if self.lmtp is not None else None,
            # None for a mailbox another gateway watches (this one stands by).
            "mailboxes": {
                name: None if self.mailbox_roles.get(name) == "standby" else w.connected
                for name, w in self.mailbox_watchers.items()
            },
        }

    async def _send(self, mail_from: str, rcpt_to: list[str], message: bytes) -> None:
        """Send with the submission account of the mailbox the email is from."""
        pool = self.mailbox_smtp.get(mail_from.lower(), self.smtp)
        await pool.send(mail_from, rcpt_to, message)

    async def _outbox_retry_window(self, row: OutboxRow) -> float | None:
        return await self.requests.retry_window(row)

    # -- submitting -----------------------------------------------------------------------------

    async def create_function_call(self, call: FunctionCall) -> FunctionCall:
        """Store the request and its emails in one transaction, then let the outbox send them."""
        row = await self.requests.create("function_call", call.call_id, call.run_id, call.spec)
        return function_call(row)

    async def create_human_contact(self, contact: HumanContact) -> HumanContact:
        row = await self.requests.create(
            "human_contact", contact.call_id, contact.run_id, contact.spec
        )
        return human_contact(row)

    def _reply_address(self, key: ReplyKey, address: str | None = None) -> str:
        return reply_address(self.config, key, address)

    def _identity(self, request: RequestRow) -> Identity:
        """Who asks: the request's [[mailboxes]] entry, or the default [agent]."""
        return identity(self.config, request)

    # -- reading --------------------------------------------------------------------------------

    async def get_function_call(self, call_id: str) -> FunctionCall:
        return function_call(await self.requests.row(call_id, "function_call"))

    async def get_human_contact(self, call_id: str) -> HumanContact:
        return human_contact(await self.requests.row(call_id, "human_contact"))

    async def get_request(self, call_id: str) -> FunctionCall | HumanContact:
        return as_model(await self.requests.get(call_id))

    # -- waiting --------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[str, str], None]) -> Callable[[], None]:
        """Call `listener(call_id, state)` whenever a request changes; returns an unsubscribe."""
        return self.waiters.subscribe(listener)

    def _notify(self, call_id: str, state: str) -> None:
        self.waiters.notify(call_id, state)

    async def wait(self, call_id: str, timeout: float | None = None) -> RequestRow:
        """Until the request is done or failed; woken by the gateway, never by polling."""
        return await self.waiters.wait(call_id, timeout)

    async def wait_function_call(self, call_id: str, timeout: float | None = None) -> FunctionCall:
        await self.requests.row(call_id, "function_call")
        return function_call(await self.wait(call_id, timeout))

    async def wait_human_contact(self, call_id: str, timeout: float | None = None) -> HumanContact:
        await self.requests.row(call_id, "human_contact")
        return human_contact(await self.wait(call_id, timeout))

    # -- answering through the API (HumanLayer's respond endpoints) --------------------------------

    async def respond_to_function_call(
        self, call_id: str, status: FunctionCallStatus
    ) -> FunctionCall:
        if status.approved is None:
            raise RequestInvalidError("status.approved must be true or false")
        fields = {
            "approved": status.approved,
            "comment": status.comment,
            "reject_option_name": status.reject_option_name,
        }
        await self.requests.respond(call_id, "function_call", fields)
        return await self.get_function_call(call_id)

    async def respond_to_human_contact(
        self, call_id: str, status: HumanContactStatus
    ) -> HumanContact:
        if status.response is None:
            raise RequestInvalidError("status.response is required")
        fields = {"response": status.response, "response_option_name": status.response_option_name}
        await self.requests.respond(call_id, "human_contact", fields)
        return await self.get_human_contact(call_id)

    def _lock_for(self, request_id: str) -> asyncio.Lock:
        return self.locks(request_id)

    async def cancel(
        self, call_id: str, reason: str = "", *, kind: Kind | None = None, by: str = "the agent"
    ) -> RequestRow:
        """Withdraw a pending request (see Requests.cancel): it fails closed, its timers stop."""
        return await self.requests.cancel(call_id, reason, kind=kind, by=by)

    async def cancel_function_call(self, call_id: str, reason: str = "") -> FunctionCall:
        return function_call(await self.cancel(call_id, reason, kind="function_call"))

    async def cancel_human_contact(self, call_id: str, reason: str = "") -> HumanContact:
        return human_contact(await self.cancel(call_id, reason, kind="human_contact"))

    # -- escalation -----------------------------------------------------------------------------

    async def escalate_email(
        self, call_id: str, escalation: Escalation
    ) -> FunctionCall | HumanContact:
        """HumanLayer's escalate_email: re-ask in the same thread, adding recipients or a channel."""
        await self.escalations.escalate_email(call_id, escalation)
        return await self.get_request(call_id)

    async def _escalate(self, request: RequestRow, **kw: Any) -> CommitResult:
        """Escalations.escalate (the inbound path re-asks through it)."""
        return await self.escalations.escalate(request, **kw)

    async def _outbox_failed(self, row: OutboxRow, reason: str) -> None:
        await self.escalations.outbox_failed(row, reason)

    async def _fail_recipient(
        self, request_id: str, seq: int, reason: str, **kw: Any
    ) -> CommitResult:
        """Escalations.fail_recipient (bounces and the outbox fail a recipient through it)."""
        return await self.escalations.fail_recipient(request_id, seq, reason, **kw)

    # -- inbound (inbound/receiver.py walks each message)

    @property
    def _receiver(self) -> Receiver:
        """Built on first use: the inbound path loads the decision engine (its word tables take
        about 0.1 s to compile), which a gateway that has not received mail yet need not pay."""
        if self._inbound is None:
            from .inbound.receiver import Receiver

            self._inbound = Receiver(self)
        return self._inbound

    async def handle_inbound(self, raw: bytes) -> InboundOutcome:
        """Walk one inbound message through classify → match → authorize → extract → decide.

        Every message ends in a stored outcome; input problems never raise.
        """
        return await self._receiver.handle_inbound(raw)

    async def record_unfetched(
        self, heads: list[tuple[bytes, int, bool]]
    ) -> list[InboundOutcome | None]:
        """Headers first (inbound/triage.py): outcomes stored without fetching the body."""
        return await self._receiver.record_unfetched(heads)

    def on_email(self, handler: Callable[[EmailPayload], Any]) -> Callable[[], None]:
        """Call `handler(payload)` (sync or async) for each new conversation; returns unsubscribe."""
        return self._receiver.agent_inbox.on_email(handler)

    def agent_emails(self) -> AsyncIterator[EmailPayload]:
        """Async iterator over new conversations, from now on."""
        return self._receiver.agent_inbox.agent_emails()

    def _note(
        self, request: RequestRow, recipient: RecipientRow, message: str, *, kind: str = "note"
    ) -> OutboxRow | None:
        """An in-thread message that needs no answer (no reply it provokes is an answer)."""
        return self.composer.note(request, recipient, message, kind=kind, now=self.clock())

    # -- timers ---------------------------------------------------------------------------------

    async def run_timers_once(self) -> int:
        """Run every timer that is due; a step missed while the gateway was down runs once."""
        return await self.timers.run_once()

    async def purge_raw_mail(self) -> tuple[int, int]:
        """`[store] keep_raw_mail`: drop raw mail older than that; outcomes stay."""
        return await purge_raw_mail(self.store, self.config, self.clock())
