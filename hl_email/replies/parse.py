"""Tolerant MIME access for reply handling: parse, walk, decode, pick the reply body.

Nothing here raises on malformed input: broken parts decode with replacement characters,
unknown charsets fall back to UTF-8, and an unusable message yields empty text.
"""

from __future__ import annotations

import email
import email.header
import email.message
import email.policy
import functools
import re
from collections.abc import Iterator
from typing import Any, Protocol

from charset_normalizer import from_bytes

__all__ = [
    "HeaderSource",
    "InboundMessage",
    "as_message",
    "header",
    "header_strings",
    "iter_parts",
    "parse_message",
    "part_text",
    "read_inbound",
    "reply_body",
]

# A reply body larger than this is cut before extraction: no human types 4 MB of new text.
_MAX_BODY_CHARS = 4_000_000
_MAX_PARTS = 200


def as_message(msg: bytes | str | email.message.Message) -> email.message.Message | None:
    """Parse raw bytes (or pass a Message through); None when it is not a message at all."""
    if isinstance(msg, email.message.Message):
        return msg
    if isinstance(msg, bytes | bytearray | memoryview | str):
        return parse_message(msg)
    return None


# --- a fast parser for the stdlib's compat32 message tree -----------------------------------
#
# PERF: the stdlib feed parser reads every line of every part in Python; it is more than half
# of the time spent on a raw message. This parser builds the same ``email.message.Message``
# tree (compat32: the same headers, content types, payload strings and nesting) but finds the
# header/body split and the multipart boundaries with C-level string searches. It follows
# the feed parser's rules (header line syntax, the newline that belongs to a boundary, digest
# defaults, message/delivery-status blocks); inputs it does not handle the same way (bare CR
# line endings) and any internal error go to the stdlib parser instead.

_HEADER_LINE_RE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")
_MAX_NESTING = 40


def _stdlib_parse(msg: bytes | str) -> email.message.Message | None:
    try:
        if isinstance(msg, str):
            return email.message_from_string(msg, policy=email.policy.compat32)
        return email.message_from_bytes(msg, policy=email.policy.compat32)
    except Exception:  # the stdlib parser is lenient; this is the last line of defence
        return None


def parse_message(msg: bytes | bytearray | memoryview | str) -> email.message.Message | None:
    """Parse a raw message into a compat32 ``email.message.Message`` (None if impossible).

    Same tree as ``email.message_from_bytes(raw, policy=email.policy.compat32)``, faster.
    """
    if isinstance(msg, bytearray | memoryview):
        msg = bytes(msg)
    msg = _without_leading_blank_lines(msg)
    try:
        text = msg.decode("ascii", "surrogateescape") if isinstance(msg, bytes) else msg
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                return _stdlib_parse(msg)
        return _parse_text(text, 0, None)
    except Exception:
        return _stdlib_parse(msg)


# A header field name and colon, as the first line after stray leading blank lines.
_FIRST_FIELD_RE = re.compile(rb"[ \t]*(?:\r?\n[ \t]*){1,20}(?=[\041-\071\073-\176]{1,76}:)")


def _without_leading_blank_lines(msg: bytes | str) -> bytes | str:
    """Drop blank lines in front of the header block (some gateways and scripts add one);
    a message whose first line is blank and whose next line is no header field is left be
    (RFC 5322: headers are optional, so the body starts there)."""
    if isinstance(msg, str):
        if msg[:1] in ("\r", "\n", " ", "\t"):
            stripped = _without_leading_blank_lines(msg.encode("utf-8", "surrogateescape"))
            return stripped.decode("utf-8", "surrogateescape")  # type: ignore[union-attr]
        return msg
    if msg[:1] not in (b"\r", b"\n", b" ", b"\t"):
        return msg
    match = _FIRST_FIELD_RE.match(msg)
    if match is None:
        return msg
    end = msg.find(b"\n", match.end())
    first = msg[match.end() : end if end >= 0 else len(msg)]
    if _HEADER_LINE_BYTES_RE.match(first) is None:
        return msg
    return msg[match.end() :]


_HEADER_LINE_BYTES_RE = re.compile(rb"[\041-\071\073-\176]{1,76}:[ \t]*\S")

_HEADER_BLOCK_RE = re.compile(r"(?:[\041-\071\073-\176]+:[^\n]*(?:\n[ \t][^\n]*)*(?:\n|\Z))*")
_HEADER_FIELD_RE = re.compile(r"^([\041-\071\073-\176]+):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)", re.M)


