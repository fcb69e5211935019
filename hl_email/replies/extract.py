"""New-text extraction from a plain-text reply body: quotes, reply headers, forwards, signatures.

Each line is classified into one letter, and the trimming rules are short regular expressions
over that string of letters (the approach of discourse/email_reply_trimmer, written anew):

    e  empty line                      q  quoted line (``>``, ``|``, ``Name>``)
    b  reply header ("On … wrote:")    h  header block line (From:/Sent:/To:/Subject:)
    o  "Original message" / forward    d  delimiter line (``-- ``, ``____``, ``*****``)
    s  mobile signature ("Sent from")  m  a "reply above this line" marker: ours
                                          (REPLY_MARKER) or a help desk's, forum's, tracker's
    t  text

Every pattern is anchored to a single line and bounded, so no input can make a regular
expression backtrack for long; lines longer than ``_MAX_CUE_LINE`` are plain text.
"""

from __future__ import annotations

import email.message
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate

from .attribution import WROTE, WROTE_ENDINGS, ends_with_wrote
from .html import html_to_text
from .parse import as_message, decision_bodies, reply_body

__all__ = [
    "REPLY_MARKER",
    "ExtractedText",
    "classify_lines",
    "decision_readings",
    "ends_with_wrote",
    "extract_reply",
    "extract_reply_from_html",
    "extract_reply_from_message",
    "strip_closing",
    "strip_quoted",
    "strip_signoff",
]

REPLY_MARKER = "##- Please type your reply above this line -##"

# Lines longer than this cannot be a reply header or a delimiter: skip the cue regexes on them.
_MAX_CUE_LINE = 400
# A multi-line reply header ("On …,\n<…@…>\nwrote:") spans at most this many lines.
_MAX_HEADER_LINES = 6

_INVISIBLE_RE = re.compile("[\u1427\u200b\u200c\u200d\u2060\ufeff\xa0\u00ad]")

# --- single-line cues -------------------------------------------------------------------

_MARKER_RE = re.compile(r"^[>\s]*##-\s*please type your reply above this line\s*-##", re.I)

_QUOTE_RE = re.compile(r"^[ \t]*(?:>|\|(?:[ \t]|$)|[A-Za-z][A-Za-z0-9]{0,9}>(?:[ \t]|$))")

_CODE_FENCE_RE = re.compile(r"^[ \t]*(?:```|~~~)")

_DELIMITER_RE = re.compile(r"^[ \t]*[-_=*~#+—–•]{2,}[ \t]*$")
_SIG_DELIMITER_RE = re.compile(r"^[ \t]*--[ \t]*$")

# "Am 08.01.24 um 10:14 schrieb Name:", "2024-01-08 kl. 10:14, skrev Name:": the verb
# before the name (German, Dutch, Scandinavian clients), with a date or time on the line.
_VERB_BEFORE_NAME_RE = re.compile(
    r"(?<![^\W\d_])(?:schrieb|schreef|skrev|skrifaði|kirjoitti|írta|napsal|napísal|a\s+écrit|"
    r"escribió|escreveu|ha\s+scritto|wrote)\s+[^\n:]{1,100}[:：]\s*$",
    re.I,
)
_TIME_OR_DATE_RE = re.compile(r"\d{1,2}[:.]\d{2}|\d{1,4}[-./]\d{1,2}[-./]\d{1,4}")


def _verb_before_name(line: str) -> bool:
    tail = line[-160:]
    return (
        tail.rstrip().endswith((":", "："))
        and _TIME_OR_DATE_RE.search(tail) is not None
        and _VERB_BEFORE_NAME_RE.search(tail) is not None
    )


# "…<addr@host>:" or "… um 11:53 Uhr:" end a header only when a start cue is found above.
_END_WEAK_RE = re.compile(r"(?:[>)]\s*[:：]|\buhr\s*:)\s*$", re.I)

_WEEKDAYS = (
    r"mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|mo|di|mi|do|fr|sa|so|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim|"
    r"понедельник|вторник|среда|четверг|пятница|суббота|воскресенье|пн|вт|ср|чт|пт|сб|вс|"
    r"lun|mié|jue|vie|sáb|seg|ter|qua|qui|sex|gio|sab|dom|"
    r"ma|wo|vr|za|zo|man|tir|ons|tor|fre|lør|søn|mån|tis|tors|lör|sön|"
    r"pon|wt|śr|czw|pt|sob|niedz"
)
# First line of a reply header: "On …", localized openers, a leading date or weekday. (The
# leading run is possessive: no alternative starts with one of its characters, and giving
# characters back made every failing line cost several full tries of the alternation.)
_START_RE = re.compile(
    r"^[ \t*_>]*+-*+[ \t]*+(?:"
    r"(?:on|le|am|el|em|op|il|den|på|dnia|w\s+dniu|vào|at|στις|dne|dňa|ngày|kl\.?)\s"
    r"|\d{1,4}[-./]\d{1,2}[-./]\d{1,4}"
    r"|\d{1,2}\.?\s+\S{2,12}\.?\s+\d{4}"
    r"|(?:" + _WEEKDAYS + r")\.?,?\s"
    r"|在\s*\d|\d{4}年"
    r")",
    re.I,
)
# "2016-03-03 17:21 GMT+01:00 Some One" / "2013/7/20 sam <info@x.org>": old Gmail headers.
_DATE_HEADER_RE = re.compile(
    r"^[ \t]*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b"
    r"(?:.{0,30}\bGMT[+-]\d{1,2}:?\d{2}\b.{0,120}|.{0,160}<[^<>\s]+@[^<>\s]+>\s*:?)[ \t]*$"
)
_HAS_EMAIL_RE = re.compile(r"@[\w.-]+|<[^>]*$|mailto:", re.I)
_HAS_DIGIT_RE = re.compile(r"\d")

# "reply text On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:" on one line.
_INLINE_HEADER_RE = re.compile(
    r"^(?P<before>.*?\S)[ \t]*-*[ \t]*(?P<header>On\s[^\n]{0,200}\d[^\n]{0,200}?"
    r"(?:wrote|sent)\s*:?)[ \t]*$"
)

