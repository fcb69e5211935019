"""Whether a reply that carries our reply key is an answer to our email at all (pure).

A reply key can be learned (a forwarded email, a header copied into another thread). Someone
who knows one must not get a person to "approve" by replying "Yes, sounds good!" to an
unrelated email. So a keyed reply counts as an answer only when its subject continues ours,
or its body carries something of our email: our reply marker, our ``Ref:`` line, or the
request's approval code.
"""

from __future__ import annotations

import email.message
import re

from .extract import REPLY_MARKER

__all__ = ["answers_our_email", "subject_continues"]

# "Re:", "AW:", "SV:", "Fwd:", "回复：", "[EXT]" … in any order and number
_PREFIX_RE = re.compile(
    r"^\s*(?:\[[^\]\n]{1,30}\]\s*|(?:re|aw|sv|vs|antw|antwort|wg|fw|fwd|tr|rv|ref|odp|ynt|"
    r"res|enc|r|vá|απ|σχετ|回复|回覆|答复|答覆|返信|转发|轉寄)\s*(?:\[\d{1,4}\]|\(\d{1,4}\))?\s*[:：]\s*)",
    re.I,
)
_MARKER_RE = re.compile(re.escape(REPLY_MARKER).replace(r"\ ", r"\s+"), re.I)
_MAX_BODY_CHARS = 512 * 1024


def _bare_subject(subject: str) -> str:
    subject = " ".join(str(subject or "").split())
    for _ in range(20):
        shorter = _PREFIX_RE.sub("", subject, count=1)
        if shorter == subject:
            break
        subject = shorter
    return subject.casefold().strip()


def subject_continues(reply_subject: str | None, our_subject: str | None) -> bool:
    """True when the reply's subject is ours with reply/forward prefixes or a tag added."""
    ours = _bare_subject(our_subject or "")
    theirs = _bare_subject(reply_subject or "")
    if not ours or not theirs:
        return False
    return theirs == ours or (len(ours) >= 8 and ours in theirs)


def _body_texts(msg: email.message.Message) -> str:
    texts: list[str] = []
    size = 0
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        try:
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            text = payload.decode(charset, "replace")
        except (LookupError, TypeError, ValueError):
            continue
        texts.append(text[: _MAX_BODY_CHARS - size])
        size += len(texts[-1])
        if size >= _MAX_BODY_CHARS:
            break
    return "\n".join(texts)


def answers_our_email(
    msg: email.message.Message,
    *,
    our_subject: str | None,
    reply_key: str,
    approval_code: str | None = None,
) -> bool:
    """Whether ``msg`` answers our email: subject continues ours, or the body carries our
    marker, our ``Ref: <reply key>`` line or the approval code (quoted or not)."""
    if subject_continues(str(msg.get("Subject") or ""), our_subject):
        return True
    body = _body_texts(msg)
    if _MARKER_RE.search(body) or reply_key.lower() in body.lower():
        return True
    if approval_code and re.search(rf"(?<![\w]){re.escape(approval_code)}(?![\w])", body, re.I):
        return True
    return False
