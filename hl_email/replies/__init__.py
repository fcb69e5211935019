"""Reply understanding: new-text extraction, message classification and decisions (pure).

Nothing in this package does I/O, reads a clock or mutates global state; malformed input
produces a safe value instead of an exception.
"""

from __future__ import annotations

import email.message

from .classify import MessageKind, bounce_original_message_ids, classify_message
from .decide import SUPPORTED_LANGUAGES, Decision, decide
from .extract import REPLY_MARKER, extract_reply
from .html import html_to_text
from .mime import as_message, parse_message, reply_body

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
    "parse_message",
]


def extract_reply_from_html(html: str, *, strip_signatures: bool = True) -> str:
    """New text of an HTML reply body: client quote containers removed, then trimmed."""
    try:
        text = html_to_text(html)
    except Exception:  # selectolax is lenient; a parser failure must not kill the watcher
        return ""
    return extract_reply(text, strip_signatures=strip_signatures)


def extract_reply_from_message(
    msg: bytes | str | email.message.Message, *, strip_signatures: bool = True
) -> str:
    """New text of a reply message: its first inline text/plain part, else its HTML part.

    Attached messages are not entered. Returns "" when the message has no readable body.
    """
    try:
        parsed = as_message(msg)
        if parsed is None:
            return ""
        kind, body = reply_body(parsed)
    except Exception:
        return ""
    if kind == "html":
        return extract_reply_from_html(body, strip_signatures=strip_signatures)
    return extract_reply(body, strip_signatures=strip_signatures)
