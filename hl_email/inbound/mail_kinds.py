"""Mail that is not a human answer to a request: bounces, out-of-office replies, agent-inbox mail."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from ..config import normalize_address
from ..core.outcomes import InboundOutcome, Outcome, Retry
from ..core.tokens import find_reply_keys, verify_reply_key
from ..core.wording import t
from ..models import EmailMessage, EmailPayload
from ..routing import may_answer
from ..store import CommitResult, InboundRecord, RecipientRow, RequestRow
from .host import InboundHost, commit, lookup_key, unchanged
from .reading import InboundMail

__all__ = ["AgentInbox", "auto_reply", "bounce"]

log = logging.getLogger("hl_email.gateway")


async def bounce(host: InboundHost, mail: InboundMail, record: InboundRecord) -> InboundOutcome:
    """A bounce fails a recipient only when it is authentic: it names, in its report part
    (the returned message or its headers), a Message-ID we sent that recipient, and it
    passes the trust rules of a reply (dmarc=pass from trusted_authserv_id when set).
    Anything else is recorded as `bounce_unverified` and changes nothing."""
    ids = mail.bounce_ids  # [] when the report part cannot be read
    # Only the report part counts: In-Reply-To or a plus-address in the headers is what
    # anyone who saw one of our emails can write.
    keys = find_reply_keys(*ids)
    target = await lookup_key(host.store, keys)
    record.outcome = Outcome.BOUNCE_UNVERIFIED
    if target is None:
        record.detail = "bounce names none of our Message-IDs in its report part; ignored"
        await host.store.commit(inbound=record)
        return InboundOutcome(record.outcome, record.detail)
    request, recipient, _ = target
    record.request_id, record.recipient_seq = request.id, recipient.seq
    key = next(k for k in keys if k.request_id == request.id and k.recipient_seq == recipient.seq)
    # The Message-ID that carries the key must be one we sent this recipient.
    ours = {i.lower() for i in recipient.thread}
    carrying = [i for i in ids if key in find_reply_keys(i)]
    if not verify_reply_key(host.config.security.secret, key, recipient.address) or not any(
        i.lower() in ours for i in carrying
    ):
        record.detail = "bounce names a Message-ID we never sent that recipient; ignored"
        await host.store.commit(inbound=record)
        return InboundOutcome(record.outcome, record.detail, request.call_id)
    if host.config.security.trusted_authserv_id:
        reporter, why = mail.sender
        auth = (
            mail.dmarc(host.config.security.trusted_authserv_id, reporter)
            if reporter is not None
            else None
        )
        if auth is None or not auth.ok:
            record.detail = f"bounce not authenticated ({auth.reason if auth else why}); ignored"
            await host.store.commit(inbound=record)
            return InboundOutcome(record.outcome, record.detail, request.call_id)
    record.outcome = Outcome.BOUNCE
    record.detail = f"delivery to {recipient.address} bounced"
    ok = await host._fail_recipient(
        request.id,
        recipient.seq,
        f"bounced: {mail.header('Subject') or 'delivery failure'}",
        inbound=record,
    )
    if ok is CommitResult.CONFLICT:
        raise Retry()
    return InboundOutcome(
        Outcome.BOUNCE if ok else Outcome.DUPLICATE, record.detail, request.call_id
    )


async def auto_reply(
    host: InboundHost,
    mail: InboundMail,
    record: InboundRecord,
    request: RequestRow,
    recipient: RecipientRow,
) -> InboundOutcome:
    """Out-of-office: recorded on the recipient; a route's delegate is asked instead."""
    record.outcome = Outcome.AUTO_REPLY
    record.detail = f"automatic reply from {recipient.address}; not an answer"
    sender, _ = mail.sender
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
        known = {r.address for r in await host.store.get_recipients(request.id)}
        if delegate in known:
            delegate = None  # already asked: one out-of-office never asks twice
    else:
        delegate = None
    if delegate:
        record.detail += f"; asking the delegate {delegate}"
        await commit(host.store, request=unchanged(request), recipients=[recipient])
        request.version += 1  # the touch above
        result = await host._escalate(
            request,
            add=[(delegate, "to")],
            message=t("delegate_intro", request, away=recipient.address),
            inbound=record,
            only_new=True,
        )
        if result is CommitResult.CONFLICT:
            raise Retry()
        return InboundOutcome(
            Outcome.AUTO_REPLY if result else Outcome.DUPLICATE, record.detail, request.call_id
        )
    ok = await commit(
        host.store, inbound=record, request=unchanged(request), recipients=[recipient]
    )
    return InboundOutcome(
        Outcome.AUTO_REPLY if ok else Outcome.DUPLICATE, record.detail, request.call_id
    )


class AgentInbox:
    """Mail to the agent that answers no request: a new conversation, handed to subscribers."""

    def __init__(self, host: InboundHost) -> None:
        self.host = host
        self._handlers: set[Callable[[EmailPayload], Any]] = set()
        self._tasks: set[asyncio.Future[Any]] = set()

    async def handle(
        self, mail: InboundMail, record: InboundRecord, sender: str | None, why: str
    ) -> InboundOutcome:
        """Mail to the agent that answers no request: a new conversation (the outer loop)."""
        inbox = self.host.config.agent_inbox
        if not inbox.enabled:
            record.outcome, record.detail = (
                Outcome.UNMATCHED,
                "no reply key; the agent inbox is off",
            )
        elif sender is None:
            record.outcome, record.detail = Outcome.AGENT_EMAIL_REFUSED, why
        elif not may_answer(inbox.allowed_senders, [], sender) if inbox.allowed_senders else True:
            record.outcome = Outcome.AGENT_EMAIL_REFUSED
            record.detail = f"{sender} is not in agent_inbox.allowed_senders"
        else:
            record.outcome, record.detail = Outcome.AGENT_EMAIL, f"new conversation from {sender}"
            if self.host.config.security.trusted_authserv_id:
                auth = mail.dmarc(self.host.config.security.trusted_authserv_id, sender)
                if not auth.ok:
                    record.outcome, record.detail = Outcome.AGENT_EMAIL_REFUSED, auth.reason
        ok = await commit(self.host.store, inbound=record)
        if not ok:
            return InboundOutcome(Outcome.DUPLICATE, "processed concurrently")
        if record.outcome == Outcome.AGENT_EMAIL and sender is not None:
            payload = EmailPayload(
                from_address=sender,
                to_address=self.host.config.agent.address,
                subject=mail.header("Subject") or "",
                body=mail.agent_text,
                message_id=record.message_id or record.dedupe_key,
                previous_thread=await self.previous_thread(mail),
                raw_email=mail.raw.decode("utf-8", "replace"),
            )
            self.emit(payload)
        return InboundOutcome(record.outcome, record.detail)

    async def previous_thread(self, mail: InboundMail) -> list[EmailMessage] | None:
        """The earlier messages of this email's thread that we hold (received or sent)."""
        from ..thread import previous_thread

        try:
            held = await self.host.store.thread_messages(mail.thread_ids)
            return previous_thread(held) or None
        except Exception:  # the payload goes out without its history rather than not at all
            log.exception("could not load the previous thread")
            return None

    def on_email(self, handler: Callable[[EmailPayload], Any]) -> Callable[[], None]:
        """Call `handler(payload)` (sync or async) for each new conversation; returns unsubscribe."""
        self._handlers.add(handler)
        return lambda: self._handlers.discard(handler)

    async def agent_emails(self) -> AsyncIterator[EmailPayload]:
        """Async iterator over new conversations, from now on."""
        queue: asyncio.Queue[EmailPayload] = asyncio.Queue()
        unsubscribe = self.on_email(queue.put_nowait)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    def emit(self, payload: EmailPayload) -> None:
        # TODO(2): emitted after the inbound row is committed; a crash in between loses the
        # agent_email.received webhook (completions are re-enqueued on start; this is not).
        for handler in list(self._handlers):
            try:
                result = handler(payload)
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            except Exception:
                log.exception("agent email handler failed")
