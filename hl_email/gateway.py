"""Orchestration: submit requests, process inbound mail, resolve waiting calls."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import hashlib
import inspect
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from .config import ConfigError, GatewayConfig, normalize_address
from .core.records import Kind, iso
from .core.wording import first_option, join_comments, t
from .credentials import credential_problems
from .errors import RequestInvalidError
from .inbound.imap import ImapWatcher
from .inbound.leader import watch_while_leading
from .inbound.lmtp import listener_for
from .limits import InboundLimits, LimitRefusal, check_inbound
from .models import (
    EmailMessage,
    EmailPayload,
    Escalation,
    FunctionCall,
    FunctionCallStatus,
    HumanContact,
    HumanContactStatus,
    ResponseOption,
)
from .oauth import mail_token_providers, token_provider
from .outbound.compose import Composer, Identity, identity, reply_address
from .outbox import OutboxWorker, SmtpPool
from .policy import Tally, Vote, tally
from .render import (
    FollowupContext,
    Renderer,
    TemplateError,
)
from .replies import (
    Decision,
    bounce_original_message_ids,
    classify_message,
    decide,
    decision_readings,
    extract_reply_from_message,
    strip_signoff,
)
from .replies.authorize import dmarc_verdict, sender_address
from .replies.match import REF_LINE, body_ref_keys, candidate_keys
from .replies.thread import answers_our_email
from .routing import Router, RoutingConfig, may_answer
from .service.escalation import Escalations
from .service.locks import RequestLocks
from .service.requests import Requests, as_model, function_call, human_contact
from .service.timers import Timers, purge_raw_mail, retention_loop
from .service.waiters import Waiters
from .store import (
    CommitResult,
    InboundRecord,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    Store,
    open_store,
)
from .tokens import (
    ReplyKey,
    approval_code,
    find_reply_keys,
    make_message_id,
    mint_reply_key,
    verify_reply_key,
)

__all__ = ["Gateway", "InboundOutcome"]

log = logging.getLogger("hl_email.gateway")

# Raw inbound mail is kept for audit up to this size; larger messages keep their headers only.
_RAW_KEEP_BYTES = 2_000_000


@dataclass(frozen=True)
class InboundOutcome:
    """What happened to one inbound message; stored for audit, never a silent drop."""

    outcome: str
    detail: str = ""
    call_id: str | None = None
    verdict: str | None = None


def _dedupe_key(msg: Message | None, raw: bytes) -> tuple[str, str | None]:
    message_id = None
    if msg is not None:
        try:
            value = msg.get("Message-ID")
            message_id = str(value).strip() if value else None
        except Exception:
            message_id = None
    if message_id:
        return "mid:" + message_id.lower(), message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest(), None


def _safe_header(msg: Message | None, name: str) -> str | None:
    if msg is None:
        return None
    try:
        value = msg.get(name)
    except Exception:
        return None
    return str(value)[:500] if value is not None else None


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
        self._email_handlers: set[Callable[[EmailPayload], Any]] = set()
        self._handler_tasks: set[asyncio.Future[Any]] = set()
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

    def _wire_request_services(self) -> None:
        """The request side: create/read/answer/cancel, escalation, timers, waiters."""
        config, clock = self.config, self.clock
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
        return await self.escalations.escalate(
            request,
            add=add,
            message=message,
            handover=handover,
            timer_done=timer_done,
            inbound=inbound,
            only_new=only_new,
        )

    async def _outbox_failed(self, row: OutboxRow, reason: str) -> None:
        await self.escalations.outbox_failed(row, reason)

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
        return await self.escalations.fail_recipient(
            request_id,
            seq,
            reason,
            outbox_failed=outbox_failed,
            inbound=inbound,
            count_as_delivery=count_as_delivery,
        )

    # -- inbound --------------------------------------------------------------------------------

    async def handle_inbound(self, raw: bytes) -> InboundOutcome:
        """Walk one inbound message through classify → match → authorize → extract → decide.

        Every message ends in a stored outcome; input problems never raise. Runs without a
        lock: each commit is versioned, and a conflict means read the request again and redo.
        """
        refusal = check_inbound(raw, self._limits())
        if refusal is not None:
            return await self._refuse_unparsed(raw, refusal)
        try:
            for _ in range(5):
                try:
                    return await self._handle_inbound(raw)
                except _Retry:
                    # Another writer (a second gateway on the same store) changed the
                    # request meanwhile: read it again and redo the decision.
                    continue
            raise RuntimeError("the request kept changing while this reply was processed")
        except Exception as exc:
            # A bug must not stop the watcher, nor be lost: record it and move on.
            log.exception("inbound processing failed")
            key = "sha256:" + hashlib.sha256(raw).hexdigest()
            record = InboundRecord(
                dedupe_key=key + ":error",
                message_id=None,
                received_at=self.clock(),
                from_address=None,
                subject=None,
                outcome="error",
                detail=f"{type(exc).__name__}: {exc}"[:1000],
                raw=raw[:_RAW_KEEP_BYTES],
            )
            try:
                await self.store.commit(inbound=record)
            except Exception:
                log.exception("could not record the failure")
            return InboundOutcome("error", record.detail)

    def _limits(self) -> InboundLimits:
        limits = self.config.inbound
        return InboundLimits(
            max_message_bytes=limits.max_message_bytes,
            max_header_bytes=limits.max_header_bytes,
            max_parts=limits.max_parts,
            max_depth=limits.max_depth,
            max_references=limits.max_references,
        )

    async def _refuse_unparsed(self, raw: bytes, refusal: LimitRefusal) -> InboundOutcome:
        """A message over an [inbound] limit: recorded (headers only), never parsed."""
        dedupe_key = "sha256:" + hashlib.sha256(raw).hexdigest()
        if await self.store.inbound_seen(dedupe_key):
            return InboundOutcome("duplicate", f"already processed {dedupe_key}")
        record = InboundRecord(
            dedupe_key=dedupe_key,
            message_id=None,
            received_at=self.clock(),
            from_address=_raw_header(raw, b"From"),
            subject=_raw_header(raw, b"Subject"),
            outcome=refusal.outcome,
            detail=refusal.detail,
            raw=raw[:65536],
        )
        try:
            await self.store.commit(inbound=record)
        except Exception:
            log.exception("could not record a refused message")
        log.warning("inbound message refused before parsing: %s", refusal.detail)
        return InboundOutcome(refusal.outcome, refusal.detail)

    async def _handle_inbound(self, raw: bytes) -> InboundOutcome:
        now = self.clock()
        msg: Message | None
        try:
            msg = await _parse_message(raw)
        except Exception as exc:
            msg = None
            parse_error = f"{type(exc).__name__}: {exc}"
        dedupe_key, message_id = _dedupe_key(msg, raw)
        if await self.store.inbound_seen(dedupe_key):
            return InboundOutcome("duplicate", f"already processed {message_id or dedupe_key}")

        record = InboundRecord(
            dedupe_key=dedupe_key,
            message_id=message_id,
            received_at=now,
            from_address=_safe_header(msg, "From"),
            subject=_safe_header(msg, "Subject"),
            outcome="",
            raw=_audit_copy(raw),
        )

        async def finish(outcome: str, detail: str = "") -> InboundOutcome:
            """Record an outcome that changes nothing else."""
            record.outcome = outcome
            record.detail = detail
            if not await self._commit(inbound=record):
                return InboundOutcome("duplicate", "processed concurrently")
            return InboundOutcome(outcome, detail)

        if msg is None:
            return await finish("malformed", f"cannot parse message: {parse_error}")

        # Our own subject ("Vacation request", "Parcel not delivered") must not make a reply in
        # our thread look automatic, so the classifier learns the thread's subject.
        # One lookup serves classification and matching. The body `Ref:` line (from our mailto
        # buttons) counts only for human answers, never to tie automatic mail to a request.
        header_keys = candidate_keys(msg)
        keys = header_keys or body_ref_keys(msg)
        target = await self._lookup_key(keys)
        kind = str(classify_message(msg, thread_subject=target[0].subject if target else None))
        if kind == "bounce":
            return await self._handle_bounce(msg, record)
        if kind != "human":
            if header_keys and target is not None:
                record.request_id, record.recipient_seq = target[0].id, target[1].seq
                if kind == "auto_reply":
                    return await self._handle_auto_reply(msg, record, target[0], target[1])
            return await finish(kind, f"not a human answer ({kind}); ignored")

        sender, why = sender_address(msg)
        if not keys:
            return await self._handle_agent_email(msg, record, sender, why, raw)
        if target is None:
            return await finish("unknown_key", f"reply key {keys[0]} matches no request")
        request, recipient, recipients = target
        record.request_id, record.recipient_seq = request.id, recipient.seq
        key = next(
            k for k in keys if k.request_id == request.id and k.recipient_seq == recipient.seq
        )
        if not verify_reply_key(self.config.security.secret, key, recipient.address):
            return await finish("bad_key", f"reply key {key} has an invalid signature")

        if sender is None:
            return await finish("sender_invalid", why)
        responders = request.route.get("responders") or []
        if responders:
            # Listed responders, plus anyone the request was sent to (escalation recipients and
            # out-of-office delegates are asked by the route, so they may answer too).
            addresses = [r.address for r in recipients if r.state != "failed"]
            allowed = sender in addresses or may_answer(responders, addresses, sender)
            refusal = f"{sender} is not among those who may answer ({', '.join(responders)})"
        else:
            allowed = sender == recipient.address
            refusal = f"reply from {sender}, but this reply key belongs to {recipient.address}"
        if not allowed:
            return await finish("sender_mismatch", refusal)
        if self.config.security.trusted_authserv_id:
            auth = dmarc_verdict(msg, self.config.security.trusted_authserv_id, sender)
            if not auth.ok:
                return await finish("dmarc_failed", auth.reason)
        # The one who answered: the bound recipient, another recipient, or (with route
        # responders) someone else allowed, who then joins the thread as a recipient.
        responder = next((r for r in recipients if r.address == sender), None)
        if responder is None:
            responder = RecipientRow(
                request.id,
                max(r.seq for r in recipients) + 1,
                sender,
                field="responder",
                state="sent",
                thread=list(recipient.thread),
                message_count=0,
            )

        if request.state != "pending":
            return await self._late(request, responder, msg, record)
        me = _identity(sender)
        if any(
            _identity(v.get("address", "")) == me for v in request.status.get("responders") or []
        ):
            return await finish("already_answered", f"{sender} has already answered")

        try:
            # the decision reads the new text with signatures kept (a retraction under them
            # counts) and every quote and <blockquote> removed; the agent gets the new text
            # without signatures and closings
            text = extract_reply_from_message(msg, for_decision=True)
            answer = extract_reply_from_message(msg)
        except Exception as exc:
            text = answer = ""
            log.warning("extraction failed: %s", exc)
        text = REF_LINE.sub("", text).strip()
        answer = REF_LINE.sub("", answer).strip()
        spec = request.spec
        approval = request.kind == "function_call"
        options = [
            ResponseOption.model_validate(o)
            for o in (
                (spec.get("reject_options") if approval else spec.get("response_options")) or []
            )
        ]
        code = self._approval_code(request, recipient)
        if not answers_our_email(
            msg, our_subject=request.subject, reply_key=str(key), approval_code=code
        ):
            # A learned reply key on an unrelated email ("Yes, sounds good!") never decides.
            decision = Decision("unclear", reason=_NOT_OUR_THREAD)
            return await self._ask_again(
                request, responder, msg, record, text, decision, options, in_thread=False
            )
        # issue 9: the closed grammar reads the whole new text (signatures kept); numbers are
        # checked against the call's arguments; a code route needs the approval code
        read_as = {"arguments": spec.get("kwargs") or {}, "approval_code": code}
        decision = decide(
            text,
            kind="approval" if approval else "question",
            options=options,
            classifier=_never_approves(self.classifier),
            **read_as,
        )
        if decision.verdict == "approve":
            decision = _every_reading_approves(decision, msg, text, options, read_as)
        decision = _comment_from_answer(
            decision, text, answer, "approval" if approval else "question", options, read_as
        )
        if decision.verdict == "unclear" or (
            approval and decision.verdict not in ("approve", "reject")
        ):
            return await self._ask_again(request, responder, msg, record, text, decision, options)
        return await self._apply(
            request, responder, sender, recipients, msg, record, text, decision, options
        )

    async def _handle_auto_reply(
        self, msg: Message, record: InboundRecord, request: RequestRow, recipient: RecipientRow
    ) -> InboundOutcome:
        """Out-of-office: recorded on the recipient; a route's delegate is asked instead."""
        record.outcome = "auto_reply"
        record.detail = f"automatic reply from {recipient.address}; not an answer"
        sender, _ = sender_address(msg)
        delegate = (request.route.get("delegates") or {}).get(recipient.address)
        recipient.auto_replied = True
        # Asked once: a delegate already among the recipients is not asked again (so a second
        # out-of-office, or a retry after a conflict that had already stored auto_replied, is
        # decided by that, not by auto_replied).
        if delegate and sender == recipient.address and request.state == "pending":
            try:
                delegate = normalize_address(delegate)
            except ValueError:
                delegate = None
            known = {r.address for r in await self.store.get_recipients(request.id)}
            if delegate in known:
                delegate = None  # already asked: one out-of-office never asks twice
        else:
            delegate = None
        if delegate:
            record.detail += f"; asking the delegate {delegate}"
            await self._commit(request=self._unchanged(request), recipients=[recipient])
            request.version += 1  # the touch above
            result = await self._escalate(
                request,
                add=[(delegate, "to")],
                message=t("delegate_intro", request, away=recipient.address),
                inbound=record,
                only_new=True,
            )
            if result is CommitResult.CONFLICT:
                raise _Retry()
            return InboundOutcome(
                "auto_reply" if result else "duplicate", record.detail, request.call_id
            )
        ok = await self._commit(
            inbound=record, request=self._unchanged(request), recipients=[recipient]
        )
        return InboundOutcome("auto_reply" if ok else "duplicate", record.detail, request.call_id)

    async def _handle_agent_email(
        self, msg: Message, record: InboundRecord, sender: str | None, why: str, raw: bytes
    ) -> InboundOutcome:
        """Mail to the agent that answers no request: a new conversation (the outer loop)."""
        inbox = self.config.agent_inbox
        if not inbox.enabled:
            record.outcome, record.detail = "unmatched", "no reply key; the agent inbox is off"
        elif sender is None:
            record.outcome, record.detail = "agent_email_refused", why
        elif not may_answer(inbox.allowed_senders, [], sender) if inbox.allowed_senders else True:
            record.outcome = "agent_email_refused"
            record.detail = f"{sender} is not in agent_inbox.allowed_senders"
        else:
            record.outcome, record.detail = "agent_email", f"new conversation from {sender}"
            if self.config.security.trusted_authserv_id:
                auth = dmarc_verdict(msg, self.config.security.trusted_authserv_id, sender)
                if not auth.ok:
                    record.outcome, record.detail = "agent_email_refused", auth.reason
        ok = await self._commit(inbound=record)
        if not ok:
            return InboundOutcome("duplicate", "processed concurrently")
        if record.outcome == "agent_email" and sender is not None:
            try:
                text = REF_LINE.sub("", extract_reply_from_message(msg)).strip()
            except Exception:
                text = ""
            payload = EmailPayload(
                from_address=sender,
                to_address=self.config.agent.address,
                subject=_safe_header(msg, "Subject") or "",
                body=text,
                message_id=record.message_id or record.dedupe_key,
                previous_thread=await self._previous_thread(msg),
                raw_email=raw.decode("utf-8", "replace"),
            )
            self._emit_email(payload)
        return InboundOutcome(record.outcome, record.detail)

    async def _previous_thread(self, msg: Message) -> list[EmailMessage] | None:
        """The earlier messages of this email's thread that we hold (received or sent)."""
        from .thread import previous_thread, thread_message_ids

        try:
            held = await self.store.thread_messages(thread_message_ids(msg))
            return previous_thread(held) or None
        except Exception:  # the payload goes out without its history rather than not at all
            log.exception("could not load the previous thread")
            return None

    def on_email(self, handler: Callable[[EmailPayload], Any]) -> Callable[[], None]:
        """Call `handler(payload)` (sync or async) for each new conversation; returns unsubscribe."""
        self._email_handlers.add(handler)
        return lambda: self._email_handlers.discard(handler)

    async def agent_emails(self) -> AsyncIterator[EmailPayload]:
        """Async iterator over new conversations, from now on."""
        queue: asyncio.Queue[EmailPayload] = asyncio.Queue()
        unsubscribe = self.on_email(queue.put_nowait)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    def _emit_email(self, payload: EmailPayload) -> None:
        # TODO(2): emitted after the inbound row is committed; a crash in between loses the
        # agent_email.received webhook (completions are re-enqueued on start; this is not).
        for handler in list(self._email_handlers):
            try:
                result = handler(payload)
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._handler_tasks.add(task)
                    task.add_done_callback(self._handler_tasks.discard)
            except Exception:
                log.exception("agent email handler failed")

    async def _late(
        self, request: RequestRow, responder: RecipientRow, msg: Message, record: InboundRecord
    ) -> InboundOutcome:
        """An answer after the request was decided: an in-thread note, and nothing changes."""
        record.outcome = "late"
        record.detail = f"request already {request.state}"
        outbox: list[OutboxRow] = []
        earlier = [
            o
            for o in await self.store.outbox_for_request(request.id)
            if o.purpose == "already_decided" and o.recipient_seq == responder.seq
        ]
        # At most two such notes per person: a mail loop with a robot that does not mark its
        # mail as automatic ends here.
        if request.state in ("done", "failed") and len(earlier) < 2:
            outbox.append(
                self._followup(
                    request,
                    responder,
                    msg,
                    kind="already_decided",
                    message=t("already_decided", request, verdict=self._verdict_text(request)),
                    quoted=None,
                    options=[],
                    purpose="already_decided",
                )
            )
        ok = await self._commit(
            inbound=record,
            request=self._unchanged(request),
            recipients=[responder],
            outbox=[o for o in outbox if o is not None],
        )
        if ok:
            self.outbox.wake()
        return InboundOutcome("late" if ok else "duplicate", record.detail, request.call_id)

    @staticmethod
    def _verdict_text(request: RequestRow) -> str:
        status = request.status
        who = ", ".join(
            v["address"] for v in status.get("responders") or [] if v.get("verdict") != "unclear"
        )
        if status.get("cancelled"):
            return t("verdict_cancelled", request)
        if request.state == "failed":
            return t("verdict_closed", request)
        if request.kind == "function_call":
            if status.get("timed_out"):
                return t("verdict_timed_out", request)
            key = "verdict_approved" if status.get("approved") else "verdict_rejected"
        else:
            key = "verdict_answered"
        return t(key + "_by", request, who=who) if who else t(key, request)

    @staticmethod
    def _unchanged(request: RequestRow) -> RequestUpdate:
        """Commit only while the request is as read (any state): for effects on its recipients,
        which must not overwrite what another writer decided meanwhile."""
        return RequestUpdate(request.id, expect_state=None, expect_version=request.version)

    async def _commit(self, **kw: Any) -> CommitResult:
        """store.commit for the inbound path: a conflict means process the message again."""
        result = await self.store.commit(**kw)
        if result is CommitResult.CONFLICT:
            raise _Retry()
        return result

    async def _lookup_key(
        self, keys: list[ReplyKey]
    ) -> tuple[RequestRow, RecipientRow, list[RecipientRow]] | None:
        """The request and recipient the first known key names, with all the request's
        recipients (read once here, so the inbound path does not read them again)."""
        for key in keys:
            request = await self.store.get_request(id=key.request_id)
            if request is None:
                continue
            recipients = await self.store.get_recipients(request.id)
            recipient = next((r for r in recipients if r.seq == key.recipient_seq), None)
            if recipient is not None:
                return request, recipient, recipients
        return None

    async def _handle_bounce(self, msg: Message, record: InboundRecord) -> InboundOutcome:
        """A bounce fails a recipient only when it is authentic: it names, in its report part
        (the returned message or its headers), a Message-ID we sent that recipient, and it
        passes the trust rules of a reply (dmarc=pass from trusted_authserv_id when set).
        Anything else is recorded as `bounce_unverified` and changes nothing."""
        try:
            ids = bounce_original_message_ids(msg)
        except Exception:
            ids = []
        # Only the report part counts: In-Reply-To or a plus-address in the headers is what
        # anyone who saw one of our emails can write.
        keys = find_reply_keys(*ids)
        target = await self._lookup_key(keys)
        record.outcome = "bounce_unverified"
        if target is None:
            record.detail = "bounce names none of our Message-IDs in its report part; ignored"
            await self.store.commit(inbound=record)
            return InboundOutcome(record.outcome, record.detail)
        request, recipient, _ = target
        record.request_id, record.recipient_seq = request.id, recipient.seq
        key = next(
            k for k in keys if k.request_id == request.id and k.recipient_seq == recipient.seq
        )
        # The Message-ID that carries the key must be one we sent this recipient.
        ours = {i.lower() for i in recipient.thread}
        carrying = [i for i in ids if key in find_reply_keys(i)]
        if not verify_reply_key(self.config.security.secret, key, recipient.address) or not any(
            i.lower() in ours for i in carrying
        ):
            record.detail = "bounce names a Message-ID we never sent that recipient; ignored"
            await self.store.commit(inbound=record)
            return InboundOutcome(record.outcome, record.detail, request.call_id)
        if self.config.security.trusted_authserv_id:
            reporter, why = sender_address(msg)
            auth = (
                dmarc_verdict(msg, self.config.security.trusted_authserv_id, reporter)
                if reporter is not None
                else None
            )
            if auth is None or not auth.ok:
                record.detail = (
                    f"bounce not authenticated ({auth.reason if auth else why}); ignored"
                )
                await self.store.commit(inbound=record)
                return InboundOutcome(record.outcome, record.detail, request.call_id)
        record.outcome = "bounce"
        record.detail = f"delivery to {recipient.address} bounced"
        ok = await self._fail_recipient(
            request.id,
            recipient.seq,
            f"bounced: {_safe_header(msg, 'Subject') or 'delivery failure'}",
            inbound=record,
        )
        if ok is CommitResult.CONFLICT:
            raise _Retry()
        return InboundOutcome("bounce" if ok else "duplicate", record.detail, request.call_id)

    def _approval_code(self, request: RequestRow, recipient: RecipientRow) -> str | None:
        """The approval code of this recipient's emails, when the route asks for codes."""
        if request.kind != "function_call":
            return None
        mode = request.route.get("approval") or self.config.replies.approval
        if mode != "code":
            return None
        return approval_code(
            self.config.security.secret, request.id, recipient.seq, recipient.address
        )

    def _followup(
        self,
        request: RequestRow,
        recipient: RecipientRow,
        reply: Message | None,
        *,
        kind: str,
        message: str,
        quoted: str | None,
        options: list[ResponseOption],
        purpose: str,
    ) -> OutboxRow | None:
        key = mint_reply_key(
            self.config.security.secret, request.id, recipient.seq, recipient.address
        )
        recipient.message_count += 1
        identity = self._identity(request)
        message_id = make_message_id(key, recipient.message_count, identity.domain)
        reply_id = _clean_msgid(_safe_header(reply, "Message-ID"))
        thread = list(recipient.thread)
        if reply_id and reply_id not in thread:
            thread.append(reply_id)
        ctx = FollowupContext(
            kind=kind,  # type: ignore[arg-type]
            call_id=request.call_id,
            agent_name=identity.name,
            agent_address=identity.address,
            reply_address=self._reply_address(key, identity.address),
            to=[recipient.address],
            thread_subject=request.subject,
            message=message,
            quoted_reply=quoted,
            options=options,
            kind_of_request="approval" if request.kind == "function_call" else "question",
            language=request.route.get("language"),
            template_set=request.route.get("template_set"),
            message_id=message_id,
            in_reply_to=thread[-1] if thread else None,
            references=thread[-20:],
            date=datetime.fromtimestamp(self.clock(), tz=UTC),
            approval_code=self._approval_code(request, recipient),
        )
        try:
            rendered = self.renderer.render_followup_raw(ctx)
        except Exception:
            # Never let a follow-up we cannot render cost the answer it follows up on.
            log.exception("cannot render the %s email for %s", kind, request.call_id)
            return None
        recipient.thread = [*thread, message_id]
        now = self.clock()
        return OutboxRow(
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

    async def _ask_again(
        self,
        request: RequestRow,
        recipient: RecipientRow,
        msg: Message,
        record: InboundRecord,
        text: str,
        decision: Decision,
        options: list[ResponseOption],
        *,
        in_thread: bool = True,
    ) -> InboundOutcome:
        approval = request.kind == "function_call"
        why = decision.reason or "the reply has no clear decision"
        if request.clarifications >= self.config.replies.max_clarifications:
            record.outcome = "unclear"
            record.detail = f"{why}; clarification limit reached, not asking again"
            ok = await self._commit(inbound=record)
            return InboundOutcome("unclear" if ok else "duplicate", record.detail, request.call_id)
        if approval:
            message = t("clarify_approval", request)
        else:
            message = t("clarify_question", request)
        if decision.reason:
            # Say what was unclear, so the person can fix exactly that.
            reason = decision.reason.strip()
            if reason[-1:] not in ".!?":
                reason += "."
            message += "\n\n" + t("clarify_reason", request, reason=reason)
        row = self._followup(
            request,
            recipient,
            # an email from another thread is answered in ours, never threaded onto it
            msg if in_thread else None,
            kind="clarify",
            message=message,
            quoted=text or None,
            options=options,
            purpose="clarify",
        )
        record.outcome = "unclear_asked_again"
        record.detail = why
        ok = await self._commit(
            inbound=record,
            request=RequestUpdate(
                request.id,
                clarifications=request.clarifications + 1,
                expect_version=request.version,
            ),
            recipients=[recipient],
            outbox=[row] if row is not None else [],
        )
        if ok:
            self.outbox.wake()
        return InboundOutcome(
            record.outcome if ok else "duplicate", why, request.call_id, "unclear"
        )

    async def _apply(
        self,
        request: RequestRow,
        responder: RecipientRow,
        sender: str,
        recipients: list[RecipientRow],
        msg: Message,
        record: InboundRecord,
        text: str,
        decision: Decision,
        options: list[ResponseOption],
    ) -> InboundOutcome:
        """Record one person's decisive answer; resolve the request when its policy is met."""
        now = self.clock()
        option = next((o for o in options if o.name == decision.option), None)
        approval = request.kind == "function_call"
        comment = decision.comment
        if approval and decision.verdict == "reject" and not comment:
            # HumanLayer's SDK requires a comment on a rejection.
            comment = (
                (option.title or option.description or option.name)
                if option
                else "rejected by email without a reason"
            )
        vote = {
            "address": sender,
            "verdict": decision.verdict,
            "comment": comment,
            "option": decision.option,
            "at": iso(now),
        }
        status = dict(request.status)
        status["responders"] = [*(status.get("responders") or []), vote]
        votes = [
            Vote(v["address"], "reject" if v["verdict"] == "reject" else "approve")
            for v in status["responders"]
        ]
        reachable = sum(1 for r in recipients if r.state not in ("failed", "handed_over"))
        route = request.route
        policy = route.get("policy", "any") if approval else "any"
        result = tally(policy, int(route.get("quorum") or 1), votes, max(reachable, len(votes)))
        if policy == "all" and result.outcome == "approve":
            # "all" means every person asked (to/cc, still reachable) approved: a responder the
            # route also lets answer adds a vote, never stands in for someone who was asked.
            approved_by = {_identity(v.address) for v in votes if v.verdict == "approve"}
            missing = [
                r.address
                for r in recipients
                if r.field in ("to", "cc")
                and r.state not in ("failed", "handed_over")
                and _identity(r.address) not in approved_by
            ]
            if missing:
                result = Tally(
                    "pending",
                    result.approvals,
                    result.rejections,
                    result.needed,
                    f"waiting for {', '.join(missing)} (policy: all)",
                )
        responder.state = "answered"
        outbox: list[OutboxRow] = []
        update: RequestUpdate
        resolved = result.outcome in ("approve", "reject")
        if resolved:
            status["responded_at"] = iso(now)
            status["user_info"] = {"email": sender, "responders": [v.address for v in votes]}
            if approval:
                approved = result.outcome == "approve"
                if approved:
                    final_comment = comment if len(votes) == 1 else join_comments(status, "approve")
                else:
                    final_comment = join_comments(status, "reject") or comment
                status.update(
                    approved=approved,
                    comment=final_comment,
                    reject_option_name=None if approved else first_option(status),
                )
                confirm = t("confirm_approved" if approved else "confirm_rejected", request)
            else:
                response = decision.comment or text
                if option is not None:
                    chosen = option.prompt_fill or option.title or option.name
                    response = (
                        chosen
                        if not decision.comment or decision.comment == chosen
                        else f"{chosen}\n\n{decision.comment}"
                    )
                status.update(response=response, response_option_name=decision.option)
                confirm = t("confirm_answered", request)
            update = RequestUpdate(
                request.id,
                status=status,
                state="done",
                resolved_at=now,
                expect_version=request.version,
            )
        else:
            update = RequestUpdate(request.id, status=status, expect_version=request.version)
            confirm = t(
                "vote_recorded" if decision.verdict == "approve" else "vote_recorded_answer",
                request,
                reason=result.reason,
                needed=result.needed,
            )
        if self.config.replies.send_confirmations:
            outbox.append(
                self._followup(
                    request,
                    responder,
                    msg,
                    kind="confirm",
                    message=confirm,
                    quoted=text or None,
                    options=[],
                    purpose="confirm",
                )
            )
        changed = [responder]
        if resolved:
            decided = RequestRow(**{**request.__dict__, "status": status, "state": "done"})
            verdict_text = self._verdict_text(decided)
            for other in recipients:
                if other.seq == responder.seq or other.state in ("failed", "answered"):
                    continue
                outbox.append(
                    self._note(
                        request,
                        other,
                        t("decided_note", request, verdict=verdict_text),
                    )
                )
                changed.append(other)
        record.outcome = "applied" if resolved else "vote_recorded"
        record.detail = f"{decision.verdict}" + (
            f" option={decision.option}" if decision.option else ""
        )
        if not resolved:
            record.detail += f"; {result.reason}"
        ok = await self._commit(
            inbound=record,
            request=update,
            recipients=changed,
            outbox=[o for o in outbox if o is not None],
        )
        if not ok:
            return InboundOutcome("duplicate", "processed concurrently", request.call_id)
        self.outbox.wake()
        if resolved:
            self._notify(request.call_id, "done")
        return InboundOutcome(record.outcome, record.detail, request.call_id, decision.verdict)

    def _note(
        self, request: RequestRow, recipient: RecipientRow, message: str, *, kind: str = "note"
    ) -> OutboxRow | None:
        """An in-thread message that needs no answer (no reply it provokes is an answer)."""
        return self._followup(
            request,
            recipient,
            None,
            kind=kind,
            message=message,
            quoted=None,
            options=[],
            purpose=kind,
        )

    # -- timers ---------------------------------------------------------------------------------

    async def run_timers_once(self) -> int:
        """Run every timer that is due; a step missed while the gateway was down runs once."""
        return await self.timers.run_once()

    async def purge_raw_mail(self) -> tuple[int, int]:
        """`[store] keep_raw_mail`: drop raw mail older than that; outcomes stay."""
        return await purge_raw_mail(self.store, self.config, self.clock())

    # imap triage glue (moves to receiver)
    async def record_unfetched(
        self, heads: list[tuple[bytes, int, bool]]
    ) -> list[InboundOutcome | None]:
        """Headers first (inbound/triage.py): for each (header block, size, body search hit),
        the outcome stored without the body, "duplicate" for a message already recorded, or
        None when the body must be fetched and walk `handle_inbound`."""
        from .inbound.triage import read_headers, unfetched_kind, within_limits

        limits = self._limits()
        views = [(read_headers(block), size, hit) for block, size, hit in heads]
        trusted = [v.dedupe_key for v, size, _ in views if within_limits(v, size, limits)]
        seen = await self.store.inbound_seen_keys([k for k in trusted if k])
        results: list[InboundOutcome | None] = []
        for view, size, hit in views:
            kind = None if view.dedupe_key in seen else unfetched_kind(view, size, limits, hit)
            if view.dedupe_key in seen and view.dedupe_key in trusted:
                results.append(InboundOutcome("duplicate", f"already processed {view.message_id}"))
            elif kind is None or view.dedupe_key is None:
                results.append(None)
            else:
                record = InboundRecord(
                    dedupe_key=view.dedupe_key,
                    message_id=view.message_id,
                    received_at=self.clock(),
                    from_address=view.header("From"),
                    subject=view.header("Subject"),
                    outcome=str(kind),
                    detail=f"not a human answer ({kind}); ignored",
                    raw=view.block,  # the body was not fetched: the headers are the audit copy
                )
                ok = await self.store.commit(inbound=record) is CommitResult.OK
                results.append(InboundOutcome(record.outcome if ok else "duplicate", record.detail))
        return results


_NOT_OUR_THREAD = (
    "Your email does not answer ours: its subject does not continue our request and it "
    "carries nothing of our email (no quote, no reference line, no approval code), so it was "
    "not counted. Please answer this email instead."
)


def _never_approves(
    classifier: Callable[[str], Decision | None] | None,
) -> Callable[[str], Decision | None] | None:
    """The classifier hook, unable to approve: it may reject, answer or ask better, and an
    approval from it is dropped here as well as in decide() (the promise has two locks)."""
    if classifier is None:
        return None

    def guarded(text: str) -> Decision | None:
        suggestion = classifier(text)
        if isinstance(suggestion, Decision) and suggestion.verdict == "approve":
            log.warning("the classifier hook returned an approval; ignored (it may not approve)")
            return None
        return suggestion

    return guarded


class _Retry(Exception):
    """The request changed under us (another writer); process the message again."""


_CLEAN_MSGID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>")


def _clean_msgid(value: str | None) -> str | None:
    """A Message-ID fit to quote in our own headers, or None: a hostile one must not make our
    confirmation unrenderable (and so lose the answer it confirms)."""
    if not value:
        return None
    value = value.strip()
    return value if _CLEAN_MSGID.fullmatch(value) else None


def _comment_from_answer(
    decision: Decision,
    text: str,
    answer: str,
    kind: str,
    options: list[ResponseOption],
    read_as: dict[str, Any] | None = None,
) -> Decision:
    """The decision with its comment (what the agent is handed) read from ``answer``, the new
    text without signatures, and without a hand-written closing ("Thanks,\nLena", "-Sam").
    The verdict and option stay those read from ``text``, the decision's text; the comment
    changes only when the answer gives the same verdict and option."""
    if not decision.comment or decision.verdict == "unclear":
        return decision
    trimmed = strip_signoff(answer)
    if trimmed == text.strip():
        return decision
    again = decide(trimmed, kind=kind, options=options, **(read_as or {}))
    if again.verdict != decision.verdict or again.option != decision.option:
        return decision
    return dataclasses.replace(decision, comment=again.comment)


def _identity(address: str) -> str:
    """One person, however they sub-address: alice+x@corp and alice@corp vote once."""
    local, at, domain = address.lower().rpartition("@")
    if not at:
        return address.lower()
    return f"{local.split('+', 1)[0]}@{domain}"


def _audit_copy(raw: bytes) -> bytes:
    """The raw message kept for audit: all of it, or the headers of a very large one."""
    if len(raw) <= _RAW_KEEP_BYTES:
        return raw
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(separator, 0, 1_000_000)
        if end >= 0:
            return raw[: end + len(separator)]
    return raw[:65536]


def _raw_header(raw: bytes, name: bytes) -> str | None:
    """The first 200 bytes of a header, undecoded, for the audit row of an unparsed message."""
    match = re.search(rb"^" + name + rb":[ \t]*([^\r\n]{0,200})", raw[:65536], re.I | re.M)
    return match.group(1).decode("latin-1") if match else None


# Above this size the stdlib parser (pure Python, ~0.15 s per MB of short lines) runs in a
# worker thread, so the event loop (API, IDLE, timers) keeps running meanwhile.
_PARSE_IN_THREAD_BYTES = 256 * 1024


async def _parse_message(raw: bytes) -> Message:
    if len(raw) <= _PARSE_IN_THREAD_BYTES:
        return email.message_from_bytes(raw, policy=email.policy.default)
    return await asyncio.to_thread(email.message_from_bytes, raw, policy=email.policy.default)


_PARTS_DISAGREE = (
    "The parts of your email say different things (its text and its formatted version, or the "
    "text around an image), so I did not take it as an approval."
)


def _every_reading_approves(
    decision: Decision,
    msg: Message,
    text: str,
    options: list[ResponseOption],
    read_as: dict[str, Any],
) -> Decision:
    """An approval holds only if every part a reader may see approves as well: a plain part
    saying "Approve" must not hide an HTML part or a second text part that says "no"."""
    seen = {" ".join(text.split())}
    for reading in decision_readings(msg):
        reading = REF_LINE.sub("", reading).strip()
        key = " ".join(reading.split())
        if not key or key in seen:
            continue
        seen.add(key)
        if decide(reading, kind="approval", options=options, **read_as).verdict != "approve":
            return Decision("unclear", reason=_PARTS_DISAGREE)
    return decision
