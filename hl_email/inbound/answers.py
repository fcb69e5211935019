"""Applying one reading of a reply: a vote or an answer, a late answer, asking again, notes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.message import Message

from ..core.outcomes import InboundOutcome, Outcome
from ..core.records import iso
from ..core.resolve import person, verdict_text
from ..core.wording import first_option, join_comments, t
from ..models import ResponseOption
from ..policy import Tally, Vote, tally
from ..render import FollowupContext
from ..replies import Decision
from ..store import InboundRecord, OutboxRow, RecipientRow, RequestRow, RequestUpdate
from ..tokens import approval_code as code_for
from ..tokens import make_message_id, mint_reply_key
from .host import InboundHost, commit, unchanged
from .mail import clean_msgid, safe_header

__all__ = ["Answers"]

log = logging.getLogger("hl_email.gateway")


class Answers:
    """What a read reply does to its request: recorded, confirmed, asked again, or noted late."""

    def __init__(self, host: InboundHost) -> None:
        self.host = host

    async def late(
        self, request: RequestRow, responder: RecipientRow, msg: Message, record: InboundRecord
    ) -> InboundOutcome:
        """An answer after the request was decided: an in-thread note, and nothing changes."""
        record.outcome = Outcome.LATE
        record.detail = f"request already {request.state}"
        outbox: list[OutboxRow] = []
        earlier = [
            o
            for o in await self.host.store.outbox_for_request(request.id)
            if o.purpose == "already_decided" and o.recipient_seq == responder.seq
        ]
        # At most two such notes per person: a mail loop with a robot that does not mark its
        # mail as automatic ends here.
        if request.state in ("done", "failed") and len(earlier) < 2:
            outbox.append(
                self.followup(
                    request,
                    responder,
                    msg,
                    kind="already_decided",
                    message=t("already_decided", request, verdict=verdict_text(request)),
                    quoted=None,
                    options=[],
                    purpose="already_decided",
                )
            )
        ok = await commit(
            self.host.store,
            inbound=record,
            request=unchanged(request),
            recipients=[responder],
            outbox=[o for o in outbox if o is not None],
        )
        if ok:
            self.host.outbox.wake()
        return InboundOutcome(
            Outcome.LATE if ok else Outcome.DUPLICATE, record.detail, request.call_id
        )

    def approval_code(self, request: RequestRow, recipient: RecipientRow) -> str | None:
        """The approval code of this recipient's emails, when the route asks for codes."""
        if request.kind != "function_call":
            return None
        mode = request.route.get("approval") or self.host.config.replies.approval
        if mode != "code":
            return None
        return code_for(
            self.host.config.security.secret, request.id, recipient.seq, recipient.address
        )

    def followup(
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
            self.host.config.security.secret, request.id, recipient.seq, recipient.address
        )
        recipient.message_count += 1
        identity = self.host._identity(request)
        message_id = make_message_id(key, recipient.message_count, identity.domain)
        reply_id = clean_msgid(safe_header(reply, "Message-ID"))
        thread = list(recipient.thread)
        if reply_id and reply_id not in thread:
            thread.append(reply_id)
        ctx = FollowupContext(
            kind=kind,  # type: ignore[arg-type]
            call_id=request.call_id,
            agent_name=identity.name,
            agent_address=identity.address,
            reply_address=self.host._reply_address(key, identity.address),
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
            date=datetime.fromtimestamp(self.host.clock(), tz=UTC),
            approval_code=self.approval_code(request, recipient),
        )
        try:
            rendered = self.host.renderer.render_followup_raw(ctx)
        except Exception:
            # Never let a follow-up we cannot render cost the answer it follows up on.
            log.exception("cannot render the %s email for %s", kind, request.call_id)
            return None
        recipient.thread = [*thread, message_id]
        now = self.host.clock()
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

    async def ask_again(
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
        if request.clarifications >= self.host.config.replies.max_clarifications:
            record.outcome = Outcome.UNCLEAR
            record.detail = f"{why}; clarification limit reached, not asking again"
            ok = await commit(self.host.store, inbound=record)
            return InboundOutcome(
                Outcome.UNCLEAR if ok else Outcome.DUPLICATE, record.detail, request.call_id
            )
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
        row = self.followup(
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
        record.outcome = Outcome.UNCLEAR_ASKED_AGAIN
        record.detail = why
        ok = await commit(
            self.host.store,
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
            self.host.outbox.wake()
        return InboundOutcome(
            record.outcome if ok else Outcome.DUPLICATE, why, request.call_id, "unclear"
        )

    async def apply(
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
        now = self.host.clock()
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
            approved_by = {person(v.address) for v in votes if v.verdict == "approve"}
            missing = [
                r.address
                for r in recipients
                if r.field in ("to", "cc")
                and r.state not in ("failed", "handed_over")
                and person(r.address) not in approved_by
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
        if self.host.config.replies.send_confirmations:
            outbox.append(
                self.followup(
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
            verdict = verdict_text(decided)
            for other in recipients:
                if other.seq == responder.seq or other.state in ("failed", "answered"):
                    continue
                outbox.append(
                    self.note(
                        request,
                        other,
                        t("decided_note", request, verdict=verdict),
                    )
                )
                changed.append(other)
        record.outcome = Outcome.APPLIED if resolved else Outcome.VOTE_RECORDED
        record.detail = f"{decision.verdict}" + (
            f" option={decision.option}" if decision.option else ""
        )
        if not resolved:
            record.detail += f"; {result.reason}"
        ok = await commit(
            self.host.store,
            inbound=record,
            request=update,
            recipients=changed,
            outbox=[o for o in outbox if o is not None],
        )
        if not ok:
            return InboundOutcome(Outcome.DUPLICATE, "processed concurrently", request.call_id)
        self.host.outbox.wake()
        if resolved:
            self.host._notify(request.call_id, "done")
        return InboundOutcome(record.outcome, record.detail, request.call_id, decision.verdict)

    def note(
        self, request: RequestRow, recipient: RecipientRow, message: str, *, kind: str = "note"
    ) -> OutboxRow | None:
        """An in-thread message that needs no answer (no reply it provokes is an answer)."""
        return self.followup(
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
