"""Applying one reading of a reply: a vote or an answer, a late answer, asking again, notes."""

from __future__ import annotations

import logging

from ..core import resolve
from ..core.outcomes import InboundOutcome, Outcome
from ..models import ResponseOption
from ..outbound.compose import approval_code_for
from ..replies import Decision
from ..store import InboundRecord, OutboxRow, RecipientRow, RequestRow, RequestUpdate
from .host import InboundHost, commit
from .mail import clean_msgid
from .reading import InboundMail

__all__ = ["Answers"]

log = logging.getLogger("hl_email.gateway")


class Answers:
    """What a read reply does to its request: recorded, confirmed, asked again, or noted late."""

    def __init__(self, host: InboundHost) -> None:
        self.host = host

    def approval_code(self, request: RequestRow, recipient: RecipientRow) -> str | None:
        """The approval code of this recipient's emails, when the route asks for codes."""
        return approval_code_for(self.host.config, request, recipient)

    def followup(
        self,
        request: RequestRow,
        recipient: RecipientRow,
        reply: InboundMail | None,
        *,
        kind: str,
        message: str,
        quoted: str | None,
        options: list[ResponseOption],
        purpose: str,
    ) -> OutboxRow | None:
        """A follow-up in the recipient's thread, answering `reply` when given."""
        return self.host.composer.followup(
            request,
            recipient,
            reply_id=clean_msgid(reply.header("Message-ID") if reply is not None else None),
            kind=kind,
            message=message,
            quoted=quoted,
            options=options,
            purpose=purpose,
            now=self.host.clock(),
        )

    async def late(
        self, request: RequestRow, responder: RecipientRow, mail: InboundMail, record: InboundRecord
    ) -> InboundOutcome:
        """An answer after the request was decided: an in-thread note, and nothing changes."""
        earlier = [
            o
            for o in await self.host.store.outbox_for_request(request.id)
            if o.purpose == "already_decided" and o.recipient_seq == responder.seq
        ]
        effects = resolve.late_answer(request, responder.seq, len(earlier))
        ok = await self.commit_effects(effects, request, responder, [], mail, record)
        return InboundOutcome(
            effects.outcome if ok else Outcome.DUPLICATE, effects.detail, request.call_id
        )

    async def ask_again(
        self,
        request: RequestRow,
        recipient: RecipientRow,
        mail: InboundMail,
        record: InboundRecord,
        text: str,
        decision: Decision,
        options: list[ResponseOption],
        *,
        in_thread: bool = True,
    ) -> InboundOutcome:
        """An unclear answer: a clarification in the thread (up to max_clarifications)."""
        effects = resolve.ask_again(
            request,
            recipient.seq,
            decision,
            text,
            options,
            max_clarifications=self.host.config.replies.max_clarifications,
            in_thread=in_thread,
        )
        ok = await self.commit_effects(effects, request, recipient, [], mail, record)
        outcome = effects.outcome if ok else Outcome.DUPLICATE
        if effects.change is None:
            return InboundOutcome(outcome, effects.detail, request.call_id)
        return InboundOutcome(outcome, effects.detail, request.call_id, "unclear")

    async def apply(
        self,
        request: RequestRow,
        responder: RecipientRow,
        sender: str,
        recipients: list[RecipientRow],
        mail: InboundMail,
        record: InboundRecord,
        text: str,
        decision: Decision,
        options: list[ResponseOption],
    ) -> InboundOutcome:
        """Record one person's decisive answer; resolve the request when its policy is met."""
        effects = resolve.resolve_vote(
            request,
            sender,
            responder.seq,
            recipients,
            decision,
            options,
            text,
            self.host.clock(),
            send_confirmations=self.host.config.replies.send_confirmations,
        )
        if not await self.commit_effects(effects, request, responder, recipients, mail, record):
            return InboundOutcome(Outcome.DUPLICATE, "processed concurrently", request.call_id)
        if effects.notify:
            self.host._notify(request.call_id, effects.notify)
        return InboundOutcome(effects.outcome, effects.detail, request.call_id, decision.verdict)

    async def commit_effects(
        self,
        effects: resolve.Effects,
        request: RequestRow,
        responder: RecipientRow,
        recipients: list[RecipientRow],
        reply: InboundMail,
        record: InboundRecord,
    ) -> bool:
        """Store the inbound row with what the answer does, in one transaction: the request's
        change, the recipients' rows, the emails (rendered here) in the outbox."""
        record.outcome, record.detail = effects.outcome, effects.detail
        if effects.change is None:
            return bool(await commit(self.host.store, inbound=record))
        if effects.answered:
            responder.state = "answered"
        people = {r.seq: r for r in recipients}
        people[responder.seq] = responder
        changed = [responder]
        rows: list[OutboxRow | None] = []
        for email in effects.emails:
            recipient = people[email.recipient_seq]
            rows.append(
                self.followup(
                    request,
                    recipient,
                    reply if email.in_reply else None,
                    kind=email.kind,
                    message=email.message,
                    quoted=email.quoted,
                    options=list(email.options),
                    purpose=email.kind,
                )
            )
            if recipient not in changed:
                changed.append(recipient)
        ok = await commit(
            self.host.store,
            inbound=record,
            request=_update(request, effects.change),
            recipients=changed,
            outbox=[row for row in rows if row is not None],
        )
        if ok:
            self.host.outbox.wake()
        return bool(ok)

    # -- timers ---------------------------------------------------------------------------------


def _update(request: RequestRow, change: resolve.RequestChange) -> RequestUpdate:
    """The store's update for a change, landing only while the request is at the version read."""
    return RequestUpdate(
        request.id,
        status=change.status,
        state=change.state,
        resolved_at=change.resolved_at,
        clarifications=change.clarifications,
        expect_state=None if change.any_state else "pending",
        expect_version=request.version,
    )