def _parse_headers(message: email.message.Message, text: str) -> int:
    """Read the header section of ``text`` into ``message``; return where the body starts."""
    start = 0
    if text.startswith("From "):
        start = text.find("\n") + 1 or len(text)
        message.set_unixfrom(text[: start - 1] if text[start - 1 : start] == "\n" else text)
    if text.startswith("\n", start):
        return start + 1
    blank = text.find("\n\n", start)
    stop = len(text) if blank < 0 else blank + 1
    if _HEADER_BLOCK_RE.match(text, start, stop).end() == stop:
        # the common case: every line is a field or a continuation, in one C-level scan
        message._headers = _HEADER_FIELD_RE.findall(text, start, stop)  # noqa: SLF001
        return min(stop + 1, len(text)) if blank >= 0 else len(text)
    return _parse_header_lines(message, text, start)


def _parse_header_lines(message: email.message.Message, text: str, pos: int) -> int:
    """The feed parser's header rules line by line, for header sections with oddities."""
    policy = email.policy.compat32
    size = len(text)
    name_lines: list[str] | None = None
    while pos < size:
        end = text.find("\n", pos)
        if end < 0:
            end = size
        line = text[pos:end]
        if not line:
            pos = end + 1
            break
        if not _HEADER_LINE_RE.match(line):
            break  # a line that is no header starts the body (a defect the stdlib tolerates)
        pos = end + 1
        if line[0] in " \t":
            if name_lines is not None:
                name_lines.append(line)
            continue
        if name_lines is not None:
            message.set_raw(*policy.header_source_parse([x + "\n" for x in name_lines]))
            name_lines = None
        if line.startswith("From ") or line.find(":") <= 0:
            continue
        name_lines = [line]
    if name_lines is not None:
        message.set_raw(*policy.header_source_parse([x + "\n" for x in name_lines]))
    return min(pos, size)


def _boundaries(body: str, separator: str) -> Iterator[tuple[int, int, bool]]:
    """(line start, line end, is closing) of each boundary line: the separator, an optional
    "--", optional blanks and nothing else on the line."""
    size = len(body)
    at = 0 if body.startswith(separator) else body.find("\n" + separator)
    if at > 0 or (at == 0 and not body.startswith(separator)):
        at += 1
    while at >= 0:
        end = body.find("\n", at)
        if end < 0:
            end = size
        rest = body[at + len(separator) : end]
        closing = rest.startswith("--")
        if not (rest[2:] if closing else rest).strip(" \t"):
            yield at, end, closing
        at = body.find("\n" + separator, end)
        if at >= 0:
            at += 1


def _parse_text(text: str, depth: int, default_type: str | None) -> email.message.Message:
    return _parse_part(text, depth, default_type, [])


def _new_message(last: list[email.message.Message]) -> email.message.Message:
    message = email.message.Message(policy=email.policy.compat32)
    last[:] = [message]
    return message


def _strip_last_newline(last: list[email.message.Message]) -> None:
    """The feed parser's rule: the newline before a boundary belongs to the boundary; it is
    taken from the message read last (which may sit deeper than the part just read)."""
    last = last[-1]
    if content_type(last).startswith("multipart/"):
        epilogue = last.epilogue
        if epilogue == "":
            last.epilogue = None
        elif epilogue and epilogue.endswith("\n"):
            last.epilogue = epilogue[:-1]
        return
    payload = last._payload  # noqa: SLF001 - the same private field the stdlib parser sets
    if isinstance(payload, str) and payload.endswith("\n"):
        last._payload = payload[:-1]  # noqa: SLF001


