"""Tolerant MIME access for reply handling: parse, walk, decode, pick the reply body.

Nothing here raises on malformed input: broken parts decode with replacement characters,
unknown charsets fall back to UTF-8, and an unusable message yields empty text.
"""

from __future__ import annotations

import email
import email.header
import email.message
import email.policy
from collections.abc import Iterator

__all__ = ["as_message", "iter_parts", "part_text", "reply_body", "header"]

# A reply body larger than this is cut before extraction: no human types 4 MB of new text.
_MAX_BODY_CHARS = 4_000_000
_MAX_PARTS = 200


def as_message(msg: bytes | str | email.message.Message) -> email.message.Message | None:
    """Parse raw bytes (or pass a Message through); None when it is not a message at all."""
    if isinstance(msg, email.message.Message):
        return msg
    try:
        if isinstance(msg, bytes | bytearray | memoryview):
            return email.message_from_bytes(bytes(msg), policy=email.policy.compat32)
        if isinstance(msg, str):
            return email.message_from_string(msg, policy=email.policy.compat32)
    except Exception:  # the stdlib parser is lenient; this is the last line of defence
        return None
    return None


def header_text(value: object) -> str:
    """A raw header value as text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8."""
    if isinstance(value, email.header.Header):
        # compat32 wraps raw 8-bit header bytes in a Header with the unknown-8bit charset
        chunks = []
        for chunk, charset in email.header.decode_header(value):
            if isinstance(chunk, bytes):
                codec = charset if charset and charset != "unknown-8bit" else "utf-8"
                try:
                    chunks.append(chunk.decode(codec, "replace"))
                except LookupError:
                    chunks.append(chunk.decode("utf-8", "replace"))
            else:
                chunks.append(chunk)
        return " ".join("".join(chunks).split())
    text = str(value)
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        pass
    if "=?" in text:
        try:
            text = str(email.header.make_header(email.header.decode_header(text)))
        except Exception:
            pass
    return " ".join(text.split())


def header(msg: email.message.Message, name: str) -> str:
    """A header's value as text ("" when absent or undecodable), folded whitespace collapsed."""
    try:
        value = msg.get(name)
    except Exception:
        return ""
    if value is None:
        return ""
    return header_text(value)


def header_all(msg: email.message.Message, name: str) -> list[str]:
    try:
        values = msg.get_all(name) or []
    except Exception:
        return []
    return [header_text(v) for v in values]


def content_type(part: email.message.Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "text/plain"


def iter_parts(
    msg: email.message.Message, *, into_attached: bool = False
) -> Iterator[email.message.Message]:
    """Leaf parts depth-first; attached messages (message/rfc822) are entered only on request."""
    stack = [msg]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        ctype = content_type(part)
        try:
            payload = part.get_payload()
        except Exception:
            continue
        if part.is_multipart() and isinstance(payload, list):
            if ctype == "message/rfc822" and not into_attached and part is not msg:
                yield part
                continue
            stack.extend(reversed([p for p in payload if isinstance(p, email.message.Message)]))
        else:
            yield part


def _is_attachment(part: email.message.Message) -> bool:
    try:
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    except Exception:
        return False
    return disposition == "attachment"


def part_text(part: email.message.Message) -> str:
    """Decoded text of a leaf part (transfer encoding, charset, format=flowed)."""
    try:
        raw = part.get_payload(decode=True)
    except Exception:
        raw = None
    if raw is None:
        try:
            payload = part.get_payload()
        except Exception:
            return ""
        return payload if isinstance(payload, str) else ""
    charset = "utf-8"
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:
        pass
    try:
        text = raw.decode(charset, errors="replace")
    except (LookupError, TypeError):
        text = raw.decode("utf-8", errors="replace")
    if len(text) > _MAX_BODY_CHARS:
        text = text[:_MAX_BODY_CHARS]
    try:
        params = {k.lower(): (v or "").lower() for k, v in part.get_params() or []}
    except Exception:
        params = {}
    if params.get("format") == "flowed":
        text = unflow(text, delsp=params.get("delsp") == "yes")
    return text


def unflow(text: str, *, delsp: bool = False) -> str:
    """Join RFC 3676 format=flowed soft line breaks, keeping quote depth."""
    out: list[str] = []
    buffer = ""
    buffer_depth = -1
    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if buffer_depth not in (-1, depth):
            out.append(">" * buffer_depth + (" " if buffer_depth else "") + buffer)
            buffer, buffer_depth = "", -1
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        buffer += content
        buffer_depth = depth
        if not flowed:
            out.append(">" * depth + (" " if depth else "") + buffer)
            buffer, buffer_depth = "", -1
    if buffer_depth != -1:
        out.append(">" * buffer_depth + (" " if buffer_depth else "") + buffer)
    return "\n".join(out)


def reply_body(msg: email.message.Message) -> tuple[str, str]:
    """``(kind, text)`` of the body a person typed: the first inline text/plain part, else
    the first text/html part; kind is "plain", "html" or "" when there is none."""
    plain: email.message.Message | None = None
    html: email.message.Message | None = None
    for part in iter_parts(msg):
        if _is_attachment(part):
            continue
        ctype = content_type(part)
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html is None:
            html = part
        if plain is not None and html is not None:
            break
    if plain is not None:
        text = part_text(plain)
        if text.strip():
            return "plain", text
    if html is not None:
        return "html", part_text(html)
    return "", ""
