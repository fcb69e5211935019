"""Intent of a reply's new text: approve, reject (with comment or option), answer, or unclear.

The grammar is deterministic and conservative: an approval needs a clear positive word in
the first sentence that says something (after greetings and thanks), no negation of it,
no reject word, no condition ("if", "but", "unless"), no question and no hedge anywhere,
and no later sentence that takes it back (a reject word, "never mind", a leading "not").
Anything else that is not a clear rejection is ``unclear``, and the gateway asks again.
See docs/replies.md for the documented grammar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .extract import extract_reply, strip_quoted

__all__ = ["Decision", "decide"]

Verdict = Literal["approve", "reject", "answer", "unclear"]


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    comment: str | None = None
    option: str | None = None
    reason: str | None = None


_W = r"[\w'’-]"  # characters that continue a word (hyphen and apostrophe included)

_APPROVE_WORDS = (
    "yes",
    "yeah",
    "yep",
    "yup",
    "ok",
    "okay",
    "okey",
    "approve",
    "approved",
    "i approve",
    "approving",
    "lgtm",
    "go ahead",
    "go for it",
    "proceed",
    "sure",
    "confirm",
    "confirmed",
    "accept",
    "accepted",
    "allow",
    "allowed",
    "granted",
    "agreed",
    "agree",
    "do it",
    "ship it",
    "sounds good",
    "looks good",
    "fine",
    "absolutely",
    "affirmative",
    "+1",
    # de, fr, es, pt, it, nl, pl, sv, da, no, ru, uk
    "ja",
    "jawohl",
    "genehmigt",
    "genehmige",
    "freigegeben",
    "freigeben",
    "einverstanden",
    "in ordnung",
    "oui",
    "d'accord",
    "approuvé",
    "approuve",
    "sí",
    "aprobado",
    "aprobar",
    "de acuerdo",
    "sim",
    "aprovado",
    "aprovo",
    "sì",
    "approvato",
    "approvo",
    "va bene",
    "akkoord",
    "goedgekeurd",
    "zatwierdzam",
    "zatwierdzone",
    "zgoda",
    "godkänd",
    "godkänt",
    "godkendt",
    "godkjent",
    "да",
    "одобряю",
    "одобрено",
    "согласен",
    "так",
    "схвалюю",
    "схвалено",
    "згоден",
)
# Words that mean yes in one listed language but something else in another: a yes only
# when the sentence is that word alone ("si" is "if" in es/fr, "vale" is "is worth" in it,
# "prima" is "before" in it, "ya" is "already" in es). "tak" (yes in pl, thanks in da/no)
# is read as thanks: it never approves on its own.
_ALONE_ONLY_APPROVE = ("si", "vale", "prima", "ya")
# Scripts without word spaces: recognised only at the start of the sentence.
_APPROVE_CJK = ("是的", "是", "好的", "好", "同意", "批准", "可以", "はい", "承認", "了解", "ok")
_REJECT_WORDS = (
    "no",
    "nope",
    "nah",
    "reject",
    "rejected",
    "deny",
    "denied",
    "decline",
    "declined",
    "refuse",
    "refused",
    "disapprove",
    "disapproved",
    "veto",
    "don't",
    "dont",
    "do not",
    "stop",
    "cancel",
    "abort",
    "never",
    "-1",
    "nein",
    "abgelehnt",
    "ablehnen",
    "non",
    "refusé",
    "rejeté",
    "rechazado",
    "rechazar",
    "não",
    "nao",
    "rejeitado",
    "recusado",
    "rifiutato",
    "respinto",
    "nee",
    "afgewezen",
    "nie",
    "odrzucam",
    "odrzucone",
    "nej",
    "avslått",
    "avvisad",
    "afvist",
    "nei",
    "нет",
    "отклонено",
    "ні",
    "відхилено",
)
_REJECT_CJK = ("不行", "不同意", "不", "否", "拒绝", "いいえ", "却下", "ダメ")
_NEGATORS = (
    "not",
    "never",
    "don't",
    "dont",
    "do not",
    "doesn't",
    "cannot",
    "can't",
    "won't",
    "shouldn't",
    "nicht",
    "kein",
    "keine",
    "pas",
    "ne",
    "não",
    "nao",
    "non",
    "nie",
    "не",
    "ні",
)
_APPROVE_EMOJI = "👍✅✔☑👌🆗"
_REJECT_EMOJI = "👎❌✖✗✘🚫⛔🛑"
_HEDGES = (
    "not sure",
    "unsure",
    "maybe",
    "perhaps",
    "possibly",
    "probably",
    "i think",
    "i guess",
    "i suppose",
    "no idea",
    "don't know",
    "dont know",
    "do not know",
    "not yet",
    "wait",
    "hold on",
    "hold off",
    "let me check",
    "let me think",
    "later",
    "depends",
    "it depends",
    "no problem",
    "no worries",
    "no objection",
    "no objections",
    "why not",
    "vielleicht",
    "peut-être",
    "quizás",
    "tal vez",
    "talvez",
    "forse",
    "misschien",
    "może",
    "kanske",
    "måske",
    "kanskje",
    "может быть",
    "можливо",
)
# A later sentence that takes a "yes" back. Phrases count anywhere in the reply; the
# single words (which have other meanings) only where a sentence starts.
_RETRACTIONS = (
    "never mind",
    "nevermind",
    "scratch that",
    "strike that",
    "just kidding",
    "only kidding",
    "kidding",
    "jk",
    "actually no",
    "actually not",
    "actually don't",
    "on second thought",
    "on second thoughts",
    "second thoughts",
    "changed my mind",
    "change of plan",
    "change of plans",
    "i take it back",
    "take that back",
    "forget it",
    "forget that",
    "forget about it",
    "ignore that",
    "ignore this",
    "ignore my",
    "not really",
    "not at all",
    "not so fast",
    "not anymore",
    "not yet",
    "rather not",
    "better not",
    "my mistake",
    "my bad",
    "wrong button",
    "hold on",
    "hold off",
    "wait",
    # de
    "vergiss es",
    "vergessen sie es",
    "vergiss das",
    "doch nicht",
    "lieber nicht",
    "besser nicht",
    "moment mal",
    "kommando zurück",
    "nur ein scherz",
    "war ein scherz",
    "war nur spaß",
    "ich nehme das zurück",
    "stopp",
    # fr
    "laisse tomber",
    "laissez tomber",
    "oublie ça",
    "oubliez ça",
    "en fait non",
    "finalement non",
    "je plaisante",
    "je rigole",
    "c'est une blague",
    "pas du tout",
    "à la réflexion",
    # es, pt
    "olvídalo",
    "olvídelo",
    "olvida eso",
    "en realidad no",
    "mejor no",
    "es broma",
    "era broma",
    "pensándolo bien",
    "esquece",
    "esqueça",
    "na verdade não",
    "melhor não",
    "é brincadeira",
    "pensando bem",
    # it
    "lascia perdere",
    "lasciate perdere",
    "lascia stare",
    "anzi no",
    "scherzavo",
    "ripensandoci",
    "meglio di no",
    # nl
    "laat maar",
    "vergeet het",
    "wacht even",
    "grapje",
    "toch niet",
    "liever niet",
    # pl
    "nieważne",
    "zapomnij",
    "żartuję",
    "żartowałem",
    "żartowałam",
    "jednak nie",
    # sv, da, no
    "glöm det",
    "strunta i det",
    "skämtar bara",
    "glem det",
    "bare tull",
    "for sjov",
    # ru, uk
    "неважно",
    "не важно",
    "забудь",
    "забудьте",
    "подожди",
    "подождите",
    "шучу",
    "передумал",
    "передумала",
    "неважливо",
    "зачекай",
    "зачекайте",
    "жартую",
    "передумав",
)
_RETRACTION_STARTS = (
    "actually",
    "oops",
    "whoops",
    "correction",
    "disregard",
    "hmm",
    "hm",
    "warte",
    "warten sie",
    "halt",
    "attends",
    "attendez",
    "annule",
    "annulez",
    "espera",
    "espere",
    "cancela",
    "aspetta",
    "aspettate",
    "annulla",
    "wacht",
    "czekaj",
    "poczekaj",
    "anuluj",
    "vänta",
    "avbryt",
    "vent",
    "стоп",
    "отмена",
    "скасувати",
)
_RETRACTIONS_CJK = (
    "算了",
    "等等",
    "等一下",
    "开玩笑",
    "開玩笑",
    "不要了",
    "撤回",
    "やっぱり",
    "待って",
    "冗談",
    "取り消し",
)
_CONDITIONS = (
    "if",
    "unless",
    "but",
    "only",
    "except",
    "provided",
    "as long as",
    "assuming",
    "once",
    "after",
    "when",
    "however",
    "though",
    "wenn",
    "falls",
    "aber",
    "sofern",
    "nur",
    "mais",
    "sauf",
    "seulement",
    "pero",
    "solo",
    "sólo",
    "siempre que",
    "mas",
    "se",
    "si",
    "ma",
    "solo se",
    "maar",
    "alleen",
    "tylko",
    "jeśli",
    "jeżeli",
    "ale",
    "men",
    "om",
    "если",
    "но",
    "только",
    "якщо",
    "але",
    "тільки",
)
_CONDITIONS_CJK = ("如果", "但是", "但", "只要", "もし", "ただし", "でも")
_COURTESY_RE = re.compile(
    r"^(?:(?:hi|hello|hey|dear|hallo|bonjour|salut|hola|ciao|olá|oi|hej|cześć|привет|"
    r"добрый день|привіт|good (?:morning|afternoon|evening))\b[^\n]{0,40}"
    r"|(?:many )?thanks?(?: you)?(?: (?:so|very) much)?(?: for [^\n]{0,40})?|thx|ty|cheers|"
    r"merci(?: beaucoup)?|danke(?: schön| sehr)?|gracias|obrigad[oa]|grazie|bedankt|dank je|"
    r"dzięki|dziękuję|tack|takk|tak(?: for [^\n]{0,40})?|mange tak|tusen takk|спасибо|дякую|谢谢|謝謝|ありがとう(?:ございます)?)"
    r"[\s,.!]*$",
    re.I,
)


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _word_re(words: Sequence[str]) -> re.Pattern[str]:
    return re.compile(rf"(?<!{_W})(?:{_alternation(words)})(?!{_W})", re.I)


_APPROVE_RE = re.compile(
    rf"(?<!{_W})(?:{_alternation(_APPROVE_WORDS)})(?!{_W})|[{_APPROVE_EMOJI}]", re.I
)
_REJECT_RE = re.compile(
    rf"(?<!{_W})(?:{_alternation(_REJECT_WORDS)})(?!{_W})|[{_REJECT_EMOJI}]", re.I
)
_SOFT_PUNCT = r"[\s,:…\-–—()\[\]\"'*_~]"  # punctuation that does not end a sentence
_NEGATED_APPROVE_RE = re.compile(
    rf"(?<!{_W})(?:{_alternation(_NEGATORS)})(?!{_W})\s+(?:\w+\s+){{0,2}}?"
    rf"(?:{_alternation(_APPROVE_WORDS)})(?!{_W})"
    # "absolutely not", "sure not", "of course not"
    rf"|(?<!{_W})(?:{_alternation(_APPROVE_WORDS)}|of course|certainly|definitely)\s+not(?!{_W})"
    # "Approved — not!", "Approve -- NOT", "genehmigt, nicht": a short run of punctuation
    # before a negation that ends the sentence
    rf"|(?<!{_W})(?:{_alternation(_APPROVE_WORDS)}|of course|certainly|definitely)(?!{_W})"
    rf"{_SOFT_PUNCT}{{1,8}}(?:not|nicht|pas)(?!{_W})(?={_SOFT_PUNCT}*(?:$|[.!?;\n。！？]))",
    re.I,
)
_APPROVE_CJK_RE = re.compile(rf"^(?:{_alternation(_APPROVE_CJK)})(?:[\s,.!。！、，]|$)", re.I)
_REJECT_CJK_RE = re.compile(rf"^(?:{_alternation(_REJECT_CJK)})")
# PERF: every match of _NEGATED_APPROVE_RE contains one of _NEGATORS (matched the same
# case-insensitive way); text without any is not searched with the long pattern.
_NEGATOR_TEXT_RE = re.compile(_alternation(_NEGATORS), re.I)
_HEDGE_RE = _word_re(_HEDGES)
_CONDITION_RE = re.compile(
    rf"(?<!{_W})(?:{_alternation(_CONDITIONS)})(?!{_W})|{_alternation(_CONDITIONS_CJK)}", re.I
)
_RETRACTION_RE = re.compile(
    r"(?<![\w'’-])(?:"
    + "|".join(
        r"[\s,]+".join(re.escape(word) for word in phrase.split())
        for phrase in sorted(_RETRACTIONS, key=len, reverse=True)
    )
    + rf")(?!{_W})|{_alternation(_RETRACTIONS_CJK)}",
    re.I,
)
_LATER_START_RE = re.compile(
    rf"^[\s,.:;!\-–—()\[\]\"'*_~…]*(?:(?:well|oh|um+|uh+|ah+|so|and|also|hmm+)[\s,.…!-]+)?"
    rf"(?:{_alternation(_RETRACTION_STARTS + _NEGATORS)})(?!{_W})",
    re.I,
)
_NEGATOR_RE = _word_re(_NEGATORS)
_NEGATOR_END_RE = re.compile(
    rf"(?<!{_W})(?:{_alternation(_NEGATORS)})(?!{_W})[\s,:…\-–—()\[\]\"'*_~!.]*$", re.I
)
_ALONE_RE = re.compile(rf"^(?:{_alternation(_ALONE_ONLY_APPROVE)})[\s.!]*$", re.I)
_ONE_LETTER_RE = re.compile(r"^\s*([ynk])\s*[.!]*\s*$", re.I)
_STANDALONE_NO_RE = re.compile(r"(?:^|[.!?\n]\s*)no\s*(?:[.!,]|$)", re.I)
_STANDALONE_YES_RE = re.compile(
    r"(?:^|[.!?\n]\s*)(?:yes|approved?|go ahead|ok|okay|lgtm)\s*(?:[.!]|$)", re.I
)
_SENTENCE_END_RE = re.compile(r"[.!?;\n。！？]")
_LEADING_PUNCT_RE = re.compile(r"^[\s,.:;!\-–—)、，。！：]+")
_FILLER_RE = re.compile(
    r"^(?:please|pls|plz|to me|for me|by me|thanks?(?: you)?|thx|:\)|:-\)|お願いします|"
    r"bitte|s'il vous plaît|por favor|per favore|proszę|пожалуйста)[\s,.!]*",
    re.I,
)
_SKIN_TONES = dict.fromkeys(range(0x1F3FB, 0x1F400)) | {0xFE0F: None, 0xFE0E: None}


_SKIN_TONE_SCAN_RE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f]")


def _clean(text: str) -> str:
    # PERF: translate() looks up every character; most text has none of these
    if _SKIN_TONE_SCAN_RE.search(text):
        text = text.translate(_SKIN_TONES)
    return text.replace("’", "'").strip()


def _sentences(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, terminator) of each non-empty sentence; the terminator is "" at the end.

    Lazy: the decision reads only the first sentences, however long the text is."""
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        end, terminator = match.start(), match.group(0)
        if terminator == "?" or not text[start:end].isspace() and start < end:
            yield start, end, terminator
        start = match.end()
    if text[start:].strip():
        yield start, len(text), ""