def _parse_part(
    text: str, depth: int, default_type: str | None, last: list[email.message.Message]
) -> email.message.Message:
    message = _new_message(last)
    if default_type:
        message.set_default_type(default_type)
    body = text[_parse_headers(message, text) :]
    if depth >= _MAX_NESTING:
        message.set_payload(body)
        return message
    ctype = content_type(message)
    if ctype == "message/delivery-status":
        lines = body.split("\n")
        if body.endswith("\n"):
            lines.pop()
        index = 0
        while True:
            stop = index
            while stop < len(lines) and lines[stop]:
                stop += 1
            block = "\n".join(lines[index:stop])
            if stop > index and (stop < len(lines) or body.endswith("\n")):
                block += "\n"
            part = _new_message(last)
            part.set_payload(block[_parse_headers(part, block) :])
            message.attach(part)
            index = stop + 1
            if index >= len(lines):
                break
        return message
    maintype = ctype.partition("/")[0]
    if maintype == "message":
        message.attach(_parse_part(body, depth + 1, None, last))
        return message
    if maintype != "multipart":
        message.set_payload(body)
        return message
    boundary = content_boundary(message)
    if boundary is None:
        message.set_payload(body)
        return message
    child_type = "message/rfc822" if ctype == "multipart/digest" else None
    part_start = -1
    for line_start, line_end, closing in _boundaries(body, "--" + boundary):
        if part_start < 0:
            message.preamble = body[: max(line_start - 1, 0)]
        elif line_start > part_start:
            chunk = body[part_start:line_start]
            message.attach(_parse_part(chunk, depth + 1, child_type, last))
            _strip_last_newline(last)
            last[:] = [message]
        if closing and part_start < 0:
            message.set_payload(body[:line_start])  # a closing boundary before any part
            message.epilogue = ""
            return message
        # consecutive boundary lines make no empty parts
        part_start = line_end + 1
        if closing:
            message.epilogue = body[part_start:] if part_start <= len(body) else ""
            return message
    if part_start < 0:
        message.set_payload(body)
    else:  # no closing boundary: the last part runs to the end
        message.attach(_parse_part(body[part_start:], depth + 1, child_type, last))
        _strip_last_newline(last)
        last[:] = [message]
    return message


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


def header_strings(msg: HeaderSource, name: str) -> list[str]:
    """Every value of a header as the message object renders it (``str``), undecoded by us;
    [] when absent or when the parser could not make sense of it."""
    try:
        values = msg.get_all(name) or []
    except Exception:  # a header the parser could not make sense of
        return []
    return [str(v) for v in values]


def content_type(part: email.message.Message) -> str:
    # PERF: Message.get_content_type() lowercases every header name on each call; a compat32
    # message with a plain ASCII Content-Type is read here directly, with the same result.
    try:
        if part.policy is email.policy.compat32:
            for name, value in part._headers:  # noqa: SLF001
                if len(name) == 12 and name.lower() == "content-type":
                    if type(value) is str and value.isascii():
                        ctype = value.partition(";")[0].strip().lower()
                        return ctype if ctype.count("/") == 1 else "text/plain"
                    break
            else:
                return part.get_default_type().lower()
        return part.get_content_type().lower()
    except Exception:
        return "text/plain"


# --- Content-Type parameters -----------------------------------------------------------------
#
# PERF: Message.get_param() re-reads and re-parses the Content-Type field (with RFC 2231
# decoding and two rounds of quoting) on every call. A plain ASCII value without
# backslashes or "*" (no quoted-pair, no RFC 2231 parameters) is split here with the same
# rules as the stdlib's _parseparam/decode_params, giving the same values; anything else
# goes to the stdlib methods.

_UNUSUAL = object()  # a constant marker, never mutated


def _first_content_type(part: email.message.Message) -> object:
    """The raw first Content-Type value when it is plain ASCII text; None when absent,
    ``_UNUSUAL`` when only the stdlib may read it."""
    if part.policy is not email.policy.compat32:
        return _UNUSUAL
    for name, value in part._headers:  # noqa: SLF001
        if len(name) == 12 and name.lower() == "content-type":
            if type(value) is str and value.isascii() and "\\" not in value and "*" not in value:
                return value
            return _UNUSUAL
    return None


def _unquote(value: str) -> str:
    # email.utils.unquote for a value without backslashes
    if len(value) > 1:
        if value[0] == '"' and value[-1] == '"':
            return value[1:-1]
        if value[0] == "<" and value[-1] == ">":
            return value[1:-1]
    return value


def _split_params(value: str) -> list[tuple[str, str]]:
    """Message.get_params() of a plain value (see _first_content_type)."""
    params: list[tuple[str, str]] = []
    size = len(value)
    start = 0
    while True:
        end = value.find(";", start)
        while end > start and value.count('"', start, end) % 2:
            end = value.find(";", end + 1)
        if end < 0:
            end = size
        field = value[start:end]
        equals = field.find("=")
        if equals >= 0:
            params.append((field[:equals].strip().lower(), _unquote(field[equals + 1 :].strip())))
        else:
            params.append((field.strip(), ""))
        if end >= size:
            return params
        start = end + 1


