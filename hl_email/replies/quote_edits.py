"""Edits inside our own quoted email: an approval on top, and below it, inside the quote of
the email we sent, a changed amount or a "not" put into one of our lines.

Outlook and some webmail clients quote without ``>`` marks: the quoted email is plain text
under a ``From:/Sent:`` block, and the extraction cannot tell the human's inline edit from our
text. The email we sent can: the quote of it is compared word by word with what we sent
(``difflib`` on word tokens), and what the human added inside it is read. A number that is in
none of our emails, or a signal word (negation, condition, deferral, reject…, in any supported
language) added inside our quoted text, means the approval on top is not the whole answer.

Only our most recent quoted email is compared (from our "reply above this line" marker to the
next reply header or marker): older messages of the thread below it, the human's own earlier
replies among them, are not ours to compare. Pure logic, no I/O.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from .decide import signal_words
from .extract import classify_lines

__all__ = ["edits_in_our_quote"]

_QUOTE_PREFIX_RE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
# Links and addresses are written differently by every client ("Approve<mailto:…>"): not read.
_LINK_RE = re.compile(r"<?(?:mailto:|https?://|www\.)[^\s>]*>?|\S+@\S+", re.I)
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.U)
_ANCHOR = 3  # tokens in a row that must match to count as our text
_MAX_TOKENS = 5000  # of one region: bounded work whatever the quote holds


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(_LINK_RE.sub(" ", text).casefold())


def _our_region(lines: list[str], kinds: str) -> list[str] | None:
    """The lines of our most recent quoted email: after our first marker that has text above
    it, up to the next reply header, header block, forward line or marker."""
    start = kinds.find("m")
    while start >= 0 and "t" not in kinds[:start]:
        start = kinds.find("m", start + 1)  # a marker with nothing above: not a quote yet
    if start < 0:
        return None
    end = len(kinds)
    for i in range(start + 1, len(kinds)):
        if kinds[i] in "bhom":
            end = i
            break
    return [_QUOTE_PREFIX_RE.sub("", line) for line in lines[start + 1 : end]]


def _our_tokens(text: str) -> list[str]:
    """Our email's words after its marker (the quoted copy starts there too)."""
    lines = text.replace("\r\n", "\n").split("\n")
    kinds = classify_lines(lines)
    first = kinds.find("m")
    return _tokens("\n".join(lines[first + 1 :] if first >= 0 else lines))


def _added(region: list[str], ours: list[str]) -> list[str]:
    """The tokens the reply has inside our quoted text that ours has not (between the first
    and the last run of at least _ANCHOR matching tokens)."""
    matcher = difflib.SequenceMatcher(None, region, ours, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= _ANCHOR]
    if not blocks:
        return []
    lo, hi = blocks[0].a, blocks[-1].a + blocks[-1].size
    added: list[str] = []
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            added.extend(region[max(i1, lo) : min(i2, hi)])
    return added


def edits_in_our_quote(body: str, ours: Sequence[str]) -> str | None:
    """What the human changed inside the quote of our email, as a short snippet, or None.

    ``body`` is the reply's whole plain text (new text and quotes), ``ours`` the plain texts
    of the emails we sent in this thread (each with our marker line)."""
    if not ours or "##-" not in body:
        return None
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    region_lines = _our_region(lines, classify_lines(lines))
    if not region_lines:
        return None
    region = _tokens("\n".join(region_lines))[:_MAX_TOKENS]
    best: list[str] | None = None
    vocabulary: set[str] = set()
    for text in ours:
        tokens = _our_tokens(text)[:_MAX_TOKENS]
        vocabulary.update(tokens)
        added = _added(region, tokens)
        if best is None or len(added) < len(best):
            best = added
    if not best:
        return None
    new_numbers = [t for t in best if t[0].isdigit() and t not in vocabulary]
    if new_numbers:
        return " ".join(best)[:80]
    if any(kind in _MEANING for kind, _ in signal_words(" ".join(best))):
        return " ".join(best)[:80]
    return None


# The signal kinds that change what an approval means (a time or a question word may be a
# client writing a date or a heading its own way).
_MEANING = frozenset(
    (
        "sarcasm",
        "retraction",
        "hedge",
        "delegation",
        "deferral",
        "condition",
        "counter_offer",
        "reject",
        "negation",
    )
)
