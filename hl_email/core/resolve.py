"""Pure resolution of an answer: a vote, a late answer or asking again → Effects (no I/O).

The inbound path reads the request, calls one of these with values (the time included), and
commits what comes back: the request's change, the emails to send, whom to wake.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .outcomes import Outcome
from .policy import Tally, Vote, tally
from .records import iso
from .wording import first_option, join_comments, t

if TYPE_CHECKING:
    from ..models import ResponseOption
    from ..replies import Decision
    from ..store import RecipientRow, RequestRow

__all__ = [
    "Effects",
    "Email",
    "RequestChange",
    "ask_again",
    "late_answer",
    "person",
    "resolve_vote",
    "verdict_text",
]

# At most this many "already decided" notes per person: a mail loop with a robot that does not
# mark its mail as automatic ends here.
LATE_NOTES_PER_PERSON = 2


@dataclass(frozen=True)
class RequestChange:
    """What changes on the request; committed only while it is at the version read."""

    status: dict[str, Any] | None = None
    state: str | None = None
    resolved_at: float | None = None
    clarifications: int | None = None
    # True: in any state (effects on its recipients only); False: only while still pending.
    any_state: bool = False


@dataclass(frozen=True)
class Email:
    """An in-thread email to one recipient (by seq); `kind` is the template and the purpose."""

    recipient_seq: int
    kind: str
    message: str
    quoted: str | None = None
    options: tuple[ResponseOption, ...] = ()
    # threaded onto the reply being answered (False: onto our own thread only)
    in_reply: bool = True


@dataclass(frozen=True)
class Effects:
    """What one answer does: the stored outcome, the request's change, emails, whom to wake."""

    outcome: Outcome
    detail: str
    change: RequestChange | None = None  # None: only the inbound row is stored
    emails: tuple[Email, ...] = ()
    answered: bool = False  # the responder's row becomes "answered"
    notify: str | None = None  # the state waiters are woken with


def person(address: str) -> str:
    """One person, however they sub-address: alice+x@corp and alice@corp vote once."""
    local, at, domain = address.lower().rpartition("@")
    if not at:
        return address.lower()
    return f"{local.split('+', 1)[0]}@{domain}"


def verdict_text(request: RequestRow) -> str:
    """How a decided request ended, for the note to someone who answers it late."""
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


def late_answer(request: RequestRow, responder_seq: int, notes_sent: int) -> Effects:
    """An answer after the request was decided: an in-thread note, and nothing changes."""
    emails: tuple[Email, ...] = ()
    if request.state in ("done", "failed") and notes_sent < LATE_NOTES_PER_PERSON:
        message = t("already_decided", request, verdict=verdict_text(request))
        emails = (Email(responder_seq, "already_decided", message),)
    return Effects(
        Outcome.LATE,
        f"request already {request.state}",
        change=RequestChange(any_state=True),
        emails=emails,
    )


def ask_again(
    request: RequestRow,
    responder_seq: int,
    decision: Decision,
    text: str,
    options: Sequence[ResponseOption],
    *,
    max_clarifications: int,
    in_thread: bool = True,
) -> Effects:
    """An unclear answer: ask once more in the thread, saying what was unclear, up to a limit."""
    why = decision.reason or "the reply has no clear decision"
    if request.clarifications >= max_clarifications:
        return Effects(Outcome.UNCLEAR, f"{why}; clarification limit reached, not asking again")
    approval = request.kind == "function_call"
    message = t("clarify_approval" if approval else "clarify_question", request)
    if decision.reason:
        # Say what was unclear, so the person can fix exactly that.
        reason = decision.reason.strip()
        if reason[-1:] not in ".!?":
            reason += "."
        message += "\n\n" + t("clarify_reason", request, reason=reason)
    # an email from another thread is answered in ours, never threaded onto it
    email = Email(responder_seq, "clarify", message, text or None, tuple(options), in_thread)
    return Effects(
        Outcome.UNCLEAR_ASKED_AGAIN,
        why,
        change=RequestChange(clarifications=request.clarifications + 1),
        emails=(email,),
    )


