"""Matching a reply to a request: the reply keys its headers refer to (pure)."""

from __future__ import annotations

from email.message import Message

from ..tokens import ReplyKey, find_reply_keys
from .parse import header_strings

__all__ = ["candidate_keys"]


def candidate_keys(msg: Message) -> list[ReplyKey]:
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