_ORIGINAL_RE = re.compile(
    r"^[ \t*_>]*(?:-{2,}|_{2,}|={2,})?[ \t*_]*(?:"
    r"original message|reply message|forwarded message|ursprüngliche nachricht|"
    r"antwort nachricht|weitergeleitete nachricht|original nachricht|oprindelig meddelelse|"
    r"videresendt meddelelse|mensaje original|mensaje reenviado|message d'origine|"
    r"message original|message transféré|mail original|ursprüngliche mail|"
    r"ursprungligt meddelande|oprindelig besked|messaggio originale|messaggio inoltrato|"
    r"mensagem original|mensagem encaminhada|oorspronkelijk bericht|doorgestuurd bericht|"
    r"originalmeddelande|vidarebefordrat meddelande|opprinnelig melding|"
    r"videresendt melding|alkuperäinen viesti|välitetty viesti|wiadomość oryginalna|"
    r"wiadomość przekazana dalej|oryginalna wiadomość|исходное сообщение|"
    r"пересылаемое сообщение|пересланное сообщение|оригінальне повідомлення|"
    r"původní zpráva|přeposlaná zpráva|原始邮件|转发的邮件|原始郵件|轉寄的郵件|"
    r"元のメッセージ|転送されたメッセージ"
    r")[ \t*_]*(?:-{2,}|_{2,}|={2,})?[ \t*_]*$"
    r"|^[ \t>]*(?:begin forwarded message|anfang der weitergeleiteten nachricht|"
    r"début du message réexpédié|inizio messaggio inoltrato|comienzo del mensaje reenviado|"
    r"início da mensagem reencaminhada|begin doorgestuurd bericht)[ \t]*:?[ \t]*$",
    re.I,
)

_MOBILE_SIGNATURE_RE = re.compile(
    r"^[ \t(<\[*_]*(?:"
    r"sent\s+(?:from|with|via|by|using|on)\b"
    r"|from\s+my\s+(?:iphone|ipad|android|mobile|phone|samsung|galaxy|blackberry|smartphone)"
    r"|get\s+\[?outlook\s+for\s+(?:ios|android)"
    r"|envoy[ée]\s+(?:de|depuis|avec|à\s+partir)\s"
    r"|von\s+meinem\s.{0,60}gesendet"
    r"|gesendet\s+(?:von|mit|vom)\s"
    r"|diese\s+nachricht\s+wurde\s+von\s+meinem\s"
    r"|enviado\s+(?:desde|do|de|con|com|a\s+partir)\s"
    r"|inviato\s+(?:da|dal|con)\s"
    r"|verzonden\s+(?:vanaf|van|met|via)\s|verstuurd\s+(?:vanaf|van|met)\s"
    r"|skickat\s+från\s|sendt\s+fra\s|lähetetty\s"
    r"|wysłane\s+(?:z|ze|przy)\s"
    r"|отправлено\s+(?:с|из|через)\s|надіслано\s+(?:з|із)\s"
    r"|发自|從我的|来自我的|iphoneから送信|iPadから送信"
    r")",
    re.I,
)

# What a phone or app signature names after "Sent from my" / "Envoyé de mon" …: a brand or
# product (capitalised, or a digit) or one of these words; "Sent from my desk, so …" is a
# sentence someone wrote.
_DEVICE_WORDS = frozenset(
    "iphone ipad ipod android mobile phone smartphone cellphone cell tablet device handheld "
    "blackberry galaxy samsung pixel huawei xiaomi windows mac macbook outlook gmail yahoo "
    "aol protonmail mail handy móvil movil celular telefone telemóvel telefono cellulare "
    "portable mobiel telefoon telefon mobil komórka телефона телефон смартфона мобильного "
    "телефону смартфона".split()
)
_DEVICE_PREFIXES = tuple(sorted(_DEVICE_WORDS))
_POSSESSIVES = frozenset(
    "my the a an mon ma mes meinem meiner meinen mein mi mis mio mia il la lo mijn min mitt "
    "mitt mój mojego moim mojej моего мого моєї".split()
)


_SENT_VERBS = frozenset(
    "sent envoyé envoye enviado inviato verzonden verstuurd skickat sendt wysłane "
    "отправлено надіслано gesendet lähetetty".split()
)
_SENT_PREPOSITIONS = frozenset(
    "from with via by using on de depuis avec desde do da dal con com vanaf van met från fra "
    "z ze с из з із von mit vom".split()
)


def _names_a_device(line: str) -> bool:
    """False when a "Sent from …" line goes on about a place or a thought ("Sent from my
    desk, so …"): after the verb and preposition, a device or app is named (a capitalised
    or digit-bearing product name, a link, or a device word)."""
    words = line.lstrip("(<[*_ ").split()
    if len(words) < 3 or words[0].lower() not in _SENT_VERBS:
        return True  # "Von meinem iPhone gesendet", "Get Outlook for iOS", CJK forms
    if words[1].lower() not in _SENT_PREPOSITIONS or len(words) > 16:
        return len(words) <= 16
    for word in words[2:5]:
        bare = word.strip(",.;:!?()[]<>*_\"'")
        if bare.lower() in _POSSESSIVES:
            continue
        if not bare:
            return True
        lowered = bare.lower()
        return (
            any(char.isupper() or char.isdigit() for char in bare)
            or lowered.startswith(("http", "www."))
            or lowered.startswith(_DEVICE_PREFIXES)
        )
    return True


# Header block keys (Outlook, Apple, Thunderbird, in many languages), by role.
_HEADER_KEYS = {
    "from": "from|von|de|da|van|fra|från|od|от|від|發件人|发件人|寄件者|差出人|보낸 사람|afzender|lähettäjä",
    "date": "sent|date|gesendet|datum|envoyé|enviado|enviada|fecha|inviato|data|verzonden|"
    "sendt|dato|skickat|wysłano|отправлено|дата|надіслано|发送时间|發送時間|日期|傳送時間|"
    "送信日時|날짜|lähetetty|päivämäärä",
    "to": "to|an|à|a|para|aan|til|till|do|кому|收件人|收件者|宛先|받는 사람|vastaanottaja",
    "cc": "cc|kopie|copie|cópia|copia|kopia|копия|копія|抄送|副本|cc\u00a0",
    "subject": "subject|betreff|objet|asunto|assunto|oggetto|onderwerp|emne|ämne|temat|тема|"
    "主题|主旨|件名|제목|aihe|predmet|předmět",
    "reply": "reply-to|risposta|antwort an|responder a|répondre à",
}
_HEADER_KEY_RE = re.compile(
    r"^[ \t]*[*_]{0,2}(?:"
    + "|".join(f"(?P<{role}>{keys})" for role, keys in _HEADER_KEYS.items())
    + r")[*_]{0,2}[ \t]?[:：][*_]{0,2}(?:[ \t]|$)",
    re.I,
)

