"""The person's mail client in the sandbox: mailto links, quoting, and replies written the way a
mail client writes them (threading headers, the original quoted below), submitted over SMTP."""

from __future__ import annotations

import asyncio
import email.policy
import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from selectolax.lexbor import LexborHTMLParser

from .mailboxes import Mailboxes, mailbox_name, parse_message

__all__ = [
    "USER_AGENT",
    "MailClient",
    "build_reply",
    "display_name",
    "parse_mailto",
    "plain_text",
    "quote_text",
    "reply_subject",
]

USER_AGENT = "hl-email dev sandbox"


def parse_mailto(uri: str) -> dict[str, str]:
    """`mailto:addr?subject=…&body=…` (RFC 6068) → {"to", "subject", "body", "cc"}."""
    parts = urlsplit(uri.strip())
    if parts.scheme.lower() != "mailto":
        raise ValueError(f"not a mailto: URI: {uri[:80]!r}")
    # RFC 6068: `+` is a literal plus, only %20 is a space; parse_qs would turn `+` into a space.
    query = parse_qs(parts.query.replace("+", "%2B"), keep_blank_values=True)
    fields = {k.lower(): v for k, v in query.items()}
    to = [unquote(parts.path)] if parts.path else []
    to += fields.get("to", [])
    return {
        "to": ", ".join(a for a in to if a),
        "cc": ", ".join(fields.get("cc", [])),
        "subject": (fields.get("subject") or [""])[0],
        "body": (fields.get("body") or [""])[0].replace("\r\n", "\n"),
    }


def plain_text(msg: Message) -> str:
    """The text a mail client would quote: the text/plain part, else the HTML part's text."""
    if isinstance(msg, EmailMessage):
        part = msg.get_body(preferencelist=("plain", "html"))
    else:
        part = None
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        tree = LexborHTMLParser(content)
        for node in tree.css("style, script, head"):
            node.decompose()
        body = tree.body
        content = body.text(separator="\n") if body is not None else ""
        content = re.sub(r"\n\s*\n\s*\n+", "\n\n", content)
    return content.replace("\r\n", "\n")


def quote_text(text: str) -> str:
    """Prefix every line with `> ` the way mail clients quote (`>` alone on an empty line)."""
    lines = text.rstrip("\n").split("\n")
    return "\n".join(
        (">" + line) if line.startswith(">") else ("> " + line if line else ">") for line in lines
    )


def _msgids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _attribution(original: Message) -> str:
    sender = str(original.get("From") or "").strip() or "someone"
    date_header = original.get("Date")
    when = ""
    if date_header:
        try:
            dt = parsedate_to_datetime(str(date_header))
            when = dt.strftime("%a, %-d %b %Y at %H:%M")
        except (TypeError, ValueError):
            when = str(date_header)
    return f"On {when}, {sender} wrote:" if when else f"{sender} wrote:"


def reply_subject(subject: str) -> str:
    """The subject a reply to `subject` gets (`Re: …`, never doubled)."""
    from ..outbound.render import reply_subject as render_reply_subject

    return render_reply_subject(subject) if subject else "Re:"


def display_name(address: str) -> str:
    """The name a mailbox signs with: `alice.smith@…` → `Alice Smith`."""
    local = address.partition("@")[0]
    words = re.split(r"[._\-]+", local)
    return " ".join(w.capitalize() for w in words if w) or address


def build_reply(
    original: Message,
    *,
    from_address: str,
    body: str,
    from_name: str = "",
    to: str | None = None,
    subject: str | None = None,
    date: datetime | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A reply to `original` as a mail client writes it.

    From the person, To the original's Reply-To (else From) unless `to` is given, Subject
    `Re: …`, In-Reply-To the original's Message-ID, References its References plus that ID, and
    the original's text quoted below the new text under an attribution line.
    """
    from ..outbound.render import reply_subject as render_reply_subject

    reply = EmailMessage(policy=email.policy.SMTP)
    reply["From"] = Address(display_name=from_name, addr_spec=from_address)
    if to and to.strip():
        targets = [addr for _, addr in getaddresses([to]) if addr]
    else:
        targets = [
            addr
            for _, addr in getaddresses(
                [str(original.get("Reply-To") or original.get("From") or "")]
            )
            if addr
        ]
    if not targets:
        raise ValueError("the reply has no recipient: the original has no From or Reply-To")
    reply["To"] = ", ".join(targets)
    original_subject = str(original.get("Subject") or "")
    reply["Subject"] = (subject or "").strip() or render_reply_subject(original_subject)
    reply["Date"] = format_datetime(date or datetime.now(UTC))
    domain = from_address.rpartition("@")[2] or "localhost"
    reply["Message-ID"] = message_id or make_msgid(domain=domain)
    parent = _msgids(str(original.get("Message-ID") or ""))
    if parent:
        reply["In-Reply-To"] = parent[0]
        refs = _msgids(str(original.get("References") or ""))
        if not refs:
            refs = _msgids(str(original.get("In-Reply-To") or ""))
        refs = [r for r in refs if r != parent[0]][-20:] + [parent[0]]
        reply["References"] = " ".join(refs)
    reply["MIME-Version"] = "1.0"
    reply["User-Agent"] = USER_AGENT
    new_text = body.replace("\r\n", "\n").rstrip()
    quoted = plain_text(original)
    text = new_text + "\n\n" + _attribution(original) + "\n" + quote_text(quoted) + "\n"
    reply.set_content(text, subtype="plain", charset="utf-8")
    return reply


class MailClient:
    """Sends a person's replies: over SMTP to the sandbox's server (`smtp_port`), a copy in
    their Sent folder, then a bounded wait for what the gateway made of it."""

    def __init__(self, mailboxes: Mailboxes) -> None:
        self.mailboxes = mailboxes
        self.smtp_port = 0
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def processed(self, item: dict[str, Any]) -> None:
        """The gateway stored an outcome for a message: wake the reply waiting for it."""
        future = self._waiting.pop(item["message_id"], None)
        if future is not None and not future.done():
            future.set_result(item)

    async def send_reply(
        self,
        box: str,
        key: str,
        *,
        body: str,
        to: str | None = None,
        subject: str | None = None,
        wait: float = 10.0,
    ) -> tuple[EmailMessage, dict[str, Any] | None]:
        """`box` answers its message `key`: build the reply, submit it over SMTP, keep a copy in
        the person's Sent folder, and wait (bounded) for the gateway to process it."""
        found = self.mailboxes.read(box, key)
        if found is None:
            raise KeyError(f"no message {key} in {box}")
        reply = build_reply(
            parse_message(found[1]),
            from_address=box,
            from_name=display_name(box),
            body=body,
            to=to,
            subject=subject,
        )
        message_id = str(reply["Message-ID"]).strip()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        raw = reply.as_bytes(policy=email.policy.SMTP)
        recipients = [addr for _, addr in getaddresses([str(reply["To"])]) if addr]
        try:
            await aiosmtplib.send(
                raw,
                sender=box,
                recipients=recipients,
                hostname="127.0.0.1",
                port=self.smtp_port,
                timeout=10,
            )
        except Exception:
            self._waiting.pop(message_id, None)
            raise
        self.mailboxes.maildir(box, "sent").deliver(raw)
        self.mailboxes.version += 1
        outcome = None
        if any(mailbox_name(r) == self.mailboxes.agent_address for r in recipients):
            try:
                outcome = await asyncio.wait_for(asyncio.shield(future), wait)
            except TimeoutError:
                outcome = None
        self._waiting.pop(message_id, None)
        return reply, outcome
