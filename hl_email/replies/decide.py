"""Intent of a reply's new text: approve, reject (with comment or option), answer, or unclear.

The approval grammar is closed and positive. A reply approves only when

1. its first clause (after a greeting line and thanks) is made of complete approval
   utterances of a supported language ("Yes", "Approved, go ahead", "lgtm", 👍), ending at a
   clause boundary, and
2. nothing anywhere else in the new text is a signal that the answer is not a plain yes:
   negation, condition, deferral, time, delegation, question, counter-offer (a number that is
   not one of the request's arguments), acknowledgement, retraction, hedge, sarcasm, a reject
   word, or words and letters of a language we do not read.

Anything else that is not a clear rejection is ``unclear`` with a ``reason`` naming what was
read ("I read a condition: 'pending legal review'"), and the gateway asks again. The text is
normalised first (NFKC, one apostrophe, no zero-width or bidi characters, no emoji
modifiers), and it is read whole: quotes are removed, but signatures and "Sent from my…"
lines are kept, so a retraction after them counts. The words are in ``lexicon.py``; the
grammar is documented in docs/replies.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .comment import approval_gate, plain_yes, raw_text_gate, signature_spans, unwrap
from .extract import ExtractedText, extract_reply, strip_quoted
from .lexicon import FOREIGN, GREETINGS, LANGUAGES, SIGNAL_KINDS, THANKS, UNIVERSAL

__all__ = ["SUPPORTED_LANGUAGES", "Decision", "decide", "normalise", "signal_words"]

Verdict = Literal["approve", "reject", "answer", "unclear"]

SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(language.code for language in LANGUAGES)


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    comment: str | None = None
    option: str | None = None
    reason: str | None = None


# --- normalisation ---------------------------------------------------------------------------

_APOSTROPHES = "´`ʼ＇‘’′‛ʹʻˈꞌ᾽᾿"
_QUOTES = "“”„‟«»‹›″〝〞＂"
_DASHES = "‐‑‒−﹣－"
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067"
    "\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f\ufe0e\ufe0f\ufeff\u3164\uffa0"
)
_TRANSLATE = (
    {ord(c): "'" for c in _APOSTROPHES}
    | {ord(c): '"' for c in _QUOTES}
    | {ord(c): "-" for c in _DASHES}
    | {ord(c): None for c in _INVISIBLE}
    | {cp: None for cp in range(0x1F3FB, 0x1F400)}  # skin tones
    | {cp: None for cp in range(0xE0020, 0xE0080)}  # tag characters
    | {cp: None for cp in range(0xFE00, 0xFE10)}  # variation selectors
    | {0x2028: "\n", 0x2029: "\n", 0x0085: "\n", 0x000B: "\n", 0x000C: "\n", 0x3000: " "}
)


# An invisible mark inside a word splits it ("ap\u200bprove" is not "approve"): the halves
# are read apart, and joined again only to find a signal ("n\u200bot" is "not").
_IN_WORD_INVISIBLE_RE = re.compile(
    rf"(?<=[^\W_])[{_INVISIBLE}]+(?=[^\W_])".replace("\ufe0e\ufe0f", "")
)


def normalise(text: str) -> str:
    """The text the grammar reads: NFKC, one apostrophe and one quote, no invisible marks."""
    if not text.isascii():
        text = _IN_WORD_INVISIBLE_RE.sub(" ", text)
    # before NFKC too: it turns "´" into a space and a combining accent
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_TRANSLATE)
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATE)


def _unaccented(word: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)
    ).replace("ł", "l")


# --- the lexicon, compiled ---------------------------------------------------------------------

_WORD = r"[^\W_]"  # a letter or digit
_TOKEN_RE = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*'?|[+\-]1(?![\w])")
_CJK_CHAR = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK_CHAR}]")

_SPACED_PHRASES: dict[str, set[str]] = {}
_STEMS: dict[str, list[str]] = {}
_CJK_PHRASES: dict[str, set[str]] = {}
_APPROVE_ATOMS: set[str] = set()
_COURTESY_ATOMS: set[str] = set()
_ALONE: set[str] = set()
_PRONOUNS: set[str] = set()


def _variants(entry: str) -> set[str]:
    entry = normalise(entry).lower()
    if _CJK_RE.search(entry):
        return {entry}  # kana voicing marks are not accents: "ず" is not "す"
    return {entry, _unaccented(entry)}


def _add(table: dict[str, set[str]], entry: str, kind: str) -> None:
    if table is _SPACED_PHRASES:
        # phrases are looked up by their words: "sure, sure" is "sure sure"
        entry = " ".join(m.group(0) for m in _TOKEN_RE.finditer(normalise(entry).lower()))
    for variant in _variants(entry):
        table.setdefault(variant, set()).add(kind)


def _compile_lexicon() -> None:
    for language in LANGUAGES:
        cjk = not language.spaced
        table = _CJK_PHRASES if cjk else _SPACED_PHRASES
        for kind in (*SIGNAL_KINDS, "approve", "courtesy", "neutral"):
            for entry in language.words(kind):
                if not cjk and entry.endswith("*"):
                    for variant in _variants(entry[:-1]):
                        _STEMS.setdefault(kind, []).append(variant)
                    continue
                _add(table, entry, kind)
                if kind == "approve":
                    _APPROVE_ATOMS.update(_variants(entry))
                elif kind == "courtesy":
                    _COURTESY_ATOMS.update(_variants(entry))
        for entry in language.words("alone"):
            _ALONE.update(_variants(entry))
        for entry in language.words("pronouns"):
            _PRONOUNS.update(_variants(entry))
    for kind, words in UNIVERSAL.items():
        for entry in words.split("|"):
            _add(_CJK_PHRASES, entry, kind)  # symbols match as substrings, like CJK
            if kind == "approve":
                _APPROVE_ATOMS.add(entry)
    for entry in FOREIGN.split("|"):
        _add(_SPACED_PHRASES, entry, "foreign")


_compile_lexicon()
# A word that is a yes only alone ("si" is "if", "vale" is "is worth") is never an atom.
_APPROVE_ATOMS -= _ALONE
_COURTESY_ATOMS -= _ALONE
_STEM_TUPLES = {
    kind: tuple(sorted(set(stems), key=len, reverse=True)) for kind, stems in _STEMS.items()
}
_ALL_STEMS = tuple(stem for stems in _STEM_TUPLES.values() for stem in stems)
_MAX_PHRASE_WORDS = max(len(p.split()) for p in _SPACED_PHRASES)
# PERF: the longest phrase that starts with each word; most words start none but themselves
_PHRASE_WORDS_FROM: dict[str, int] = {}
for _phrase in _SPACED_PHRASES:
    _first_word, *_rest_words = _phrase.split()
    _PHRASE_WORDS_FROM[_first_word] = max(
        _PHRASE_WORDS_FROM.get(_first_word, 1), len(_rest_words) + 1
    )


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


# An approval or courtesy atom at one position of the head: spaced words end at a word
# boundary, CJK words and symbols do not need one.
_SPACED_ATOMS = {
    a for a in _APPROVE_ATOMS | _COURTESY_ATOMS if not _CJK_RE.search(a) and re.match(_WORD, a)
}
_OTHER_ATOMS = (_APPROVE_ATOMS | _COURTESY_ATOMS) - _SPACED_ATOMS
_ATOM_RE = re.compile(
    rf"(?:{_alternation(_SPACED_ATOMS | _ALONE)})(?![\w']|-\w)|(?:{_alternation(_OTHER_ATOMS)})",
    re.I,
)
_SEP_RE = re.compile(r"[\s,;:.!…~*_\-–—()]*+")
# After the approval, the first clause must end: a line end, punctuation or a symbol.
_BOUNDARY_RE = re.compile(r"[^\S\n]*+(?:$|\n|[^\w\s'])")
_GREETING_RE = re.compile(
    rf"[^\S\n]*(?:{_alternation(GREETINGS.split('|'))})(?![\w'])"
    r"(?:[^\S\n]+[^\W\d_][\w.'\-]{0,30}){0,3}?[^\S\n]*(?:[,!:.。！、，][^\S\n]*\n?|\n)\s*",
    re.I,
)
_THANKS_RE = re.compile(
    rf"[^\S\n]*(?:{THANKS})"
    # "Thanks for the details!", not "Thanks, approved!"
    r"(?![\w'])(?:[^\S\n]+[^\n.!?。！,，、]{0,60})?[.!。！]+\s*",
    re.I,
)
_ONE_LETTER_RE = re.compile(r"\s*([ynk])\s*[.!]*\s*$", re.I)

_REJECT_ATOMS = set()
for _language in LANGUAGES:
    for _entry in _language.words("reject"):
        _REJECT_ATOMS.update(_variants(_entry))
for _entry in UNIVERSAL["reject"].split("|"):
    _REJECT_ATOMS.add(_entry)
_NEGATORS = {
    w
    for lang in LANGUAGES
    for e in lang.words("negation")
    if not e.endswith("*")
    for w in _variants(e)
}
_SPACED_REJECT = {a for a in _REJECT_ATOMS if re.match(_WORD, a) and not _CJK_RE.search(a)}
_PLAIN_APPROVE = {a for a in _SPACED_ATOMS if a in _APPROVE_ATOMS}
_SOFT = r"[\s,:…\-–—()\[\]\"'*_~.]"
_REJECT_HEAD_RE = re.compile(
    rf"(?:(?:{_alternation(_SPACED_REJECT)})(?![\w'])|(?:{_alternation(_REJECT_ATOMS - _SPACED_REJECT)})"
    # "I do not approve", "I can't really approve", "nicht freigegeben", "не одобряю"
    rf"|(?:(?:{_alternation(_PRONOUNS)})\s+)?(?:{_alternation(_NEGATORS)}|\w+n't)\s+"
    rf"(?:[^\W\d_]+\s+){{0,2}}?(?:{_alternation(_PLAIN_APPROVE)})(?![\w'])"
    rf"|不(?:{_alternation(a for a in _APPROVE_ATOMS if _CJK_RE.match(a))}))",
    re.I,
)

# "Approved — not!", "OK (not)": a rejection, not an approval with a comment
_REVERSED_RE = re.compile(
    rf"(?:{_alternation(_PLAIN_APPROVE)})[^\S\n]*(?:\.{{2,}}|…|-{{1,3}}|[–—,(])[^\S\n]*"
    rf"(?:not|nicht|pas|no|nein|non)(?![\w'])(?=[^\S\n]*[)!.…]*[^\S\n]*(?:$|\n))",
    re.I,
)

_URL_RE = re.compile(r"(?:https?://|www\.)\S{1,500}", re.I)
_DIGIT_RE = re.compile(r"\d")
_EMAIL_DOMAIN_RE = re.compile(r"@[\w\-]{1,63}(?:\.[\w\-]{1,63})+")
_LOCAL_PART = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
_NUMBER_RE = re.compile(r"\d+(?:[.,' ]\d{3})*(?:[.,]\d+)?")
# Lines whose numbers are not offers: phone numbers and "Sent from my iPhone 15".
_PHONE_LINE_RE = re.compile(
    r"^[^\S\n]*(?:[^\W\d_]{1,12}\.?[^\S\n]*[:.]?[^\S\n]*)?\+?[\d(][\d\s().\-/]{6,30}\d[^\S\n]*$",
    re.M,
)
_DEVICE_LINE_RE = re.compile(
    r"^[^\n]{0,40}(?:iphone|ipad|android|samsung|galaxy|pixel|outlook|blackberry|mobile|"
    r"smartphone)[^\n]{0,40}$",
    re.I | re.M,
)
_ALLOWED_LETTERS = (
    "a-z\u00df\u00e0-\u00f6\u00f8-\u00ff\u0105\u0107\u0119\u0142\u0144\u015b\u017a\u017c"
    "\u0153\u0104\u0106\u0118\u0141\u0143\u015a\u0179\u017b\u0152\u0400-\u04ff" + _CJK_CHAR
)
# A letter of no supported language ("ş", "ř", "ő", Greek, Arabic, Hangul…).
_FOREIGN_LETTER_RE = re.compile(rf"[^\W\d_{_ALLOWED_LETTERS}\u00aa\u00ba]", re.I)
_MIXED_SCRIPT_RE = re.compile(r"[a-z][\u0400-\u04ff]|[\u0400-\u04ff][a-z]", re.I)
_WIDE_RUN_RE = re.compile(r"[^\x00-\u1fff]+")
_CJK_LEXICON_RE = re.compile(_alternation(_CJK_PHRASES), re.I)
_CLAUSE_START_CHARS = frozenset("\n.!;:,?()")

_DESCRIPTIONS = {
    "sarcasm": "sarcasm",
    "retraction": "a retraction",
    "hedge": "doubt",
    "acknowledgement": "an acknowledgement, not a decision",
    "delegation": "a hand-over to someone else",
    "deferral": "a deferral",
    "condition": "a condition",
    "counter_offer": "a counter-offer",
    "question": "a question",
    "time": "a time",
    "reject": "a reject word",
    "negation": "a negation",
    "number": "a number that is not in the request",
    "foreign": "a word of a language I don't read",
    "script": "letters of a language I don't read",
    "repeat": "sarcasm",
    "question_anywhere": "a question",
}
_KIND_ORDER = {kind: i for i, kind in enumerate(SIGNAL_KINDS)}


@dataclass(frozen=True, slots=True)
class _Signal:
    kind: str
    start: int
    end: int


# --- reading --------------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0).lower()) for m in _TOKEN_RE.finditer(text)]


class _LazyTokens:
    """The words of a text, read only as far as they are asked for (PERF: the decision
    usually stops at the first signal)."""

    __slots__ = ("_items", "_source")

    def __init__(self, text: str) -> None:
        self._source = _TOKEN_RE.finditer(text)
        self._items: list[tuple[int, int, str]] = []

    def has(self, index: int) -> bool:
        while len(self._items) <= index:
            match = next(self._source, None)
            if match is None:
                return False
            self._items.append((match.start(), match.end(), match.group(0).lower()))
        return True

    def __getitem__(self, index: int | slice) -> Any:
        return self._items[index]


def _clause_start(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in _CLAUSE_START_CHARS


def _lookup(phrase: str) -> set[str] | None:
    kinds = _SPACED_PHRASES.get(phrase)
    if kinds is None and phrase.endswith("'"):
        kinds = _SPACED_PHRASES.get(phrase[:-1])
    if kinds is None and not phrase.isascii():
        plain = _unaccented(phrase)
        if plain != phrase:
            kinds = _SPACED_PHRASES.get(plain)
    return kinds


def _best(kinds: Iterable[str]) -> str:
    return min(kinds, key=lambda k: _KIND_ORDER.get(k, len(_KIND_ORDER)))


# A name under a sign-off ("Viele Grüße\nJan", "Thanks,\nMay Lee") is a name, not a month.
_NAME_KINDS = frozenset({"time", "hedge", "question", "foreign"})
_SIGN_OFF_NAME_RE = re.compile(
    r"^([^\S\n]*[^\W\d_][\w.'\-]*(?:[^\S\n]+[^\W\d_][\w.'\-]*){0,2}[^\S\n]*)$", re.M
)
_SYMBOL_SIGNALS_RE = re.compile(r"(?<![\w/])/s(?![\w])|[?¿？]")


def _name_lines(text: str) -> list[tuple[int, int]]:
    """Spans of short Title-case lines right under a courtesy sign-off line."""
    spans = []
    for match in _SIGN_OFF_NAME_RE.finditer(text):
        line = match.group(1).strip()
        if not all(word[:1].isupper() for word in line.split()):
            continue
        before = text[: match.start()].rstrip("\n")
        previous = before[before.rfind("\n") + 1 :]
        if previous.strip() and _is_courtesy(previous):
            spans.append((match.start(), match.end()))
    return spans


def signal_words(text: str) -> list[tuple[str, str]]:
    """(kind, words) of every signal in ``text``: a negation, condition, deferral, reject
    word, a question… in any supported language (what makes an approval not plain)."""
    text = normalise(text)
    return [(s.kind, text[s.start : s.end]) for s in _signals(text, _masks(text, None))]


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _signals(
    text: str, masked: list[tuple[int, int]], *, first_only: bool = False
) -> Iterator[_Signal]:
    """Every signal word or phrase in ``text`` outside the ``masked`` spans, in text order
    (with ``first_only``, the words are read only up to the first signal).

    Sarcasm counts even inside the approval ("yeah right", "sí, claro")."""
    names = _name_lines(text) if "\n" in text else []
    found = _word_signals(text, masked, names, first_only)
    # PERF: with first_only, the other scans need only read up to the first word signal
    limit = found[0].end if first_only and found else len(text)
    found += _symbol_signals(text, masked, names, limit)
    found.sort(key=lambda s: (s.start, _KIND_ORDER.get(s.kind, len(_KIND_ORDER))))
    yield from found


def _word_signals(
    text: str, masked: list[tuple[int, int]], names: list[tuple[int, int]], first_only: bool
) -> list[_Signal]:
    """Signals of the spaced lexicon: the longest phrase at each word, else a stem or a word
    some client broke in two."""
    found: list[_Signal] = []
    tokens = _LazyTokens(text)
    i = 0
    while tokens.has(i):
        start = tokens[i][0]
        if first_only and found:
            break
        kinds, n = _longest_phrase(tokens, i)
        end = tokens[i + n - 1][1]
        if kinds is not None and "sarcasm" in kinds and not kinds & {"neutral", "courtesy"}:
            found.append(_Signal("sarcasm", start, end))
            i += n
            continue
        if _inside(masked, start, tokens[i][1]):
            i += 1
            continue
        kind: str | None = None
        if kinds is not None:
            if not kinds & {"neutral", "courtesy"}:
                signal_kinds = {k for k in kinds if k != "approve"}
                if "question" in signal_kinds and not _clause_start(text, start):
                    signal_kinds.discard("question")
                if "question_anywhere" in signal_kinds:
                    signal_kinds = (signal_kinds - {"question_anywhere"}) | {"question"}
                if signal_kinds:
                    kind = _best(signal_kinds)
        else:
            kind = _stem_kind(tokens[i][2])
        if kind is None and n == 1 and tokens.has(i + 1):
            kind = _broken_word(tokens[i], tokens[i + 1])
            if kind is not None:
                end = tokens[i + 1][1]
        if kind is not None and not (kind in _NAME_KINDS and _inside(names, start, end)):
            found.append(_Signal(kind, start, end))
        i += n
    return found


def _longest_phrase(tokens: _LazyTokens, i: int) -> tuple[set[str] | None, int]:
    """The kinds of the longest lexicon phrase starting at token ``i`` and its length in
    words (None and 1 when no phrase starts there)."""
    longest = _PHRASE_WORDS_FROM.get(tokens[i][2], 1)
    if longest == 1 and not tokens[i][2].isascii():
        longest = _PHRASE_WORDS_FROM.get(_unaccented(tokens[i][2]), 1)
    for n in range(longest, 0, -1):
        if not tokens.has(i + n - 1):
            continue
        kinds = _lookup(" ".join(t[2] for t in tokens[i : i + n]))
        if kinds is not None:
            return kinds, n
    return None, 1


def _symbol_signals(
    text: str, masked: list[tuple[int, int]], names: list[tuple[int, int]], limit: int
) -> list[_Signal]:
    """Signals of the CJK and symbol lexicon, "/s" and question marks (up to ``limit``), and
    letters of a script no supported language uses (anywhere)."""
    found: list[_Signal] = []
    # PERF: the CJK and symbol lexicon is matched only inside runs of such characters
    runs = _WIDE_RUN_RE.finditer(text, 0, limit) if not text.isascii() else ()
    for run in runs:
        for match in _CJK_LEXICON_RE.finditer(text, run.start(), run.end()):
            kinds = _CJK_PHRASES[match.group(0).lower()]
            if kinds & {"neutral", "courtesy"}:
                continue
            if "sarcasm" not in kinds and _inside(masked, match.start(), match.end()):
                continue
            signal_kinds = [k for k in kinds if k != "approve"]
            if signal_kinds:
                found.append(_Signal(_best(signal_kinds), match.start(), match.end()))
    for match in _SYMBOL_SIGNALS_RE.finditer(text, 0, limit):
        if not _inside(masked, match.start(), match.end()):
            kind = "sarcasm" if match.group(0) == "/s" else "question"
            found.append(_Signal(kind, match.start(), match.end()))
    for pattern in (_FOREIGN_LETTER_RE, _MIXED_SCRIPT_RE):
        match = pattern.search(text)
        if match and not _inside(names, match.start(), match.end()):
            found.append(_Signal("script", match.start(), match.end()))
    return found


def _broken_word(first: tuple[int, int, str], second: tuple[int, int, str]) -> str | None:
    """A signal word split by a space or an invisible mark some client turned into one
    ("n ot", "do n't", "wa it"): read joined when one half is a fragment of two letters."""
    if second[0] - first[1] != 1 or len(first[2]) + len(second[2]) > 24:
        return None
    joined = first[2] + second[2]
    if not (joined in _SPACED_PHRASES or joined.startswith(_ALL_STEMS) or joined.endswith("n't")):
        if joined.isascii() or _unaccented(joined) not in _SPACED_PHRASES:
            return None  # PERF: the joined word is no signal word
    if _lookup(first[2]) is not None and _lookup(second[2]) is not None:
        return None
    kinds = _lookup(joined)
    if kinds is not None:
        signal = {k for k in kinds if k not in ("approve", "courtesy", "neutral", "question")}
        return _best(signal) if signal else None
    return _stem_kind(joined) if len(joined) > 3 else None


def _stem_kind(word: str) -> str | None:
    if word.endswith("n't") and len(word) > 3:
        return "negation"
    plain = word if word.isascii() else _unaccented(word)
    if not (word.startswith(_ALL_STEMS) or plain.startswith(_ALL_STEMS)):
        return None  # PERF: most words start no stem
    for kind in SIGNAL_KINDS:
        stems = _STEM_TUPLES.get(kind)
        if stems and (word.startswith(stems) or plain.startswith(stems)):
            return "question" if kind == "question_anywhere" else kind
    return None


def _numbers(text: str) -> Iterator[tuple[int, int, str]]:
    if not _DIGIT_RE.search(text):
        return  # PERF: most replies hold no number
    skip = [(m.start(), m.end()) for m in _PHONE_LINE_RE.finditer(text)]
    skip += [(m.start(), m.end()) for m in _DEVICE_LINE_RE.finditer(text)]
    for match in _NUMBER_RE.finditer(text):
        if any(s <= match.start() < e for s, e in skip):
            continue
        yield match.start(), match.end(), _canonical_number(match.group(0))


def _canonical_number(value: str) -> str:
    digits = re.sub(r"[.,' ]", "", value).lstrip("0") or "0"
    return digits


def _argument_numbers(arguments: Mapping[str, Any] | None) -> set[str]:
    allowed: set[str] = set()

    def walk(value: Any, depth: int = 0) -> None:
        if depth > 6:
            return
        if isinstance(value, Mapping):
            for v in value.values():
                walk(v, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in value:
                walk(v, depth + 1)
        else:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                allowed.add(_canonical_number(f"{value:.2f}"))
                if float(value).is_integer():
                    allowed.add(_canonical_number(str(int(value))))
            for match in _NUMBER_RE.finditer(str(value)[:2000]):
                allowed.add(_canonical_number(match.group(0)))

    walk(arguments or {})
    return allowed


def _snippet(text: str, start: int, end: int) -> str:
    left = max(text.rfind(c, 0, start) for c in "\n.!?;,")
    right_candidates = [i for i in (text.find(c, end) for c in "\n.!?;,") if i >= 0]
    right = min(right_candidates) if right_candidates else len(text)
    clause = " ".join(text[left + 1 : right].split())
    if not clause:
        clause = " ".join(text[start:end].split())
    if len(clause) > 80:
        word_start = max(0, start - left - 1 - 30)
        clause = "…" + clause[word_start : word_start + 78].strip() + "…"
    return clause


@dataclass(frozen=True, slots=True)
class _Head:
    """The first clause as the grammar read it."""

    start: int  # where the decision starts (after a greeting line and thanks)
    end: int  # end of the approval utterances (== start when there are none)
    atoms: tuple[tuple[int, int], ...]  # spans of approval and courtesy words
    approve: bool  # the first clause is a complete approval
    approve_start: bool  # it starts with an approval word, complete or not
    repeated: tuple[int, int] | None = None  # "yeah yeah", "sure sure"


def _object_words(arguments: Mapping[str, Any] | None) -> frozenset[str]:
    """Words that may name the request right after the approval ("Approve order A-7731")."""
    if not arguments:
        return _PLAIN_OBJECTS
    words = set(_OBJECTS)
    for key, value in (arguments or {}).items():
        for part in (str(key), str(value)[:200]):
            words.update(t[2] for t in _tokens(part.replace("_", " ")))
    return frozenset(w for w in words if _lookup(w) is None or w in _OBJECTS)


_OBJECTS = frozenset(
    "the|this|that|it|these|those|one|request|order|refund|payment|invoice|der|die|das|den|"
    "le|la|les|el|lo|o|a|il|het|dit|dat|ten|ta|to|det|den|это|його|це|її".split("|")
)
_PLAIN_OBJECTS = frozenset(w for w in _OBJECTS if _lookup(w) is None or w in _OBJECTS)
_ALONE_RE = re.compile(r"\s*([^\W\d_]+)(?=[^\S\n]*(?:[.!,]|\n|$))")


def _read_head(text: str, objects: frozenset[str] = _OBJECTS) -> _Head:
    pos = 0
    greeting = _GREETING_RE.match(text, pos)
    if greeting:
        pos = greeting.end()
    thanks = _THANKS_RE.match(text, pos)
    if thanks:
        pos = thanks.end()
    start = pos
    atoms: list[tuple[int, int]] = []
    end = start
    good_atoms = 0
    saw_approve = False
    previous = None
    repeated = None
    for _ in range(16):
        match = _ATOM_RE.match(text, pos)
        if not match:
            break
        word = match.group(0).lower()
        if word in _APPROVE_ATOMS:
            saw_approve = True
            if word == previous and _WORD_START.match(word):
                repeated = (match.start(), match.end())
            previous = word
        atoms.append((match.start(), match.end()))
        pos = match.end()
        if word in _APPROVE_ATOMS:
            # "approve order A-7731", "approve the 120 EUR refund": words of the request
            probe = pos
            for _ in range(6):
                token = _OBJECT_TOKEN_RE.match(text, probe)
                if not token or token.group(1).lower() not in objects:
                    break
                probe = token.end()
            if probe != pos and _BOUNDARY_RE.match(text, probe):
                atoms.append((pos, probe))
                pos = probe
        if saw_approve and _BOUNDARY_RE.match(text, pos):
            end, good_atoms = pos, len(atoms)
        pos = _SEP_RE.match(text, pos).end()  # type: ignore[union-attr]
    approve_start = any(text[s:e].lower() in _APPROVE_ATOMS for s, e in atoms)
    return _Head(start, end, tuple(atoms[:good_atoms]), good_atoms > 0, approve_start, repeated)


_WORD_START = re.compile(_WORD)
_OBJECT_TOKEN_RE = re.compile(r"[^\S\n]+([^\W_]+(?:[\-'][^\W_]+)*)")


def _comment(text: str) -> str | None:
    """The human's words after the decision: leading punctuation, signature and sign-off gone."""
    # punctuation after the verdict word, on its own line only: a "-- " line below is the
    # signature delimiter
    text = re.sub(r"^[^\S\n]*[,.:;!\-–—)、，。！：…]*[^\S\n]*", "", text).lstrip("\n\t ")
    text = "\n" + text if text.startswith("--") else text
    text = extract_reply(text)  # signatures and "Sent from my…" lines
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    # a trailing sign-off ("Thanks,", "Best,\nAnna", "Viele Grüße\nJan Müller")
    for cut in range(max(0, len(lines) - 3), len(lines)):
        if _is_courtesy(lines[cut]) and all(_is_name(line) for line in lines[cut + 1 :]):
            lines = lines[:cut]
            break
    while lines and (not lines[-1].strip() or _is_courtesy(lines[-1])):
        lines.pop()
    comment = "\n".join(lines).strip()
    return comment or None


