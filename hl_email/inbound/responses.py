"""Reading aioimaplib responses: pure functions over the lines of one command's answer."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ImapError

__all__ = [
    "check_ok",
    "line_text",
    "parse_fetch_items",
    "parse_fetch_literal",
    "parse_search_uids",
    "parse_sizes",
    "parse_uidvalidity",
    "uid_set",
]


def line_text(line: Any) -> str:
    if isinstance(line, (bytes, bytearray)):
        return bytes(line).decode("utf-8", "replace")
    return str(line)


def parse_uidvalidity(lines: list[Any]) -> int | None:
    for line in lines:
        match = re.search(r"\[UIDVALIDITY (\d+)\]", line_text(line))
        if match:
            return int(match.group(1))
    return None


def parse_search_uids(lines: list[Any]) -> list[int]:
    uids: list[int] = []
    for line in lines:
        text = line_text(line).strip()
        if text.upper().startswith("SEARCH"):
            text = text[6:]
        elif not re.fullmatch(r"[\d\s]*", text):
            continue
        uids.extend(int(tok) for tok in text.split() if tok.isdigit())
    return sorted(set(uids))


def parse_fetch_literal(lines: list[Any]) -> bytes | None:
    """The message bytes of a single-message `UID FETCH … (BODY.PEEK[])` response."""
    for line in lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None


def check_ok(response: Any, what: str) -> Any:
    if response.result != "OK":
        detail = " ".join(line_text(line) for line in response.lines)[:300]
        raise ImapError(f"IMAP {what} failed: {response.result} {detail}")
    return response


_FETCH_START = re.compile(rb"^\d+ FETCH \(", re.I)
_LITERAL_END = re.compile(rb"\{\d+\}\s*$")
_UID = re.compile(rb"\bUID (\d+)", re.I)
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.I)


def uid_set(uids: list[int]) -> str:
    """ "3:5,9" for [3, 4, 5, 9]."""
    ranges: list[str] = []
    ordered = sorted(set(uids))
    start = prev = ordered[0]
    for uid in ordered[1:] + [None]:  # type: ignore[list-item]
        if uid is not None and uid == prev + 1:
            prev = uid
            continue
        ranges.append(str(start) if start == prev else f"{start}:{prev}")
        if uid is not None:
            start = prev = uid
    return ",".join(ranges)


def parse_fetch_items(lines: list[Any]) -> dict[int, tuple[int | None, bytes]]:
    """{uid: (RFC822.SIZE or None, the literal)} of a multi-message FETCH response (one
    literal per message; untagged FETCH lines without one, e.g. flag updates, are skipped)."""
    found: dict[int, tuple[int | None, bytes]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if isinstance(line, bytes) and _FETCH_START.match(line) and _LITERAL_END.search(line):
            literal = lines[i + 1] if i + 1 < len(lines) else None
            tail = lines[i + 2] if i + 2 < len(lines) and isinstance(lines[i + 2], bytes) else b""
            meta = line + b" " + tail
            uid = _UID.search(meta)
            if isinstance(literal, bytearray) and uid:
                size = _SIZE.search(meta)
                found[int(uid.group(1))] = (int(size.group(1)) if size else None, bytes(literal))
                i += 2
                continue
        i += 1
    return found


def parse_sizes(lines: list[Any]) -> dict[int, int]:
    """{uid: RFC822.SIZE} of a `UID FETCH … (UID RFC822.SIZE)` response."""
    sizes: dict[int, int] = {}
    for line in lines:
        if isinstance(line, bytes) and _FETCH_START.match(line):
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes
