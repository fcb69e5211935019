"""The closed reading of what may follow an approval (the last gate before ``approve``).

``decide`` reads the approval head with a closed grammar ("Approved.", "Yes,", "はい、") and
looks for signals (negation, condition, deferral…) to give a good reason. A signal list can
never be complete, so this module closes the rest of the text too: after the head, the new
text (signatures kept) may hold only

* thanks, greetings, sign-offs and a short closed list of harmless comment phrases per
  supported language (``benign.py``: "thanks for checking", "good catch", "schönes
  Wochenende"…),
* name and signature lines at the end (a name under a sign-off or a ``-- `` line, a job
  title, a company, a phone number, an address, an e-mail address or URL, "Sent from my
  iPhone"),
* words naming the request: short argument values and keys ("order A-7731", "ACME GmbH"),
  the request's amount (the very number, read the same in every notation, with the
  request's own currency).

Any other word, number or symbol makes the verdict ``unclear`` with a reason that quotes it.
The head itself is checked too: an object word must be a word of this request. Pure logic,
no I/O.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from .benign import (
    BENIGN,
    BENIGN_EMOJI,
    CONNECTORS,
    DEVICE_WORDS,
    LEGAL_SUFFIXES,
    NOT_NAMES,
    REQUEST_VERBS,
    SENT_FROM,
    STREET_WORDS,
    TITLE_WORDS,
)
from .lexicon import LANGUAGES

__all__ = ["approval_gate", "raw_text_gate"]

_ASK = "Reply APPROVE alone to approve as asked, or REJECT with your reason."
_ASK_CODE = "Reply APPROVE with the code alone to approve as asked, or REJECT with your reason."

_PLACEHOLDER = "\ue000"  # an e-mail address or URL, read as contact information
_NUMBER_TOKEN = "\ue001"  # the request's own amount

# bidi embeddings, overrides and isolates: what is shown is not what is stored
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _decide_module() -> Any:
    return sys.modules[__package__ + ".decide"]


def _split(words: str) -> list[str]:
    return [w.strip() for w in words.split("|") if w.strip()]


def _plain(word: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)
    ).replace("ł", "l")


# The benign entries that close a message (a name may follow them: "Thanks, Anna").
_SIGN_OFF_RE = re.compile(
    r"thank|thanks|thx|^ty$|regards|^best|cheers|sincerely|yours|warmly|take care|^br$|^rgds$|"
    r"^kr$|gru(ß|ss)|grü(ß|ss)e|danke|dank|merci|cordialement|salutations|amicalement|bises|"
    r"saludos|saludo|gracias|atentamente|abraço|abrazo|obrigad|atenciosamente|cumprimentos|"
    r"grazie|saluti|groet|bedankt|pozdrawiam|dzięki|dziękuję|poważaniem|hälsning|tack|hilsen|"
    r"^tak|takk|^mvh$|^mvg$|^lg$|^vg$|^mfg$|^bg$|спасибо|уважением|благодарю|дякую|повагою|"
    r"谢谢|謝謝|多谢|多謝|感谢|感謝|祝好|此致|ありがとう|よろしく|宜しく|お疲れ"
)


@lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    d = _decide_module()
    phrases: set[str] = set()  # spaced phrases, as their words joined by one space
    cjk: set[str] = set()

    def add(entry: str) -> None:
        entry = d.normalise(entry).lower().strip()
        if not entry:
            return
        if d._CJK_RE.search(entry):
            cjk.add(entry)
            return
        joined = " ".join(m.group(0) for m in d._TOKEN_RE.finditer(entry))
        if joined:
            phrases.add(joined)
            phrases.add(_plain(joined))

    for language in LANGUAGES:
        for kind in ("approve", "courtesy", "neutral"):
            for entry in language.words(kind):
                if not entry.endswith("*"):
                    add(entry)
    for entries in BENIGN.values():
        for entry in _split(entries):
            add(entry)
    alone = {w for lang in LANGUAGES for w in lang.words("alone")}
    phrases -= alone
    cjk -= alone
    courtesy = set()
    for language in LANGUAGES:
        for entry in language.words("courtesy"):
            if _SIGN_OFF_RE.search(entry):
                courtesy.add(" ".join(m.group(0) for m in d._TOKEN_RE.finditer(entry.lower())))
    for entries in BENIGN.values():
        for entry in _split(entries):
            if _SIGN_OFF_RE.search(entry):
                courtesy.add(" ".join(m.group(0) for m in d._TOKEN_RE.finditer(entry.lower())))
    head_words = set()
    for atom in d._APPROVE_ATOMS | d._COURTESY_ATOMS:
        head_words.update(m.group(0) for m in d._TOKEN_RE.finditer(atom))
    return {
        "phrases": frozenset(phrases),
        "max_words": max(len(p.split()) for p in phrases),
        "cjk": tuple(sorted(cjk, key=len, reverse=True)),
        "courtesy": frozenset(courtesy),
        "connectors": frozenset(_split(CONNECTORS)),
        "emoji": tuple(sorted(_split(BENIGN_EMOJI), key=len, reverse=True)),
        "device": frozenset(_split(DEVICE_WORDS)),
        "titles": frozenset(_split(TITLE_WORDS)),
        "legal": frozenset(_split(LEGAL_SUFFIXES)),
        "streets": frozenset(_split(STREET_WORDS)),
        "not_names": frozenset(_split(NOT_NAMES)),
        "head_words": frozenset(head_words | alone),
        "verbs": frozenset(_split(REQUEST_VERBS)),
        "sent_from_re": re.compile(
            r"^\s*(?:" + "|".join(re.escape(s) for s in _split(SENT_FROM)) + r")(?![\w])",
            re.I,
        ),
    }


# --- numbers: the request's own amount, read the same in every notation --------------------

_AMOUNT_KEYS = ("amount", "total", "sum", "price", "cost", "value")
_CURRENCY_WORDS = {
    "eur": "eur|euro|euros|€",
    "usd": "usd|dollar|dollars|us$|$",
    "gbp": "gbp|pound|pounds|£",
    "chf": "chf|franken|francs",
    "jpy": "jpy|yen|円|¥",
    "cny": "cny|rmb|yuan|元|¥",
    "pln": "pln|zł|zloty|złoty|zlotys",
    "sek": "sek|kr|kronor",
    "dkk": "dkk|kr|kroner",
    "nok": "nok|kr|kroner",
    "rub": "rub|руб|рублей|₽",
    "uah": "uah|грн|гривень|₴",
    "inr": "inr|rupees|₹",
    "brl": "brl|reais|r$",
    "mxn": "mxn|pesos",
    "czk": "czk|kč",
    "huf": "huf|ft",
    "cad": "cad|$|dollars",
    "aud": "aud|$|dollars",
}


def _readings(number: str) -> set[Decimal] | None:
    """Every value ``number`` may mean ("50.000" is 50 or 50000); None if it is no number."""
    compact = number.replace(" ", "").replace("'", "\u00a0")
    if "\u00a0" in compact:  # a space or apostrophe groups thousands only
        groups = compact.split("\u00a0")
        if all(len(g) == 3 for g in groups[1:]):
            return _readings("".join(groups))
        return None
    seps = [c for c in compact if c in ".,"]
    try:
        if not seps:
            return {Decimal(compact)}
        if len(set(seps)) == 2:
            decimal_sep = compact[max(compact.rfind("."), compact.rfind(","))]
            group_sep = "," if decimal_sep == "." else "."
            whole, _, frac = compact.rpartition(decimal_sep)
            groups = whole.split(group_sep)
            if decimal_sep in whole or not all(len(g) == 3 for g in groups[1:]):
                return None
            return {Decimal("".join(groups) + "." + frac)}
        sep = seps[0]
        groups = compact.split(sep)
        values = set()
        if all(len(g) == 3 for g in groups[1:]):
            values.add(Decimal("".join(groups)))
        if len(groups) == 2:
            values.add(Decimal(groups[0] + "." + groups[1]))
        return values or None
    except InvalidOperation:
        return None


def _amounts(arguments: Mapping[str, Any] | None) -> set[Decimal]:
    if not arguments:
        return set()
    numeric = {
        str(k).lower(): v
        for k, v in arguments.items()
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)
    }
    chosen = [v for k, v in numeric.items() if any(a in k for a in _AMOUNT_KEYS)]
    if not chosen and len(numeric) == 1:
        chosen = list(numeric.values())
    values = set()
    for value in chosen:
        try:
            values.add(Decimal(str(value)))
        except InvalidOperation:
            continue
    return values


def _currency_words(arguments: Mapping[str, Any] | None) -> set[str]:
    if not arguments:
        return set()
    words: set[str] = set()
    for key, value in arguments.items():
        if "currency" in str(key).lower() and isinstance(value, str):
            code = value.strip().lower()
            words.add(code)
            words.update(_split(_CURRENCY_WORDS.get(code, "")))
    return words


def _request_words(arguments: Mapping[str, Any] | None) -> set[str]:
    """Words that name this request: argument keys and short argument values."""
    d = _decide_module()
    words: set[str] = set()
    for key, value in (arguments or {}).items():
        words.update(t.lower() for t in d._TOKEN_RE.findall(str(key).replace("_", " ")))
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, str) and len(value) <= 60 and len(value.split()) <= 5:
            text = d.normalise(value).replace("_", " ")
            words.update(t.lower() for t in d._TOKEN_RE.findall(text))
            words.add(d.normalise(value).strip().lower())
    # a bare number names nothing: amounts are read by the number rule
    return {w for w in words if not w.replace("-", "").isdigit()}


# "the", "this", "it": words that point at the request
_DETERMINERS = frozenset(
    "the|this|that|it|these|those|one|request|der|die|das|den|dem|es|le|la|les|l'|ce|cela|"
    "el|lo|esto|eso|o|a|os|as|isso|isto|il|lo|questo|het|dit|dat|ten|ta|to|det|den|это|"
    "його|це|її".split("|")
)
_GENERIC_OBJECTS = frozenset({"refund", "payment", "invoice"})
# names the lexicon also holds as a signal word of another language ("marco" is "março")
_NAMES_THAT_ARE_WORDS = frozenset({"marco", "jan"})


# --- lines ----------------------------------------------------------------------------------

_DELIMITER_RE = re.compile(r"^\s*(?:-{2,3}|[—–]{1,2}|_{2,}|={2,}|\*{3,}|~{2,})\s*$")
_PHONE_RE = re.compile(
    r"^\s*(?:(?:t|tel|tél|phone|ph|p|mobile|mob|m|cell|c|fax|f|o|office|direct|d|w|work|"
    r"telefon|telefono|teléfono|telefone|handy|mobil|portable|móvil|celular|cellulare|тел|"
    r"моб)\.?\s*[:.]?\s*)?\+?[\d(][\d\s().\-/]{5,30}\d\s*(?:\((?:ext|x)\.?\s*\d{1,6}\))?\s*$",
    re.I,
)
_CJK_DEVICE_RE = re.compile(
    r"^\s*(?:iphone|ipad|android)から送信\s*$|^\s*(?:发自|從|从)我的\w{0,20}", re.I
)
_SEGMENT_SPLIT_RE = re.compile(r"\s+[|•·/]\s+|\s*[|•·]\s*|\s*,\s*|\s*;\s*")
_CLAUSE_SPLIT_RE = re.compile(r"[,.;!:()\[\]…。！、，：；]+|\s[-–—]+\s|^[-–—]+\s*|\s*[-–—]+$|[—–]")
_ALLOWED_PUNCT = set(" \t.,!;:-–—()[]\"'*_~…/&+#。！、，：；「」『』")
_INITIAL_RE = re.compile(r"^[^\W\d_]\.$")
_REPEATED_RE = re.compile(r"(\w)\1\1")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
_RU_UK_RE = re.compile(r"^[а-яёєіїґА-ЯЁЄІЇҐ'\-]+$")


def _snippet(text: str) -> str:
    text = text.replace(_NUMBER_TOKEN, "(the amount)").replace(_PLACEHOLDER, "(address)")
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57].rstrip() + "…"


class _Reader:
    def __init__(self, arguments: Mapping[str, Any] | None, latin_head: bool) -> None:
        self.t = _tables()
        self.d = _decide_module()
        self.amounts = _amounts(arguments)
        self.currency = _currency_words(arguments)
        self.request = _request_words(arguments) | self.currency
        self.latin_head = latin_head
        self.number_problem: str | None = None

    # -- numbers

    def number_ok(self, number: str) -> bool:
        readings = _readings(number)
        return bool(readings) and bool(self.amounts) and readings <= self.amounts

    def replace_numbers(self, clause: str) -> str | None:
        """The clause with the request's amount replaced by a placeholder; None (and
        ``number_problem`` set) when it holds any other number."""
        out = []
        pos = 0
        for match in self.d._NUMBER_RE.finditer(clause):
            before = clause[match.start() - 1] if match.start() else " "
            after = clause[match.end()] if match.end() < len(clause) else " "
            if before.isalpha() or before == "-" or after.isalpha() or after == "-":
                continue  # part of a word ("A-7731", "500k"): read as a word
            if not self.number_ok(match.group(0)):
                self.number_problem = match.group(0)
                return None
            out.append(clause[pos : match.start()])
            out.append(" " + _NUMBER_TOKEN + " ")
            pos = match.end()
        out.append(clause[pos:])
        return "".join(out)

    # -- words

    def symbols_ok(self, clause: str) -> bool:
        rest = clause
        for emoji in self.t["emoji"]:
            if emoji in rest:
                rest = rest.replace(emoji, " ")
        for word in self.currency:
            if not word.isalpha() and word in rest:
                rest = rest.replace(word, " ")
        for char in rest:
            if char.isalnum() or char in _ALLOWED_PUNCT or char in (_PLACEHOLDER, _NUMBER_TOKEN):
                continue
            if char.isspace():
                continue
            return False
        return True

    def covered(self, clause: str, *, allow_name_after_courtesy: bool = True) -> bool:
        """Every word of ``clause`` is a benign phrase, a connector or a request word."""
        if not self.symbols_ok(clause):
            return False
        tokens = [
            (m.group(0), m.group(0).lower())
            for m in re.finditer(
                self.d._TOKEN_RE.pattern + f"|[{_PLACEHOLDER}{_NUMBER_TOKEN}]", clause
            )
        ]
        phrases = self.t["phrases"]
        i = 0
        last_courtesy = False
        while i < len(tokens):
            word = tokens[i][1]
            if self.d._CJK_RE.search(word):
                if not self.cjk_covered(word):
                    return False
                i += 1
                continue
            for n in range(min(self.t["max_words"], len(tokens) - i), 0, -1):
                phrase = " ".join(t[1] for t in tokens[i : i + n])
                if phrase in phrases or (not phrase.isascii() and _plain(phrase) in phrases):
                    last_courtesy = phrase in self.t["courtesy"]
                    i += n
                    break
                if n == 1 and (
                    word in (_PLACEHOLDER, _NUMBER_TOKEN)
                    or word in self.request
                    or word in self.t["verbs"]
                    or word in _DETERMINERS
                    or (word in _GENERIC_OBJECTS and self.amounts)
                ):
                    last_courtesy = False
                    i += 1
                    break
            else:
                if word in self.t["connectors"] and i + 1 < len(tokens):
                    i += 1
                    continue
                # "Thanks Anna", "Cheers, Bob": a name after a sign-off, at the clause end
                rest = tokens[i:]
                if (
                    allow_name_after_courtesy
                    and last_courtesy
                    and len(rest) <= 3
                    and all(self.name_token(t[0]) for t in rest)
                ):
                    return True
                return False
        return True

    def cjk_covered(self, run: str) -> bool:
        pos = 0
        while pos < len(run):
            for phrase in self.t["cjk"]:
                if run.startswith(phrase, pos):
                    pos += len(phrase)
                    break
            else:
                if not self.d._CJK_RE.match(run[pos]):
                    # a Latin part of a mixed run ("ok", "iPhone") is read as words
                    match = re.match(r"[a-z0-9]+", run[pos:])
                    if match and match.group(0) in self.t["phrases"] | self.request:
                        pos += match.end()
                        continue
                return False
        return True

    def name_token(self, token: str, *, title_ok: bool = False) -> bool:
        low = token.lower()
        if title_ok and (low in self.t["titles"] or low.rstrip(".") in self.t["legal"]):
            return True
        if _INITIAL_RE.match(token) or (title_ok and len(token) == 1 and token.isupper()):
            return True  # "J." anywhere a name may be; "J" alone only in a signature line
        core = token.replace("'", "").replace("-", "").replace(".", "")
        if len(core) < 2 or len(token) > 24 or not core.isalpha() or not token[0].isupper():
            return False
        if low in self.t["not_names"] or _plain(low) in self.t["not_names"]:
            return False
        if low in _CURRENCY_WORDS and low not in self.currency:
            return False  # "USD" on a EUR request is a counter-offer, not a name
        if _REPEATED_RE.search(low) or self.d._FOREIGN_LETTER_RE.search(token):
            return False
        if _CYRILLIC_RE.search(token):
            if self.latin_head or not _RU_UK_RE.match(token) or re.search("[a-zA-Z]", token):
                return False
        elif not token.isascii() and not self.latin_head:
            return False
        if low in _NAMES_THAT_ARE_WORDS:
            return True
        kinds = self.d._lookup(low)
        if kinds is not None and kinds - {"approve", "courtesy", "neutral"}:
            return False
        if self.d._stem_kind(low) is not None:
            return False
        return True

    def name_line(self, line: str) -> bool:
        """A name, job title or company line ("Anna Berg", "Head of Finance, ACME GmbH")."""
        words = re.findall(r"[^\s,|•·/()]+", line)
        if not words or len(words) > 8:
            return False
        capitalised = 0
        for word in words:
            word = word.strip(".'\"")
            if not word:
                continue
            low = word.lower()
            if word == "&":
                continue
            if low in self.request:
                capitalised += word[0].isupper()
                continue
            if not self.name_token(word, title_ok=True):
                return False
            if word[0].isupper():
                capitalised += 1
        return capitalised > 0

    def contact_segment(self, segment: str, *, in_signature: bool) -> bool:
        segment = segment.strip()
        if not segment or segment == _PLACEHOLDER:
            return True
        if _PHONE_RE.match(segment):
            return True
        if self.name_line(segment):
            return True
        # an address: numbers, street words and names ("123 Main St", "00100 Roma")
        if in_signature and re.search(r"\d", segment):
            for word in re.findall(r"[^\s.]+", segment):
                low = word.lower()
                if re.fullmatch(r"[a-z]{0,3}-?\d{1,6}[a-z]?", low):
                    continue
                if low in self.t["streets"] or self.name_token(word, title_ok=True):
                    continue
                return False
            return True
        return False

    def contact_line(self, line: str, *, in_signature: bool) -> bool:
        segments = _SEGMENT_SPLIT_RE.split(line)
        return all(self.contact_segment(s, in_signature=in_signature) for s in segments)

    def device_line(self, line: str) -> bool:
        if _CJK_DEVICE_RE.match(line):
            return True
        match = self.t["sent_from_re"].match(line)
        if not match:
            return False
        for word in re.findall(r"[^\W_]+(?:'[^\W_]+)?", line[match.end() :]):
            low = word.lower()
            if low in self.t["device"] or low.isdigit() or re.fullmatch(r"[a-z]\d{1,3}", low):
                continue
            return False
        return True

    def is_courtesy_only(self, text: str) -> bool:
        words = " ".join(m.group(0).lower() for m in self.d._TOKEN_RE.finditer(text))
        return bool(words) and words in self.t["courtesy"]


def _clauses(line: str) -> list[str]:
    return [c for c in (part.strip() for part in _CLAUSE_SPLIT_RE.split(line)) if c]


def approval_gate(
    text: str,
    head_start: int,
    head_end: int,
    *,
    arguments: Mapping[str, Any] | None,
    approval_code: str | None,
    masked: list[tuple[int, int]] = (),  # type: ignore[assignment]
    signature: list[tuple[int, int]] | None = None,
) -> str | None:
    """Why the approval in ``text`` (its head at ``head_start:head_end``) cannot be trusted,
    or None when everything after it is thanks, a sign-off, a signature, a harmless phrase
    or a word of the request."""
    ask = _ASK_CODE if approval_code else _ASK
    text = _gate_text(text, head_end, masked, approval_code)
    emoticon = _doubtful_emoticon(text, head_start)
    if emoticon is not None:
        return f"I read an emoticon with your approval that I can't be sure of: '{emoticon}'. {ask}"
    head = text[head_start:head_end]
    latin_head = not re.search(r"[\u0400-\u04ff]", head) and not _decide_module()._CJK_RE.search(
        head
    )
    reader = _Reader(arguments, latin_head)

    # the head: approval words, and object words of this very request
    head_problem = _head_problem(reader, head, arguments)
    if head_problem is not None:
        if reader.number_problem is not None:
            return (
                f"I read a number that is not this request's amount: "
                f"'{reader.number_problem}'. {ask}"
            )
        return (
            f"I read words in your approval that don't name this request: '{head_problem}'. {ask}"
        )

    lines = text[head_end:].split("\n")
    kinds = _line_kinds(reader, lines)
    tail = _signature_tail(reader, lines, kinds)
    # the head may end with a sign-off itself ("Approved.\nThanks,")
    head_tokens = _decide_module()._TOKEN_RE.findall(head.lower())
    head_courtesy = any(
        reader.is_courtesy_only(" ".join(head_tokens[-n:]))
        for n in range(1, min(4, len(head_tokens)) + 1)
    )
    problem = _unsigned_tail_text(reader, lines, kinds, tail, head_courtesy, ask)
    if problem is not None:
        return problem
    if signature is not None:
        offset = head_end
        for index, line in enumerate(lines):
            if index >= tail and kinds[index] in ("signature", "device"):
                signature.append((offset, offset + len(line)))
            offset += len(line) + 1
    return _comment_problem(reader, lines[:tail], kinds, head_courtesy, ask)


# Emoticons typed with punctuation: the gate allows each of ":", "(", ";", "/" and "_" alone,
# so a face made of them is read here. A smile (":)", ":D", "^^", "<3") is harmless like 🙂;
# any other face (":(", ":/", ";)", ":P", "-_-", "xD") is doubt, sarcasm or a frown, as its
# emoji would be, and is asked again.
_EMOTICON_RE = re.compile(
    r"(?:(?<![\w:;=])[xX][dDpP]|(?<![:;=])[:;=][-'^o]?[()\[\]{}/\\|<>@$3*dDpPbsScCoO0]"
    r"|(?<!\w)[-^>T;oO0<][_.][-^<T;oO0>]|</?3)"
    r"(?=[\s.,!?…)\]]|$)"
)
_BENIGN_EMOTICONS = frozenset(
    {":)", ":-)", ":')", "=)", ":]", ":-]", ":D", ":-D", "=D", "^_^", "^.^", "<3", ":*", ":-*"}
)


def _doubtful_emoticon(text: str, start: int) -> str | None:
    if not any(c in text for c in ":;=_xX<)"):
        return None  # PERF: most replies hold no emoticon
    for match in _EMOTICON_RE.finditer(text, start):
        if match.group(0) not in _BENIGN_EMOTICONS:
            return match.group(0)
    return None


def _gate_text(
    text: str, head_end: int, masked: list[tuple[int, int]], approval_code: str | None
) -> str:
    """The text as the gate reads it: e-mail addresses and URLs after the head (contact
    information) as one placeholder each, the approval code blanked out."""
    chars = list(text)
    for start, end in masked:  # e-mail addresses and URLs: contact information
        if start >= head_end:
            chars[start:end] = [_PLACEHOLDER] + [" "] * (end - start - 1)
    if "[cid:" in text or "[image:" in text or ".png>" in text or "<image" in text:
        # an inline image the client wrote (a signature's logo) is nothing the human said
        for match in _decide_module()._IMAGE_RE.finditer(text, head_end):
            chars[match.start() : match.end()] = " " * (match.end() - match.start())
    text = "".join(chars)
    if approval_code:
        text = re.sub(
            rf"(?<![\w]){re.escape(approval_code)}(?![\w])",
            lambda m: " " * len(m.group(0)),
            text,
            flags=re.I,
        )
    return text


def _line_kinds(reader: _Reader, lines: list[str]) -> list[str]:
    """One kind per line after the head: delimiter, blank, device, courtesy or text."""
    kinds: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _DELIMITER_RE.match(line):
            kinds.append("delimiter")
        elif not stripped or not stripped.strip("-–—,.;:!()*_~ "):
            kinds.append("blank")
        elif reader.device_line(stripped):
            kinds.append("device")
        elif index > 0 and reader.is_courtesy_only(stripped):
            kinds.append("courtesy")
        else:
            kinds.append("text")
    return kinds


def _signature_tail(reader: _Reader, lines: list[str], kinds: list[str]) -> int:
    """Where the signature block starts: the tail from a sign-off or a "-- " line down,
    only names, titles, companies, phones, addresses, e-mail addresses, URLs and device
    lines (``len(lines)`` when there is none)."""
    tail = len(lines)
    for index in range(len(lines) - 1, 0, -1):
        if kinds[index] in ("blank", "device", "courtesy", "delimiter"):
            tail = index
            continue
        if kinds[index] == "text" and reader.contact_line(lines[index], in_signature=True):
            tail = index
            continue
        break
    return tail


def _unsigned_tail_text(
    reader: _Reader,
    lines: list[str],
    kinds: list[str],
    tail: int,
    head_courtesy: bool,
    ask: str,
) -> str | None:
    """The names in the tail count only under a sign-off or a delimiter, or above a title,
    phone or address line (a real signature block); those that do are marked "signature"
    in ``kinds``, the first that does not is the problem."""
    opened = head_courtesy
    for index in range(tail, len(lines)):
        if kinds[index] in ("courtesy", "delimiter"):
            opened = True
        elif kinds[index] == "text":
            if (
                not opened
                and not _signature_below(reader, lines, kinds, index)
                and not _contact_in_line(lines[index])
            ):
                return _comment_reason(lines[index], ask)
            opened = True
            kinds[index] = "signature"
    return None


def _comment_problem(
    reader: _Reader, lines: list[str], kinds: list[str], head_courtesy: bool, ask: str
) -> str | None:
    """The first clause above the signature that the closed reading does not cover."""
    for index, line in enumerate(lines):
        if kinds[index] in ("blank", "device", "delimiter", "courtesy"):
            continue
        # numbers first: "50.000" is one number, not two clauses
        replaced_line = reader.replace_numbers(line)
        if replaced_line is None:
            return (
                f"I read a number that is not this request's amount: "
                f"'{reader.number_problem}'. {ask}"
            )
        clauses = _clauses(replaced_line)
        for position, clause in enumerate(clauses):
            if reader.covered(clause):
                continue
            # "Approved. Thanks, Anna": a name after a sign-off, last on its line
            after_courtesy = (
                reader.is_courtesy_only(clauses[position - 1])
                if position > 0
                else index == 0 and head_courtesy
            )
            if (
                position == len(clauses) - 1
                and after_courtesy
                and reader.name_line(clause)
                and len(clause.split()) <= 3
            ):
                continue
            return _comment_reason(clause, ask)
    return None


def _contact_in_line(line: str) -> bool:
    """ "Jane Doe | VP Ops | +1 555 010 2000": a one-line signature with a phone or address."""
    segments = [seg for seg in _SEGMENT_SPLIT_RE.split(line) if seg.strip()]
    return len(segments) >= 2 and any(
        _PHONE_RE.match(seg) or _PLACEHOLDER in seg for seg in segments
    )


def _signature_below(reader: _Reader, lines: list[str], kinds: list[str], index: int) -> bool:
    """A name line counts without a sign-off above it when a title, company, phone or
    address line follows it ("Anna Berg\\nHead of Finance")."""
    for below in range(index + 1, len(lines)):
        if kinds[below] == "blank":
            continue
        line = lines[below]
        return bool(
            re.search(r"\d", line)
            or _PLACEHOLDER in line
            or any(
                w.lower() in reader.t["titles"] - reader.t["connectors"] - {"the", "of", "at"}
                or w.lower().rstrip(".") in reader.t["legal"]
                for w in re.findall(r"[^\s,|•·/()]+", line)
            )
        )
    return False


def _comment_reason(clause: str, ask: str) -> str:
    return (
        f"I read a comment after your approval that I can't be sure of: '{_snippet(clause)}'. {ask}"
    )


def _head_problem(reader: _Reader, head: str, arguments: Mapping[str, Any] | None) -> str | None:
    """The first word of the head that is neither an approval word nor a word of this
    request ("Approve the refund." on a delete_account call)."""
    replaced = reader.replace_numbers(head)
    if replaced is None:
        return reader.number_problem
    d = reader.d
    if not reader.symbols_ok(replaced):
        return head.strip()
    objects = d._OBJECTS - _GENERIC_OBJECTS - {"order"}
    money = bool(reader.amounts)
    keys = " ".join(str(k).lower() for k in (arguments or {}))
    for match in d._TOKEN_RE.finditer(replaced):
        word = match.group(0).lower()
        if word in reader.t["head_words"] or word in objects or word in reader.request:
            continue
        if word in _GENERIC_OBJECTS and money:
            continue
        if word == "order" and "order" in keys:
            continue
        if d._CJK_RE.search(word) and reader.cjk_covered(word):
            continue
        if word in reader.t["phrases"]:
            continue
        return word
    return None


def raw_text_gate(raw: str, *, quotes: bool = True) -> str | None:
    """Why the raw reply cannot approve, whatever its words: a bidi override (what the
    human saw is not what was read), or quoted text without ">" under a leading "On …
    wrote:" or "From:/Sent:" header (the new text is empty; the quote never counts)."""
    if _BIDI_RE.search(raw):
        return (
            "The reply holds characters that change the direction text is shown in, so what "
            "you saw may not be what I read. " + _ASK
        )
    if not quotes:
        return None
    from .extract import _normalise, _only_under_a_header, classify_lines  # noqa: PLC0415

    if _only_under_a_header(classify_lines(_normalise(raw[:20_000]))):
        return "The reply has no new text above the quoted message."
    return None


def signature_spans(
    text: str, head_start: int, head_end: int, *, arguments: Mapping[str, Any] | None
) -> list[tuple[int, int]]:
    """Spans of the signature lines the closed reading accepts at the end of ``text`` (a
    name under a sign-off, a title, a phone, an address, a device line). The signal scan
    need not read them ("VP Ops" is no retraction); the gate still reads them closed."""
    spans: list[tuple[int, int]] = []
    approval_gate(
        text, head_start, head_end, arguments=arguments, approval_code=None, signature=spans
    )
    return spans


# --- plainly yes, though the head grammar does not read it -----------------------------------

# Whole first clauses that are a plain yes but that the head grammar reads as a signal
# ("no problem" holds a "no", "boss" a hand-over, "claro" sarcasm). Closed: the clause must
# be exactly one of these; the rest of the reply is then read by the closed gate.
PLAIN_YES = (
    "no problem go ahead|no problem please go ahead|no problem please proceed|"
    "sure no problem|yes no problem|ok no problem|okay no problem|no problem at all go ahead|"
    "that's fine|that is fine|that's fine by me|that's fine with me|that works|"
    "that works for me|works for me|sounds great|sounds perfect|sounds fine|"
    "happy to approve|happy to approve this|happy to approve that|approved by me|"
    "sure thing boss|yes boss|ok boss|yes hundredpercent|hundredpercent yes|"
    "approve the refund of #|approve the refund for #|approved for #|approve for #|"
    "sí claro adelante|si claro adelante|claro adelante|sí claro que sí|sim claro|"
    "sim claro pode seguir|claro que sim|kein problem mach|kein problem nur zu|"
    "没问题|行没问题|没问题的|好的没问题|可以没问题|没问题请继续|沒問題|"
    "了解承認します|了解しました承認します|承知しました承認します"
)
_PLAIN_YES_PUNCT = frozenset(" \t,-'，、")
_PLAIN_YES_RE = re.compile(r"^\s*(.{1,60}?)[^\S\n]*(?:[.!。！]+|$|\n)", re.S)
_WRAPPED_RE = re.compile(r'^(\s*)(\*{1,3}|_{1,3}|~{1,2}|"|\')([^\n*_~"]{1,40}?)\2(?=\s|[.!,]|$)')
_ELONGATED_YES_RE = re.compile(r"^(\s*)(y)(e)(s)s+(?![\w'])", re.I)