def _is_courtesy(line: str) -> bool:
    words = line.strip().strip(",.!:;-–— ").lower()
    if not words:
        return False
    if words in _COURTESY_ATOMS:
        return True
    return all(
        part.strip() in _COURTESY_ATOMS for part in re.split(r"[,!.]+", words) if part.strip()
    )


def _is_name(line: str) -> bool:
    stripped = line.strip()
    return not stripped or (
        len(stripped) <= 40 and len(stripped.split()) <= 4 and "?" not in stripped
    )


def _option_label(option: Any) -> tuple[str, str, str]:
    name = str(getattr(option, "name", "") or "")
    title = str(getattr(option, "title", "") or "")
    description = str(getattr(option, "description", "") or "")
    return name, title, description


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s'+-]", " ", text.casefold()).split())


_NUMBER_OPTION_RE = re.compile(
    r"^\s*(?:option\s*|choice\s*|#|nr\.?\s*|no\.\s*)?(\d{1,3})\s*(?:[.):,\-–—]+\s*|$)(.*)$",
    re.I | re.S,
)
_LEADING_PUNCT_RE = re.compile(r"^[\s,.:;!\-–—)、，。！：]+")


def _match_option(text: str, options: Sequence[Any]) -> tuple[Any, str] | None:
    """The option chosen by number (1-based), name or title at the start; with the rest."""
    if not options:
        return None
    first, _, remainder = text.partition("\n")
    number = _NUMBER_OPTION_RE.match(first)
    if number:
        index = int(number.group(1))
        if 1 <= index <= len(options):
            rest = (number.group(2) + ("\n" + remainder if remainder else "")).strip()
            return options[index - 1], rest
    lowered = first.casefold().strip()
    best: tuple[int, Any, str] | None = None
    for option in options:
        for label in _option_label(option)[:2]:
            key = label.casefold().strip()
            if not key:
                continue
            if lowered == key or _norm(first) == _norm(label):
                rest = remainder.strip()
            elif lowered.startswith(key) and not re.match(
                r"[\w'’-]", lowered[len(key) : len(key) + 1]
            ):
                rest = (first.strip()[len(key) :] + ("\n" + remainder if remainder else "")).strip()
            else:
                continue
            if best is None or len(key) > best[0]:
                best = (len(key), option, _LEADING_PUNCT_RE.sub("", rest))
    if best is None:
        return None
    return best[1], best[2]


