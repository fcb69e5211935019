"""Limits on inbound mail checked on the raw bytes, before any parsing.

Unauthenticated mail reaches the parser, so what the parser would cost is bounded first: the
stdlib's header parser is superlinear in one header's length (a 1 MB Subject of encoded words
took 23 GB), every MIME part is parsed and walked, and every key-shaped Message-ID in References
costs a store lookup. A message over a limit gets a stored outcome (`too_large` or
`malformed`), its checkpoint moves on, and the watcher goes on. Pure: bytes in, a verdict out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["InboundLimits", "LimitRefusal", "check_inbound"]


@dataclass(frozen=True)
class InboundLimits:
    # Defaults (the `[inbound]` keys): generous for real mail, tight enough that parsing one
    # message stays well under a second (figures in tests/unit/test_trust_limits.py).
    max_message_bytes: int = 25 * 1024 * 1024
    max_header_bytes: int = 32 * 1024
    max_parts: int = 200
    max_depth: int = 20
    max_references: int = 100


@dataclass(frozen=True)
class LimitRefusal:
    """Why a message is not parsed: `outcome` is "too_large" or "malformed"."""

    outcome: str
    detail: str


_HEADER_END = re.compile(rb"\r?\n\r?\n")
_REFERENCES = re.compile(rb"^(?:references|in-reply-to):((?:[^\n]*\n[ \t])*[^\n]*)", re.I | re.M)
_MSGID_OPEN = re.compile(rb"<")
_KEY_SHAPED = re.compile(rb"hl1-", re.I)
# A multipart Content-Type header (possibly folded) and the boundary it declares.
# Matched on the lowercased bytes with a leading "\n", so the regex starts with a literal and
# runs at memchr speed (a `^` with re.M and re.I took ~0.6 s on 24 MB).
_MULTIPART = re.compile(rb"\ncontent-type:[ \t]*multipart/(?:[^\n]*\n[ \t])*[^\n]*")
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.I)


def check_inbound(raw: bytes, limits: InboundLimits) -> LimitRefusal | None:
    """None when `raw` is within `limits`; else the refusal. Linear in len(raw), regexes only."""
    size = len(raw)
    if size > limits.max_message_bytes:
        return LimitRefusal(
            "too_large",
            f"message is {size} bytes; [inbound] max_message_bytes is {limits.max_message_bytes}",
        )
    end = _HEADER_END.search(raw, 0, limits.max_header_bytes + 4)
    header_size = end.start() if end else size
    if header_size > limits.max_header_bytes:
        return LimitRefusal(
            "too_large",
            f"header section is over {limits.max_header_bytes} bytes ([inbound] max_header_bytes)",
        )
    head = raw[:header_size]
    references = sum(
        len(_MSGID_OPEN.findall(match.group(1))) for match in _REFERENCES.finditer(head)
    )
    if references > limits.max_references:
        return LimitRefusal(
            "malformed",
            f"References/In-Reply-To name {references} message ids; "
            f"[inbound] max_references is {limits.max_references}",
        )
    keys = len(_KEY_SHAPED.findall(head))
    # Each key-shaped token in To/Cc/References is a store lookup: bounded the same way.
    if keys > limits.max_references + 10:
        return LimitRefusal(
            "malformed",
            f"headers name {keys} reply-key-shaped tokens; "
            f"[inbound] max_references is {limits.max_references}",
        )
    return _check_structure(raw, limits)


def _check_structure(raw: bytes, limits: InboundLimits) -> LimitRefusal | None:
    """Parts and nesting, from boundary declarations and delimiter lines, in order."""
    # (position, 0 declare | 1 delimiter | 2 closing delimiter, boundary)
    events: list[tuple[int, int, bytes]] = []
    if b"multipart/" not in raw and b"MULTIPART/" not in raw.upper():
        return None
    lowered = b"\n" + raw.lower()
    for match in _MULTIPART.finditer(lowered):
        # The boundary is case-sensitive: read it from the original bytes at the same place.
        original = raw[max(0, match.start() - 1) : match.end() - 1]
        found = _BOUNDARY.search(original)
        if found:
            events.append((match.start(), 0, found.group(1) or found.group(2)))
    if not events:
        return None
    if len(events) > limits.max_parts:  # every multipart is a part of its own
        return LimitRefusal(
            "too_large",
            f"message has more than {limits.max_parts} MIME parts ([inbound] max_parts)",
        )
    declared = {boundary for _, _, boundary in events}
    # Only lines that delimit a declared boundary, so a body of "--" lines costs nothing.
    alternatives = b"|".join(re.escape(b) for b in sorted(declared, key=len, reverse=True))
    delimiter = re.compile(rb"\n--(" + alternatives + rb")(--)?[ \t]*\r?(?=\n|\Z)")
    cap = limits.max_parts + 2 * len(declared) + 1
    for count, match in enumerate(delimiter.finditer(raw)):
        if count >= cap:
            return LimitRefusal(
                "too_large",
                f"message has more than {limits.max_parts} MIME parts ([inbound] max_parts)",
            )
        events.append((match.start(), 2 if match.group(2) else 1, match.group(1)))
    events.sort(key=lambda e: e[0])
    stack: list[bytes] = []
    parts = depth = 0
    for _, kind, value in events:
        if kind == 0:
            stack.append(value)
            depth = max(depth, len(stack))
            if depth > limits.max_depth:
                return LimitRefusal(
                    "malformed",
                    f"MIME parts nest more than {limits.max_depth} deep ([inbound] max_depth)",
                )
            continue
        if value not in stack:
            continue
        while stack and stack[-1] != value:
            stack.pop()  # an inner multipart that was never closed
        if kind == 2:
            stack.pop()
            continue
        parts += 1
        if parts > limits.max_parts:
            return LimitRefusal(
                "too_large",
                f"message has more than {limits.max_parts} MIME parts ([inbound] max_parts)",
            )
    return None