# A quoted "On … wrote:" (the whole message is an old thread): see _trim.
_QUOTED_HEADER_RE = re.compile(
    r"^[ \t]*(?:>[ \t]*)+\S.{0,300}(?:" + WROTE + r")\s*[:：]?\s*$", re.I
)


def _normalise(body: str) -> list[str]:
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        text = _INVISIBLE_RE.sub(" ", text)  # PERF: a regex is far faster than str.translate
    lines = text.split("\n")
    if " On " not in text:
        return lines
    out: list[str] = []
    for line in lines:
        # Split "reply On <date>, x wrote:" into the reply and the header.
        if len(line) <= _MAX_CUE_LINE and " On " in line and ends_with_wrote(line):
            match = _INLINE_HEADER_RE.match(line)
            if match and not _QUOTE_RE.match(line) and not _START_RE.match(line):
                out.append(match.group("before").rstrip("- \t"))
                out.append(match.group("header"))
                continue
        out.append(line)
    return out


_PUNCTUATION_START = frozenset("-_=*~#+—–•")
_ORIGINAL_START = frozenset("-_=*>")
_SIGNATURE_FIRST_WORDS = frozenset(
    "sent from get envoyé envoye von gesendet diese enviado inviato verzonden verstuurd "
    "skickat sendt lähetetty wysłane отправлено надіслано".split()
)
_SIGNATURE_CJK_START = ("发自", "從我的", "来自我的", "iphone", "ipad")


def _single_kind(line: str, in_code: bool) -> str:
    stripped = line.strip()
    if not stripped:
        return "e"
    if in_code:
        return "t"
    first = stripped[0]
    if first == "#" and "##-" in line and _MARKER_RE.match(line):
        return "m"
    if first in ">|" or (">" in stripped[:12] and first.isalpha()):
        if _QUOTE_RE.match(line):
            if "##-" in line and _MARKER_RE.match(line):
                return "m"
            return "q"
    if len(line) > _MAX_CUE_LINE:
        return "t"
    if first in _PUNCTUATION_START and _DELIMITER_RE.match(line):
        return "d"
    if len(stripped) <= 100 and (first in _ORIGINAL_START or stripped.endswith(":")):
        if _ORIGINAL_RE.match(line):
            return "o"
    if len(stripped) <= 160:
        word = stripped.lstrip("(<[*_ ").split(None, 1)
        if word and (
            word[0].lower() in _SIGNATURE_FIRST_WORDS
            or word[0].lower().startswith(_SIGNATURE_CJK_START)
        ):
            if (
                _MOBILE_SIGNATURE_RE.match(line)
                and not ends_with_wrote(line)
                and _names_a_device(stripped)
            ):
                return "s"
    if first.isdigit() and _DATE_HEADER_RE.match(line):
        return "b"
    return "t"


# The last line of a wrapped header can look quoted: "<a@b.org\n> wrote:" or "<a@b.org\n>:".
_QUOTED_END_RE = re.compile(r"^[ \t]*>[ \t]*(?:(?:" + WROTE + r")[ \t]*[:：]?|[:：])[ \t]*$", re.I)


_SANDWICHED_RE = re.compile(r"(?<=q)t(?=q)")


def _mark_quote_continuations(lines: list[str], kinds: list[str]) -> None:
    """A quoted line broken by a mail client ("> see (http://x/a\nb=c)\n>") stays a quote."""
    pattern = "".join(kinds)
    limit = len(kinds) - _TAIL_LINES
    for match in _SANDWICHED_RE.finditer(pattern):
        i = match.start()
        if _HEAD_LINES <= i < limit:
            continue
        above, line = lines[i - 1], lines[i].rstrip()
        if (
            line.endswith(">")
            or above.count("(") > above.count(")")
            or above.count("<") > above.count(">") + 1
        ):
            kinds[i] = "q"


def _mark_reply_headers(lines: list[str], kinds: list[str], ends: list[int]) -> None:
    """Mark "On … wrote:" headers, including those wrapped over several lines, as ``b``."""
    for j in ends:
        kind = kinds[j]
        if kind != "t" and kind != "q":
            continue
        line = lines[j]
        if len(line) > _MAX_CUE_LINE or (kind == "q" and not _QUOTED_END_RE.match(line)):
            continue
        strong = ends_with_wrote(line) or _verb_before_name(line)
        weak = None
        if not strong:
            tail = line[-20:].rstrip()
            if not tail.endswith((":", "：")):
                continue
            weak = _END_WEAK_RE.search(tail)
            if not weak:
                continue
        # Walk up to the header's first line.
        start = None
        weak_start = None
        if _START_RE.match(line):
            start = j
        else:
            if strong or _HAS_EMAIL_RE.search(line):
                weak_start = j
            k = j - 1
            stop = max(-1, j - _MAX_HEADER_LINES)
            while k > stop:
                candidate = lines[k]
                kind = kinds[k]
                if kind == "e":
                    # a blank line inside a header only before "<" (Polymail, Gmail mobile)
                    if not lines[k + 1].lstrip().startswith("<"):
                        break
                    k -= 1
                    continue
                if kind != "t" or len(candidate) > _MAX_CUE_LINE:
                    break
                if _START_RE.match(candidate):
                    start = k
                    break
                has_email = _HAS_EMAIL_RE.search(candidate)
                if weak_start is None and (has_email or ends_with_wrote(candidate)):
                    weak_start = k
                if not has_email and candidate.rstrip().endswith((".", "!", "?")):
                    break
                k -= 1
        if start is None:
            if weak:
                if weak_start is None or weak_start == j:
                    continue
                start = weak_start
            else:
                start = weak_start if weak_start is not None else j
        chunk = " ".join(lines[start : j + 1])
        if len(chunk) > 2 * _MAX_CUE_LINE:
            continue
        if start == j and not (
            _HAS_DIGIT_RE.search(chunk)
            or _HAS_EMAIL_RE.search(chunk)
            or chunk.strip().startswith("--")
            or _next_is_quote(lines, kinds, j)
        ):
            continue
        for i in range(start, j + 1):
            if kinds[i] != "e":
                kinds[i] = "b"


def _next_is_quote(lines: list[str], kinds: list[str], j: int) -> bool:
    for i in range(j + 1, min(len(lines), j + 4)):
        if kinds[i] != "e":
            return kinds[i] == "q"
    return False


_MAX_HEADER_BLOCK_LINES = 30


def _mark_header_blocks(lines: list[str], kinds: list[str], candidates: list[int]) -> None:
    """Mark From:/Sent:/To:/Subject: blocks (two or more roles, one of them from or date)."""
    n = len(lines)
    starts = [i for i in candidates if kinds[i] == "t"]
    done = 0
    for i in starts:
        if i < done or kinds[i] != "t" or len(lines[i]) > _MAX_CUE_LINE:
            continue
        match = _HEADER_KEY_RE.match(lines[i])
        if not match:
            continue
        roles = {match.lastgroup}
        end = i + 1  # exclusive
        continuation = 0
        k = i + 1
        while k < min(n, i + _MAX_HEADER_BLOCK_LINES):
            if kinds[k] == "e":
                # allow one blank line between header lines
                if k + 1 < n and kinds[k + 1] == "t" and _HEADER_KEY_RE.match(lines[k + 1]):
                    k += 1
                    continue
                break
            if kinds[k] != "t" or len(lines[k]) > _MAX_CUE_LINE:
                break
            key = _HEADER_KEY_RE.match(lines[k])
            if key:
                roles.add(key.lastgroup)
                continuation = 0
                end = k + 1
            elif continuation < 2:
                continuation += 1
                end = k + 1
            else:
                break
            k += 1
        if len(roles) >= 2 and roles & {"from", "date"}:
            # trailing continuation lines after the last key are part of the block only if
            # they are short (a wrapped subject or address)
            for x in range(i, end):
                kinds[x] = "h"
            done = end


# Only lines these scans find get a closer look; every other line is plain text. Each scan
# runs over the whole body in C (a literal "\n" or a character class lets the regex engine
# search fast), so a 100k-line body costs no per-line Python.
_CANDIDATE_SCANS = (
    re.compile(r"\n[ \t]*[|\-_=*~#+—–•(<\[`\d]"),  # delimiters, dates, fences, "|" quotes
    re.compile(r"\n[ \t]*[A-Za-z][A-Za-z0-9]{0,9}>"),  # "Richard> quoted"
)
# PERF: in very long bodies only the first and last lines are read for headers, separators
# and signatures (new text sits at the top or, bottom-posted, at the end); the lines in
# between are classified as empty, quoted or text only, which keeps every input fast.
_HEAD_LINES = 2_500
_TAIL_LINES = 1_000
_CANDIDATE_END_RE = re.compile(r"[:：\->][ \t]*(?=\n)")
# Mobile signatures start with a word; they matter only in the new text near the top.
_SIGNATURE_SCAN_RE = re.compile(
    r"\n[ \t(<\[*_]*+(?i:(?=[sfgevdilwон发從来])(?:sent|from|get|envoy|von|gesendet|diese|"
    r"enviado|inviato|verzonden|verstuurd|skickat|sendt|lähetetty|wysłane|отправлено|надіслано|发自|從我的|来自我的|"
    r"iphone|ipad))"
)
_SIGNATURE_SCAN_CHARS = 64 * 1024
_HEADER_KEY_COLUMN = 42
# A colon (either width) at most _HEADER_KEY_COLUMN characters into the line.
_COLON_SCAN_RE = re.compile(r"\n[^\n:：]{0,41}+[:：]")  # 41 = _HEADER_KEY_COLUMN - 1


def _base_kinds(lines: list[str]) -> list[str]:
    """``e`` (blank), ``q`` (starts with ``>``) or ``t`` for every line."""
    return [
        "e" if not (text := line.lstrip()) else "q" if text[0] == ">" else "t" for line in lines
    ]


# Other systems' "reply above this line" markers (help desks, forums, issue trackers): a
# reply verb, then "above this line"; or "do not write below this line"; in the languages
# we read. Only the first _FOREIGN_MARKER_SCAN_CHARS are searched: the marker sits right
# under the new text.
_FOREIGN_MARKER_RE = re.compile(
    r"(?i:"
    r"\b(?:reply|respond|write|type|answer|enter|add|comment)\w{0,4}\b[^\n]{0,40}?"
    r"\b(?:above|over)\s+(?:this|the)\s+line"
    r"|\bdo\s+not\s+(?:reply|write|type|respond)\s+below\s+(?:this|the)\s+line"
    r"|\b(?:antwort|antworten|schreiben|schreib)\w{0,4}[^\n]{0,40}?(?:oberhalb|über)\s+dieser\s+(?:zeile|linie)"
    r"|\b(?:oberhalb|über)\s+dieser\s+(?:zeile|linie)[^\n]{0,20}?\b(?:antwort|antworten|schreiben)"
    r"|\b(?:répond|écri|repond|ecri)\w{0,5}[^\n]{0,40}?au[- ]dessus\s+de\s+cette\s+ligne"
    r"|\b(?:respond|escrib|conteste)\w{0,5}[^\n]{0,40}?(?:por\s+)?(?:encima|arriba)\s+de\s+esta\s+l[ií]nea"
    r"|\b(?:respond|escrev|digit|responda)\w{0,5}[^\n]{0,40}?acima\s+(?:desta|dessa)\s+linha"
    r"|\b(?:rispond|scriv)\w{0,5}[^\n]{0,40}?sopra\s+(?:questa|la)\s+(?:riga|linea)"
    r"|\b(?:antwoord|reageer|typ|schrijf|beantwoord)\w{0,4}[^\n]{0,40}?boven\s+(?:deze|de)\s+(?:regel|lijn)"
    r"|\b(?:odpowi|pisz|napisz)\w{0,6}[^\n]{0,40}?(?:powyżej|nad)\s+(?:tej|tą)\s+lini[ią]"
    r"|\b(?:svara|skriv)\w{0,3}[^\n]{0,40}?ovanför\s+(?:denna|den\s+här)\s+(?:rad|linje)"
    r"|\b(?:svar|skriv)\w{0,3}[^\n]{0,40}?over\s+denne\s+linje"
    r"|(?:ответ|пиш|напиш)\w{0,6}[^\n]{0,40}?(?:выше|над)\s+этой\s+(?:строк|лини)"
    r"|(?:відповіда|відповід|пиш|напиш)\w{0,6}[^\n]{0,40}?(?:вище|над)\s+(?:цим|цією|цього)\s+(?:рядк|лін)"
    r")"
    r"|(?:请|請)?在(?:此|这|這|该|該|本)(?:行|条线|條線|线|線)(?:以)?上(?:方|面)?(?:回复|回覆|答复|答覆|回信|输入|輸入|书写|書寫)"
    r"|この(?:行|線)より(?:上|上部)に(?:ご?返信|記入|入力)"
)
_FOREIGN_MARKER_SCAN_CHARS = 64 * 1024
_MAX_MARKER_LINE = 200


# Every marker above names "this line" in its language: these words find the few lines the
# marker pattern is tried on (str.find over the lower-cased head of the body, in C).
_MARKER_NEEDLES = (
    "this line", "the line", "dieser zeile", "dieser linie", "cette ligne", "esta línea",
    "esta linea", "desta linha", "dessa linha", "questa riga", "questa linea", "la riga",
    "la linea", "deze regel", "deze lijn", "de regel", "de lijn", "tej linii", "tą linią",
    "denna rad", "denna linje", "den här rad", "denne linje", "этой строк", "этой лини",
    "цим рядк", "цією лін", "цього рядк", "行上", "行以上", "条线", "條線", "线以上", "線以上",
    "この行", "この線",
)  # fmt: skip


def _mark_foreign_markers(lines: list[str], kinds: list[str], joined: str) -> None:
    """Another system's "reply above this line" line (quoted or not) is ``m``."""
    head = joined[:_FOREIGN_MARKER_SCAN_CHARS].lower()  # lower() keeps every "\n"
    found: set[int] = set()
    for needle in _MARKER_NEEDLES:
        position = head.find(needle)
        while position >= 0:
            found.add(position)
            position = head.find(needle, head.find("\n", position) + 1 or len(head))
    checked: set[int] = set()
    counted_to, line = 0, -1
    for position in sorted(found):
        line += head.count("\n", counted_to, position)
        counted_to = position
        if line in checked or not 0 <= line < len(lines):
            continue
        checked.add(line)
        text = lines[line]
        if len(text) <= _MAX_MARKER_LINE and _FOREIGN_MARKER_RE.search(text):
            kinds[line] = "m"


def _mark_markers(lines: list[str], kinds: list[str], joined: str) -> None:
    """Our own REPLY_MARKER anywhere in the body (quoted or not) is ``m``."""
    position = joined.find("##-")
    counted_to, line = 0, -1
    while position >= 0:
        line += joined.count("\n", counted_to, position)
        counted_to = position
        if line < len(lines) and _MARKER_RE.match(lines[line]):
            kinds[line] = "m"
        following = joined.find("\n", position)
        if following < 0:
            break
        position = joined.find("##-", following)


def _scan_region(
    lines: list[str], kinds: list[str], lo: int, hi: int, chars_before: Callable[[], int]
) -> tuple[set[int], set[int]]:
    """(lines worth classifying, lines that may end a reply header) among lines[lo:hi]."""
    part = lines[lo:hi]
    joined = "\n" + "\n".join(part) + "\n"
    # offsets[i] is the position of the "\n" in front of line lo + i
    offsets = list(accumulate(map((1).__add__, map(len, part)), initial=0))
    found: set[int] = set()
    for scan in (*_CANDIDATE_SCANS, _COLON_SCAN_RE):
        found.update(bisect_left(offsets, m.start()) for m in scan.finditer(joined))
    signature_stop = _SIGNATURE_SCAN_CHARS - chars_before()
    if signature_stop > 0:
        found.update(
            bisect_left(offsets, m.start())
            for m in _SIGNATURE_SCAN_RE.finditer(joined, 0, signature_stop)
        )
    ends = {bisect_right(offsets, m.start()) - 1 for m in _CANDIDATE_END_RE.finditer(joined)}
    found.update(ends)
    size = hi - lo
    return (
        {lo + i for i in found if i < size and kinds[lo + i] == "t"},
        {lo + i for i in ends if i < size},
    )


def _candidate_lines(lines: list[str], kinds: list[str]) -> tuple[list[int], list[int]]:
    """Return (lines worth classifying, lines that may end a reply header), both sorted."""
    n = len(lines)
    head = min(n, _HEAD_LINES)
    found, ends = _scan_region(lines, kinds, 0, head, lambda: 0)
    if n > _HEAD_LINES:
        lo = max(_HEAD_LINES, n - _TAIL_LINES)

        def chars_before() -> int:
            # the signature scan reads only the first _SIGNATURE_SCAN_CHARS of the body
            if sum(map(len, lines[:head])) + head >= _SIGNATURE_SCAN_CHARS:
                return _SIGNATURE_SCAN_CHARS
            return sum(map(len, lines[:lo])) + lo

        more, more_ends = _scan_region(lines, kinds, lo, n, chars_before)
        found |= more
        ends |= more_ends
    return sorted(found), sorted(ends)


def classify_lines(lines: list[str]) -> str:
    """One letter per line (see the module docstring)."""
    joined = "\n" + "\n".join(lines)
    kinds = _base_kinds(lines)
    _mark_markers(lines, kinds, joined)
    _mark_foreign_markers(lines, kinds, joined)
    ordered, ends = _candidate_lines(lines, kinds)
    code: set[int] = set()
    fences = [i for i in ordered if _CODE_FENCE_RE.match(lines[i])]
    opened = -1
    for i in fences:
        if opened < 0:
            opened = i
        else:
            code.update(range(opened + 1, i))
            opened = -1
    fence_set = set(fences)
    for i in ordered:
        if i not in fence_set:
            kinds[i] = _single_kind(lines[i], i in code)
    _mark_quote_continuations(lines, kinds)
    _mark_reply_headers(lines, kinds, ends)
    _mark_header_blocks(lines, kinds, ordered)
    return "".join(kinds)


def _may_end_header(line: str) -> bool:
    tail = line[-80:].rstrip(" \t-")
    return tail.endswith((":", "：")) or tail.lower().endswith(WROTE_ENDINGS)


_CUT_RE = re.compile(r"[bhodsm]")
_LEADING_RE = re.compile(r"e*")
_LEADING_FORWARD_RE = re.compile(r"(?:o[oe]*)?[he]*")
_QUOTE_RUN_RE = re.compile(r"q[qe]*")
# These run with .match(kinds, pos): anchored at pos, no "^".
_INTERLEAVED_RE = re.compile(r"b[be]*q[qe]*t[te]*q")
_WRAPPED_RE = re.compile(r"b[be]*q[qe]*(t[te]*)(?:[ds].*)?$")
_HEADER_RUN_RE = re.compile(r"[be]*")
_TRAILING_QUOTE_RE = re.compile(r"t([qe]+)$")


def _trim(lines: list[str], kinds: str) -> list[str]:
    # Our own marker: everything from it down is the original request.
    marker = kinds.find("m")
    if marker >= 0:
        lines, kinds = lines[:marker], kinds[:marker]

    at = _new_text_start(kinds)
    if at is None:
        return []
    lines, kinds = lines[at:], kinds[at:]

    if "t" not in kinds:
        # Only quotes: an old thread with its own "On … wrote:" carries nothing new.
        if any(
            ends_with_wrote(line) and _QUOTED_HEADER_RE.match(line)
            for line in lines[:_HEAD_LINES]
            if len(line) <= _MAX_CUE_LINE
        ):
            return []
        return _strip_blank(lines)

    end, dropped = _text_end(lines, kinds)
    lines, kinds = _without(lines, kinds, end, dropped)

    trailing = _TRAILING_QUOTE_RE.search(kinds)
    if trailing:
        lines = lines[: trailing.start(1)]
    return _strip_blank(lines)


def _new_text_start(kinds: str) -> int | None:
    """Where the new text starts after leading reply headers, forwards and header blocks
    (bottom posting, forwarded mail); None when nothing new was written."""
    at = 0
    while True:
        at = _LEADING_RE.match(kinds, at).end()
        if at >= len(kinds):
            return None
        first = kinds[at]
        if first in "oh":
            skip = _LEADING_FORWARD_RE.match(kinds, at).end()
            if kinds.find("t", skip) < 0:
                return at
            at = skip
            continue
        if first == "b":
            skip = _HEADER_RUN_RE.match(kinds, at).end()
            quote = _QUOTE_RUN_RE.match(kinds, skip)
            if quote and kinds.find("t", quote.end()) >= 0:
                skip = quote.end()
            elif quote and quote.end() >= len(kinds):
                return None  # only "On … wrote:" and the quote: nothing new was written
            at = skip
            continue
        if first in "ds":
            # a signature or delimiter before any text: nothing new was written
            return None
        return at


def _text_end(lines: list[str], kinds: str) -> tuple[int, list[tuple[int, int]]]:
    """Where the new text ends: the first header, separator or signature after the text,
    except where the text goes on between quotes (inline answers) or closes with a short
    sign-off. Returns the end and the (start, stop) spans of reply headers dropped above it."""
    end = len(kinds)
    dropped: list[tuple[int, int]] = []
    cut = _CUT_RE.search(kinds, kinds.find("t"))
    while cut:
        at = cut.start()
        if kinds[at] == "b":
            if _INTERLEAVED_RE.match(kinds, at):
                header_end = _HEADER_RUN_RE.match(kinds, at).end()
                dropped.append((at, header_end))
                cut = _CUT_RE.search(kinds, header_end)
                continue
            wrapped = _WRAPPED_RE.match(kinds, at)
            if wrapped:
                tail = [line.strip() for line in lines[wrapped.start(1) : wrapped.end(1)]]
                tail = [line for line in tail if line]
                if len(tail) <= 2 and sum(map(len, tail)) <= 60:
                    # a short closing ("Regards, Roman") written under the quote
                    dropped.append((at, wrapped.start(1)))
                    return wrapped.end(1), dropped
        return at, dropped
    return end, dropped


def _without(
    lines: list[str], kinds: str, end: int, dropped: list[tuple[int, int]]
) -> tuple[list[str], str]:
    """The lines (and their kinds) up to ``end``, each dropped span left as one empty line."""
    if not dropped:
        return lines[:end], kinds[:end]
    kept_lines: list[str] = []
    kept_kinds: list[str] = []
    position = 0
    for start, stop in dropped:
        kept_lines.extend(lines[position:start])
        kept_kinds.append(kinds[position:start])
        kept_lines.append("")
        kept_kinds.append("e")
        position = stop
    kept_lines.extend(lines[position:end])
    kept_kinds.append(kinds[position:end])
    return kept_lines, "".join(kept_kinds)


def _strip_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return [line.rstrip() for line in lines[start:end]]


def _only_under_a_header(kinds: str) -> bool:
    stripped = kinds.lstrip("e")
    return stripped[:1] in ("b", "o", "h") and stripped.lstrip("bohe")[:1] == "t"


# A delimiter ("____", "-----") or an "Original message" / forward line with plain text
# right under it: no header block, reply header or quote follows, so what is under it is
# not a quoted message (a client always writes the headers there) but more new text.
_BARE_SEPARATOR_RE = re.compile(r"[do](?=e*t)")


def _unquote_bare_separators(kinds: str) -> str:
    """For a decision: a separator that no quoted message follows does not end the new text
    ("Approved\\n____\\nwait, not this one" is read whole)."""
    if "d" not in kinds and "o" not in kinds:
        return kinds
    return _BARE_SEPARATOR_RE.sub("t", kinds)


class ExtractedText(str):
    """The result of :func:`extract_reply`: a plain ``str`` that remembers it is already new
    text, so :func:`~hl_email.replies.decide` does not extract it a second time (extraction
    is idempotent). Any string operation on it returns an ordinary ``str``."""

    __slots__ = ()


def extract_reply(
    body: str,
    *,
    strip_signatures: bool = True,
    for_decision: bool = False,
    strip_signoff: bool = False,
) -> str:
    """Return the text the sender newly wrote in a plain-text reply ``body``.

    Removes quoted history ("On … wrote:" and ``>`` blocks, Outlook header blocks, original
    message and forward separators), "reply above this line" markers and everything below
    them, and (unless ``strip_signatures`` is false) ``-- `` signatures and "Sent from my …"
    lines. Inline answers written between quoted lines are kept together with those quotes.

    ``for_decision``: the text a decision reads. Signatures and "Sent from my …" lines are
    kept (a retraction written under them counts) and every quoted line is removed, inline
    quotes included. ``strip_signoff``: also drop a hand-written closing at the end
    ("Thanks,\nLena", "-Sam"), for answers handed to the agent.
    """
    if not isinstance(body, str) or not body.strip():
        return ExtractedText()
    keep_signatures = for_decision or not strip_signatures
    if type(body) is ExtractedText and not keep_signatures and not strip_signoff:
        return body
    lines = _normalise(body)
    kinds = classify_lines(lines)
    if for_decision and _only_under_a_header(kinds):
        # a reply header ("On … wrote:", "From:/Sent:") first and text under it without ">":
        # that text is the quote, and a quote never counts toward a decision (issue 9)
        return ExtractedText()
    if keep_signatures:
        kinds = "".join(
            "t" if k == "s" or (k == "d" and _SIG_DELIMITER_RE.match(line)) else k
            for k, line in zip(kinds, lines, strict=True)
        )
        kinds = _unquote_bare_separators(kinds)
    kept = _trim(lines, kinds)
    if for_decision:
        unquoted: list[str] = []
        for line in kept:
            if _QUOTE_RE.match(line) or (not line.strip() and unquoted and not unquoted[-1]):
                continue
            unquoted.append(line.rstrip() if line.strip() else "")
        return ExtractedText("\n".join(_strip_blank(unquoted)).strip())
    if strip_signoff:
        kept = strip_closing(kept)
    text = "\n".join(kept).strip()
    return ExtractedText(text) if strip_signatures else text


# --- hand-written closings ("Thanks,\nLena", "-Sam") ------------------------------------

_CLOSINGS = (
    # en
    "thanks|thank you|thanks a lot|thanks again|many thanks|thanks in advance|thx|ty|tia|"
    "cheers|best|best regards|best wishes|kind regards|warm regards|warmest regards|regards|"
    "all the best|all best|sincerely|yours sincerely|sincerely yours|yours truly|yours|br|"
    "kr|rgds|take care|talk soon|cordially|respectfully|"
    # de
    "danke|danke schön|danke dir|danke ihnen|vielen dank|besten dank|herzlichen dank|"
    "viele grüße|viele grüsse|liebe grüße|liebe grüsse|beste grüße|beste grüsse|"
    "freundliche grüße|freundliche grüsse|mit freundlichen grüßen|mit freundlichen grüssen|"
    "herzliche grüße|schöne grüße|gruß|grüße|grüsse|mfg|lg|vg|bg|"
    # fr
    "merci|merci beaucoup|merci d'avance|cordialement|bien cordialement|bien à vous|"
    "salutations|sincères salutations|bonne journée|amitiés|bises|à bientôt|"
    # es
    "gracias|muchas gracias|saludos|un saludo|saludos cordiales|atentamente|cordialmente|"
    "un abrazo|abrazos|"
    # pt
    "obrigado|obrigada|muito obrigado|muito obrigada|atenciosamente|abraços|abraço|"
    "cumprimentos|saudações|att|grato|grata|"
    # it
    "grazie|grazie mille|cordiali saluti|saluti|distinti saluti|un saluto|a presto|"
    # nl
    "bedankt|dank je|dank u|dankjewel|groeten|groet|met vriendelijke groet|"
    "vriendelijke groet|vriendelijke groeten|hartelijke groet|mvg|"
    # pl
    "dzięki|dziękuję|pozdrawiam|pozdrowienia|z poważaniem|serdecznie pozdrawiam|"
    # sv, da, no
    "tack|tack så mycket|hälsningar|med vänlig hälsning|vänliga hälsningar|mvh|"
    "mange tak|hilsen|med venlig hilsen|venlig hilsen|de bedste hilsner|takk|tusen takk|"
    "med vennlig hilsen|vennlig hilsen|"
    # ru, uk
    "спасибо|с уважением|всего доброго|всего хорошего|заранее спасибо|благодарю|"
    "дякую|з повагою|щиро дякую|"
    # zh, ja
    "谢谢|謝謝|此致|敬礼|此致敬礼|祝好|多谢|多謝|"
    "よろしくお願いします|よろしくお願いいたします|宜しくお願い致します|"
    "よろしくお願い致します|ありがとうございます|以上です|以上|敬具"
)
_CLOSING_RE = re.compile(
    r"^[ \t]*(?i:" + _CLOSINGS + r")[ \t]*[,.!。、！~]*[ \t]*"
    r"(?:[,\s][ \t]*(?P<name>[^\W\d_][\w.'’-]{0,30}(?:[ \t]+[^\W\d_][\w.'’-]{0,30}){0,2}))?"
    r"[ \t]*[.!]?[ \t]*$"
)
# "-Sam" (no space after a hyphen: "- Order A" is a list item), "— Lena Fischer", "~jo",
# "/Jef", "//Jef"
_DASH_NAME_RE = re.compile(
    r"^[ \t]*(?:-{1,2}|[–—~]{1,2}[ \t]?|/{1,2}[ \t]?)"
    r"(?P<name>[^\W\d_][\w.'’-]{0,30}(?:[ \t]+[^\W\d_][\w.'’-]{0,30}){0,2})[ \t]*$"
)
_MAX_NAME_LINES = 4
_MAX_NAME_CHARS = 48
# Lower-case words a name, title or company line may hold ("Head of Finance", "Jan van Dijk").
_NAME_CONNECTORS = frozenset(
    "of and for the at & | · - – — de da di du des del della la le los las van von der den "
    "und y e i og och en et".split()
)
# Words no name line holds: a closing never swallows what decides ("Thanks,\nbut no").
_NOT_A_NAME = frozenset(
    "no not nope never nein nicht kein keine non pas ne nie nee niet nej ikke inte нет не ні "
    "yes ja oui si sí sim да так ok okay approve approved reject rejected deny denied stop "
    "wait hold cancel but aber mais pero ma maar men ale но але however unless only until "
    "don't dont won't can't isn't".split()
)


def _looks_like_name(text: str) -> bool:
    """Words of a name, title, company or contact line: capitalised (or from a script without
    case), connectors, or digits and signs (a phone number); none that could decide."""
    words = text.replace(",", " ").split()
    if not words:
        return False
    for position, word in enumerate(words):
        bare = word.strip(".'’()[]<>\"")
        lowered = bare.lower()
        if lowered in _NOT_A_NAME or lowered.rstrip("!?.") in _NOT_A_NAME:
            return False
        if not bare or "@" in bare or not any(char.isalpha() for char in bare):
            continue  # an address, a phone number, a separator
        first = bare[0]
        if first.isupper() or not first.islower():  # capitalised, or no case (CJK)
            continue
        if position and lowered in _NAME_CONNECTORS:
            continue
        if position == 0 and len(words) == 1 and len(bare) <= 12:
            continue  # a lone first name written in lower case ("lena")
        return False
    return True


def _is_name_line(line: str) -> bool:
    """A short line that can be a name, title or company under a closing (no sentence)."""
    text = line.strip()
    if not text or len(text) > _MAX_NAME_CHARS or len(text.split()) > 6:
        return False
    if text[-1] in "?!:;" or (text.endswith(".") and len(text.split()) > 3):
        return False
    return not _QUOTE_RE.match(line) and _looks_like_name(text)


