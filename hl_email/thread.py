"""An email thread as HumanLayer's `EmailPayload.previous_thread`: pure, no I/O."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterable
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from .models import EmailMessage
from .replies import extract_reply_from_message

__all__ = ["previous_thread", "thread_message_ids"]

_MSGID = re.compile(r"<[^<>\s]{1,998}>")
_REF_LINE = re.compile(r"(?im)^\s*Ref:\s*\S+\s*$")


def thread_message_ids(msg: Message) -> list[str]:
    """The Message-IDs a message says it follows (References, then In-Reply-To), bounded."""
    ids: list[str] = []
    for name in ("References", "In-Reply-To"):
        try:
            value = str(msg.get(name) or "")
        except Exception:  # a malformed header never stops the inbound path
            continue
        ids += _MSGID.findall(value)
    return list(dict.fromkeys(ids))[-100:]


def _addresses(msg: Message, name: str) -> list[str]:
    try:
        values = [str(v) for v in msg.get_all(name) or []]
    except Exception:
        return []
    return [addr for _, addr in getaddresses(values) if addr]


def _when(msg: Message, at: float) -> str:
    try:
        return parsedate_to_datetime(str(msg.get("Date"))).isoformat()
    except Exception:
        from datetime import UTC, datetime

        return datetime.fromtimestamp(at, tz=UTC).isoformat()


def previous_thread(messages: Iterable[tuple[float, bytes]]) -> list[EmailMessage]:
    """(time, raw) of the earlier messages, oldest first → HumanLayer's EmailMessage list; the
    content is each message's newly written text (quotes and signatures removed)."""
    thread = []
    for at, raw in messages:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        try:
            content = _REF_LINE.sub("", extract_reply_from_message(raw)).strip()
        except Exception:
            content = ""
        from_ = _addresses(msg, "From")
        thread.append(
            EmailMessage(
                from_address=from_[0] if from_ else "",
                to_address=_addresses(msg, "To"),
                cc_address=_addresses(msg, "Cc"),
                bcc_address=_addresses(msg, "Bcc"),
                subject=str(msg.get("Subject") or ""),
                content=content,
                datetime=_when(msg, at),
            )
        )
    return thread