def _comment(text: str) -> str | None:
    """The free text after the decision word, without courtesy filler around it."""
    comment = _LEADING_PUNCT_RE.sub("", text).strip()
    for _ in range(3):
        shorter = _LEADING_PUNCT_RE.sub("", _FILLER_RE.sub("", comment, count=1)).strip()
        if shorter == comment:
            break
        comment = shorter
    lines = comment.split("\n")
    while lines and (not lines[-1].strip() or _COURTESY_RE.match(lines[-1].strip())):
        lines.pop()
    comment = "\n".join(lines).strip()
    return comment or None


def _option_label(option: Any) -> tuple[str, str, str]:
    name = str(getattr(option, "name", "") or "")
    title = str(getattr(option, "title", "") or "")
    description = str(getattr(option, "description", "") or "")
    return name, title, description


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s'+-]", " ", text.casefold()).split())


_NUMBER_RE = re.compile(
    r"^\s*(?:option\s*|choice\s*|#|nr\.?\s*|no\.\s*)?(\d{1,3})\s*(?:[.):,\-–—]+\s*|$)(.*)$",
    re.I | re.S,
)


def _match_option(text: str, options: Sequence[Any]) -> tuple[Any, str] | None:
    """The option chosen by number (1-based), name or title at the start; with the rest."""
    if not options:
        return None
    first, _, remainder = text.partition("\n")
    number = _NUMBER_RE.match(first)
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
                rf"{_W}", lowered[len(key) : len(key) + 1]
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