def _unclear(reason: str) -> Decision:
    return Decision("unclear", reason=reason)


_WITH_YES = {
    "condition": "The approval sounds conditional.",
    "question": "The reply asks a question; approval needs a clear yes.",
    "hedge": "The reply sounds unsure.",
    "negation": "The reply says both yes and no.",
    "reject": "The reply says both yes and no.",
    "retraction": "The reply takes the yes back.",
    "sarcasm": "The reply does not read as a sincere yes.",
    "repeat": "The reply does not read as a sincere yes.",
}
_WITHOUT_YES = {
    "condition": "The reply sounds conditional and has no approve or reject word I can use.",
    "question": "The reply asks a question instead of deciding.",
    "hedge": "The reply sounds unsure.",
}


def _reason(text: str, signal: _Signal | None, approve_start: bool, head: str = "") -> str:
    if signal is None:
        if approve_start:
            return (
                f"The reply does not start with a complete approval ('{head}'); "
                "a plain yes is needed."
            )
        return "The reply has no approve or reject word I can read as a clear answer."
    table = _WITH_YES if approve_start else _WITHOUT_YES
    headline = table.get(
        signal.kind,
        "The reply is not a plain yes."
        if approve_start
        else "The reply has no approve or reject word I can read as a clear answer.",
    )
    if signal.kind == "number":
        read = f"I read {_DESCRIPTIONS['number']}: '{text[signal.start : signal.end]}'"
    else:
        read = f"I read {_DESCRIPTIONS[signal.kind]}: '{_snippet(text, signal.start, signal.end)}'"
    return f"{headline} {read}."


