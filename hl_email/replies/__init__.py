"""Reply understanding: new-text extraction, message classification and decisions (pure).

Nothing in this package does I/O, reads a clock or mutates global state; malformed input
produces a safe value instead of an exception.
"""

from __future__ import annotations

import email.message

from .classify import MessageKind, bounce_original_message_ids, classify_message
from .decide import SUPPORTED_LANGUAGES, Decision, decide
from .extract import REPLY_MARKER, extract_reply, strip_signoff
from .html import html_to_text
from .mime import as_message, decision_bodies, parse_message, reply_body

__all__ = [
    "REPLY_MARKER",
    "SUPPORTED_LANGUAGES",
    "Decision",
    "MessageKind",
    "bounce_original_message_ids",
    "classify_message",
    "decide",
    "extract_reply",
    "extract_reply_from_html",
    "extract_reply_from_message",
    "decision_readings",
    "parse_message",
    "strip_signoff",
]


def extract_reply_from_html(
    html: str,
    *,
    strip_signatures: bool = True,
    for_decision: bool = False,
    strip_signoff: bool = False,
) -> str:
    """New text of an HTML reply body: client quote containers removed, then trimmed.

    A ``<blockquote>`` the person wrote on purpose is kept as text. ``for_decision``: the
    text a decision reads: every blockquote and quote removed, signatures (also the blocks
    clients mark, like Gmail's gmail_signature) kept. ``strip_signoff`` drops a
    hand-written closing ("Thanks,\nLena") at the end.
    """
    try:
        text = html_to_text(
            html,
            strip_signatures=strip_signatures and not for_decision,
            blockquotes="drop" if for_decision else "auto",
        )
    except Exception:  # selectolax is lenient; a parser failure must not kill the watcher
        return ""
    return extract_reply(
        text,
        strip_signatures=strip_signatures,
        for_decision=for_decision,
        strip_signoff=strip_signoff,
    )


def extract_reply_from_message(
    msg: bytes | str | email.message.Message,
    *,
    strip_signatures: bool = True,
    for_decision: bool = False,
    strip_signoff: bool = False,
) -> str:
    """New text of a reply message: its first inline text/plain part, else its HTML part.

    Attached messages and parts with a file name are not read. Returns "" when the message
    has no readable body. ``for_decision`` and ``strip_signoff`` as for
    :func:`extract_reply_from_html`.
    """
    try:
        parsed = as_message(msg)
        if parsed is None:
            return ""
        kind, body = reply_body(parsed)
    except Exception:
        return ""
    options = {
        "strip_signatures": strip_signatures,
        "for_decision": for_decision,
        "strip_signoff": strip_signoff,
    }
    if kind == "html":
        return extract_reply_from_html(body, **options)
    return extract_reply(body, **options)


def decision_readings(msg: bytes | str | email.message.Message) -> list[str]:
    """The new text of every part of a reply that a reader may see (all inline text/plain parts
    joined, and the HTML part), read as for a decision. An approval must hold in each: a plain
    part saying "Approve" beside an HTML part (or a second plain part) saying "no" is not one."""
    try:
        parsed = as_message(msg)
        if parsed is None:
            return []
        bodies = decision_bodies(parsed)
    except Exception:
        return []
    readings = []
    for kind, body in bodies:
        if kind == "html":
            readings.append(extract_reply_from_html(body, for_decision=True))
        else:
            readings.append(extract_reply(body, for_decision=True))
    return readings
