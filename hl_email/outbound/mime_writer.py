"""Bytes on the wire for one rendered email: checked header values, folded headers,
multipart/alternative with quoted-printable bodies, threading ids and mailto links."""

from __future__ import annotations

import binascii
import email
import functools
import re
import secrets
from base64 import b64encode
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Any, NamedTuple
from urllib.parse import quote

from hl_email.header_values import check_header_value

__all__ = [
    "RenderedEmail",
    "check_header",
    "envelope_fields",
    "mailto",
    "message_bytes",
    "parse_message",
    "reply_ref",
    "stdlib_message",
]

_MSGID_SPLIT = re.compile(r"[\s,]+")


def check_header(field_name: str, value: str) -> str:
    return check_header_value(field_name, value)


def _msgid(value: str) -> str:
    value = value.strip()
    return value if value.startswith("<") else f"<{value}>"


def _thread_ids(references: Iterable[str], in_reply_to: str | None) -> list[str]:
    """References = parents' references then the parent itself, de-duplicated, parent last."""
    ids: list[str] = []
    for chunk in references:
        ids.extend(_msgid(part) for part in _MSGID_SPLIT.split(chunk) if part)
    if in_reply_to:
        parent = _msgid(in_reply_to)
        ids = [i for i in ids if i != parent] + [parent]
    seen: set[str] = set()
    return [i for i in ids if not (i in seen or seen.add(i))]


_REF_RE = re.compile(r"hl1-[a-z0-9]+-[0-9]+-[a-z2-7]{20}")


def reply_ref(message_id: str) -> str:
    """The reply key inside our Message-ID, for mailto bodies: a mailto reply has no
    In-Reply-To, so the key travels in the body (the gateway finds and strips that line)."""
    match = _REF_RE.search(message_id or "")
    return match.group(0) if match else ""


def mailto(address: str, subject: str, body: str = "", ref: str = "") -> str:
    """A mailto: URI (RFC 6068); spaces as %20, never `+`, which clients would keep literally."""
    uri = _mailto_head(address, subject)
    if ref:  # the body, then the Ref line (quoting is per character: the parts quote alone)
        return f"{uri}&body={_quoted(body) if body else ''}{_quoted(f'{_REF_GAP}Ref: {ref}')}"
    if body:
        uri += f"&body={_quoted(body)}"
    return uri


_REF_GAP = "\n\n\n"


# PERF: one email has 3 + one per option mailto links to the same address and subject, the
# same Ref line and the same few bodies: each is quoted once (urllib's quote is ~10 us).
@functools.lru_cache(maxsize=64)
def _mailto_head(address: str, subject: str) -> str:
    return f"mailto:{quote(address, safe='@+')}?subject={quote(subject, safe='')}"


@functools.lru_cache(maxsize=256)
def _quoted(text: str) -> str:
    return quote(text, safe="")