_REASON_SCAN_CHARS = 400
# Longer new text is read only this far; an approval found in it is then not trusted.
_MAX_DECISION_CHARS = 4_000


def _first_signal(
    text: str,
    masked: list[tuple[int, int]],
    allowed_numbers: set[str] | None,
    number_from: int,
) -> _Signal | None:
    best: _Signal | None = None
    for signal in _signals(text, masked, first_only=True):
        best = signal
        break
    for start, end, value in _numbers(text):
        if start < number_from or any(s <= start and end <= e for s, e in masked):
            continue
        if allowed_numbers is None or value not in allowed_numbers:
            if best is None or start < best.start:
                best = _Signal("number", start, end)
            break
    return best


# An inline image as a mail client writes it into the text part: Outlook's "[cid:…]", Gmail's
# "[image: alt text]", Apple Mail's "<image001.png>" (a logo in a signature). The client wrote
# it, not the human: masked for the signal scan, blank for the final gate (comment.py).
# Gmail's alt text is only masked when it is a file name: other alt text may be the human's
# (an emoji or a sticker sent as an image) and is read.
_IMAGE_RE = re.compile(
    r"\[cid:(?=[^\]\s]*[\d@.])[^\]\s]{6,200}\]"  # a content id: image001.png@01D9…, ii_lk8x2
    r"|\[image: ?(?:[\w.-]{1,80}\.(?:png|jpe?g|gif|bmp|svg|webp))?\]"
    r"|<[\w.-]{1,80}\.(?:png|jpe?g|gif|bmp|svg|webp)>",
    re.I,
)