# Longer new text is read only this far; an approval found in it is then not trusted.
_MAX_DECISION_CHARS = 4_000


def _decide_approval(text: str, options: Sequence[Any]) -> Decision:
    if not text:
        return _unclear("The reply has no new text above the quoted message.")
    if len(text) > _MAX_DECISION_CHARS:
        result = _decide_approval(text[:_MAX_DECISION_CHARS], options)
        if result.verdict == "approve":
            return _unclear("The reply is too long to read as a clear approval.")
        return result
    chosen = _match_option(text, options)
    if chosen is not None:
        option, rest = chosen
        name, title, description = _option_label(option)
        return Decision("reject", comment=rest or title or description or None, option=name)

    one_letter = _ONE_LETTER_RE.match(text)
    if one_letter:
        if one_letter.group(1).lower() in "yk":
            return Decision("approve")
        return Decision("reject")

    # Skip greetings and thanks before the sentence that carries the decision.
    for start, end, terminator in _sentences(text):  # noqa: B007 - used after the loop
        if not _COURTESY_RE.match(text[start:end].strip()):
            break
    else:
        return _unclear("The reply has no approve or reject word (only greetings or thanks).")
    head = text[start:end].strip()
    rest_text = text[end:]

    masked = head
    if _NEGATOR_TEXT_RE.search(head):
        masked = _NEGATED_APPROVE_RE.sub(lambda m: "\0" * len(m.group(0)), head)
    negated = masked != head
    approve_hits = list(_APPROVE_RE.finditer(masked))
    reject_hits = list(_REJECT_RE.finditer(masked))
    alone = _ALONE_RE.match(head) is not None
    if _APPROVE_CJK_RE.match(head) or alone:
        approve_hits.append(re.match(r"^\S+?(?=[\s,.!。！、，]|$)", head))  # type: ignore[arg-type]
    if _REJECT_CJK_RE.match(head):
        reject_hits.append(re.match(r"^\S+?(?=[\s,.!。！、，]|$)", head))  # type: ignore[arg-type]
    approve_hits = [m for m in approve_hits if m is not None]
    reject_hits = [m for m in reject_hits if m is not None]
    rejected = negated or bool(reject_hits)

    if _HEDGE_RE.search(head):
        return _unclear("The reply sounds unsure.")
    if approve_hits and rejected:
        return _unclear("The reply contains both an approve and a reject word.")
    if rejected:
        last_end = max(
            [m.end() for m in reject_hits] + [m.end() for m in _NEGATED_APPROVE_RE.finditer(head)]
        )
        if _STANDALONE_YES_RE.search(rest_text):
            return _unclear("The reply says both no and yes.")
        return Decision("reject", comment=_comment(head[last_end:] + rest_text))
    if not approve_hits:
        if "?" in text:
            return _unclear("The reply asks a question instead of deciding.")
        return _unclear("The reply has no approve or reject word.")

    # An approval must be unconditional and undoubted.
    if terminator == "?" or "?" in text:
        return _unclear("The reply asks a question; approval needs a clear yes.")
    if _CONDITION_RE.search(head) and not alone:
        return _unclear("The approval sounds conditional.")
    if _NEGATOR_RE.search(masked, min(m.end() for m in approve_hits)):
        # "Sure, not happening", "Approved, not really": a negation after the yes is doubt
        return _unclear("The reply takes the yes back.")
    if _HEDGE_RE.search(rest_text):
        return _unclear("The reply sounds unsure.")
    rest_masked = rest_text
    if _NEGATOR_TEXT_RE.search(rest_text):
        rest_masked = _NEGATED_APPROVE_RE.sub(" ", rest_text)
    if rest_masked != rest_text or _STRONG_REJECT_RE.search(rest_masked):
        return _unclear("The reply says yes but also no.")
    if _STANDALONE_NO_RE.search(rest_text):
        return _unclear("The reply says yes but also no.")
    # A later sentence may take the yes back ("Yes. Nope.", "Ok. Never mind.", "yes\n-1"):
    # any reject word in it is doubt, and so is a retraction or a sentence led by "not".
    if _REJECT_RE.search(rest_text):
        return _unclear("The reply says yes but also no.")
    if _RETRACTION_RE.search(text[start:]):
        return _unclear("The reply takes the yes back.")
    for later_start, later_end, _ in _sentences(rest_text):
        later = rest_text[later_start:later_end]
        if _REJECT_CJK_RE.match(later.strip()):
            return _unclear("The reply says yes but also no.")
        if _LATER_START_RE.match(later) or _NEGATOR_END_RE.search(later):
            return _unclear("The reply takes the yes back.")
    last_end = max(m.end() for m in approve_hits)
    return Decision("approve", comment=_comment(head[last_end:] + rest_text))