def content_params(part: email.message.Message) -> list[tuple[str, object]] | None:
    """``part.get_params()``."""
    value = _first_content_type(part)
    if value is None:
        return None
    if value is _UNUSUAL:
        return part.get_params()
    return _split_params(value)  # type: ignore[arg-type]


def content_param(part: email.message.Message, param: str) -> object:
    """``part.get_param(param)`` (``param`` in lower case)."""
    value = _first_content_type(part)
    if value is None:
        return None
    if value is _UNUSUAL:
        return part.get_param(param)
    for key, found in _split_params(value):  # type: ignore[arg-type]
        if key.lower() == param:
            return found
    return None


def content_charset(part: email.message.Message) -> str | None:
    """``part.get_content_charset()``."""
    value = _first_content_type(part)
    if value is _UNUSUAL:
        return part.get_content_charset()
    charset = content_param(part, "charset") if value is not None else None
    return charset.lower() if isinstance(charset, str) else None


def content_boundary(part: email.message.Message) -> str | None:
    """``part.get_boundary()``."""
    value = _first_content_type(part)
    if value is _UNUSUAL:
        return part.get_boundary()
    boundary = content_param(part, "boundary") if value is not None else None
    return _unquote(boundary).rstrip() if isinstance(boundary, str) else None


_ATTACHED_MESSAGE_TYPES = ("message/rfc822", "message/global")


def iter_parts(
    msg: email.message.Message, *, into_attached: bool = False
) -> Iterator[email.message.Message]:
    """Leaf parts depth-first; attached messages (message/rfc822) are entered only on request.

    A message/rfc822 is an attached message wherever it sits, also as the whole body of the
    message (a bare forward): its text is someone else's, never the sender's new text."""
    for part, _ctype in iter_typed_parts(msg, into_attached=into_attached):
        yield part


def iter_typed_parts(
    msg: email.message.Message, *, into_attached: bool = False
) -> Iterator[tuple[email.message.Message, str]]:
    """:func:`iter_parts` with each part's :func:`content_type`."""
    stack = [msg]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        ctype = content_type(part)
        payload = getattr(part, "_payload", None)
        # PERF: get_payload() of a leaf re-reads its headers (and may decode 8-bit text)
        # only for a result unused here; it is called only where it could raise, as then
        # the part is skipped
        if type(part) is not email.message.Message or not (
            isinstance(payload, list) or (type(payload) is str and payload.isascii())
        ):
            try:
                payload = part.get_payload()
            except Exception:
                continue
        if part.is_multipart() and isinstance(payload, list):
            if ctype in _ATTACHED_MESSAGE_TYPES and not into_attached:
                yield part, ctype
                continue
            stack.extend(reversed([p for p in payload if isinstance(p, email.message.Message)]))
        else:
            yield part, ctype


_FILE_NAME_RE = re.compile(r";\s*(?:file)?name\*?(?:\*\d+\*?)?\s*=", re.I)


def _is_attachment(part: email.message.Message) -> bool:
    """An attachment: ``Content-Disposition: attachment``, or a part that carries a file name
    (a ``filename`` disposition parameter or a ``name`` content-type parameter): a text file
    someone attached is never the body they typed."""
    try:
        disposition = content_type_value = ""
        if part.policy is email.policy.compat32:
            # PERF: the first field of each, as Message.get finds it
            for name, value in part._headers:  # noqa: SLF001
                if len(name) == 19 and not disposition and name.lower() == "content-disposition":
                    disposition = value if type(value) is str else str(value)
                elif len(name) == 12 and not content_type_value and name.lower() == "content-type":
                    content_type_value = value if type(value) is str else str(value)
        else:
            disposition = str(part.get("Content-Disposition") or "")
            content_type_value = str(part.get("Content-Type") or "")
    except Exception:
        return False
    if disposition.split(";")[0].strip().lower() == "attachment":
        return True
    return bool(
        (";" in disposition and _FILE_NAME_RE.search(disposition))
        or (";" in content_type_value and _FILE_NAME_RE.search(content_type_value))
    )


# Declared charsets that name Unicode itself: bytes that are not valid in them are damaged,
# not mislabelled in a way a detector could undo.
_UTF8_NAMES = frozenset(("utf-8", "utf8", "us-ascii", "ascii"))
# The detector reads at most this much of a part (it samples chunks of it anyway).
_DETECT_BYTES = 256 * 1024
_RANK_BYTES = 2 * 1024
_FIRST_RANK_BYTES = 384