def _masks(text: str, code: str | None) -> list[tuple[int, int]]:
    spans = []
    if "://" in text or "www." in text:
        spans = [(m.start(), m.end()) for m in _URL_RE.finditer(text)]
    if "[cid:" in text or "[image:" in text or ".png>" in text or "<image" in text:
        spans += [(m.start(), m.end()) for m in _IMAGE_RE.finditer(text)]
    if "@" in text:
        # PERF: found from the "@" and walked back, not tried at every position
        for match in _EMAIL_DOMAIN_RE.finditer(text):
            start = match.start()
            while start > 0 and match.start() - start < 64 and text[start - 1] in _LOCAL_PART:
                start -= 1
            if start < match.start():
                spans.append((start, match.end()))
    if code:
        spans += [
            (m.start(), m.end())
            for m in re.finditer(rf"(?<![\w]){re.escape(code)}(?![\w])", text, re.I)
        ]
    return spans


def _decide_approval(
    text: str,
    options: Sequence[Any],
    arguments: Mapping[str, Any] | None,
    approval_code: str | None,
) -> Decision:
    early = _short_answer(text, options, arguments, approval_code)
    if early is not None:
        return early
    masked = _masks(text, approval_code)
    allowed = _argument_numbers(arguments) if arguments is not None else None
    alone = _alone_yes(text, masked, allowed, arguments, approval_code)
    if alone is not None:
        return alone
    objects = _object_words(arguments)
    if approval_code:
        objects |= {approval_code.lower()}  # "APPROVE K7QF3M", as the mailto button writes it
    head = _read_head(text, objects)
    reversed_no = _REVERSED_RE.match(text, head.start)
    if reversed_no:
        return Decision("reject", comment=_comment(text[reversed_no.end() :]))
    if head.approve:
        return _approving_head(text, head, masked, allowed, arguments, approval_code)
    reject = _REJECT_HEAD_RE.match(text, head.start)
    if reject:
        return _rejecting_head(text, head, reject, masked)
    return _no_answer(text, head, masked, allowed)


