"""Reply-header verbs ("On … wrote:", "… a écrit :", "… schrieb:"): read by the plain-text
trimmer (extract.py) and by the HTML reader (html.py) alike (pure)."""

from __future__ import annotations

import re

__all__ = ["WROTE", "WROTE_ENDINGS", "ends_with_wrote"]

# Verbs that end a reply header ("… wrote:"), in many languages.
WROTE = (
    r"wrote|writes|sent|schrieb|schreibt|geschreven|schreef|a\s+écrit|escribió|escreveu|"
    r"scrisse|ha\s+scritto|napisał\(a\)|napisała|napisał|napsal\(a\)|napsal|napísal|"
    r"написал\(а\)|написала|написал|пишет|пише|написав|написала|pisze|skrev|kirjoitti|skrifaði|írta|"
    r"a\s+scris|yazdı|đã\s+viết|έγραψε|写道|寫道|が書きました|님이\s+작성"
)
# PERF: run with .match: the leading ".*" makes the engine try the end of the line first,
# where the verb is, instead of every position from the left.
_END_STRONG_RE = re.compile(r"(?s:.*)(?<![^\W\d_])(?:" + WROTE + r")\s*[:：]?\s*-*\s*$", re.I)
# Literal endings for a cheap prefilter before _END_STRONG_RE (most lines end otherwise).
WROTE_ENDINGS = tuple(
    re.sub(r"\\s\+", " ", word).replace("\\(", "(").replace("\\)", ")") for word in WROTE.split("|")
)


def ends_with_wrote(line: str) -> bool:
    """True when the line ends with a reply verb ("… wrote:", "… a écrit :", "wrote ----")."""
    tail = line[-80:].rstrip(" \t-")
    if tail.endswith((":", "：")):
        tail = tail[:-1].rstrip()
    tail = " ".join(tail[-40:].lower().split())
    return tail.endswith(WROTE_ENDINGS) and _END_STRONG_RE.match(line[-80:]) is not None