# Charsets mail is commonly sent in, tried when the declared one fails; ranked together
# with charset-normalizer's own pick by how plausible the decoded text looks.
_CANDIDATE_CHARSETS = (
    "cp932", "euc_jp", "iso2022_jp", "gb18030", "big5", "euc_kr", "koi8_r", "koi8_u",
    "cp1251", "cp1252", "iso8859_2", "cp1250", "iso8859_7", "iso8859_9", "iso8859_15",
)  # fmt: skip


def _implausibility(text: str) -> float:
    """Signs of mojibake per character: C1 controls and Latin-1 symbols, runs of accented
    letters, half-width katakana, rare CJK blocks, Hangul mixed with Han, case flips."""
    score = 0
    previous_accented = previous_lower = previous_alpha = False
    previous_latin = True
    hangul = han = 0
    for char in text:
        code = ord(char)
        if code < 0x80:
            previous_accented = False
            previous_lower = char.islower()
            previous_alpha, previous_latin = char.isalpha(), True
            continue
        if code < 0xA0 or 0xE000 <= code < 0xF900 or code in (0xFFFD, 0xFFFE):
            score += 3  # C1 controls, private use
        elif code < 0xC0:
            score += char not in "\xa0¡¿«»°ºª§"  # Latin-1 symbols: rare in prose
        elif code < 0x250:
            score += previous_accented  # "Ã©Ã¨": accented letters in a row
        elif 0xFF61 <= code <= 0xFF9F or 0x3100 <= code < 0x3190 or 0xFE30 <= code < 0xFE70:
            score += 3  # half-width katakana, bopomofo, jamo, CJK compatibility forms
        elif 0x3400 <= code < 0x4E00 or 0xF900 <= code < 0xFB00 or 0x2460 <= code < 0x2600:
            score += 2  # CJK extension A, compatibility ideographs, enclosed/box symbols
        elif 0xAC00 <= code < 0xD7A4:
            hangul += 1
        elif 0x4E00 <= code < 0xA000:
            han += 1
        if char.isupper() and previous_lower:
            score += 1  # "дБ": a capital inside a lower-case word
        latin = code < 0x250
        if char.isalpha() and previous_alpha and latin != previous_latin:
            score += 2  # "Grόίe": Latin and another alphabet inside one word
        previous_accented = 0xC0 <= code < 0x250
        previous_lower = char.islower()
        previous_alpha, previous_latin = char.isalpha(), latin
    score += min(hangul, han)
    return score / max(len(text), 1)


def _detected(raw: bytes, declared: str | None) -> str | None:
    """Text of ``raw`` in the most plausible of charset-normalizer's pick and the common mail
    charsets (strict decodings only), or None when none decodes."""
    sample = raw[:_DETECT_BYTES]
    if len(sample) > _RANK_BYTES:  # ranked on a head cut at a line end (no split character)
        cut = sample.rfind(b"\n", 0, _RANK_BYTES)
        sample = sample[: cut if cut > 0 else _RANK_BYTES]
    # on a tie the earlier name wins: the declared one, then the common ones (Western
    # European before Central European, which no byte can tell apart); the detector is
    # asked only when none of them reads cleanly
    names: list[str] = [declared] if declared else []
    names.extend(_CANDIDATE_CHARSETS)
    ranked: list[tuple[float, int, str]] = []

    def rank(name: str, order: int, head: bytes = sample) -> None:
        try:
            text = head.decode(name)
        except (LookupError, UnicodeDecodeError, TypeError):
            return
        ranked.append((_implausibility(text), order, name))

    # PERF: every candidate on a short head, the best few on the whole sample
    short = sample[: sample.rfind(b"\n", 0, _FIRST_RANK_BYTES) + 1 or _FIRST_RANK_BYTES]
    if len(short) < len(sample):
        for order, name in enumerate(names):
            try:
                sample.decode(name)  # must decode as a whole
            except (LookupError, UnicodeDecodeError, TypeError):
                continue
            rank(name, order, short)
        finalists = [name for _score, _order, name in sorted(ranked)[:3]]
        ranked.clear()
        for name in finalists:
            rank(name, names.index(name))
    else:
        for order, name in enumerate(names):
            rank(name, order)
    if not ranked or min(ranked)[0] > 0:
        try:
            best = from_bytes(sample).best()
        except Exception:  # the detector is advisory; the candidates above still apply
            best = None
        if best is not None and not best.encoding.startswith(("utf_16", "utf_32")):
            rank(best.encoding, len(names))
    if not ranked:
        return None
    return raw.decode(min(ranked)[2], errors="replace")


