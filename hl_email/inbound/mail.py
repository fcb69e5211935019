"""One inbound message as stored: its de-duplication key, safe headers, audit copy and parse."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import re
from email.message import Message

__all__ = [
    "RAW_KEEP_BYTES",
    "audit_copy",
    "clean_msgid",
    "dedupe_key",
    "parse_message",
    "raw_header",
    "safe_header",
]

# Raw inbound mail is kept for audit up to this size; larger messages keep their headers only.
RAW_KEEP_BYTES = 2_000_000


def dedupe_key(msg: Message | None, raw: bytes) -> tuple[str, str | None]:
    message_id = None
    if msg is not None:
        try:
            value = msg.get("Message-ID")
            message_id = str(value).strip() if value else None
        except Exception:
            message_id = None
    if message_id:
        return "mid:" + message_id.lower(), message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest(), None


def safe_header(msg: Message | None, name: str) -> str | None:
    if msg is None:
        return None
    try:
        value = msg.get(name)
    except Exception:
        return None
    return str(value)[:500] if value is not None else None


_CLEAN_MSGID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>")


def clean_msgid(value: str | None) -> str | None:
    """A Message-ID fit to quote in our own headers, or None: a hostile one must not make our
    confirmation unrenderable (and so lose the answer it confirms)."""
    if not value:
        return None
    value = value.strip()
    return value if _CLEAN_MSGID.fullmatch(value) else None


def audit_copy(raw: bytes) -> bytes:
    """The raw message kept for audit: all of it, or the headers of a very large one."""
    if len(raw) <= RAW_KEEP_BYTES:
        return raw
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(separator, 0, 1_000_000)
        if end >= 0:
            return raw[: end + len(separator)]
    return raw[:65536]


def raw_header(raw: bytes, name: bytes) -> str | None:
    """The first 200 bytes of a header, undecoded, for the audit row of an unparsed message."""
    match = re.search(rb"^" + name + rb":[ \t]*([^\r\n]{0,200})", raw[:65536], re.I | re.M)
    return match.group(1).decode("latin-1") if match else None


# Above this size the stdlib parser (pure Python, ~0.15 s per MB of short lines) runs in a
# worker thread, so the event loop (API, IDLE, timers) keeps running meanwhile.
_PARSE_IN_THREAD_BYTES = 256 * 1024


async def parse_message(raw: bytes) -> Message:
    if len(raw) <= _PARSE_IN_THREAD_BYTES:
        return email.message_from_bytes(raw, policy=email.policy.default)
    return await asyncio.to_thread(email.message_from_bytes, raw, policy=email.policy.default)