def unwrap(text: str) -> str:
    """ "**Approved**", "“Approved”", "Yesss": the same approval without the formatting."""
    text = _WRAPPED_RE.sub(lambda m: m.group(1) + m.group(3), text, count=1)
    return _ELONGATED_YES_RE.sub(lambda m: "".join(m.group(1, 2, 3, 4)), text, count=1)


@lru_cache(maxsize=1)
def _plain_yes() -> frozenset[str]:
    return frozenset(_split(PLAIN_YES))


def plain_yes(
    text: str, *, arguments: Mapping[str, Any] | None, approval_code: str | None
) -> str | None:
    """ "ok" when the first clause of ``text`` is one of PLAIN_YES and the rest passes the
    closed gate, the gate's reason when it does not, None when the clause is none of them."""
    if approval_code:
        return None
    match = _PLAIN_YES_RE.match(text)
    if not match:
        return None
    d = _decide_module()
    reader = _Reader(arguments, True)
    clause = match.group(1).replace("100%", " hundredpercent ")
    # the key is made of the clause's words: a "?", an emoticon or another currency's sign
    # in it is not a plain yes ("That's fine?", "Approved for $120" of a EUR request)
    rest = _EMOTICON_RE.sub(
        lambda m: " " if m.group(0) in _BENIGN_EMOTICONS else m.group(0), clause
    )
    for sign in (*reader.t["emoji"], *(c for c in reader.currency if not c.isalpha())):
        rest = rest.replace(sign, " ")
    rest = d._TOKEN_RE.sub(" ", d._NUMBER_RE.sub(" ", rest))
    if not set(rest) <= _PLAIN_YES_PUNCT:
        return None
    replaced = reader.replace_numbers(clause)
    if replaced is None:
        return None
    words = d._TOKEN_RE.findall(replaced.lower().replace(_NUMBER_TOKEN, " hashnumber "))
    key = " ".join(words).replace("hashnumber", "#")
    if d._CJK_RE.search(key):
        key = key.replace(" ", "")
    if key not in _plain_yes():
        return None
    return (
        approval_gate(text, match.end(), match.end(), arguments=arguments, approval_code=None)
        or "ok"
    )