_ASCII_PROBE = "Az09 +-=\n"


@functools.lru_cache(maxsize=64)
def _ascii_compatible(charset: str) -> bool:
    """True when ASCII text means the same in ``charset`` (unknown charsets count as such:
    they are read as ASCII/UTF-8)."""
    try:
        return _ASCII_PROBE.encode(charset) == _ASCII_PROBE.encode() and (
            b"+AEE-".decode(charset) == "+AEE-"
        )
    except LookupError:
        return True
    except (UnicodeError, TypeError, ValueError):
        return False


def decode_text(raw: bytes, charset: str | None) -> str:
    """Bytes of a text part as text, recovering from a wrong or missing charset.

    The declared charset is trusted while it decodes cleanly, except that valid UTF-8 with
    non-ASCII characters is read as UTF-8 whatever was declared (legacy text is valid UTF-8
    only by rare accident; mislabelled UTF-8 is common). When the declared decoding fails
    (or no charset is declared and the bytes are not UTF-8) charset-normalizer picks one.
    """
    declared = (charset or "").strip().strip('"').lower() or None
    if declared and not _ascii_compatible(declared):
        # UTF-16/32, UTF-7, EBCDIC…: the bytes mean what the declared charset says (a mail
        # client shows them so); nothing is "recovered" from them
        try:
            return raw.decode(declared, errors="replace")
        except (LookupError, TypeError):
            pass
    if raw.isascii():
        if b"\x1b$" in raw or b"\x1b(" in raw:  # ISO-2022-JP/KR escapes in 7-bit text
            for codec in (declared, "iso2022_jp", "iso2022_kr"):
                try:
                    return raw.decode(codec or "")
                except (LookupError, UnicodeDecodeError):
                    continue
        return raw.decode("ascii")
    try:
        utf8 = raw.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and "\ufffd" not in utf8:
        return utf8
    if declared and declared not in _UTF8_NAMES:
        try:
            text = raw.decode(declared)
            if "\ufffd" not in text:
                return text
        except (LookupError, UnicodeDecodeError, TypeError):
            pass
    if declared in _UTF8_NAMES and utf8 is None:
        # mostly fine UTF-8 with a damaged byte or two stays UTF-8
        head = raw[:_DETECT_BYTES].decode("utf-8", errors="replace")  # PERF: a head decides
        non_ascii = len(head) - len(head.encode("ascii", "ignore"))
        if head.count("\ufffd") * 10 <= non_ascii:
            return raw.decode("utf-8", errors="replace")
    detected = _detected(raw, declared if declared not in _UTF8_NAMES else None)
    if detected is not None:
        return detected
    for codec in (declared, "utf-8"):
        if codec:
            try:
                return raw.decode(codec, errors="replace")
            except (LookupError, TypeError):
                continue
    return raw.decode("utf-8", errors="replace")


_TEXT_CACHE = "_hl_email_text"  # attribute holding a part's decoded text


def part_text(part: email.message.Message) -> str:
    """Decoded text of a leaf part (transfer encoding, charset, format=flowed).

    The text is kept on the part object, so classification and extraction of one parsed
    message decode (and charset-detect) each part once."""
    cached = getattr(part, _TEXT_CACHE, None)
    if type(cached) is tuple and cached[0] is getattr(part, "_payload", None):
        return cached[1]
    text = _part_text(part)
    try:
        setattr(part, _TEXT_CACHE, (getattr(part, "_payload", None), text))
    except Exception:  # a message class that refuses attributes: no cache
        pass
    return text


def _part_text(part: email.message.Message) -> str:
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
    charset = None
    try:
        charset = content_charset(part)
    except Exception:
        pass
    text = decode_text(raw, charset)
    if len(text) > _MAX_BODY_CHARS:
        text = text[:_MAX_BODY_CHARS]
    try:
        params = {k.lower(): (v or "").lower() for k, v in content_params(part) or []}
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