def resolve_vote(
    request: RequestRow,
    sender: str,
    responder_seq: int,
    recipients: Sequence[RecipientRow],
    decision: Decision,
    options: Sequence[ResponseOption],
    text: str,
    now: float,
    *,
    send_confirmations: bool,
) -> Effects:
    """Record one person's decisive answer; resolve the request when its policy is met."""
    option = next((o for o in options if o.name == decision.option), None)
    comment = _vote_comment(request, decision, option)
    status = dict(request.status)
    vote = {
        "address": sender,
        "verdict": decision.verdict,
        "comment": comment,
        "option": decision.option,
        "at": iso(now),
    }
    status["responders"] = [*(status.get("responders") or []), vote]
    votes = [
        Vote(v["address"], "reject" if v["verdict"] == "reject" else "approve")
        for v in status["responders"]
    ]
    result = _count(request, recipients, votes)
    resolved = result.outcome in ("approve", "reject")
    detail = f"{decision.verdict}" + (f" option={decision.option}" if decision.option else "")
    if resolved:
        approved = result.outcome == "approve"
        status["responded_at"] = iso(now)
        status = _decided_status(request, status, sender, votes, decision, option, text)
        if request.kind == "function_call":
            _record_verdict(status, approved, votes, comment)
            confirm = t("confirm_approved" if approved else "confirm_rejected", request)
        else:
            confirm = t("confirm_answered", request)
        change = RequestChange(status=status, state="done", resolved_at=now)
    else:
        detail += f"; {result.reason}"
        change = RequestChange(status=status)
        confirm = t(
            "vote_recorded" if decision.verdict == "approve" else "vote_recorded_answer",
            request,
            reason=result.reason,
            needed=result.needed,
        )
    emails = [Email(responder_seq, "confirm", confirm, text or None)] if send_confirmations else []
    if resolved:
        decided = dataclasses.replace(request, status=status, state="done")
        note = t("decided_note", request, verdict=verdict_text(decided))
        emails += [
            Email(other.seq, "note", note, in_reply=False)
            for other in recipients
            if other.seq != responder_seq and other.state not in ("failed", "answered")
        ]
    return Effects(
        Outcome.APPLIED if resolved else Outcome.VOTE_RECORDED,
        detail,
        change=change,
        emails=tuple(emails),
        answered=True,
        notify="done" if resolved else None,
    )


def _vote_comment(
    request: RequestRow, decision: Decision, option: ResponseOption | None
) -> str | None:
    comment = decision.comment
    if request.kind == "function_call" and decision.verdict == "reject" and not comment:
        # HumanLayer's SDK requires a comment on a rejection.
        comment = (
            (option.title or option.description or option.name)
            if option
            else "rejected by email without a reason"
        )
    return comment


def _count(request: RequestRow, recipients: Sequence[RecipientRow], votes: list[Vote]) -> Tally:
    """The route's policy over the votes so far (a question: the first answer decides)."""
    reachable = sum(1 for r in recipients if r.state not in ("failed", "handed_over"))
    route = request.route
    policy = route.get("policy", "any") if request.kind == "function_call" else "any"
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
    return result


def _decided_status(
    request: RequestRow,
    status: dict[str, Any],
    sender: str,
    votes: list[Vote],
    decision: Decision,
    option: ResponseOption | None,
    text: str,
) -> dict[str, Any]:
    """The request's status once decided: who answered, and (a question) the answer."""
    status["user_info"] = {"email": sender, "responders": [v.address for v in votes]}
    if request.kind == "function_call":
        return status
    response = decision.comment or text
    if option is not None:
        chosen = option.prompt_fill or option.title or option.name
        response = (
            chosen
            if not decision.comment or decision.comment == chosen
            else f"{chosen}\n\n{decision.comment}"
        )
    status.update(response=response, response_option_name=decision.option)
    return status


def _record_verdict(
    status: dict[str, Any], approved: bool, votes: list[Vote], comment: str | None
) -> None:
    """An approval's verdict, with the comments of those who gave it."""
    if approved:
        final_comment = comment if len(votes) == 1 else join_comments(status, "approve")
    else:
        final_comment = join_comments(status, "reject") or comment
    status.update(
        approved=approved,
        comment=final_comment,
        reject_option_name=None if approved else first_option(status),
    )