def _closing_line(line: str) -> bool:
    if len(line) > _MAX_MARKER_LINE:
        return False
    match = _CLOSING_RE.match(line)
    return match is not None and (not match.group("name") or _looks_like_name(match["name"]))


def _dash_name_line(line: str) -> bool:
    if len(line) > _MAX_MARKER_LINE:
        return False
    match = _DASH_NAME_RE.match(line)
    return match is not None and _looks_like_name(match["name"])


def strip_signoff(text: str, *, keep_alone: bool = True) -> str:
    """``text`` without a hand-written closing at its end ("Thanks,\nLena", "-Sam"); see
    :func:`strip_closing`. ``keep_alone=False``: a text that is only a closing becomes ""
    (a comment that is just "Thanks, Lena" says nothing)."""
    if not isinstance(text, str) or not text.strip():
        return "" if not isinstance(text, str) else text.strip()
    lines = text.replace("\r\n", "\n").split("\n")
    kept = strip_closing(lines)
    if kept is lines and not keep_alone:
        alone = _strip_blank(lines)
        if alone and (
            all(_closing_line(line) or _is_name_line(line) or not line.strip() for line in alone)
            and (_closing_line(alone[0]) or (len(alone) == 1 and _dash_name_line(alone[0])))
        ):
            return ""
    return "\n".join(kept).strip()


def _in_a_list(lines: list[str], index: int) -> bool:
    """The line above (skipping blank lines) is a list item too: "-x" is then an item."""
    above = index - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    return above >= 0 and lines[above].lstrip()[:1] in ("-", "–", "—", "~", "/", "*", "•")


def strip_closing(lines: list[str]) -> list[str]:
    """``lines`` without a hand-written closing at the end: a closing word ("Thanks,",
    "Mit freundlichen Grüßen") with up to four short name lines under it, a closing with a
    name on its line ("Thanks, Lena"), or a dash-and-name line ("-Sam"). Kept when nothing
    would be left above it."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    if not end:
        return lines

    def closing(i: int) -> bool:
        return _closing_line(lines[i])

    def blank(i: int) -> bool:
        return not lines[i].strip()

    cut = None
    last = end - 1
    if closing(last) or (_dash_name_line(lines[last]) and not _in_a_list(lines, last)):
        cut = last
    else:
        i, names = last, 0
        while i >= 0 and names < _MAX_NAME_LINES and _is_name_line(lines[i]) and not closing(i):
            names, i = names + 1, i - 1
        if names and i >= 0 and blank(i):  # "Thanks,\n\nLena"
            while i >= 0 and blank(i):
                i -= 1
        if names and i >= 0 and closing(i):
            cut = i
    if cut is None:
        return lines
    above = cut - 1
    while above >= 0 and blank(above):
        above -= 1
    if above >= 0 and closing(above):  # "Thanks!\nBest,\nLena"
        cut = above
        above -= 1
        while above >= 0 and blank(above):
            above -= 1
    if above < 0:
        return lines  # the closing is all there is: leave it
    return _strip_blank(lines[:cut])


# a line whose first non-blank character is ">" (\s as str.isspace, as lstrip() reads it;
# never across a newline, so a long run of blank lines is read once)
_QUOTED_LINE_START_RE = re.compile(r"^[^\S\n]*>", re.M)


def strip_quoted(text: str) -> str:
    """Drop ``>``-quoted lines and everything from our marker down (for intent detection)."""
    text = text.replace("\r\n", "\n")
    if "##-" not in text and not _QUOTED_LINE_START_RE.search(text):
        return text.strip()  # PERF: no marker and no quoted line: nothing to drop
    out: list[str] = []
    for line in text.split("\n"):
        if "##-" in line and _MARKER_RE.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        out.append(line)
    return "\n".join(out).strip()


# --- whole messages and HTML bodies -------------------------------------------------------


def extract_reply_from_html(
    html: str,
    *,
    strip_signatures: bool = True,
    for_decision: bool = False,
    strip_signoff: bool = False,
) -> str:
    """New text of an HTML reply body: client quote containers removed, then trimmed.

    A ``<blockquote>`` the person wrote on purpose is kept as text. ``for_decision``: the
    text a decision reads: every blockquote and quote removed, signatures (also the blocks
    clients mark, like Gmail's gmail_signature) kept. ``strip_signoff`` drops a
    hand-written closing ("Thanks,\nLena") at the end.
    """
    try:
        text = html_to_text(
            html,
            strip_signatures=strip_signatures and not for_decision,
            blockquotes="drop" if for_decision else "auto",
        )
    except Exception:  # selectolax is lenient; a parser failure must not kill the watcher
        return ""
    return extract_reply(
        text,
        strip_signatures=strip_signatures,
        for_decision=for_decision,
        strip_signoff=strip_signoff,
    )


def extract_reply_from_message(
    msg: bytes | str | email.message.Message,
    *,
    strip_signatures: bool = True,
    for_decision: bool = False,
    strip_signoff: bool = False,
) -> str:
    """New text of a reply message: its first inline text/plain part, else its HTML part.

    Attached messages and parts with a file name are not read. Returns "" when the message
    has no readable body. ``for_decision`` and ``strip_signoff`` as for
    :func:`extract_reply_from_html`.
    """
    try:
        parsed = as_message(msg)
        if parsed is None:
            return ""
        kind, body = reply_body(parsed)
    except Exception:
        return ""
    options = {
        "strip_signatures": strip_signatures,
        "for_decision": for_decision,
        "strip_signoff": strip_signoff,
    }
    if kind == "html":
        return extract_reply_from_html(body, **options)
    return extract_reply(body, **options)


def decision_readings(msg: bytes | str | email.message.Message) -> list[str]:
    """The new text of every part of a reply that a reader may see (all inline text/plain parts
    joined, and the HTML part), read as for a decision. An approval must hold in each: a plain
    part saying "Approve" beside an HTML part (or a second plain part) saying "no" is not one."""
    try:
        parsed = as_message(msg)
        if parsed is None:
            return []
        bodies = decision_bodies(parsed)
    except Exception:
        return []
    readings = []
    for kind, body in bodies:
        if kind == "html":
            readings.append(extract_reply_from_html(body, for_decision=True))
        else:
            readings.append(extract_reply(body, for_decision=True))
    return readings