# A boundary line: "--" and 1..70 boundary characters (RFC 2046), alone on its line.
_BOUNDARY_LINE_RE = re.compile(r"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*$", re.M)
_MAX_RECOVERED_CHARS = 64 * 1024
_PART_HEADER_RE = re.compile(r"\A(?:content-[\w-]+|mime-version)[ \t]*:", re.I)


def _recovered_multipart(part: email.message.Message) -> email.message.Message | None:
    """A multipart part whose boundary is missing or wrong, parsed again with the boundary
    its body actually uses (the first "--x" line followed by part headers), or None."""
    payload = getattr(part, "_payload", None)
    if not isinstance(payload, str):
        return None
    for match in _BOUNDARY_LINE_RE.finditer(payload, 0, 64 * 1024):
        after = payload[match.end() + 1 : match.end() + 200]
        if _PART_HEADER_RE.match(after):
            boundary = match.group(1)
            if boundary.endswith("--") and "--" + boundary[:-2] in payload[: match.start()]:
                continue
            rebuilt = f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
            # the body a person typed is in the first parts: a bounded head is parsed
            head = payload[:_MAX_RECOVERED_CHARS].replace("\r\n", "\n")
            return parse_message(rebuilt + head)
    return None


def decision_bodies(msg: email.message.Message) -> list[tuple[str, str]]:
    """Every reading of what a person typed that an approval must agree with: all inline
    text/plain parts joined in order (Apple Mail splits a body around an inline image), and the
    first text/html part (what an HTML client shows). Attachments and attached messages are
    not read."""
    plains: list[str] = []
    html: str | None = None
    for part, ctype in iter_typed_parts(msg):
        if _is_attachment(part):
            continue
        if ctype == "text/plain":
            plains.append(part_text(part))
        elif ctype == "text/html" and html is None:
            html = part_text(part)
    bodies: list[tuple[str, str]] = []
    if plains:
        bodies.append(("plain", "\n\n".join(plains)))
    if html is not None:
        bodies.append(("html", html))
    return bodies


def reply_body(msg: email.message.Message) -> tuple[str, str]:
    """``(kind, text)`` of the body a person typed: the first inline text/plain part, else
    the first text/html part; kind is "plain", "html" or "" when there is none.

    A multipart part without a usable boundary is read with the boundary its body uses; if
    it has none, its body is read as plain text."""
    plain: email.message.Message | None = None
    html: email.message.Message | None = None
    broken: email.message.Message | None = None
    for part, ctype in iter_typed_parts(msg):
        if _is_attachment(part):
            continue
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html is None:
            html = part
        elif ctype.startswith("multipart/") and broken is None:
            broken = part
        if plain is not None and html is not None:
            break
    if plain is None and html is None and broken is not None:
        recovered = _recovered_multipart(broken)
        if recovered is not None and not any(
            # still a multipart without parts: the guess did not help (and never loops)
            ctype.startswith("multipart/") and not isinstance(part.get_payload(), list)
            for part, ctype in iter_typed_parts(recovered)
        ):
            return reply_body(recovered)
        return "plain", part_text(broken)
    if plain is not None:
        text = part_text(plain)
        if text.strip():
            return "plain", text
    if html is not None:
        return "html", part_text(html)
    return "", ""


# --- the inbound path's one parse -------------------------------------------------------
#
# The receiver reads a message in two ways: its header fields as ``email.policy.default``
# reads them (header objects: RFC 2047 decoded, addresses parsed, defects noted; the sender
# and DMARC checks depend on exactly that), and its body parts through this package's
# steps (classify, extract, decide), which are written for the compat32 tree our parser
# builds. ``read_inbound`` parses once with our parser and offers both; a header field is
# made into an object only when it is asked for.


class HeaderSource(Protocol):
    """What the matching and sender checks read: header values by name."""

    def get(self, name: str, failobj: Any = None) -> Any: ...

    def get_all(self, name: str, failobj: Any = None) -> Any: ...


_DEFAULT_POLICY = email.policy.default


