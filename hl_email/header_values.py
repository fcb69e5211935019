"""What a header value means once decoded: refuse or neutralise control characters, including
those hidden inside RFC 2047 encoded words (`=?utf-8?q?x=0D=0ABcc:_…?=`).

The stdlib's header folder decodes encoded words before it writes a header, so a CR/LF inside
one becomes a real line break (and a real `Reply-To:` or `Bcc:`) in the email we send. Every
value bound for a header is checked here on its decoded form. Pure functions, no I/O.
"""

from __future__ import annotations

import binascii
import codecs
import re

from .errors import HeaderInjectionError as HeaderInjectionError

__all__ = [
    "HEADER_FORBIDDEN",
    "HeaderInjectionError",
    "check_header_value",
    "decode_encoded_words",
    "header_problem",
    "neutralise_encoded_words",
]

# Anything that could end or fold a header line, or confuse a parser: C0, DEL, C1 NEL and the
# Unicode line/paragraph separators (some MUAs and str.splitlines() treat these as newlines).
HEADER_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# RFC 2047 (with the RFC 2231 language suffix); bounded so a hostile value cannot make it slow.
_ENCODED_WORD = re.compile(r"=\?([^?\s*]{1,64})(?:\*[^?\s]{0,32})?\?([qQbB])\?([^?]{0,4096})\?=")


def _decode_word(charset: str, encoding: str, text: str) -> str:
    if encoding in "qQ":
        data = re.sub(
            rb"=([0-9A-Fa-f]{2})",
            lambda m: bytes([int(m.group(1), 16)]),
            text.replace("_", " ").encode("ascii", "replace"),
        )
    else:
        raw = text.encode("ascii", "replace")
        try:
            data = binascii.a2b_base64(raw + b"=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            return text
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "latin-1"  # every byte maps to one character, so control bytes stay visible
    return data.decode(charset, "replace")


def decode_encoded_words(value: str) -> str:
    """`value` with every RFC 2047 encoded word replaced by its decoded text (as a mail
    client, or the stdlib's folder, would read it)."""
    if "=?" not in value:
        return value
    return _ENCODED_WORD.sub(lambda m: _decode_word(m.group(1), m.group(2), m.group(3)), value)


def header_problem(value: str) -> str | None:
    """None when `value` is safe in a header; else "raw" or "encoded" (where the control
    character is)."""
    if HEADER_FORBIDDEN.search(value):
        return "raw"
    if "=?" in value and HEADER_FORBIDDEN.search(decode_encoded_words(value)):
        return "encoded"
    return None


def check_header_value(field_name: str, value: str) -> str:
    """`value` unchanged, or HeaderInjectionError naming `field_name`."""
    problem = header_problem(value)
    if problem is not None:
        raise HeaderInjectionError(field_name, value, encoded=problem == "encoded")
    return value


def neutralise_encoded_words(value: str) -> str:
    """Replace each encoded word that decodes to a control character by its decoded text with
    those characters turned into spaces (for text we derive a header from, such as a
    question's first line, where refusing would be unkind)."""
    if "=?" not in value:
        return value

    def one(match: re.Match[str]) -> str:
        decoded = _decode_word(match.group(1), match.group(2), match.group(3))
        if HEADER_FORBIDDEN.search(decoded):
            # "=?" broken up too, so the decoded text cannot itself form a new encoded word.
            return HEADER_FORBIDDEN.sub(" ", decoded).replace("=?", "= ?")
        return match.group(0)

    for _ in range(8):
        if header_problem(value) != "encoded":
            break
        value = _ENCODED_WORD.sub(one, value)
    return value
