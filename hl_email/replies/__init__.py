"""Reply understanding: new-text extraction, message classification and decisions (pure).

Nothing in this package does I/O, reads a clock or mutates global state; malformed input
produces a safe value instead of an exception.
"""

from __future__ import annotations

from .classify import MessageKind, bounce_original_message_ids, classify_message
from .decide import SUPPORTED_LANGUAGES, Decision, decide
from .extract import (
    REPLY_MARKER,
    decision_readings,
    extract_reply,
    extract_reply_from_html,
    extract_reply_from_message,
    strip_signoff,
)
from .parse import parse_message

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
