"""Every outcome the inbound path can store for a message, and the refusals that end in one.

The table in docs/outcomes.md lists exactly these (a unit test keeps the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

__all__ = [
    "AlreadyAnswered",
    "BadKey",
    "DmarcFailed",
    "InboundOutcome",
    "Malformed",
    "NotHumanAnswer",
    "Outcome",
    "Refusal",
    "Retry",
    "SenderInvalid",
    "SenderMismatch",
    "UnknownKey",
    "not_human_answer",
]


class Outcome(StrEnum):
    """The stored outcome of one inbound message (the strings are what the store and the API
    show, so they never change)."""

    # the answer counted
    APPLIED = "applied"
    VOTE_RECORDED = "vote_recorded"
    # the answer did not decide
    UNCLEAR_ASKED_AGAIN = "unclear_asked_again"
    UNCLEAR = "unclear"
    LATE = "late"
    ALREADY_ANSWERED = "already_answered"
    # not a human answer
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    BOUNCE_UNVERIFIED = "bounce_unverified"
    FEEDBACK_REPORT = "feedback_report"
    LIST = "list"
    SPAM = "spam"
    # mail to the agent that answers no request
    AGENT_EMAIL = "agent_email"
    AGENT_EMAIL_REFUSED = "agent_email_refused"
    UNMATCHED = "unmatched"
    # refused: not ours, or not from someone who may answer
    UNKNOWN_KEY = "unknown_key"
    BAD_KEY = "bad_key"
    SENDER_INVALID = "sender_invalid"
    SENDER_MISMATCH = "sender_mismatch"
    DMARC_FAILED = "dmarc_failed"
    # refused before reading
    TOO_LARGE = "too_large"
    MALFORMED = "malformed"
    # returned, not stored again: the message was already recorded
    DUPLICATE = "duplicate"
    # a bug or a store that is down, recorded so nothing is lost
    ERROR = "error"


@dataclass(frozen=True)
class InboundOutcome:
    """What happened to one inbound message; stored for audit, never a silent drop."""

    outcome: str
    detail: str = ""
    call_id: str | None = None
    verdict: str | None = None


class Retry(Exception):
    """The request changed under us (another writer); process the message again."""


class Refusal(Exception):
    """A message the receiver records and does nothing else with; `outcome` is what is stored,
    `detail` says why, for the person reading the audit log."""

    outcome: ClassVar[Outcome]

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Malformed(Refusal):
    """The message cannot be parsed at all."""

    outcome = Outcome.MALFORMED


class NotHumanAnswer(Refusal):
    """Automatic mail (auto-reply, list, spam, feedback report) that answers nothing."""

    outcome = Outcome.AUTO_REPLY


class _ListMail(NotHumanAnswer):
    outcome = Outcome.LIST


class _Spam(NotHumanAnswer):
    outcome = Outcome.SPAM


class _FeedbackReport(NotHumanAnswer):
    outcome = Outcome.FEEDBACK_REPORT


_NOT_HUMAN: dict[str, type[NotHumanAnswer]] = {
    Outcome.AUTO_REPLY: NotHumanAnswer,
    Outcome.LIST: _ListMail,
    Outcome.SPAM: _Spam,
    Outcome.FEEDBACK_REPORT: _FeedbackReport,
}


def not_human_answer(kind: str) -> NotHumanAnswer:
    """The refusal of a message the classifier called `kind` (not "human", not "bounce")."""
    return _NOT_HUMAN[kind](f"not a human answer ({kind}); ignored")


class UnknownKey(Refusal):
    """The reply key names no request we hold."""

    outcome = Outcome.UNKNOWN_KEY


class BadKey(Refusal):
    """The reply key names a request, but its signature is not ours."""

    outcome = Outcome.BAD_KEY


class SenderInvalid(Refusal):
    """No single, valid From address to bind the answer to."""

    outcome = Outcome.SENDER_INVALID


class SenderMismatch(Refusal):
    """The sender is neither the key's recipient nor someone the route lets answer."""

    outcome = Outcome.SENDER_MISMATCH


class DmarcFailed(Refusal):
    """[security] trusted_authserv_id is set and the sender's domain did not pass DMARC."""

    outcome = Outcome.DMARC_FAILED


class AlreadyAnswered(Refusal):
    """This person has answered the request already (one vote per person)."""

    outcome = Outcome.ALREADY_ANSWERED