def _address(field_name: str, value: str, display_name: str = "") -> Address:
    check_header(field_name, value)
    check_header(field_name, display_name)
    name, addr = parseaddr(value)
    if not addr or "@" not in addr:
        raise ValueError(f"{field_name}: not an email address: {value!r}")
    try:
        return Address(display_name=display_name or name, addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{field_name}: not an email address: {value!r} ({exc})") from exc


class RenderedEmail(NamedTuple):
    """A rendered message ready for SMTP: its subject and its bytes (CRLF, 7-bit ASCII)."""

    subject: str
    data: bytes


def envelope_fields(
    *,
    agent_name: str,
    agent_address: str,
    reply_address: str,
    to: Sequence[str],
    cc: Sequence[str],
    subject: str,
    date: datetime,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    call_id: str,
) -> dict[str, tuple[Any, ...]]:
    """Check every header value; return them in order as {name: (kind, *values)}, the input of
    both the fast builder and the stdlib one."""
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be timezone-aware")
    if not to:
        raise ValueError("to: at least one recipient is needed")
    for name, value in (("message_id", message_id), ("in_reply_to", in_reply_to or "")):
        check_header(name, value)
    for value in references:
        check_header("references", value)
    fields: dict[str, tuple[Any, ...]] = {}
    fields["From"] = ("addresses", "agent_address", [(agent_address, agent_name)])
    fields["To"] = ("addresses", "to", [(a, "") for a in to])
    if cc:
        fields["Cc"] = ("addresses", "cc", [(a, "") for a in cc])
    reply_spec = _addr_spec("reply_address", reply_address)
    if reply_spec.lower() != _addr_spec("agent_address", agent_address).lower():
        fields["Reply-To"] = ("addresses", "reply_address", [(reply_address, "")])
    fields["Subject"] = ("text", check_header("subject", subject))
    fields["Date"] = ("text", format_datetime(date))
    if message_id:
        fields["Message-ID"] = ("msgid", _msgid(message_id))
    if in_reply_to:
        fields["In-Reply-To"] = ("ids", [_msgid(in_reply_to)])
    thread = _thread_ids(references, in_reply_to)
    if thread:
        fields["References"] = ("ids", thread)
    fields["Auto-Submitted"] = ("text", "auto-generated")
    fields["X-Auto-Response-Suppress"] = ("text", "OOF, AutoReply")
    fields["X-HL-Email-Call-Id"] = ("text", call_id)
    return fields


# -- the stdlib builder: the reference the fast builder is tested against ------------------------


def stdlib_message(fields: Mapping[str, tuple[Any, ...]], text: str, html: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    for name, (kind, *args) in fields.items():
        msg[name] = _stdlib_value(kind, *args)
    msg.set_content(text.rstrip("\n") + "\n", subtype="plain", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


def _stdlib_value(kind: str, *args: Any) -> Any:
    if kind == "addresses":
        field_name, entries = args
        return tuple(_address(field_name, value, display) for value, display in entries)
    if kind == "ids":
        return " ".join(args[0])
    return args[0]


def parse_message(data: bytes) -> EmailMessage:
    # Parsed from LF lines, the parts' get_content() ends lines with "\n" like a message built
    # in memory; as_bytes() under the SMTP policy writes CRLF again.
    message = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=SMTP)
    assert isinstance(message, EmailMessage)
    return message


# -- the fast builder ---------------------------------------------------------------------------
#
# The stdlib's policy-driven header objects cost ~0.1-0.3 ms per header and its generator more;
# nearly every value we send is plain ASCII that can be written as it is. Those are written
# directly here; anything unusual (an address that is not dot-atom@dot-atom, text the simple
# rules below do not cover, a line that cannot be folded to 78 characters) goes to the stdlib
# folder for that one header, so such a header comes out exactly as before.

_MAX_LINE = 78
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
_SIMPLE_ADDR = re.compile(rf"{_DOT_ATOM}@{_DOT_ATOM}\Z")
_SIMPLE_MSGID = re.compile(rf"<{_DOT_ATOM}@{_DOT_ATOM}>\Z")
_ATOM_PHRASE = re.compile(rf"{_ATEXT}(?: {_ATEXT})*\Z")
_PRINTABLE_ASCII = re.compile(r"[ -~]+\Z")
# An RFC 2047 encoded word, `=?utf-8?b?<base64>?=`, is at most 75 characters.
_EW_OVERHEAD = len("=?utf-8?b??=")
_EW_MAX = 75


def _parseaddr(value: str) -> tuple[str, str]:
    """email.utils.parseaddr, skipping its (slow) parser for a bare dot-atom@dot-atom."""
    return ("", value) if _SIMPLE_ADDR.match(value) else parseaddr(value)


def _addr_spec(field_name: str, value: str) -> str:
    check_header(field_name, value)
    addr = _parseaddr(value)[1]
    if _SIMPLE_ADDR.match(addr):
        return addr
    return _address(field_name, value).addr_spec


def _std_header(name: str, value: Any) -> str:
    """One header folded by the stdlib (SMTP policy): the fallback for unusual values."""
    return str(SMTP.header_store_parse(name, value)[1].fold(policy=SMTP))


def _fold(name: str, tokens: Sequence[str]) -> str | None:
    """`Name: t1 t2 ...`, folding before the space between two tokens so that no line is longer
    than 78 characters; None if a token does not fit on a line of its own."""
    out = [name, ":"]
    width = len(name) + 1
    for i, token in enumerate(tokens):
        if i == 0 or width + 1 + len(token) <= _MAX_LINE:
            out.append(" ")
            width += 1 + len(token)
        else:
            out.append("\r\n ")
            width = 1 + len(token)
        if width > _MAX_LINE:
            return None
        out.append(token)
    out.append("\r\n")
    return "".join(out)


def _encoded_words(value: str, first_room: int) -> list[str] | None:
    """`value` as RFC 2047 base64 words of whole UTF-8 characters, the first fitting in
    `first_room` columns, the others on continuation lines of their own."""
    words: list[str] = []
    chunk = bytearray()
    limit = (first_room - _EW_OVERHEAD) // 4 * 3
    if limit < 4:
        return None
    try:
        for char in value:
            encoded = char.encode("utf-8")
            if chunk and len(chunk) + len(encoded) > limit:
                words.append("=?utf-8?b?" + b64encode(chunk).decode("ascii") + "?=")
                chunk = bytearray()
                limit = (_EW_MAX - _EW_OVERHEAD) // 4 * 3
            chunk += encoded
    except UnicodeEncodeError:  # a lone surrogate: the stdlib decides
        return None
    words.append("=?utf-8?b?" + b64encode(chunk).decode("ascii") + "?=")
    return words


def _plain_words(value: str) -> list[str] | None:
    """Printable ASCII that needs no encoding, split at its single spaces; else None."""
    if (
        _PRINTABLE_ASCII.match(value)
        and "=?" not in value
        and "  " not in value
        and value[0] != " "
        and value[-1] != " "
    ):
        return value.split(" ")
    return None


def _unicode_words(name: str, value: str) -> list[str] | None:
    if value and not value.isascii() and value.isprintable() and value.strip() == value:
        return _encoded_words(value, _MAX_LINE - len(name) - 2)
    return None


def _text_header(name: str, value: str) -> str:
    words = _plain_words(value) or _unicode_words(name, value)
    folded = _fold(name, words) if words else None
    return folded if folded is not None else _std_header(name, value)


def _phrase(name: str, value: str) -> list[str] | None:
    if _ATOM_PHRASE.match(value):
        return value.split(" ")
    if _plain_words(value):
        return ['"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return _unicode_words(name, value)


def _address_header(name: str, field_name: str, entries: Sequence[tuple[str, str]]) -> str:
    tokens: list[str] | None = []
    for value, display in entries:
        check_header(field_name, value)
        check_header(field_name, display)
        parsed_name, addr = _parseaddr(value)
        if not addr or "@" not in addr:
            raise ValueError(f"{field_name}: not an email address: {value!r}")
        display = display or parsed_name
        words = _phrase(name, display) if display else []
        if words is None or not _SIMPLE_ADDR.match(addr):
            tokens = None
            break
        tokens.extend(words)
        tokens.append((f"<{addr}>" if display else addr) + ",")
    folded = None
    if tokens:
        tokens[-1] = tokens[-1][:-1]
        folded = _fold(name, tokens)
    if folded is None:  # also validates as before: ValueError for an address it cannot parse
        return _std_header(name, _stdlib_value("addresses", field_name, entries))
    return folded


def _header_lines(fields: Mapping[str, tuple[Any, ...]]) -> str:
    out = []
    for name, (kind, *args) in fields.items():
        if kind == "addresses":
            out.append(_address_header(name, *args))
        elif kind == "text":
            out.append(_text_header(name, args[0]))
        else:  # "msgid" (one id) or "ids" (a list)
            ids = [args[0]] if kind == "msgid" else args[0]
            folded = None
            if all(_SIMPLE_MSGID.match(i) for i in ids):
                folded = _fold(name, ids)
            out.append(folded if folded is not None else _std_header(name, " ".join(ids)))
    return "".join(out)


def _qp(text: str) -> bytes:
    """utf-8 quoted-printable with CRLF line ends; line breaks normalized and a final one added,
    as EmailMessage.set_content(cte="quoted-printable") does."""
    lines = text.encode("utf-8").splitlines()
    return binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True).replace(b"\n", b"\r\n")


def message_bytes(fields: Mapping[str, tuple[Any, ...]], text: str, html: str) -> bytes:
    """multipart/alternative: text/plain then text/html, both utf-8 quoted-printable."""
    # A boundary starting with "=_" cannot occur in quoted-printable data (there "=" is always
    # followed by two hex digits or a line break), so it needs no check against the bodies.
    boundary = "=_hl_" + secrets.token_hex(16)
    head = (
        _header_lines(fields) + "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
        f"\r\n--{boundary}\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    middle = (
        f"\r\n--{boundary}\r\n"
        'Content-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    tail = f"\r\n--{boundary}--\r\n"
    return b"".join(
        (
            head.encode("ascii"),
            _qp(text.rstrip("\n") + "\n"),
            middle.encode("ascii"),
            _qp(html),
            tail.encode("ascii"),
        )
    )
