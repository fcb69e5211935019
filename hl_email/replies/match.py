"""Matching a reply to a request: the reply keys its headers refer to (pure)."""

from __future__ import annotations

import re
from email.message import EmailMessage

from ..core.tokens import ReplyKey, find_reply_keys
from .parse import HeaderSource, header_strings

__all__ = ["REF_LINE", "body_ref_keys", "candidate_keys"]

# The `Ref: hl1-…` line our mailto buttons write into the body; removed from the new text.
REF_LINE = re.compile(r"^[ \t>]*Ref:\s*hl1-[a-z0-9]+-[0-9]+-[a-z2-7]{20}[ \t]*$", re.I | re.M)
_REF_KEY = re.compile(r"Ref:\s*(hl1-[a-z0-9]+-[0-9]+-[a-z2-7]{20})", re.I)


def candidate_keys(msg: HeaderSource) -> list[ReplyKey]:
    """Reply keys this message refers to, most specific first.

    In-Reply-To names the message being answered; References is searched newest-first; the
    plus-address in To/Cc/Delivered-To covers clients that drop threading headers (mailto links).
    """
    keys: list[ReplyKey] = []

    def add(found: list[ReplyKey]) -> None:
        for key in found:
            if key not in keys:
                keys.append(key)

    add(find_reply_keys(*header_strings(msg, "In-Reply-To")))
    for value in header_strings(msg, "References"):
        add(list(reversed(find_reply_keys(value))))
    for name in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"):
        add(find_reply_keys(*header_strings(msg, name)))
    return keys


def body_ref_keys(msg: EmailMessage) -> list[ReplyKey]:
    """Keys from a `Ref: hl1-…` line: our mailto buttons put it in the body, because a reply
    started from a mailto link carries no In-Reply-To. ``msg`` as ``policy.default`` parses
    it (``InboundMessage.default_message()``)."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        content = part.get_content() if part is not None else ""
    except Exception:
        return []
    if not isinstance(content, str):
        return []
    found: list[ReplyKey] = []
    for match in _REF_KEY.finditer(content[:200_000]):
        found.extend(k for k in find_reply_keys(match.group(1)) if k not in found)
    return found