class _DefaultHeaders:
    """The header fields of a compat32 tree, read as a ``policy.default`` message reads them
    (``Message.get``/``get_all`` with that policy's ``header_fetch_parse``; both policies
    store the same raw values, ``header_source_parse`` being the same)."""

    __slots__ = ("_fields",)

    def __init__(self, msg: email.message.Message) -> None:
        self._fields = msg._headers  # noqa: SLF001 - the raw (name, value) pairs

    def get(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        for key, value in self._fields:
            if key.lower() == name:
                return _DEFAULT_POLICY.header_fetch_parse(key, value)
        return failobj

    def get_all(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        values = [
            _DEFAULT_POLICY.header_fetch_parse(key, value)
            for key, value in self._fields
            if key.lower() == name
        ]
        return values or failobj


def _default_view(part: email.message.Message) -> email.message.EmailMessage:
    """The same tree as ``email.message.EmailMessage`` parts under ``policy.default`` (what
    ``email.message_from_bytes(raw, policy=email.policy.default)`` builds), sharing the
    payload strings; our decoded-text cache is not carried over."""
    view = email.message.EmailMessage.__new__(email.message.EmailMessage)
    state = {k: v for k, v in vars(part).items() if k != _TEXT_CACHE}
    view.__dict__.update(state)
    view.policy = _DEFAULT_POLICY
    view._headers = list(part._headers)  # noqa: SLF001
    payload = part._payload  # noqa: SLF001
    if isinstance(payload, list):
        view._payload = [  # noqa: SLF001
            _default_view(p) if isinstance(p, email.message.Message) else p for p in payload
        ]
    return view


def _depth(msg: email.message.Message) -> int:
    deepest, stack = 0, [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        payload = part._payload  # noqa: SLF001
        if isinstance(payload, list):
            stack.extend((p, depth + 1) for p in payload if isinstance(p, email.message.Message))
    return deepest


def _fast_tree(raw: bytes) -> email.message.Message | None:
    """Our parser's tree, or None where it meets damage: input it would read differently
    from the stdlib (blank or folded lines before the headers, bare CR line ends, nesting
    at its depth limit) or on which it fails."""
    if raw[:1] in (b"\r", b"\n", b" ", b"\t"):
        return None
    text = raw.decode("ascii", "surrogateescape")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    try:
        tree = _parse_text(text, 0, None)
    except Exception:  # any internal error: the stdlib parser reads it instead
        return None
    if _depth(tree) >= _MAX_NESTING:
        return None
    return tree


class InboundMessage:
    """One inbound message, parsed once, as the whole inbound path reads it.

    ``message`` is the tree the reply steps take (``classify_message``,
    ``extract_reply_from_message``, ``decision_readings``); ``headers`` answers ``get`` and
    ``get_all`` exactly as a ``policy.default`` message does (for ``candidate_keys``,
    ``sender_address``, ``dmarc_verdict``); ``default_message()`` is the whole message as
    ``policy.default`` parses it, for the few readers written for that API (``get_body``,
    ``get_content``).

    Fallback: when our parser meets damage (see ``_fast_tree``), the message is parsed by
    ``email.message_from_bytes(raw, policy=email.policy.default)``, exactly as the gateway
    did before, and that one message serves all three uses (``parser == "stdlib"``).
    """

    __slots__ = ("raw", "message", "headers", "parser", "_default")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        tree = _fast_tree(raw)
        if tree is None:
            stdlib = email.message_from_bytes(raw, policy=_DEFAULT_POLICY)
            self.message: email.message.Message = stdlib
            self.headers: HeaderSource = stdlib
            self.parser = "stdlib"
            self._default: email.message.EmailMessage | None = stdlib  # type: ignore[assignment]
        else:
            self.message = tree
            self.headers = _DefaultHeaders(tree)
            self.parser = "fast"
            self._default = None

    def default_message(self) -> email.message.EmailMessage:
        if self._default is None:
            self._default = _default_view(self.message)
        return self._default

    def header(self, name: str, limit: int = 500) -> str | None:
        """A header as ``str`` of its ``policy.default`` value, cut at ``limit``; None when
        absent or unreadable."""
        try:
            value = self.headers.get(name)
        except Exception:  # a header the parser could not make sense of
            return None
        return str(value)[:limit] if value is not None else None

    @property
    def message_id(self) -> str | None:
        """The Message-ID the message is deduplicated by (None when absent or unreadable)."""
        try:
            value = self.headers.get("Message-ID")
            return str(value).strip() if value else None
        except Exception:
            return None


def read_inbound(raw: bytes | bytearray | memoryview) -> InboundMessage:
    """Parse an inbound message once for the whole inbound path (see ``InboundMessage``).

    Raises only what ``email.message_from_bytes`` raises on the fallback path: the caller
    records such a message as malformed.
    """
    return InboundMessage(bytes(raw))
