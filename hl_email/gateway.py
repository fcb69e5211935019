"""Orchestration: submit requests, process inbound mail, resolve waiting calls."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import secrets
import socket
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .config import ConfigError, GatewayConfig, normalize_address
from .core.outcomes import InboundOutcome
from .core.records import Kind, iso
from .core.wording import duration_text, join_comments, t
from .credentials import credential_problems
from .errors import NotFoundError, RequestInvalidError
from .header_values import header_problem
from .inbound.host import unchanged
from .inbound.imap import ImapWatcher
from .inbound.leader import watch_while_leading
from .inbound.lmtp import LmtpListener
from .inbound.receiver import Receiver
from .models import (
    EmailContactChannel,
    EmailPayload,
    Escalation,
    FunctionCall,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContact,
    HumanContactSpec,
    HumanContactStatus,
    ResponseOption,
)
from .oauth import mail_token_providers, token_provider
from .outbox import OutboxWorker, SmtpPool
from .policy import Vote, tally
from .render import (
    AskContext,
    HeaderInjectionError,
    Renderer,
    TemplateError,
    reply_subject,
)
from .replies import (
    Decision,
)
from .routing import RouteError, Router, RoutingConfig, may_answer
from .store import (
    CommitResult,
    DuplicateCallError,
    InboundRecord,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    Store,
    TimerRow,
    open_store,
)
from .tokens import (
    ReplyKey,
    make_message_id,
    mint_reply_key,
    plus_address,
)

__all__ = ["Gateway", "InboundOutcome"]

log = logging.getLogger("hl_email.gateway")

# Seconds a claimed timer stays with this gateway before another may take it over.
_TIMER_LEASE = 60.0


def _new_request_id() -> str:
    # 60 random bits as 12 lowercase base32 characters (letters and 2-7).
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()[:12]


@dataclass(frozen=True)
class _Identity:
    address: str
    name: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def _lmtp_listener(config: GatewayConfig, handle: Any) -> LmtpListener | None:
    """The `[inbound] lmtp` listener, accepting the agent's address (and its plus forms)."""
    if not config.inbound.lmtp:
        return None
    ours = {config.agent.address.lower(), *(m.address.lower() for m in config.mailboxes)}
    sep = config.agent.plus_separator

    def accepts(address: str) -> bool:
        a_local, _, a_domain = address.lower().rpartition("@")
        base = a_local.split(sep, 1)[0] if sep else a_local
        return f"{base}@{a_domain}" in ours

    return LmtpListener(config.inbound.lmtp, config.lmtp_spool_dir, handle, accepts=accepts)


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
        self.lmtp = _lmtp_listener(config, self.handle_inbound)
        self.domain = config.agent.address.rpartition("@")[2]
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._listeners: set[Callable[[str, str], None]] = set()
        # One lock per request (not one for the gateway): changes to different requests run
        # concurrently; every commit is versioned besides, which is what orders the writers of
        # several gateways (and the inbound path, which retries on a conflict).
        self._request_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._stopping = False
        self._timer_wake = asyncio.Event()
        self._handler_tasks: set[asyncio.Future[Any]] = set()
        self._last_subject = ""
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
        # -- inbound (gwin)
        self._receiver = Receiver(self)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(
        self, *, inbound: bool | None = None, outbox: bool = True, timers: bool = True
    ) -> None:
        problems = credential_problems(self.config)
        if problems:
            # An empty or example secret lets anyone who read our docs forge a reply key.
            raise ConfigError("refusing to start: " + "; ".join(problems))
        await self.store.open()
        await self.store.listen_changes(self._on_remote_change)
        self._stopping = False
        if outbox:
            self._tasks.append(asyncio.create_task(self.outbox.run(), name="hl-email-outbox"))
        if inbound if inbound is not None else self.config.imap.enabled:
            self._tasks.append(asyncio.create_task(self._watch_mailbox(), name="hl-email-imap"))
        if timers:
            self._tasks.append(asyncio.create_task(self._timer_loop(), name="hl-email-timers"))
            if self.config.store.keep_raw_mail:
                self._tasks.append(
                    asyncio.create_task(self._retention_loop(), name="hl-email-retention")
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
        await self.smtp.close()
        for pool in self.mailbox_smtp.values():
            await pool.close()
        for futures in self._waiters.values():
            for future in futures:
                if not future.done():
                    future.cancel()
        self._waiters.clear()
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
        """How long the outbox retries a transient failure: the request's own timeout."""
        request = await self.store.get_request(id=row.request_id)
        timeout = request.route.get("timeout") if request is not None else None
        return float(timeout) if timeout else None

    # -- submitting -----------------------------------------------------------------------------

    async def create_function_call(self, call: FunctionCall) -> FunctionCall:
        """Store the request and its emails in one transaction, then let the outbox send them."""
        row = await self._create("function_call", call.call_id, call.run_id, call.spec)
        return self._function_call(row)

    async def create_human_contact(self, contact: HumanContact) -> HumanContact:
        row = await self._create("human_contact", contact.call_id, contact.run_id, contact.spec)
        return self._human_contact(row)

    async def _create(
        self, kind: Kind, call_id: str, run_id: str, spec: FunctionCallSpec | HumanContactSpec
    ) -> RequestRow:
        if not call_id or len(call_id) > 200:
            raise RequestInvalidError("call_id must be 1-200 characters")
        channel = spec.channel.email if spec.channel is not None else None
        if spec.channel is not None and channel is None:
            raise RequestInvalidError(
                "spec.channel: this gateway delivers email only; set channel.email "
                "(EmailContactChannel(address=...))"
            )
        route = self._route(kind, run_id, spec, channel)
        now = self.clock()
        request_id = _new_request_id()
        recipients: list[RecipientRow] = []
        for field, addresses in (("to", route["to"]), ("cc", route["cc"]), ("bcc", route["bcc"])):
            for address in addresses:
                if address not in {r.address for r in recipients}:
                    recipients.append(
                        RecipientRow(request_id, len(recipients), address, field=field)
                    )
        if not recipients:
            raise RequestInvalidError("no recipients: the route or channel names no address")
        row = RequestRow(
            id=request_id,
            call_id=call_id,
            run_id=run_id,
            kind=kind,
            spec=spec.model_dump(mode="json"),
            status={"requested_at": iso(now)},
            created_at=now,
            route=route,
        )
        outbox = self._asks(row, recipients, channel=channel, purpose="ask")
        row.subject = self._last_subject
        timers = [
            TimerRow(request_id, "reminder", _in_working_hours(route, now + delay), {"n": i + 1})
            for i, delay in enumerate(route.get("reminders") or [])
        ]
        timers += [
            TimerRow(request_id, "escalation", now + step["after"], step)
            for step in route.get("escalations") or []
        ]
        if route.get("timeout"):
            timers.append(TimerRow(request_id, "timeout", now + route["timeout"], {}))
        try:
            await self.store.create_request(row, recipients, outbox, timers)
        except DuplicateCallError:
            existing = await self.store.get_request(call_id=call_id)
            if existing is None or existing.kind != kind or existing.spec != row.spec:
                raise RequestInvalidError(
                    f"call_id {call_id!r} already exists with a different request"
                ) from None
            return existing  # idempotent: the same call re-submitted after a restart
        self.outbox.wake()
        if timers:
            self._timer_wake.set()
        return row

    def _route(
        self,
        kind: Kind,
        run_id: str,
        spec: FunctionCallSpec | HumanContactSpec,
        channel: EmailContactChannel | None,
    ) -> dict[str, Any]:
        """Who is asked and under which policy, as a JSON-able dict stored with the request."""
        channel_addresses: list[tuple[str, str]] = []
        if channel is not None:
            pairs = [(channel.address, "to", "spec.channel.email.address")]
            for i, extra in enumerate(channel.additional_recipients or []):
                pairs.append(
                    (extra.address, extra.field or "to", f"additional_recipients[{i}].address")
                )
            for address, field, where in pairs:
                try:
                    normalized = normalize_address(address, field=where)
                except ValueError as exc:
                    raise RequestInvalidError(str(exc)) from None
                _check_allowed_recipient(self.config, normalized, where)
                channel_addresses.append((normalized, field))
        try:
            decision = self.router.resolve(
                kind="approval" if kind == "function_call" else "question",
                fn=spec.fn if isinstance(spec, FunctionCallSpec) else None,
                kwargs=spec.kwargs if isinstance(spec, FunctionCallSpec) else {},
                run_id=run_id,
                agent=self.config.agent.name,
                channel_addresses=channel_addresses,
            )
        except RouteError as exc:
            raise RequestInvalidError(str(exc)) from None
        return {
            "source": decision.source,
            "rule": decision.rule,
            "to": list(decision.to),
            "cc": list(decision.cc),
            "bcc": list(decision.bcc),
            "responders": list(decision.responders),
            "policy": decision.policy if kind == "function_call" else "any",
            "quorum": decision.quorum,
            "timeout": decision.timeout,
            "reminders": list(decision.reminders),
            "escalations": [
                step.model_dump() if hasattr(step, "model_dump") else dict(step)
                for step in decision.escalations
            ],
            "delegates": dict(decision.delegates),
            "why": list(decision.why),
            "language": getattr(decision, "language", None),
            "template_set": getattr(decision, "template_set", None),
            "mailbox": self._mailbox_name(channel, decision),
            "approval": getattr(decision, "approval", None),
            "working_hours": getattr(decision, "working_hours", None),
            "tz": getattr(decision, "tz", None),
        }

    def _mailbox_name(self, channel: EmailContactChannel | None, decision: Any) -> str | None:
        name = (channel.mailbox if channel is not None else None) or getattr(
            decision, "mailbox", None
        )
        if name is None:
            return None
        try:
            self.config.mailbox(name)
        except KeyError:
            known = ", ".join(m.name for m in self.config.mailboxes) or "none configured"
            raise RequestInvalidError(
                f"mailbox {name!r} is not configured in [[mailboxes]] (known: {known})"
            ) from None
        return name

    def _asks(
        self,
        request: RequestRow,
        recipients: list[RecipientRow],
        *,
        channel: EmailContactChannel | None = None,
        escalation_msg: str | None = None,
        purpose: str = "ask",
    ) -> list[OutboxRow]:
        """Render the ask for each recipient (each gets an own email and own reply key)."""
        spec = request.spec
        approval = request.kind == "function_call"
        options = [
            ResponseOption.model_validate(o)
            for o in (spec.get("reject_options" if approval else "response_options") or [])
        ]
        now = self.clock()
        outbox: list[OutboxRow] = []
        for recipient in recipients:
            key = mint_reply_key(
                self.config.security.secret, request.id, recipient.seq, recipient.address
            )
            recipient.reply_key = str(key)
            recipient.message_count += 1
            identity = self._identity(request)
            message_id = make_message_id(key, recipient.message_count, identity.domain)
            if recipient.thread:
                references = list(recipient.thread[-20:])
                in_reply_to: str | None = recipient.thread[-1]
                subject: str | None = reply_subject(request.subject) if request.subject else None
            else:
                in_reply_to = channel.in_reply_to_message_id if channel else None
                references = []
                if channel and channel.references_message_id:
                    references = channel.references_message_id.split()
                elif in_reply_to:
                    references = [in_reply_to]
                subject = (spec.get("subject") or None) or (channel.subject if channel else None)
                if subject is None and request.subject:
                    subject = request.subject
            ctx = AskContext(
                kind="approval" if approval else "question",
                call_id=request.call_id,
                run_id=request.run_id,
                agent_name=identity.name,
                agent_address=identity.address,
                reply_address=self._reply_address(key, identity.address),
                to=[recipient.address],
                recipient=recipient.address,
                fn=spec.get("fn") if approval else None,
                kwargs=spec.get("kwargs") if approval else None,
                msg=spec.get("msg") if not approval else None,
                subject=subject,
                options=options,
                context_about_user=channel.context_about_user if channel else None,
                html_template=channel.template if channel else None,
                escalation_msg=escalation_msg,
                description=spec.get("description") if approval else None,
                language=request.route.get("language"),
                template_set=request.route.get("template_set"),
                message_id=message_id,
                in_reply_to=in_reply_to,
                references=references,
                date=datetime.fromtimestamp(now, tz=UTC),
                approval_code=self._approval_code(request, recipient),
            )
            try:
                # PERF: rendering (~0.9 ms) is half of creating a request; bench/outbound.py is
                # at 0.73-0.77x of a bare aiosmtplib loop (goal 0.8x). A process pool would help.
                rendered = self.renderer.render_ask_raw(ctx)
                self._last_subject = request.subject or rendered.subject
            except (HeaderInjectionError, TemplateError, ValueError) as exc:
                raise RequestInvalidError(str(exc)) from None
            thread = list(recipient.thread) or [
                *references,
                *([in_reply_to] if in_reply_to and in_reply_to not in references else []),
            ]
            recipient.thread = [*thread, message_id]
            outbox.append(
                OutboxRow(
                    request_id=request.id,
                    recipient_seq=recipient.seq,
                    purpose=purpose,
                    mail_from=identity.address,
                    rcpt_to=[recipient.address],
                    message=rendered.data,
                    message_id=message_id,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        return outbox

    def _reply_address(self, key: ReplyKey, address: str | None = None) -> str:
        address = address or self.config.agent.address
        if self.config.agent.plus_addressing:
            return plus_address(address, key, self.config.agent.plus_separator)
        return address

    def _identity(self, request: RequestRow) -> _Identity:
        """Who asks: the request's [[mailboxes]] entry, or the default [agent]."""
        name = request.route.get("mailbox")
        entry = None
        if name:
            try:
                entry = self.config.mailbox(name)
            except KeyError:  # removed from the config since: keep asking as [agent]
                log.warning("request %s names unknown mailbox %r", request.call_id, name)
        if entry is None:
            return _Identity(self.config.agent.address, self.config.agent.name)
        return _Identity(entry.address, entry.display_name or self.config.agent.name)

    # -- reading --------------------------------------------------------------------------------

    async def _row(self, call_id: str, kind: Kind) -> RequestRow:
        row = await self.store.get_request(call_id=call_id)
        if row is None or row.kind != kind:
            label = "function call" if kind == "function_call" else "human contact"
            raise NotFoundError(f"no {label} with call_id {call_id!r}")
        return row

    def _function_call(self, row: RequestRow) -> FunctionCall:
        return FunctionCall(
            run_id=row.run_id,
            call_id=row.call_id,
            spec=FunctionCallSpec.model_validate(row.spec),
            status=FunctionCallStatus.model_validate(row.status),
        )

    def _human_contact(self, row: RequestRow) -> HumanContact:
        return HumanContact(
            run_id=row.run_id,
            call_id=row.call_id,
            spec=HumanContactSpec.model_validate(row.spec),
            status=HumanContactStatus.model_validate(row.status),
        )

    async def get_function_call(self, call_id: str) -> FunctionCall:
        return self._function_call(await self._row(call_id, "function_call"))

    async def get_human_contact(self, call_id: str) -> HumanContact:
        return self._human_contact(await self._row(call_id, "human_contact"))

    async def get_request(self, call_id: str) -> FunctionCall | HumanContact:
        row = await self.store.get_request(call_id=call_id)
        if row is None:
            raise NotFoundError(f"no request with call_id {call_id!r}")
        return self._function_call(row) if row.kind == "function_call" else self._human_contact(row)

    # -- waiting --------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[str, str], None]) -> Callable[[], None]:
        """Call `listener(call_id, state)` whenever a request changes; returns an unsubscribe."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    def _notify(self, call_id: str, state: str) -> None:
        """A request changed here: wake this gateway's waiters and tell the other gateways."""
        self._wake_local(call_id, state)
        task = asyncio.ensure_future(self._publish(call_id, state))
        self._handler_tasks.add(task)
        task.add_done_callback(self._handler_tasks.discard)

    async def _publish(self, call_id: str, state: str) -> None:
        try:
            await self.store.publish_change(call_id, state)
        except Exception:
            # Waiters elsewhere still wake: their long-polls re-read at their timeout.
            log.warning("could not publish the change of %s", call_id, exc_info=True)

    def _on_remote_change(self, call_id: str, state: str) -> None:
        """Another gateway on the store changed a request (LISTEN/NOTIFY with PostgreSQL)."""
        if call_id == "*":  # notifications may have been missed: every waiter re-reads
            for futures in list(self._waiters.values()):
                for future in futures:
                    if not future.done():
                        future.set_result(None)
            self._waiters.clear()
            return
        self._wake_local(call_id, state)

    def _wake_local(self, call_id: str, state: str) -> None:
        for future in self._waiters.pop(call_id, set()):
            if not future.done():
                future.set_result(None)
        for listener in list(self._listeners):
            try:
                listener(call_id, state)
            except Exception:
                log.exception("listener failed")

    async def wait(self, call_id: str, timeout: float | None = None) -> RequestRow:
        """Until the request is done or failed; woken by the gateway, never by polling."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(call_id, set()).add(future)
            row = await self.store.get_request(call_id=call_id)
            if row is None:
                self._waiters.get(call_id, set()).discard(future)
                raise NotFoundError(f"no request with call_id {call_id!r}")
            if row.state != "pending":
                self._waiters.get(call_id, set()).discard(future)
                return row
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                self._waiters.get(call_id, set()).discard(future)
                raise TimeoutError(f"no answer to {call_id} within {timeout:g} s")
            try:
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                raise TimeoutError(f"no answer to {call_id} within {timeout:g} s") from None
            finally:
                # Also when the waiter goes away (cancelled): leave nothing behind for it.
                waiters = self._waiters.get(call_id)
                if waiters is not None:
                    waiters.discard(future)
                    if not waiters:
                        self._waiters.pop(call_id, None)

    async def wait_function_call(self, call_id: str, timeout: float | None = None) -> FunctionCall:
        await self._row(call_id, "function_call")
        return self._function_call(await self.wait(call_id, timeout))

    async def wait_human_contact(self, call_id: str, timeout: float | None = None) -> HumanContact:
        await self._row(call_id, "human_contact")
        return self._human_contact(await self.wait(call_id, timeout))

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
        await self._respond(call_id, "function_call", fields)
        return await self.get_function_call(call_id)

    async def respond_to_human_contact(
        self, call_id: str, status: HumanContactStatus
    ) -> HumanContact:
        if status.response is None:
            raise RequestInvalidError("status.response is required")
        fields = {"response": status.response, "response_option_name": status.response_option_name}
        await self._respond(call_id, "human_contact", fields)
        return await self.get_human_contact(call_id)

    def _lock_for(self, request_id: str) -> asyncio.Lock:
        """The in-process lock of one request (kept while anyone holds or waits for it)."""
        lock = self._request_locks.get(request_id)
        if lock is None:
            lock = asyncio.Lock()
            self._request_locks[request_id] = lock
        return lock

    async def _respond(self, call_id: str, kind: Kind, fields: dict[str, Any]) -> None:
        """An answer given through the API instead of by email; the first answer still wins."""
        async with self._lock_for((await self._row(call_id, kind)).id):
            for _ in range(5):  # CONFLICT: changed meanwhile (a vote, a reminder): read again
                row = await self._row(call_id, kind)
                if row.state != "pending":
                    raise RequestInvalidError(f"{call_id} is already {row.state}")
                now = self.clock()
                status = {
                    **row.status,
                    **fields,
                    "responded_at": iso(now),
                    "user_info": {"via": "api"},
                }
                ok = await self.store.commit(
                    request=RequestUpdate(
                        row.id,
                        status=status,
                        state="done",
                        resolved_at=now,
                        expect_version=row.version,
                    )
                )
                if ok:
                    break
        if not ok:
            raise RequestInvalidError(f"{call_id} was answered meanwhile")
        self._notify(call_id, "done")

    # -- cancelling (an agent-scope action: the agent withdraws its own request) -------------------

    async def cancel(
        self, call_id: str, reason: str = "", *, kind: Kind | None = None, by: str = "the agent"
    ) -> RequestRow:
        """Withdraw a pending request: it fails closed (a function call reads as denied to an
        SDK that knows no cancel), its timers stop, and everyone still asked is told in the
        thread that it is no longer needed. Cancelling a cancelled request is a no-op; a
        decided one cannot be cancelled. Only an explicit call cancels: a waiter that goes away
        (a dropped long-poll, a killed agent) leaves the request open."""
        _check_header_free("reason", reason, allow_newlines=True)
        reason = reason.strip()[:500]
        found = await self.store.get_request(call_id=call_id)
        async with self._lock_for(found.id if found is not None else call_id):
            for _ in range(5):
                row = await self.store.get_request(call_id=call_id)
                if row is None or (kind is not None and row.kind != kind):
                    label = {"function_call": "function call", "human_contact": "human contact"}
                    raise NotFoundError(
                        f"no {label.get(kind or '', 'request')} with call_id {call_id!r}"
                    )
                if row.status.get("cancelled"):
                    return row
                if row.state != "pending":
                    raise RequestInvalidError(
                        f"{call_id} is already {row.state}; nothing to cancel"
                    )
                now = self.clock()
                text = f"cancelled by {by}" + (f": {reason}" if reason else "")
                status = {
                    **row.status,
                    "responded_at": iso(now),
                    "cancelled": True,
                    "error": text,
                }
                if row.kind == "function_call":
                    status.update(approved=False, comment=text)
                recipients = await self.store.get_recipients(row.id)
                waiting = [r for r in recipients if r.state in ("pending", "sent")]
                notes = [self._note(row, r, t("cancelled_note", row)) for r in waiting]
                ok = await self.store.commit(
                    request=RequestUpdate(
                        row.id,
                        status=status,
                        state="failed",
                        resolved_at=now,
                        expect_version=row.version,  # no vote or answer landed meanwhile
                    ),
                    recipients=waiting,
                    outbox=[n for n in notes if n is not None],
                )
                if ok:
                    break
                # CONFLICT: changed meanwhile (a reminder, a vote, a decision): read it again.
            else:
                raise RequestInvalidError(f"{call_id} kept changing; nothing cancelled, try again")
            await self.store.cancel_timers(row.id)
        self.outbox.wake()
        self._notify(call_id, "failed")
        return await self.store.get_request(call_id=call_id) or row

    async def cancel_function_call(self, call_id: str, reason: str = "") -> FunctionCall:
        return self._function_call(await self.cancel(call_id, reason, kind="function_call"))

    async def cancel_human_contact(self, call_id: str, reason: str = "") -> HumanContact:
        return self._human_contact(await self.cancel(call_id, reason, kind="human_contact"))

    # -- escalation -----------------------------------------------------------------------------

    async def escalate_email(
        self, call_id: str, escalation: Escalation
    ) -> FunctionCall | HumanContact:
        """HumanLayer's escalate_email: re-ask in the same thread, adding recipients or a channel."""
        _check_header_free("escalation_msg", escalation.escalation_msg, allow_newlines=True)
        additions: list[tuple[str, str]] = []
        extra: list[Any] = []
        if escalation.channel is not None and escalation.channel.email is not None:
            extra.append(escalation.channel.email)
            extra.extend(escalation.channel.email.additional_recipients or [])
        extra.extend(escalation.additional_recipients or [])
        for i, recipient in enumerate(extra):
            try:
                address = normalize_address(
                    recipient.address, field=f"additional_recipients[{i}].address"
                )
            except ValueError as exc:
                raise RequestInvalidError(str(exc)) from None
            _check_allowed_recipient(self.config, address, f"additional_recipients[{i}].address")
            additions.append((address, getattr(recipient, "field", None) or "to"))
        row = await self.store.get_request(call_id=call_id)
        if row is None:
            raise NotFoundError(f"no request with call_id {call_id!r}")
        async with self._lock_for(row.id):
            row = await self.store.get_request(call_id=call_id)
            assert row is not None  # requests are never deleted
            if row.state != "pending":
                raise RequestInvalidError(f"{call_id} is already {row.state}; nothing to escalate")
            for _ in range(5):  # CONFLICT: another gateway changed the request; read it again
                if await self._escalate(row, add=additions, message=escalation.escalation_msg):
                    break
                row = await self.store.get_request(call_id=call_id)
                if row is None or row.state != "pending":
                    raise RequestInvalidError(
                        f"{call_id} was decided meanwhile; nothing to escalate"
                    )
            else:
                raise RequestInvalidError(f"{call_id} kept changing; escalate again")
        return await self.get_request(call_id)

    async def _escalate(
        self,
        request: RequestRow,
        *,
        add: list[tuple[str, str]],
        message: str | None,
        handover: bool = False,
        timer_done: int | None = None,
        inbound: InboundRecord | None = None,
        only_new: bool = False,
    ) -> CommitResult:
        """Add recipients (or hand over to them) and ask in the thread; one transaction, which
        lands only while the request is still at the version read (CONFLICT otherwise)."""
        existing = await self.store.get_recipients(request.id)
        known = {r.address for r in existing}
        new: list[RecipientRow] = []
        for address, field in add:
            if address not in known:
                known.add(address)
                new.append(RecipientRow(request.id, len(existing) + len(new), address, field=field))
        changed: list[RecipientRow] = []
        if handover:
            for r in existing:
                if r.state in ("pending", "sent"):
                    r.state = "handed_over"
                    changed.append(r)
            targets = new
        elif only_new:
            targets = new
        else:
            targets = [r for r in existing if r.state in ("pending", "sent")] + new
        outbox = self._asks(request, targets, escalation_msg=message, purpose="escalation")
        ok = await self.store.commit(
            inbound=inbound,
            request=RequestUpdate(request.id, expect_version=request.version),
            recipients=changed + targets,
            outbox=[o for o in outbox if o is not None],
            timer_done=timer_done,
        )
        if ok:
            self.outbox.wake()
        return ok

    # -- delivery failures ----------------------------------------------------------------------

    async def _outbox_failed(self, row: OutboxRow, reason: str) -> None:
        assert row.id is not None
        async with self._lock_for(row.request_id):
            for _ in range(5):  # CONFLICT: another gateway changed the request; read it again
                result = await self._fail_recipient(
                    row.request_id,
                    row.recipient_seq,
                    reason,
                    outbox_failed=(row.id, reason),
                    count_as_delivery=row.purpose in ("ask", "escalation"),
                )
                if result is not CommitResult.CONFLICT:
                    break

    async def _fail_recipient(
        self,
        request_id: str,
        seq: int,
        reason: str,
        *,
        outbox_failed: tuple[int, str] | None = None,
        inbound: InboundRecord | None = None,
        count_as_delivery: bool = True,
    ) -> CommitResult:
        """Mark one recipient undeliverable; when nobody is left to answer, the call fails."""
        request = await self.store.get_request(id=request_id)
        recipients = await self.store.get_recipients(request_id)
        target = next((r for r in recipients if r.seq == seq), None)
        update = None
        if request is not None and target is not None and count_as_delivery:
            target.state = "failed"
            target.error = reason
            votes = [
                Vote(v["address"], "reject" if v["verdict"] == "reject" else "approve")
                for v in request.status.get("responders") or []
            ]
            reachable = sum(1 for r in recipients if r.state not in ("failed", "handed_over"))
            approval = request.kind == "function_call"
            result = tally(
                request.route.get("policy", "any") if approval else "any",
                int(request.route.get("quorum") or 1),
                votes,
                max(reachable, len(votes)),
            )
            if request.state == "pending" and result.outcome in ("unreachable", "reject"):
                now = self.clock()
                failed = [r for r in recipients if r.state == "failed"]
                detail = "; ".join(f"{r.address}: {r.error}" for r in failed)
                status = {**request.status, "responded_at": iso(now)}
                if result.outcome == "reject" and approval:
                    status.update(
                        approved=False,
                        comment=(join_comments(status, "reject") or "rejected")
                        + f" (and email delivery failed: {detail})",
                    )
                    update = RequestUpdate(request_id, status=status, state="done", resolved_at=now)
                else:
                    status["error"] = f"email delivery failed, nobody left who can answer: {detail}"
                    update = RequestUpdate(
                        request_id, status=status, state="failed", resolved_at=now
                    )
        if request is not None and count_as_delivery:
            if update is None:
                update = self._unchanged(request)
            else:
                update.expect_version = request.version
        ok = await self.store.commit(
            inbound=inbound,
            request=update,
            recipients=[target] if target is not None and count_as_delivery else None,
            outbox_failed=outbox_failed,
        )
        if ok and update is not None and request is not None:
            self._notify(request.call_id, update.state or "failed")
        return ok

    # -- inbound (inbound/receiver.py walks each message) --------------------------------------

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
        return self._receiver.answers.note(request, recipient, message, kind=kind)

    def _approval_code(self, request: RequestRow, recipient: RecipientRow) -> str | None:
        """The approval code of this recipient's emails, when the route asks for codes."""
        return self._receiver.answers.approval_code(request, recipient)

    _unchanged = staticmethod(unchanged)

    # -- timers ---------------------------------------------------------------------------------

    async def run_timers_once(self) -> int:
        """Run every timer that is due; a step missed while the gateway was down runs once."""
        # Claimed: with several gateways on one store, one of them runs each timer (and a
        # crashed one's claim runs out after _TIMER_LEASE seconds).
        timers = await self.store.claim_timers(
            self.clock(), owner=self.instance_id, lease=_TIMER_LEASE
        )
        for timer in timers:
            async with self._lock_for(timer.request_id):
                try:
                    # CONFLICT: the request changed since the timer read it (another gateway
                    # applied an answer) or the timer was run elsewhere: read again and redo the
                    # step, which then finds the request decided or the timer done.
                    for _ in range(3):
                        if await self._run_timer(timer) is not CommitResult.CONFLICT:
                            break
                except Exception:
                    log.exception("timer %s (%s) failed", timer.id, timer.kind)
                    await self.store.commit(timer_done=timer.id)
        return len(timers)

    async def _run_timer(self, timer: TimerRow) -> CommitResult:
        """One step; every effect commits only while the request is at the version read here."""
        request = await self.store.get_request(id=timer.request_id)
        if request is None or request.state != "pending":
            return await self.store.commit(timer_done=timer.id)
        recipients = await self.store.get_recipients(request.id)
        waiting = [r for r in recipients if r.state in ("pending", "sent")]
        now = self.clock()
        if timer.kind == "reminder" and (due := _in_working_hours(request.route, now)) > now:
            # Due outside working hours (the gateway was down, or hours changed): wait for them.
            later = TimerRow(request.id, "reminder", due, dict(timer.payload))
            await self.store.commit(timer_done=timer.id, timers=[later])
            self._timer_wake.set()
            return
        if timer.kind == "reminder":
            outbox = [
                self._note(
                    request,
                    r,
                    t(
                        "reminder_approval"
                        if request.kind == "function_call"
                        else "reminder_question",
                        request,
                    ),
                    kind="reminder",
                )
                for r in waiting
            ]
            result = await self.store.commit(
                request=RequestUpdate(request.id, expect_version=request.version),
                timer_done=timer.id,
                recipients=waiting,
                outbox=[o for o in outbox if o is not None],
            )
            if result:
                self.outbox.wake()
            return result
        elif timer.kind == "escalation":
            step = timer.payload
            adds = [(normalize_address(a), "to") for a in step.get("add") or []]
            handover = [(normalize_address(a), "to") for a in step.get("handover") or []]
            return await self._escalate(
                request,
                add=adds + handover,
                message=step.get("message") or t("escalated", request),
                handover=bool(handover),
                timer_done=timer.id,
            )
        elif timer.kind == "timeout":
            now = self.clock()
            seconds = request.route.get("timeout") or 0
            reason = f"no decision within {duration_text(seconds)}: timed out (fail closed)"
            status = {**request.status, "responded_at": iso(now), "timed_out": True}
            if request.kind == "function_call":
                status.update(approved=False, comment=reason)
                state = "done"
            else:
                status["error"] = reason
                state = "failed"
            notes = [self._note(request, r, t("timed_out_note", request)) for r in waiting]
            result = await self.store.commit(
                request=RequestUpdate(
                    request.id,
                    status=status,
                    state=state,
                    resolved_at=now,
                    expect_version=request.version,
                ),
                recipients=waiting,
                outbox=[n for n in notes if n is not None],
                timer_done=timer.id,
            )
            if result:
                self.outbox.wake()
                self._notify(request.call_id, state)
            return result
        return await self.store.commit(timer_done=timer.id)

    async def purge_raw_mail(self) -> tuple[int, int]:
        """`[store] keep_raw_mail`: drop raw mail older than that; outcomes stay."""
        from .retention import purge_raw_mail

        keep = self.config.store.keep_raw_mail
        if not keep:
            return 0, 0
        return await purge_raw_mail(self.store, older_than=keep, now=self.clock())

    async def _retention_loop(self) -> None:
        keep = float(self.config.store.keep_raw_mail or 0)
        while not self._stopping:
            try:
                inbound, outbox = await self.purge_raw_mail()
                if inbound or outbox:
                    log.info("retention: purged %d raw replies, %d sent bodies", inbound, outbox)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention purge failed; trying again later")
            await asyncio.sleep(min(3600.0, max(60.0, keep / 24)))

    async def _timer_loop(self) -> None:
        while not self._stopping:
            try:
                await self.run_timers_once()
                due = await self.store.next_timer_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer loop error; continuing")
                due = self.clock() + 1.0
            delay = None if due is None else max(0.0, due - self.clock())
            if delay == 0.0:
                continue
            try:
                await asyncio.wait_for(self._timer_wake.wait(), min(delay or 60.0, 60.0))
            except TimeoutError:
                pass
            self._timer_wake.clear()


def _in_working_hours(route: dict[str, Any], ts: float) -> float:
    """`ts`, or the start of the route's next working hours when `ts` is outside them."""
    if not route.get("working_hours"):
        return ts
    from .hours import next_working_time, parse_tz, parse_working_hours

    try:
        hours = parse_working_hours(route["working_hours"])
        tz = parse_tz(route.get("tz") or "UTC")
    except ValueError:
        return ts  # a stored route from an older config: remind rather than never
    return next_working_time(ts, hours, tz)


def _identity(address: str) -> str:
    """One person, however they sub-address: alice+x@corp and alice@corp vote once."""
    local, at, domain = address.lower().rpartition("@")
    if not at:
        return address.lower()
    return f"{local.split('+', 1)[0]}@{domain}"


def _check_header_free(field: str, value: str, *, allow_newlines: bool = False) -> None:
    if "\0" in value or (not allow_newlines and ("\r" in value or "\n" in value)):
        raise RequestInvalidError(f"{field} must not contain line breaks or NUL")
    if not allow_newlines and header_problem(value) is not None:
        # Decoded too: an RFC 2047 word hiding a CR/LF is a line break once in a header.
        raise RequestInvalidError(
            f"{field} must not contain control characters (also not inside an RFC 2047 "
            "encoded word)"
        )


def _check_allowed_recipient(config: GatewayConfig, address: str, where: str) -> None:
    """`[security] allowed_recipients`: an address the agent supplies must be on the list (an
    LLM told to "also ask mallory@evil.test" must not get the reply key to an accomplice)."""
    allowed = config.security.allowed_recipients
    if allowed and not may_answer(allowed, [], address):
        raise RequestInvalidError(
            f"{where}: {address} is not allowed by [security] allowed_recipients"
        )