def _short_answer(
    text: str,
    options: Sequence[Any],
    arguments: Mapping[str, Any] | None,
    approval_code: str | None,
) -> Decision | None:
    """The answers read before the head: no text, too much text, a reject option, a wrapped
    or plain yes ("**Approved**", "No problem, go ahead."), one letter ("y", "n")."""
    if not text.strip():
        return _unclear("The reply has no new text above the quoted message.")
    if len(text) > _MAX_DECISION_CHARS:
        result = _decide_approval(text[:_MAX_DECISION_CHARS], options, arguments, approval_code)
        if result.verdict == "approve":
            return _unclear("The reply is too long to read as a clear approval.")
        return result
    chosen = _match_option(text, options)
    if chosen is not None:
        option, rest = chosen
        name, title, description = _option_label(option)
        return Decision("reject", comment=rest or title or description or None, option=name)

    # "**Approved**", "Yesss"; "No problem, go ahead.", "没问题" (closed list, comment.py)
    unwrapped = unwrap(text)
    if unwrapped != text:
        return _decide_approval(unwrapped, options, arguments, approval_code)
    plain = plain_yes(text, arguments=arguments, approval_code=approval_code)
    if plain is not None:
        return Decision("approve", comment=None) if plain == "ok" else _unclear(plain)

    one_letter = _ONE_LETTER_RE.match(text)
    if one_letter and not approval_code:
        if one_letter.group(1).lower() in "yk":
            return Decision("approve")
        return Decision("reject")
    return None


