"""One read of an inbound message for the whole receiver: limits, one parse, every value a step reads.

``read_message(raw, limits)`` is the receiver's only way into a message. It checks the
``[inbound]`` limits on the raw bytes, parses once (``replies.parse.read_inbound``: our parser,
the stdlib ``policy.default`` parse on damage) and answers each step from that one parse:
de-duplication, the audit headers, reply keys, classification, the sender, DMARC, the
extracted text, the readings every part must agree with, the thread check, a bounce's
Message-IDs and the thread's ids. Each value is computed when a step first asks for it and
kept (a retried handling, after a conflict, reads the same values again for free).

Each property returns what the call it replaces returned on
``email.message_from_bytes(raw, policy=email.policy.default)``, the gateway's parse before
(tests/unit/test_inbound_reading.py runs every corpus message both ways).
"""

from __future__ import annotations

import asyncio
import email.message
import email.policy
import functools
import hashlib
import logging
import re
from typing import Any

from ..core.tokens import ReplyKey
from ..limits import InboundLimits, LimitRefusal, check_inbound
from ..replies.authorize import AuthResult, dmarc_verdict, sender_address
from ..replies.classify import bounce_original_message_ids, classify_message
from ..replies.extract import decision_readings, extract_reply_from_message
from ..replies.html import html_to_text
from ..replies.match import REF_LINE, body_ref_keys, candidate_keys
from ..replies.parse import HeaderSource, InboundMessage, read_inbound, reply_body
from ..replies.thread import answers_our_email
from ..thread import thread_message_ids

__all__ = ["PARSE_IN_THREAD_BYTES", "InboundMail", "read_message", "read_message_off_loop"]

log = logging.getLogger("hl_email.gateway")

# Above this size the parse runs in a worker thread (read_message_off_loop), so the event loop
# (API, IDLE, timers) keeps running meanwhile.
PARSE_IN_THREAD_BYTES = 256 * 1024


# 128: a parsed address header holds its whole token tree (about 18 KB each), and the repeats
# worth caching (one sender's From, our own addresses) are few; most values (Message-ID,
# References) never recur.
@functools.lru_cache(maxsize=128)
def _header_object(name: str, value: str) -> Any:
    return email.policy.default.header_fetch_parse(name, value)