_STRONG_REJECT_RE = re.compile(
    rf"(?<!{_W})(?:reject|rejected|deny|denied|decline|declined|refuse|don't|dont|do not|"
    rf"stop|cancel|abort|disapprove|veto|nein|abgelehnt|нет)(?!{_W})|[{_REJECT_EMOJI}]",
    re.I,
)


def _decide_question(text: str, options: Sequence[Any]) -> Decision:
    if not text:
        return _unclear("The reply has no new text above the quoted message.")
    chosen = _match_option(text[:_MAX_DECISION_CHARS], options)
    if chosen is not None:
        option, _rest = chosen
        return Decision("answer", comment=text, option=_option_label(option)[0])
    return Decision("answer", comment=text)


_VERDICTS = {"approval": ("approve", "reject", "unclear"), "question": ("answer", "unclear")}


def decide(
    text: str,
    *,
    kind: str = "approval",
    options: Sequence[Any] = (),
    classifier: Callable[[str], Decision | None] | None = None,
) -> Decision:
    """Decide what a reply's new ``text`` means for a request of ``kind``.

    ``kind`` is "approval" (verdict approve/reject/unclear) or "question" (answer/unclear).
    ``options`` are response options (objects with ``name``, ``title``, ``description``),
    chosen by number (1-based), name or title. ``classifier`` is consulted only when the
    deterministic result is unclear; its result is used if it is a Decision valid for ``kind``.
    """
    # PERF: text that extract_reply returned is not extracted again (an ExtractedText)
    extracted = extract_reply(text or "")
    if len(extracted) > 2 * _MAX_DECISION_CHARS:
        # only the start is read; the marker keeps an approval from being trusted
        extracted = extracted[: 2 * _MAX_DECISION_CHARS] + "\n" + "…" * _MAX_DECISION_CHARS
    new_text = _clean(strip_quoted(extracted))
    options = tuple(options or ())
    if kind == "question":
        result = _decide_question(new_text, options)
    else:
        result = _decide_approval(new_text, options)
    if result.verdict == "unclear" and classifier is not None and new_text:
        try:
            suggestion = classifier(new_text)
        except Exception:
            suggestion = None
        allowed = _VERDICTS.get(kind, _VERDICTS["approval"])
        if isinstance(suggestion, Decision) and suggestion.verdict in allowed:
            return suggestion
    return result