def _alone_yes(
    text: str,
    masked: list[tuple[int, int]],
    allowed: set[str] | None,
    arguments: Mapping[str, Any] | None,
    approval_code: str | None,
) -> Decision | None:
    """ "Si", "Vale": a yes only when nothing but a signature follows (None: read on)."""
    alone = _ALONE_RE.match(text)
    if not (alone and alone.group(1).lower() in _ALONE and not approval_code):
        return None
    rest = text[alone.end() :]
    spans = [*masked, (alone.start(1), alone.end(1))]
    if _comment(rest) is None and _first_signal(text, spans, allowed, alone.end()) is None:
        gate = approval_gate(
            text, alone.end(1), alone.end(1), arguments=arguments, approval_code=None
        )
        return Decision("approve") if gate is None else _unclear(gate)
    return None


def _approving_head(
    text: str,
    head: _Head,
    masked: list[tuple[int, int]],
    allowed: set[str] | None,
    arguments: Mapping[str, Any] | None,
    approval_code: str | None,
) -> Decision:
    """The reply opens with an approval: it holds only with no signal after it, the
    approval code where one is asked for, and nothing but closed-gate text around it."""
    masked += list(head.atoms)
    # the signature lines the closed gate accepts ("VP Ops") are not read for signals
    contact = list(masked)  # addresses and URLs, for the gate
    masked += signature_spans(text, head.start, head.end, arguments=arguments)
    if head.repeated:
        return _unclear(_reason(text, _Signal("repeat", *head.repeated), True))
    signal = _first_signal(text, masked, allowed, head.end)
    if signal is not None:
        return _unclear(_reason(text, signal, True))
    if approval_code and not re.search(rf"(?<![\w]){re.escape(approval_code)}(?![\w])", text, re.I):
        return _unclear(
            "The reply approves but does not carry this request's approval code; "
            "reply with APPROVE and the code shown in the email."
        )
    rest = text[head.end :]
    if approval_code:
        rest = re.sub(rf"(?<![\w]){re.escape(approval_code)}(?![\w])", "", rest, flags=re.I)
    # the last gate: after the approval only thanks, sign-offs, signatures, harmless
    # phrases and words of the request (comment.py); anything else is asked again
    gate = approval_gate(
        text,
        head.start,
        head.end,
        arguments=arguments,
        approval_code=approval_code,
        masked=contact,
    )
    if gate is not None:
        return _unclear(gate)
    return Decision("approve", comment=_comment(rest))


def _rejecting_head(
    text: str, head: _Head, reject: re.Match[str], masked: list[tuple[int, int]]
) -> Decision:
    """The reply opens with a no: a rejection, unless a hedge starts it or a yes follows."""
    # only a hedge that starts the reply matters here ("No problem", "Not sure")
    first = next(iter(_signals(text[: reject.end() + 80], masked, first_only=True)), None)
    if (
        first is not None
        and first.start <= head.start + 1
        and first.kind
        in (
            "hedge",
            "retraction",
            "deferral",
            "sarcasm",
        )
        and first.end > reject.end() - 1
    ):
        return _unclear(_reason(text, first, False))
    rest = text[reject.end() :]
    yes = _approval_in(rest)
    if yes is not None:
        start = reject.end() + yes[0]
        return _unclear(
            f"The reply says both no and yes. I read "
            f"'{_snippet(text, start, reject.end() + yes[1])}' after "
            f"'{' '.join(text[head.start : reject.end()].split())}'."
        )
    return Decision("reject", comment=_comment(rest))


