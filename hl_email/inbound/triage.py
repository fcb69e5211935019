"""Headers first: can this message be ours, or do its headers alone decide its stored outcome?

Pure (bytes in, a verdict out). The IMAP watcher fetches the header block, the size and one
server-side body search per chunk; mail that cannot answer a request, whose outcome the body
cannot change, is recorded without fetching its body. Everything else is fetched and walks the
full inbound path. When in doubt, fetch: a needless fetch costs time, a wrong guess an outcome.

Why the outcome then equals the full path's (``Receiver.walk`` in inbound/receiver.py):
- No reply key in any header (raw or decoded) and none in the body (the server's SEARCH BODY
  for ``hl1-`` did not match): the full path's keys are empty, so the classifier runs without a
  thread subject, no request is looked up, and the outcome is ``not_human_answer(kind)`` for any
  kind that is not human or bounce (human goes to the agent inbox, bounce to
  ``mail_kinds.bounce``).
- The classifier, run on the header block alone, found such a kind, and no body rule can come
  first: one text part (the part types are the header's), a sender and subject that are no
  bounce's (bounce rules read the body), and no ``notificationType`` in the body (the no-reply
  sender rule reads it for SES bounces). The body rules left come after every header rule.
- No ``[inbound]`` limit can refuse it: the size from the server, the header checks on the
  same header block, and no ``multipart/`` in the body (the structure check reads body lines).
- A Message-ID, so the de-duplication key does not need the raw bytes' hash.
"""

from __future__ import annotations

import email
import email.policy
import functools
import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

from ..core.tokens import find_reply_keys
from ..limits import InboundLimits, check_inbound

# The classifier's own patterns and header reader (private names on purpose): which senders
# and subjects make it read the body, read exactly as it reads them.
from ..replies.classify import (
    _BOUNCE_SENDER_RE,
    _BOUNCE_SUBJECT_RE,
    MessageKind,
    _Headers,
    _heuristic_subject,
    classify_message,
)
from ..replies.match import candidate_keys
from ..replies.parse import _HEADER_BLOCK_RE, HeaderSource, _fast_tree

__all__ = [
    "BODY_SEARCH_TERMS",
    "HeaderView",
    "lanes",
    "read_headers",
    "unfetched_kind",
]

# A message whose body contains any of these (SEARCH BODY: case-insensitive substring of the
# decoded text) needs its body: a reply key (`Ref:` line), a multipart declaration (limits), an
# SES notification (the classifier's no-reply sender rule).
BODY_SEARCH_TERMS = ("hl1-", "multipart/", "notificationType")

_SKIPPABLE = {
    MessageKind.AUTO_REPLY,
    MessageKind.LIST,
    MessageKind.SPAM,
    MessageKind.FEEDBACK_REPORT,
}
# One text part, read from the raw (lower-cased) header lines, strictly: anything else (two
# Content-Type lines, folding, comments, other parameters) is fetched. The charsets keep ASCII
# bytes ASCII, so the server's body search sees what our parser sees.
_CONTENT_TYPE_LINE = re.compile(rb"^content-type[ \t]*:(.*)$", re.M)
_SIMPLE_TEXT_TYPE = re.compile(
    rb"[ \t]*text/(?:plain|html)[ \t]*"
    rb"(?:;[ \t]*(?:charset=\"?(?:us-ascii|utf-8|iso-8859-\d{1,2}|windows-125\d)\"?"
    rb"|format=\"?(?:flowed|fixed)\"?|delsp=\"?(?:yes|no)\"?)[ \t]*)*;?[ \t]*\r?"
)
_CTE_LINE = re.compile(rb"^content-transfer-encoding[ \t]*:(.*)$", re.M)
_SIMPLE_CTE = re.compile(rb"[ \t]*(?:7bit|8bit|binary|quoted-printable|base64)[ \t]*\r?")
_FOLDED = re.compile(rb"^(?:content-type|content-transfer-encoding)[ \t]*:.*\r?\n[ \t]", re.M)
_ENCODED_WORD = re.compile(rb"=\?[^?\s]*\?[bBqQ]\?")
_QP_SOFT_BREAK = re.compile(rb"=\r?\n")
_FROM_LINE = re.compile(rb"^from[ \t]*:([^\r\n]*)", re.M)
_HIDING = re.compile(rb"base64|utf-16|utf-32|utf-7|ucs-2", re.I)


