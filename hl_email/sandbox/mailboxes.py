"""The sandbox's mail store: one Maildir per address under `<data dir>/mail`, and what the gateway
made of each message the agent received (kept in `<data dir>/outcomes.jsonl`)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from ..inbound.maildir import Maildir

__all__ = ["Mailboxes", "MessageView", "header", "mailbox_name", "parse_message"]


def mailbox_name(address: str) -> str:
    """The sandbox mailbox of an address: lowercased, `+detail` dropped (like Dovecot)."""
    _, addr = parseaddr(address)
    addr = (addr or address).strip().lower()
    local, at, domain = addr.rpartition("@")
    if at and "+" in local:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}" if at else addr


def _dir_name(box: str) -> str:
    return quote(box, safe="@.-_")


def parse_message(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def header(msg: Message, name: str) -> str:
    """A header as text, "" when missing or unreadable."""
    try:
        value = msg.get(name)
    except Exception:
        return ""
    return str(value) if value is not None else ""


@dataclass
class MessageView:
    box: str
    key: str
    folder: str  # "inbox" | "sent"
    from_: str
    to: str
    subject: str
    date: datetime | None
    message_id: str
    seen: bool
    mtime: float
    outcome: dict[str, Any] | None = None

    @property
    def when(self) -> str:
        dt = self.date or datetime.fromtimestamp(self.mtime, tz=UTC)
        return dt.astimezone().strftime("%b %-d, %H:%M")


class Mailboxes:
    """Every person's mailbox (inbox and Sent folder) and the agent's, with the outcome the
    gateway stored for each message the agent received. `version` goes up on every change (the
    inbox page polls it to refresh)."""

    def __init__(self, mail_dir: Path, agent_address: str, outcomes_path: Path) -> None:
        self.mail_dir = mail_dir
        self.agent_address = agent_address
        self.outcomes_path = outcomes_path
        self.version = 0
        self.outcomes: dict[str, dict[str, Any]] = {}
        # Called when mail reaches the agent's mailbox (wakes the gateway's Maildir source).
        self.on_agent_mail: Callable[[], None] | None = None

    def maildir(self, box: str, folder: str = "inbox") -> Maildir:
        path = self.mail_dir / _dir_name(box)
        if folder == "sent":
            path = path / ".Sent"
        return Maildir(path)

    def boxes(self) -> list[str]:
        """The people's mailboxes (not the agent's), by name."""
        if not self.mail_dir.exists():
            return []
        names = sorted(unquote(p.name) for p in self.mail_dir.iterdir() if p.is_dir())
        return [n for n in names if n != self.agent_address]

    def deliver(self, rcpt: str, raw: bytes) -> str:
        """Store a message in the recipient's mailbox (durably); wake the agent's source."""
        box = mailbox_name(rcpt)
        key = self.maildir(box).deliver(raw)
        self.version += 1
        if box == self.agent_address and self.on_agent_mail is not None:
            self.on_agent_mail()
        return key

    def view(self, box: str, folder: str, entry: Any) -> MessageView | None:
        try:
            raw = entry.path.read_bytes()
        except FileNotFoundError:
            return None
        # Headers are enough for the list.
        head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
        msg = parse_message(head + b"\r\n\r\n")
        date = None
        with contextlib.suppress(TypeError, ValueError):
            date = parsedate_to_datetime(header(msg, "Date")) if header(msg, "Date") else None
        return MessageView(
            box=box,
            key=entry.key,
            folder=folder,
            from_=header(msg, "From"),
            to=header(msg, "To"),
            subject=header(msg, "Subject") or "(no subject)",
            date=date,
            message_id=header(msg, "Message-ID").strip(),
            seen=entry.seen or folder == "sent",
            mtime=entry.mtime,
            outcome=self.outcomes.get(entry.key) if box == self.agent_address else None,
        )

    def list_messages(self, box: str) -> list[MessageView]:
        """A mailbox's inbox and Sent folder, newest first."""
        views: list[MessageView] = []
        for folder in ("inbox", "sent"):
            md = self.maildir(box, folder)
            for entry in md.entries():
                view = self.view(box, folder, entry)
                if view is not None:
                    views.append(view)
        views.sort(key=lambda v: v.mtime, reverse=True)
        return views

    def unread(self, box: str) -> int:
        return sum(1 for e in self.maildir(box).entries() if not e.seen)

    def read(self, box: str, key: str) -> tuple[str, bytes] | None:
        """(folder, raw message) of a message in the inbox or Sent folder, else None."""
        for folder in ("inbox", "sent"):
            raw = self.maildir(box, folder).read(key)
            if raw is not None:
                return folder, raw
        return None

    def load_outcomes(self) -> None:
        if not self.outcomes_path.exists():
            return
        for line in self.outcomes_path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError):
                item = json.loads(line)
                self.outcomes[item["key"]] = item

    def record_outcome(self, key: str, raw: bytes, result: Any) -> dict[str, Any]:
        """Keep what the gateway made of the agent's message `key`; returns the stored item."""
        msg = parse_message(raw)
        item = {
            "key": key,
            "message_id": header(msg, "Message-ID").strip(),
            "outcome": getattr(result, "outcome", str(result)),
            "detail": getattr(result, "detail", ""),
            "call_id": getattr(result, "call_id", None),
            "verdict": getattr(result, "verdict", None),
            "at": time.time(),
        }
        self.outcomes[key] = item
        with open(self.outcomes_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(item) + "\n")
        self.version += 1
        return item