class _FieldHeaders:
    """``get``/``get_all`` of our parser's tree as a ``policy.default`` message answers them.
    A header object is immutable and a function of (name, value) alone, so each is made once
    for all messages: one sender's mail repeats its From, and matching, the sender check,
    DMARC and the thread ids read the same fields again."""

    __slots__ = ("_fields",)

    def __init__(self, msg: email.message.Message) -> None:
        self._fields = msg._headers  # noqa: SLF001 - the raw (name, value) pairs

    @staticmethod
    def _object(name: str, value: Any) -> Any:
        if isinstance(value, str) and len(value) < 1024:
            return _header_object(name, value)
        return email.policy.default.header_fetch_parse(name, value)

    def get(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        for key, value in self._fields:
            if key.lower() == name:
                return self._object(key, value)
        return failobj

    def get_all(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        found = [self._object(k, v) for k, v in self._fields if k.lower() == name]
        return found or failobj


class _MemoHeaders:
    """A HeaderSource that makes each field into a header object once per message: matching,
    the sender check, DMARC and the thread ids read the same fields (From, In-Reply-To,
    References) again, and a ``policy.default`` header object is costly to build."""

    __slots__ = ("_source", "_first", "_all")

    def __init__(self, source: HeaderSource) -> None:
        self._source = source
        self._first: dict[str, Any] = {}
        self._all: dict[str, list[Any] | None] = {}

    def get(self, name: str, failobj: Any = None) -> Any:
        key = name.lower()
        if key not in self._first:
            self._first[key] = self._source.get(name)
        value = self._first[key]
        return failobj if value is None else value

    def get_all(self, name: str, failobj: Any = None) -> Any:
        key = name.lower()
        if key not in self._all:
            self._all[key] = self._source.get_all(name) or None
        values = self._all[key]
        return list(values) if values else failobj


# A `Ref: hl1-…` line in the body (match.body_ref_keys reads the decoded text of the body part)
# shows in the raw bytes as "hl1-" unless an encoding hides it: base64 or uuencode, a
# quoted-printable escape or soft line break, a charset in which ASCII letters are not their
# ASCII bytes. Without any of these and without "hl1-", the body has no key: no need to walk it.
# All of it is read in the lower-cased bytes, with patterns that start with a literal and
# without re.I: `re` has no fast scan for a case-insensitive alternation (1.3 s over a 20 MB
# body, against tens of ms). A hiding encoding is named in a Content-Transfer-Encoding field
# (anything but 7bit, 8bit, binary and quoted-printable, which is handled below) or in a
# charset parameter (anything not ASCII-compatible, or an RFC 2231 `charset*`).
_CTE = re.compile(rb"content-transfer-encoding[ \t]*:[ \t\r\n]*([^\s;()]*)")
_PLAIN_CTE = frozenset((b"7bit", b"8bit", b"binary", b"quoted-printable"))
_CHARSET = re.compile(rb"charset\s*=\s*\"?([^\s\";]*)")
_ASCII_LETTERS = re.compile(
    rb"(?:us-)?ascii|utf-?8|iso-8859-\d{1,2}|(?:windows|cp)-?125\d|latin-?1|koi8-[ru]"
)
_SOFT_BREAK = re.compile(rb"=\r?\n")
_KEY_ESCAPE = re.compile(rb"=(?:68|6c|31|2d|48|4c)")  # h l 1 - H L (lower-cased: 6c, 4c)


def _no_body_key(raw: bytes) -> bool:
    """True when no decoding of the body can yield "hl1-" (see above); False: look."""
    low = raw.lower()
    if not all(cte in _PLAIN_CTE for cte in _CTE.findall(low)) or b"charset*" in low:
        return False
    if not all(_ASCII_LETTERS.fullmatch(c) for c in _CHARSET.findall(low)):
        return False
    flat = _SOFT_BREAK.sub(b"", low)
    return b"hl1-" not in flat and _KEY_ESCAPE.search(flat) is None


class InboundMail:
    """One inbound message as the receiver reads it (see the module docstring).

    ``refusal``: over an ``[inbound]`` limit, never parsed (then only ``raw`` and
    ``dedupe_key`` are meaningful). ``parse_error``: the parser raised; record it as
    malformed (``dedupe_key`` is then the raw bytes' hash). Otherwise every property below
    reads the one parse.
    """

    def __init__(self, raw: bytes, limits: InboundLimits) -> None:
        self.raw = raw
        self.refusal: LimitRefusal | None = check_inbound(raw, limits)
        self.parse_error: str | None = None
        self.parsed: InboundMessage | None = None
        self._kinds: dict[str | None, str] = {}
        if self.refusal is not None:
            return
        try:
            self.parsed = read_inbound(raw)
        except Exception as exc:
            self.parse_error = f"{type(exc).__name__}: {exc}"
            return
        self.headers: HeaderSource = (
            _FieldHeaders(self.parsed.message)
            if self.parsed.parser == "fast"
            else _MemoHeaders(self.parsed.headers)
        )

    # --- headers: de-duplication and the audit row ---------------------------------------

    @functools.cached_property
    def message_id(self) -> str | None:
        """The Message-ID (stripped), None when absent, unreadable or not parsed."""
        if self.parsed is None:
            return None
        try:
            value = self.headers.get("Message-ID")
            return str(value).strip() if value else None
        except Exception:
            return None

    @functools.cached_property
    def dedupe_key(self) -> str:
        """ "mid:" + the lower-cased Message-ID, else "sha256:" + the raw bytes' hash."""
        if self.refusal is None and self.message_id:
            return "mid:" + self.message_id.lower()
        return "sha256:" + hashlib.sha256(self.raw).hexdigest()

    def header(self, name: str) -> str | None:
        """A header as str (its policy.default value), cut at 500 characters; None when absent,
        unreadable or not parsed (the gateway's ``_safe_header``)."""
        if self.parsed is None:
            return None
        try:
            value = self.headers.get(name)
        except Exception:  # a header the parser could not make sense of
            return None
        return str(value)[:500] if value is not None else None

    @property
    def message(self) -> email.message.Message:
        """The parsed tree (what ``classify_message``/``extract`` take)."""
        assert self.parsed is not None, "not parsed: check refusal and parse_error first"
        return self.parsed.message

    # --- matching ------------------------------------------------------------------------

    @functools.cached_property
    def header_keys(self) -> list[ReplyKey]:
        """Reply keys in the headers (``candidate_keys``)."""
        return candidate_keys(self.headers)

    @functools.cached_property
    def body_ref_keys(self) -> list[ReplyKey]:
        """Reply keys on the body's ``Ref:`` line (``body_ref_keys``)."""
        if self.parsed is None or _no_body_key(self.raw):
            return []
        return body_ref_keys(self.parsed.default_message())

    @property
    def keys(self) -> list[ReplyKey]:
        """The header keys, else the body ``Ref:`` keys (read only when no header has one)."""
        return self.header_keys or self.body_ref_keys

    @functools.cached_property
    def thread_ids(self) -> list[str]:
        """The Message-IDs of the thread (``thread_message_ids``)."""
        return thread_message_ids(self.headers)  # type: ignore[arg-type]

    # --- classification ------------------------------------------------------------------

    def kind(self, thread_subject: str | None = None) -> str:
        """``str(classify_message(tree, thread_subject=…))``."""
        if thread_subject not in self._kinds:
            self._kinds[thread_subject] = str(
                classify_message(self.message, thread_subject=thread_subject)
            )
        return self._kinds[thread_subject]

    @functools.cached_property
    def bounce_ids(self) -> list[str]:
        """The Message-IDs a bounce's report part names; [] when it cannot be read."""
        try:
            return bounce_original_message_ids(self.message)
        except Exception:
            return []

    # --- trust ---------------------------------------------------------------------------

    @functools.cached_property
    def sender(self) -> tuple[str | None, str]:
        """(the sender's address or None, why not) — ``sender_address``."""
        return sender_address(self.headers)

    def dmarc(self, trusted_authserv_id: str, sender: str) -> AuthResult:
        """``dmarc_verdict`` from the trusted server's Authentication-Results."""
        return dmarc_verdict(self.headers, trusted_authserv_id, sender)

    # --- the reply's text ----------------------------------------------------------------

    @functools.cached_property
    def reply_texts(self) -> tuple[str, str]:
        """(for the decision, for the agent), ``Ref:`` lines removed; ("", "") when the
        extraction fails. The decision reads the new text with signatures kept (a retraction
        under them counts) and every quote removed; the agent gets it without signatures."""
        try:
            text = extract_reply_from_message(self.message, for_decision=True)
            answer = extract_reply_from_message(self.message)
        except Exception as exc:  # an empty reading is asked again, never approved
            log.warning("extraction failed: %s", exc)
            return "", ""
        return REF_LINE.sub("", text).strip(), REF_LINE.sub("", answer).strip()

    @functools.cached_property
    def agent_text(self) -> str:
        """The new text for the agent inbox (signatures removed, ``Ref:`` lines removed)."""
        try:
            return REF_LINE.sub("", extract_reply_from_message(self.message)).strip()
        except Exception:
            return ""

    @functools.cached_property
    def full_text(self) -> str:
        """The body a person typed, as plain text, quotes and all ("" when unreadable)."""
        return body_text(self.message)

    @functools.cached_property
    def readings(self) -> list[str]:
        """The new text of every part a reader may see (``decision_readings``)."""
        return decision_readings(self.message)

    def answers_our_email(
        self, *, our_subject: str | None, reply_key: str, approval_code: str | None
    ) -> bool:
        """``replies.thread.answers_our_email`` on this message."""
        assert self.parsed is not None
        return answers_our_email(
            self.parsed.default_message(),
            our_subject=our_subject,
            reply_key=reply_key,
            approval_code=approval_code,
        )


def body_text(msg: email.message.Message) -> str:
    """The first inline text/plain part, else the HTML part as text ("" when none)."""
    try:
        kind, body = reply_body(msg)
    except Exception:
        return ""
    return html_to_text(body) if kind == "html" else body


def read_message(raw: bytes | bytearray | memoryview, limits: InboundLimits) -> InboundMail:
    """The receiver's one read of an inbound message; never raises on bad input (a refusal
    or a parse error is on the result)."""
    return InboundMail(bytes(raw), limits)


async def read_message_off_loop(
    raw: bytes | bytearray | memoryview, limits: InboundLimits
) -> InboundMail:
    """``read_message``, in a worker thread for a message above PARSE_IN_THREAD_BYTES."""
    if len(raw) <= PARSE_IN_THREAD_BYTES:
        return read_message(raw, limits)
    return await asyncio.to_thread(read_message, raw, limits)
