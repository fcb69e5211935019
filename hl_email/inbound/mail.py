"""One inbound message as stored: its audit copy, raw headers of an unparsed one, quotable ids."""

from __future__ import annotations

import re

__all__ = ["RAW_KEEP_BYTES", "audit_copy", "clean_msgid", "raw_header"]

# Raw inbound mail is kept for audit up to this size; larger messages keep their headers only.
RAW_KEEP_BYTES = 2_000_000


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