def _no_answer(
    text: str, head: _Head, masked: list[tuple[int, int]], allowed: set[str] | None
) -> Decision:
    """Neither an approval nor a no opens the reply: unclear, with the reason read."""
    if head.end == head.start and not head.approve_start:
        if all(
            text[s:e].lower() in _COURTESY_ATOMS for s, e in _atom_spans(text, head.start)
        ) and not _TOKEN_RE.search(text, _after_atoms(text, head.start)):
            return _unclear("The reply has no approve or reject word (only greetings or thanks).")
    # the verdict is unclear whatever follows: the reason needs only the first signal, and
    # PERF: a long non-answer (a bounce, a letter) gets the general reason unread
    signal = None
    if len(text) <= _REASON_SCAN_CHARS or head.approve_start:
        signal = _first_signal(text[:_REASON_SCAN_CHARS], masked, allowed, 0)
    first_clause = " ".join(text[head.start :].split("\n", 1)[0].split())[:60]
    return _unclear(_reason(text, signal, head.approve_start, first_clause))


def _atom_spans(text: str, pos: int) -> list[tuple[int, int]]:
    spans = []
    for _ in range(16):
        match = _ATOM_RE.match(text, pos)
        if not match:
            break
        spans.append((match.start(), match.end()))
        pos = _SEP_RE.match(text, match.end()).end()  # type: ignore[union-attr]
    return spans


def _after_atoms(text: str, pos: int) -> int:
    spans = _atom_spans(text, pos)
    return spans[-1][1] if spans else pos


_NEGATED_BEFORE_RE = re.compile(
    rf"(?:(?<![\w'])(?:{_alternation(_NEGATORS)})|n't|不|没|沒|别|別)(?:[^\S\n]+[^\W\d_]+){{0,2}}[^\S\n]*$",
    re.I,
)


def _approval_in(rest: str) -> tuple[int, int] | None:
    """The first approval word in a rejection's comment that no negation governs."""
    tokens = _tokens(rest)
    i = 0
    while i < len(tokens):
        for n in range(min(4, len(tokens) - i), 0, -1):
            phrase = " ".join(t[2] for t in tokens[i : i + n])
            if phrase in _APPROVE_ATOMS and phrase not in _COURTESY_ATOMS:
                start, end = tokens[i][0], tokens[i + n - 1][1]
                if not _NEGATED_BEFORE_RE.search(rest[max(0, start - 40) : start]):
                    return start, end
                i += n - 1
                break
        i += 1
    for atom in _OTHER_ATOMS & _APPROVE_ATOMS:
        index = rest.find(atom)
        if index >= 0 and not _NEGATED_BEFORE_RE.search(rest[max(0, index - 40) : index]):
            return index, index + len(atom)
    return None


def _decide_question(text: str, options: Sequence[Any]) -> Decision:
    if not text:
        return _unclear("The reply has no new text above the quoted message.")
    chosen = _match_option(text[:_MAX_DECISION_CHARS], options)
    if chosen is not None:
        option, _rest = chosen
        return Decision("answer", comment=text, option=_option_label(option)[0])
    return Decision("answer", comment=text)


# A classifier may make an unclear reply clearer, never into an approval.
_CLASSIFIER_VERDICTS = {"approval": ("reject", "unclear"), "question": ("answer", "unclear")}


def decide(
    text: str,
    *,
    kind: str = "approval",
    options: Sequence[Any] = (),
    arguments: Mapping[str, Any] | None = None,
    approval_code: str | None = None,
    classifier: Callable[[str], Decision | None] | None = None,
) -> Decision:
    """Decide what a reply's new ``text`` means for a request of ``kind``.

    ``kind`` is "approval" (verdict approve/reject/unclear) or "question" (answer/unclear).
    ``options`` are response options (objects with ``name``, ``title``, ``description``),
    chosen by number (1-based), name or title. ``arguments`` are the request's arguments: a
    number in an approval that is not one of them is a counter-offer (without ``arguments``
    every number is). With ``approval_code`` an approval must also carry that code.
    ``classifier`` is consulted only when the result is unclear; it may turn it into a
    rejection, an answer or a better reason — never into an approval.
    """
    # an approval is read whole (a retraction after the signature counts); an answer is
    # handed to the agent without the signature
    if type(text) is ExtractedText:
        # PERF: already new text (its signatures were stripped by the caller's choice, and
        # extracting again with them kept cannot bring them back)
        extracted = text
    else:
        extracted = extract_reply(normalise(text or ""), strip_signatures=kind == "question")
    if len(extracted) > 2 * _MAX_DECISION_CHARS:
        # only the start is read; the marker keeps an approval from being trusted
        extracted = extracted[: 2 * _MAX_DECISION_CHARS] + "\n" + "…" * _MAX_DECISION_CHARS
    new_text = normalise(strip_quoted(extracted)).strip()
    options = tuple(options or ())
    if kind == "question":
        result = _decide_question(new_text, options)
    else:
        result = _decide_approval(new_text, options, arguments, approval_code)
    if result.verdict == "unclear" and classifier is not None and new_text:
        try:
            suggestion = classifier(new_text)
        except Exception:
            suggestion = None
        allowed = _CLASSIFIER_VERDICTS.get(kind, _CLASSIFIER_VERDICTS["approval"])
        if isinstance(suggestion, Decision) and suggestion.verdict in allowed:
            if suggestion.verdict == "unclear":
                return Decision("unclear", reason=suggestion.reason or result.reason)
            return suggestion
    if result.verdict == "approve":
        # bidi overrides, and a quote without ">" under a leading reply header (comment.py)
        raw = raw_text_gate(text or "", quotes=type(text) is not ExtractedText)
        if raw is not None:
            return _unclear(raw)
    return result
