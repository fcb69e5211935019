"""From a reading to a verdict: the classifier hook that cannot approve, every part must
agree with an approval, and the comment the agent is handed."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from ..models import ResponseOption
from ..replies import Decision, decide, strip_signoff
from ..replies.html import html_to_text
from ..replies.match import REF_LINE
from ..replies.parse import as_message, decision_bodies
from ..replies.quote_edits import edits_in_our_quote

__all__ = ["NOT_OUR_THREAD", "comment_from_answer", "every_reading_approves", "never_approves"]

log = logging.getLogger("hl_email.gateway")

NOT_OUR_THREAD = (
    "Your email does not answer ours: its subject does not continue our request and it "
    "carries nothing of our email (no quote, no reference line, no approval code), so it was "
    "not counted. Please answer this email instead."
)


def never_approves(
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


def comment_from_answer(
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


_PARTS_DISAGREE = (
    "The parts of your email say different things (its text and its formatted version, or the "
    "text around an image), so I did not take it as an approval."
)


def every_reading_approves(
    decision: Decision,
    readings: list[str],
    text: str,
    options: list[ResponseOption],
    read_as: dict[str, Any],
) -> Decision:
    """An approval holds only if every part a reader may see approves as well: a plain part
    saying "Approve" must not hide an HTML part or a second text part that says "no"."""
    seen = {" ".join(text.split())}
    for reading in readings:
        reading = REF_LINE.sub("", reading).strip()
        key = " ".join(reading.split())
        if not key or key in seen:
            continue
        seen.add(key)
        if decide(reading, kind="approval", options=options, **read_as).verdict != "approve":
            return Decision("unclear", reason=_PARTS_DISAGREE)
    return decision


OUR_EMAILS_COMPARED = 5  # the newest emails of ours a quote is compared with


def sent_texts(message: bytes) -> list[str]:
    """The plain-text part and the HTML part as text of an email we sent ([] if unreadable)."""
    try:
        msg = as_message(message)
        bodies = decision_bodies(msg) if msg is not None else []
        return [html_to_text(body) if kind == "html" else body for kind, body in bodies]
    except Exception:  # our own bytes: never expected, never fatal
        log.warning("could not read a sent email to compare a quote with", exc_info=True)
        return []


def edited_quote(decision: Decision, body: str, ours: list[str]) -> Decision:
    """An approval holds only if nothing was changed inside the quote of our email (an
    amount edited, a "not" put into one of our lines: Outlook quotes without ``>``)."""
    if decision.verdict != "approve":
        return decision
    edit = edits_in_our_quote(body, ours)
    if edit is None:
        return decision
    return Decision(
        "unclear",
        reason=(
            f"I found a change inside the quoted email: '{edit}'. Only the text above the "
            "first line of the email is read, so I did not take your reply as an approval. "
            "Write what you want above that line, or reply APPROVE alone to approve as asked."
        ),
    )
