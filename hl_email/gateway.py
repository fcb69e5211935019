"""Orchestration: submit requests, process inbound mail, resolve waiting calls."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import logging
import re
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any, Literal

from pydantic import ValidationError

from .config import GatewayConfig, normalize_address
from .errors import CallFailedError, NotFoundError, RequestInvalidError
from .inbound.imap import ImapWatcher
from .matching import candidate_keys, dmarc_verdict, sender_address
from .models import (
    ContactChannel,
    EmailContactChannel,
    Escalation,
    FunctionCall,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContact,
    HumanContactSpec,
    HumanContactStatus,
    ResponseOption,
)
from .outbox import OutboxWorker, SmtpSender
from .render import (
    AskContext,
    FollowupContext,
    HeaderInjectionError,
    Renderer,
    TemplateError,
)
from .replies import (
    Decision,
    bounce_original_message_ids,
    classify_message,
    decide,
    extract_reply_from_message,
)
from .store import (
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
    find_reply_keys,
    make_message_id,
    mint_reply_key,
    plus_address,
    verify_reply_key,
)

__all__ = ["Gateway", "InboundOutcome"]

log = logging.getLogger("hl_email.gateway")

Kind = Literal["function_call", "human_contact"]
_ID_ALPHABET = string.ascii_lowercase + string.digits
# Raw inbound mail is kept for audit up to this size; larger messages keep their headers only.
_RAW_KEEP_BYTES = 2_000_000


@dataclass(frozen=True)
class InboundOutcome:
    """What happened to one inbound message; stored for audit, never a silent drop."""

    outcome: str
    detail: str = ""
    call_id: str | None = None
    verdict: str | None = None


def _new_request_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def _email_channel(channel: ContactChannel | None, what: str) -> EmailContactChannel:
    if channel is None or channel.email is None:
        raise RequestInvalidError(
            f"{what}: no email contact channel; pass contact_channel=ContactChannel("
            "email=EmailContactChannel(address=...)) to the call or to the HumanLayer client"
        )
    return channel.email


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
        self.smtp = SmtpSender(config.smtp)
        self.outbox = OutboxWorker(
            self.store,
            send or self.smtp.send,
            config.smtp,
            on_permanent_failure=self._outbox_failed,
            clock=clock,
        )
        self.watcher = ImapWatcher(config.imap, self.store, self.handle_inbound, clock=clock)
        self.domain = config.agent.address.rpartition("@")[2]
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._listeners: set[Callable[[str, str], None]] = set()
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        if not config.security.secret:
            log.warning(
                "security.secret is empty: reply keys are signed with an empty key; set "
                "HL_EMAIL_SECURITY__SECRET to a long random string"
            )

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, *, inbound: bool | None = None, outbox: bool = True) -> None:
        await self.store.open()
        if outbox:
            self._tasks.append(asyncio.create_task(self.outbox.run(), name="hl-email-outbox"))
        if inbound if inbound is not None else self.config.imap.enabled:
            self._tasks.append(asyncio.create_task(self.watcher.run(), name="hl-email-imap"))
        self._started = True

    async def stop(self) -> None:
        self.outbox.stopping = True
        self.watcher.stopping = True
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
        for futures in self._waiters.values():
            for future in futures:
                if not future.done():
                    future.cancel()
        self._waiters.clear()
        if self._started:
            await self.store.close()
        self._started = False

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def readiness(self) -> dict[str, Any]:
        return {
            "store": await self.store.ping(),
            "imap": self.watcher.connected if self.config.imap.enabled else None,
            "smtp_last_error": self.outbox.last_error,
            "imap_last_error": self.watcher.last_error,
        }

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
        existing = await self.store.get_request(call_id=call_id)
        if existing is not None:
            if existing.kind != kind or existing.spec != spec.model_dump(mode="json"):
                raise RequestInvalidError(
                    f"call_id {call_id!r} already exists with a different request"
                )
            return existing  # idempotent: the same call re-submitted after a restart
        channel = _email_channel(spec.channel, "spec.channel")
        now = self.clock()
        request_id = _new_request_id()
        recipients = self._recipients_for(request_id, channel)
        options = (
            spec.reject_options if isinstance(spec, FunctionCallSpec) else spec.response_options
        ) or []
        outbox: list[OutboxRow] = []
        subject = ""
        for recipient in recipients:
            key = mint_reply_key(
                self.config.security.secret, request_id, recipient.seq, recipient.address
            )
            recipient.reply_key = str(key)
            recipient.message_count = 1
            message_id = make_message_id(key, 1, self.domain)
            references: list[str] = []
            in_reply_to = channel.in_reply_to_message_id
            if channel.references_message_id:
                references = channel.references_message_id.split()
            elif in_reply_to:
                references = [in_reply_to]
            ctx = AskContext(
                kind="approval" if kind == "function_call" else "question",
                call_id=call_id,
                run_id=run_id,
                agent_name=self.config.agent.name,
                agent_address=self.config.agent.address,
                reply_address=self._reply_address(key),
                to=[recipient.address],
                recipient=recipient.address,
                fn=spec.fn if isinstance(spec, FunctionCallSpec) else None,
                kwargs=spec.kwargs if isinstance(spec, FunctionCallSpec) else None,
                msg=spec.msg if isinstance(spec, HumanContactSpec) else None,
                subject=(
                    spec.subject if isinstance(spec, HumanContactSpec) and spec.subject else None
                )
                or channel.subject,
                options=options,
                context_about_user=channel.context_about_user,
                html_template=channel.template,
                message_id=message_id,
                in_reply_to=in_reply_to,
                references=references,
                date=datetime.fromtimestamp(now, tz=UTC),
            )
            try:
                message = self.renderer.render_ask(ctx)
                subject = subject or self.renderer.subject_for(ctx)
            except (HeaderInjectionError, TemplateError) as exc:
                raise RequestInvalidError(str(exc)) from None
            recipient.thread = [
                *references,
                *([in_reply_to] if in_reply_to and in_reply_to not in references else []),
                message_id,
            ]
            outbox.append(
                OutboxRow(
                    request_id=request_id,
                    recipient_seq=recipient.seq,
                    purpose="ask",
                    mail_from=self.config.agent.address,
                    rcpt_to=[recipient.address],
                    message=message.as_bytes(),
                    message_id=message_id,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        status = {"requested_at": _iso(now)}
        row = RequestRow(
            id=request_id,
            call_id=call_id,
            run_id=run_id,
            kind=kind,
            spec=spec.model_dump(mode="json"),
            status=status,
            subject=subject,
            created_at=now,
        )
        await self.store.create_request(row, recipients, outbox)
        self.outbox.wake()
        return row

    def _recipients_for(self, request_id: str, channel: EmailContactChannel) -> list[RecipientRow]:
        pairs: list[tuple[str, str, str]] = [(channel.address, "to", "spec.channel.email.address")]
        for i, extra in enumerate(channel.additional_recipients or []):
            pairs.append(
                (extra.address, extra.field or "to", f"additional_recipients[{i}].address")
            )
        recipients: list[RecipientRow] = []
        seen: set[str] = set()
        for address, field, where in pairs:
            try:
                normalized = normalize_address(address, field=where)
            except ValueError as exc:
                raise RequestInvalidError(str(exc)) from None
            if normalized in seen:
                continue
            seen.add(normalized)
            recipients.append(
                RecipientRow(
                    request_id=request_id, seq=len(recipients), address=normalized, field=field
                )
            )
        return recipients

    def _reply_address(self, key: ReplyKey) -> str:
        if self.config.agent.plus_addressing:
            return plus_address(self.config.agent.address, key, self.config.agent.plus_separator)
        return self.config.agent.address

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
                self._waiters.get(call_id, set()).discard(future)
                raise TimeoutError(f"no answer to {call_id} within {timeout:g} s") from None

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
        async with self._lock:
            row = await self._row(call_id, "function_call")
            if row.state != "pending":
                raise RequestInvalidError(f"{call_id} is already {row.state}")
            now = self.clock()
            new_status = {
                **row.status,
                "approved": status.approved,
                "comment": status.comment,
                "reject_option_name": status.reject_option_name,
                "responded_at": _iso(now),
                "user_info": {"via": "api"},
            }
            ok = await self.store.commit(
                request=RequestUpdate(row.id, status=new_status, state="done", resolved_at=now)
            )
        if not ok:
            raise RequestInvalidError(f"{call_id} was answered meanwhile")
        self._notify(call_id, "done")
        return await self.get_function_call(call_id)

    async def respond_to_human_contact(
        self, call_id: str, status: HumanContactStatus
    ) -> HumanContact:
        if status.response is None:
            raise RequestInvalidError("status.response is required")
        async with self._lock:
            row = await self._row(call_id, "human_contact")
            if row.state != "pending":
                raise RequestInvalidError(f"{call_id} is already {row.state}")
            now = self.clock()
            new_status = {
                **row.status,
                "response": status.response,
                "response_option_name": status.response_option_name,
                "responded_at": _iso(now),
                "user_info": {"via": "api"},
            }
            ok = await self.store.commit(
                request=RequestUpdate(row.id, status=new_status, state="done", resolved_at=now)
            )
        if not ok:
            raise RequestInvalidError(f"{call_id} was answered meanwhile")
        self._notify(call_id, "done")
        return await self.get_human_contact(call_id)

    # -- escalation -----------------------------------------------------------------------------

    async def escalate_email(
        self, call_id: str, escalation: Escalation
    ) -> FunctionCall | HumanContact:
        """HumanLayer's escalate_email: re-ask in the same thread, adding recipients or a channel."""
        async with self._lock:
            row = await self.store.get_request(call_id=call_id)
            if row is None:
                raise NotFoundError(f"no request with call_id {call_id!r}")
            if row.state != "pending":
                raise RequestInvalidError(f"{call_id} is already {row.state}; nothing to escalate")
            _check_header_free("escalation_msg", escalation.escalation_msg, allow_newlines=True)
            existing = await self.store.get_recipients(row.id)
            known = {r.address for r in existing}
            new: list[tuple[str, str]] = []
            extra = list(escalation.additional_recipients or [])
            if escalation.channel and escalation.channel.email:
                extra.insert(0, escalation.channel.email)  # type: ignore[arg-type]
            for i, recipient in enumerate(extra):
                try:
                    address = normalize_address(
                        recipient.address, field=f"additional_recipients[{i}].address"
                    )
                except ValueError as exc:
                    raise RequestInvalidError(str(exc)) from None
                if address not in known:
                    known.add(address)
                    new.append((address, getattr(recipient, "field", None) or "to"))
            now = self.clock()
            spec = row.spec
            options = [
                ResponseOption.model_validate(o)
                for o in (spec.get("reject_options") or spec.get("response_options") or [])
            ]
            recipients: list[RecipientRow] = []
            outbox: list[OutboxRow] = []
            targets = [r for r in existing if r.state not in ("failed",)]
            for address, field in new:
                targets.append(
                    RecipientRow(
                        request_id=row.id,
                        seq=len(existing) + len(recipients),
                        address=address,
                        field=field,
                    )
                )
                recipients.append(targets[-1])
            for recipient in targets:
                key = mint_reply_key(
                    self.config.security.secret, row.id, recipient.seq, recipient.address
                )
                recipient.reply_key = str(key)
                recipient.message_count += 1
                message_id = make_message_id(key, recipient.message_count, self.domain)
                in_reply_to = recipient.thread[-1] if recipient.thread else None
                ctx = AskContext(
                    kind="approval" if row.kind == "function_call" else "question",
                    call_id=row.call_id,
                    run_id=row.run_id,
                    agent_name=self.config.agent.name,
                    agent_address=self.config.agent.address,
                    reply_address=self._reply_address(key),
                    to=[recipient.address],
                    recipient=recipient.address,
                    fn=spec.get("fn"),
                    kwargs=spec.get("kwargs"),
                    msg=spec.get("msg"),
                    subject=("Re: " + row.subject) if recipient.thread else row.subject,
                    options=options,
                    escalation_msg=escalation.escalation_msg,
                    message_id=message_id,
                    in_reply_to=in_reply_to,
                    references=list(recipient.thread),
                    date=datetime.fromtimestamp(now, tz=UTC),
                )
                try:
                    message = self.renderer.render_ask(ctx)
                except (HeaderInjectionError, TemplateError) as exc:
                    raise RequestInvalidError(str(exc)) from None
                recipient.thread = [*recipient.thread, message_id]
                if recipient not in recipients:
                    recipients.append(recipient)
                outbox.append(
                    OutboxRow(
                        request_id=row.id,
                        recipient_seq=recipient.seq,
                        purpose="escalation",
                        mail_from=self.config.agent.address,
                        rcpt_to=[recipient.address],
                        message=message.as_bytes(),
                        message_id=message_id,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            await self.store.commit(recipients=recipients, outbox=outbox)
        self.outbox.wake()
        return await self.get_request(call_id)

    # -- delivery failures ----------------------------------------------------------------------

    async def _outbox_failed(self, row: OutboxRow, reason: str) -> None:
        assert row.id is not None
        async with self._lock:
            await self._fail_recipient(
                row.request_id,
                row.recipient_seq,
                reason,
                outbox_failed=(row.id, reason),
                count_as_delivery=row.purpose in ("ask", "escalation"),
            )

    async def _fail_recipient(
        self,
        request_id: str,
        seq: int,
        reason: str,
        *,
        outbox_failed: tuple[int, str] | None = None,
        inbound: InboundRecord | None = None,
        count_as_delivery: bool = True,
    ) -> bool:
        """Mark one recipient undeliverable; when nobody is left to answer, the call fails."""
        request = await self.store.get_request(id=request_id)
        recipients = await self.store.get_recipients(request_id)
        target = next((r for r in recipients if r.seq == seq), None)
        update = None
        if request is not None and target is not None and count_as_delivery:
            target.state = "failed"
            target.error = reason
            if request.state == "pending" and all(r.state == "failed" for r in recipients):
                now = self.clock()
                detail = "; ".join(f"{r.address}: {r.error}" for r in recipients)
                status = {**request.status, "error": f"email delivery failed: {detail}"}
                update = RequestUpdate(request_id, status=status, state="failed", resolved_at=now)
        ok = await self.store.commit(
            inbound=inbound,
            request=update,
            recipients=[target] if target is not None and count_as_delivery else None,
            outbox_failed=outbox_failed,
        )
        if ok and update is not None and request is not None:
            self._notify(request.call_id, "failed")
        return ok

    # -- inbound --------------------------------------------------------------------------------

    async def handle_inbound(self, raw: bytes) -> InboundOutcome:
        """Walk one inbound message through classify → match → authorize → extract → decide.

        Every message ends in a stored outcome; input problems never raise.
        """
        async with self._lock:
            try:
                return await self._handle_inbound(raw)
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

    async def _handle_inbound(self, raw: bytes) -> InboundOutcome:
        now = self.clock()
        msg: Message | None
        try:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
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
            raw=raw if len(raw) <= _RAW_KEEP_BYTES else raw[: raw.find(b"\r\n\r\n") + 4 or 65536],
        )

        async def finish(outcome: str, detail: str = "", **kw: Any) -> InboundOutcome:
            record.outcome = outcome
            record.detail = detail
            ok = await self.store.commit(inbound=record, **kw)
            if not ok:
                return InboundOutcome("duplicate", "processed concurrently")
            call_id = kw.pop("_call_id", None)
            return InboundOutcome(outcome, detail, call_id)

        if msg is None:
            return await finish("malformed", f"cannot parse message: {parse_error}")

        kind = str(classify_message(msg))
        if kind == "bounce":
            return await self._handle_bounce(msg, record)
        if kind != "human":
            keys = candidate_keys(msg)
            target = await self._lookup_key(keys)
            if target is not None:
                record.request_id, record.recipient_seq = target[0].id, target[1].seq
                if kind == "auto_reply":
                    target[1].auto_replied = True
                    await self.store.commit(recipients=[target[1]])
            return await finish(kind, f"not a human answer ({kind}); ignored")

        keys = candidate_keys(msg) or _body_ref_keys(msg)
        if not keys:
            return await finish(
                "unmatched", "no reply key in In-Reply-To, References or the address"
            )
        target = await self._lookup_key(keys)
        if target is None:
            return await finish("unknown_key", f"reply key {keys[0]} matches no request")
        request, recipient = target
        record.request_id, record.recipient_seq = request.id, recipient.seq
        key = next(
            k for k in keys if k.request_id == request.id and k.recipient_seq == recipient.seq
        )
        if not verify_reply_key(self.config.security.secret, key, recipient.address):
            return await finish("bad_key", f"reply key {key} has an invalid signature")

        sender, why = sender_address(msg)
        if sender is None:
            return await finish("sender_invalid", why)
        if sender != recipient.address:
            return await finish(
                "sender_mismatch",
                f"reply from {sender}, but this reply key belongs to {recipient.address}",
            )
        if self.config.security.trusted_authserv_id:
            auth = dmarc_verdict(msg, self.config.security.trusted_authserv_id, sender)
            if not auth.ok:
                return await finish("dmarc_failed", auth.reason)

        if request.state != "pending":
            return await finish("late", f"request already {request.state}")

        try:
            text = extract_reply_from_message(msg)
        except Exception as exc:
            text = ""
            log.warning("extraction failed: %s", exc)
        text = _REF_LINE.sub("", text).strip()
        spec = request.spec
        approval = request.kind == "function_call"
        options = [
            ResponseOption.model_validate(o)
            for o in (
                (spec.get("reject_options") if approval else spec.get("response_options")) or []
            )
        ]
        decision = decide(
            text,
            kind="approval" if approval else "question",
            options=options,
            classifier=self.classifier,
        )
        if decision.verdict == "unclear" or (
            approval and decision.verdict not in ("approve", "reject")
        ):
            return await self._ask_again(request, recipient, msg, record, text, decision, options)
        return await self._apply(request, recipient, msg, record, text, decision, options)

    async def _lookup_key(self, keys: list[ReplyKey]) -> tuple[RequestRow, RecipientRow] | None:
        for key in keys:
            request = await self.store.get_request(id=key.request_id)
            if request is None:
                continue
            recipient = next(
                (
                    r
                    for r in await self.store.get_recipients(request.id)
                    if r.seq == key.recipient_seq
                ),
                None,
            )
            if recipient is not None:
                return request, recipient
        return None

    async def _handle_bounce(self, msg: Message, record: InboundRecord) -> InboundOutcome:
        try:
            ids = bounce_original_message_ids(msg)
        except Exception:
            ids = []
        keys = find_reply_keys(*ids) or candidate_keys(msg)
        target = await self._lookup_key(keys)
        record.outcome = "bounce"
        if target is None:
            record.detail = "bounce for no request of ours"
            await self.store.commit(inbound=record)
            return InboundOutcome("bounce", record.detail)
        request, recipient = target
        record.request_id, record.recipient_seq = request.id, recipient.seq
        key = next(
            k for k in keys if k.request_id == request.id and k.recipient_seq == recipient.seq
        )
        if not verify_reply_key(self.config.security.secret, key, recipient.address):
            record.detail = "bounce names a reply key with a bad signature; ignored"
            await self.store.commit(inbound=record)
            return InboundOutcome("bounce", record.detail, request.call_id)
        record.detail = f"delivery to {recipient.address} bounced"
        ok = await self._fail_recipient(
            request.id,
            recipient.seq,
            f"bounced: {_safe_header(msg, 'Subject') or 'delivery failure'}",
            inbound=record,
        )
        return InboundOutcome("bounce" if ok else "duplicate", record.detail, request.call_id)

    def _followup(
        self,
        request: RequestRow,
        recipient: RecipientRow,
        reply: Message,
        *,
        kind: str,
        message: str,
        quoted: str | None,
        options: list[ResponseOption],
        purpose: str,
    ) -> OutboxRow:
        key = mint_reply_key(
            self.config.security.secret, request.id, recipient.seq, recipient.address
        )
        recipient.message_count += 1
        message_id = make_message_id(key, recipient.message_count, self.domain)
        reply_id = _safe_header(reply, "Message-ID")
        thread = list(recipient.thread)
        if reply_id and reply_id.strip() not in thread:
            thread.append(reply_id.strip())
        ctx = FollowupContext(
            kind=kind,  # type: ignore[arg-type]
            call_id=request.call_id,
            agent_name=self.config.agent.name,
            agent_address=self.config.agent.address,
            reply_address=self._reply_address(key),
            to=[recipient.address],
            thread_subject=request.subject,
            message=message,
            quoted_reply=quoted,
            options=options,
            kind_of_request="approval" if request.kind == "function_call" else "question",
            message_id=message_id,
            in_reply_to=thread[-1] if thread else None,
            references=thread[-20:],
            date=datetime.fromtimestamp(self.clock(), tz=UTC),
        )
        rendered = self.renderer.render_followup(ctx)
        recipient.thread = [*thread, message_id]
        now = self.clock()
        return OutboxRow(
            request_id=request.id,
            recipient_seq=recipient.seq,
            purpose=purpose,
            mail_from=self.config.agent.address,
            rcpt_to=[recipient.address],
            message=rendered.as_bytes(),
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
    ) -> InboundOutcome:
        approval = request.kind == "function_call"
        why = decision.reason or "the reply has no clear decision"
        if request.clarifications >= self.config.replies.max_clarifications:
            record.outcome = "unclear"
            record.detail = f"{why}; clarification limit reached, not asking again"
            ok = await self.store.commit(inbound=record)
            return InboundOutcome("unclear" if ok else "duplicate", record.detail, request.call_id)
        if approval:
            message = (
                "Thanks for your reply. I couldn't tell whether you approve, so nothing has been "
                "done yet. Please reply APPROVE to go ahead, or REJECT followed by a reason."
            )
        else:
            message = "Thanks for your reply. I couldn't find an answer in it. Please reply with your answer above the quoted text."
        row = self._followup(
            request,
            recipient,
            msg,
            kind="clarify",
            message=message,
            quoted=text or None,
            options=options,
            purpose="clarify",
        )
        record.outcome = "unclear_asked_again"
        record.detail = why
        ok = await self.store.commit(
            inbound=record,
            request=RequestUpdate(request.id, clarifications=request.clarifications + 1),
            recipients=[recipient],
            outbox=[row],
        )
        if ok:
            self.outbox.wake()
        return InboundOutcome(
            record.outcome if ok else "duplicate", why, request.call_id, "unclear"
        )

    async def _apply(
        self,
        request: RequestRow,
        recipient: RecipientRow,
        msg: Message,
        record: InboundRecord,
        text: str,
        decision: Decision,
        options: list[ResponseOption],
    ) -> InboundOutcome:
        now = self.clock()
        responder = {
            "address": recipient.address,
            "verdict": decision.verdict,
            "comment": decision.comment,
            "option": decision.option,
            "at": _iso(now),
        }
        status = dict(request.status)
        status["responded_at"] = _iso(now)
        status["user_info"] = {"email": recipient.address}
        status["responders"] = [*(status.get("responders") or []), responder]
        option = next((o for o in options if o.name == decision.option), None)
        if request.kind == "function_call":
            approved = decision.verdict == "approve"
            comment = decision.comment
            if not approved and not comment:
                # HumanLayer's SDK requires a comment on a rejection.
                comment = (
                    (option.title or option.description or option.name)
                    if option
                    else "rejected by email without a reason"
                )
            status.update(
                approved=approved,
                comment=comment,
                reject_option_name=decision.option if not approved else None,
            )
            confirm = (
                "Approved. Thanks, the agent will go ahead."
                if approved
                else "Rejected. Thanks, the agent will not go ahead and has been told why."
            )
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
            confirm = "Thanks, your answer has been passed on to the agent."
        recipient.state = "answered"
        outbox: list[OutboxRow] = []
        if self.config.replies.send_confirmations:
            outbox.append(
                self._followup(
                    request,
                    recipient,
                    msg,
                    kind="confirm",
                    message=confirm,
                    quoted=text or None,
                    options=[],
                    purpose="confirm",
                )
            )
        record.outcome = "applied"
        record.detail = f"{decision.verdict}" + (
            f" option={decision.option}" if decision.option else ""
        )
        ok = await self.store.commit(
            inbound=record,
            request=RequestUpdate(request.id, status=status, state="done", resolved_at=now),
            recipients=[recipient],
            outbox=outbox,
        )
        if not ok:
            return InboundOutcome("duplicate", "processed concurrently", request.call_id)
        self.outbox.wake()
        self._notify(request.call_id, "done")
        return InboundOutcome("applied", record.detail, request.call_id, decision.verdict)


_REF_LINE = re.compile(r"^[ \t>]*Ref:\s*hl1-[a-z0-9]+-[0-9]+-[a-z2-7]{20}[ \t]*$", re.I | re.M)


def _body_ref_keys(msg: Message) -> list[ReplyKey]:
    """Keys from a `Ref: hl1-…` line: our mailto buttons put it in the body, because a reply
    started from a mailto link carries no In-Reply-To."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        content = part.get_content() if part is not None else ""
    except Exception:
        return []
    if not isinstance(content, str):
        return []
    found: list[ReplyKey] = []
    for match in re.finditer(
        r"Ref:\s*(hl1-[a-z0-9]+-[0-9]+-[a-z2-7]{20})", content[:200_000], re.I
    ):
        found.extend(k for k in find_reply_keys(match.group(1)) if k not in found)
    return found


def _check_header_free(field: str, value: str, *, allow_newlines: bool = False) -> None:
    if "\0" in value or (not allow_newlines and ("\r" in value or "\n" in value)):
        raise RequestInvalidError(f"{field} must not contain line breaks or NUL")


__all__ += ["CallFailedError", "ValidationError"]