@functools.lru_cache(maxsize=4096)
def _header_object(name: str, value: str) -> Any:
    return email.policy.default.header_fetch_parse(name, value)


class _CachingPolicy(email.policy.EmailPolicy):
    """`email.policy.default` (what the gateway parses with), but each (name, value) is made
    into a header object once: those objects are immutable and a function of the two alone, and
    the mail of one sender repeats most of its headers (List-Id, Precedence, Content-Type)."""

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and len(value) < 1024:
            return _header_object(name, value)
        return super().header_fetch_parse(name, value)


_POLICY = _CachingPolicy()


class _FieldHeaders:
    """``get``/``get_all`` of a compat32 tree's fields as a ``policy.default`` message answers
    them (header objects made once per (name, value), as ``_POLICY`` makes them)."""

    __slots__ = ("_fields",)

    def __init__(self, msg: Message) -> None:
        self._fields = msg._headers  # noqa: SLF001 - the raw (name, value) pairs

    def raw(self, name: str) -> str | None:
        """The first field's raw value (None: absent, or not a str)."""
        for key, value in self._fields:
            if key.lower() == name:
                return value if isinstance(value, str) else None
        return None

    def get(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        for key, value in self._fields:
            if key.lower() == name:
                return _POLICY.header_fetch_parse(key, value)
        return failobj

    def get_all(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        found = [_POLICY.header_fetch_parse(k, v) for k, v in self._fields if k.lower() == name]
        return found or failobj


@dataclass(frozen=True)
class HeaderView:
    """One message's header block, parsed once: ``msg`` is the tree the classifier reads (as
    the full inbound path's), ``headers`` answers as a ``policy.default`` message does."""

    block: bytes
    msg: Message
    headers: HeaderSource
    defective: bool  # the stdlib parser notes a defect in this block (its msg.defects)
    dedupe_key: str | None  # "mid:…" as the gateway computes it; None: hash of the raw bytes
    message_id: str | None

    def header(self, name: str) -> str | None:
        if isinstance(self.headers, _FieldHeaders) and name.lower() == "subject":
            raw = self.headers.raw("subject")
            if raw is not None and _PLAIN_TEXT.fullmatch(raw) and "=?" not in raw:
                return raw[:500]  # an unstructured header of plain text reads as itself
        try:
            value = self.headers.get(name)
        except Exception:
            return None
        return str(value)[:500] if value is not None else None


# Values whose policy.default reading is the raw value itself: plain printable ASCII (no
# encoded word, no folding) for an unstructured header, a plain <local@domain> Message-ID.
_PLAIN_TEXT = re.compile(r"[\x20-\x7e]*")
_PLAIN_MESSAGE_ID = re.compile(r"<[A-Za-z0-9._%+=-]{1,200}@[A-Za-z0-9.-]{1,200}>")

_MIME_CONTAINER = re.compile(r"multipart|message", re.I)


def _plain_block_tree(block: bytes) -> Message | None:
    """Our parser's tree of a plain header block: every line a field or its continuation,
    then the blank line and nothing else, and no multipart or message type (the stdlib parser
    notes no defect in such a block: its defects come from odd lines and from a multipart or
    message body). None for anything else: the stdlib parser reads it."""
    text = block.decode("ascii", "surrogateescape").replace("\r\n", "\n")
    if "\r" in text or text[:1] in ("", " ", "\t", "\n") or text.startswith("From "):
        return None
    end = text.find("\n\n") + 1
    if end != len(text) - 1 or _HEADER_BLOCK_RE.match(text, 0, end).end() != end:
        return None
    tree = _fast_tree(block)
    if tree is None or any(_MIME_CONTAINER.search(v) for v in tree.get_all("Content-Type", [])):
        return None
    return tree


def read_headers(block: bytes) -> HeaderView:
    tree = _plain_block_tree(block)
    if tree is not None:
        msg, headers, defective = tree, _FieldHeaders(tree), False
    else:
        msg = email.message_from_bytes(block, policy=_POLICY)
        headers, defective = msg, bool(msg.defects)
    message_id = None
    plain = headers.raw("message-id") if isinstance(headers, _FieldHeaders) else None
    if plain is not None and _PLAIN_MESSAGE_ID.fullmatch(plain):
        message_id = plain
    else:
        try:
            value = headers.get("Message-ID")
            message_id = str(value).strip() if value else None
        except Exception:
            message_id = None
    key = "mid:" + message_id.lower() if message_id else None
    return HeaderView(block, msg, headers, defective, key, message_id)


def within_limits(view: HeaderView, size: int, limits: InboundLimits) -> bool:
    """No [inbound] limit that reads the headers or the size refuses this message."""
    # slack at the size limit: the server's size and the fetched length must not disagree there
    if size > limits.max_message_bytes - 1024:
        return False
    return check_inbound(view.block, limits) is None and not view.defective


def unfetched_kind(
    view: HeaderView, size: int, limits: InboundLimits, body_hit: bool
) -> MessageKind | None:
    """The classifier's kind when the headers decide the outcome (see the module docstring);
    None: fetch the body. `body_hit`: the server found a BODY_SEARCH_TERMS string in it."""
    if body_hit or view.dedupe_key is None or not within_limits(view, size, limits):
        return None
    msg = view.msg
    lowered = view.block.lower()
    if b"hl1-" in lowered or not _simple_text(lowered):
        return None
    # a key can hide from the byte scan only in an encoded word or a quoted-pair
    if (b"=?" in lowered or b"\\" in lowered) and candidate_keys(view.headers):
        return None
    try:
        headers = _Headers(msg)
        sender = headers.get("from", "") or ""
        subject = _heuristic_subject(headers.get("subject", "") or "", None)
    except Exception:
        return None
    if _BOUNCE_SENDER_RE.search(sender) or _BOUNCE_SUBJECT_RE.search(subject):
        return None
    kind = classify_message(msg)
    return kind if kind in _SKIPPABLE else None


def _simple_text(lowered: bytes) -> bool:
    """The (lower-cased) header block declares one text/plain or text/html part, plainly."""
    if _FOLDED.search(lowered):
        return False
    types = _CONTENT_TYPE_LINE.findall(lowered)
    if len(types) > 1 or (types and not _SIMPLE_TEXT_TYPE.fullmatch(types[0])):
        return False
    encodings = _CTE_LINE.findall(lowered)
    return len(encodings) <= 1 and all(_SIMPLE_CTE.fullmatch(e) for e in encodings)


def lanes(raw: bytes) -> frozenset[str] | None:
    """What a message could touch, for ordering: the request ids of any reply key in it (header
    or body); without one, its sender ("from:…": mail to the agent inbox stays in order per
    person). None when a key could hide from this scan (encoded words, base64, wide charsets):
    such a message is ordered against every other. Messages sharing a lane go in UID order."""
    if _HIDING.search(raw) or _ENCODED_WORD.search(raw):
        return None
    raw = _QP_SOFT_BREAK.sub(b"", raw)
    lowered = raw.lower()
    if b"hl1-" in lowered:
        keys = frozenset(key.request_id for key in find_reply_keys(raw.decode("latin-1")))
        if keys:
            return keys
    sender = _FROM_LINE.search(lowered)
    return frozenset({"from:" + (sender.group(1).strip().decode("latin-1") if sender else "")})
