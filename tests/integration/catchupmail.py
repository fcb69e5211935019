"""Mail for the catch-up tests and bench/catchup.py: pending requests and the asks they sent,
human replies to them, unrelated mail of varied shapes, and a fast way into a Dovecot folder
(IMAP APPEND, as a mail client filing mail would)."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import uuid
from email.message import EmailMessage

from mailclient import MailClient
from mailstack import MailStack, _imap_quote

from hl_email.gateway import Gateway
from hl_email.models import ContactChannel, EmailContactChannel, FunctionCall, FunctionCallSpec

ALICE = "alice@corp.test"
AGENT = "agent@example.test"


def capturing_gateway(config, *, parse: bool = True, **kw) -> tuple[Gateway, list[EmailMessage]]:
    """A gateway whose outbox hands its mail to a list instead of SMTP (parsed, or with
    `parse=False` counted only: a bench must not charge the gateway for parsing its output)."""
    sent: list[EmailMessage] = []

    async def send(mail_from: str, rcpt_to: list[str], message: bytes) -> None:
        sent.append(
            email.message_from_bytes(message, policy=email.policy.default) if parse else None
        )  # type: ignore[arg-type]

    return Gateway(config, send=send, **kw), sent


async def create_pending(
    gateway: Gateway, sent: list[EmailMessage], n: int, prefix: str = "cu"
) -> dict[str, EmailMessage]:
    """`n` pending approvals asked of Alice: {call_id: the ask} (the outbox must run)."""
    channel = ContactChannel(email=EmailContactChannel(address=ALICE))
    by_subject: dict[str, str] = {}
    for i in range(n):
        call_id = f"{prefix}-{i}"
        call = FunctionCall(
            run_id="catchup",
            call_id=call_id,
            spec=FunctionCallSpec(fn="refund", kwargs={"order": f"{prefix}{i}"}, channel=channel),
        )
        await gateway.create_function_call(call)
        by_subject[f"order={prefix}{i})"] = call_id
    for _ in range(6000):
        if len(sent) >= len(by_subject):
            break
        await asyncio.sleep(0.01)
    asks: dict[str, EmailMessage] = {}
    for ask in sent:
        subject = str(ask["Subject"])
        for tail, call_id in by_subject.items():
            if tail in subject:
                asks[call_id] = ask
    assert len(asks) == n, f"{len(asks)} of {n} asks sent"
    return asks


def reply(ask: EmailMessage, text: str = "Approve, go ahead.", style: str = "plain") -> bytes:
    """Alice's reply to `ask`, as her mail client would write it."""
    return bytes(MailClient(None, ALICE).build_reply(ask, text, style=style))  # type: ignore[arg-type]


def _base(n: int, sender: str, subject: str) -> EmailMessage:
    """Headers that differ from message to message the way real ones do: the sender (one of
    50), a Received trace, the date, the subject, the Message-ID."""
    name, _, address = sender.partition(" <")
    local, _, domain = address.rstrip(">").partition("@")
    msg = EmailMessage()
    msg["Received"] = (
        f"from mx{n % 13}.{domain} (mx{n % 13}.{domain} [192.0.2.{n % 250}]) by mx.example.test "
        f"with ESMTPS id {uuid.uuid4().hex[:12]}; Wed, 2 Dec 2026 08:{n // 60 % 60:02d}:{n % 60:02d} +0000"
    )
    msg["From"] = f"{name} {n % 50} <{local}{n % 50}@{domain}>"
    msg["To"] = AGENT
    msg["Subject"] = subject
    msg["Date"] = f"Wed, 02 Dec 2026 08:{n // 60 % 60:02d}:{n % 60:02d} +0000"
    msg["Message-ID"] = f"<u{n}-{uuid.uuid4().hex[:10]}@{domain}>"
    return msg


def unrelated(n: int) -> bytes:
    """Mail to the agent that answers no request, in the shapes a real inbox gets: newsletters,
    notifications, spam-flagged mail (all decided by their headers) and plain human mail
    (which needs its body)."""
    shape = n % 20
    filler = "\n".join(
        f"Line {i} of message {n}: nothing to do with any request." for i in range(40)
    )
    if shape < 8:
        msg = _base(n, "News <news@shop.test>", f"Weekly deals #{n}")
        msg["List-Id"] = "<deals.shop.test>"
        msg["List-Unsubscribe"] = "<mailto:leave@shop.test>"
        msg["Precedence"] = "bulk"
        msg.set_content(filler)
    elif shape < 13:
        msg = _base(n, "CI <builds@ci.test>", f"Build {n} passed")
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(filler)
    elif shape < 15:
        msg = _base(n, "Prize <win@lottery.test>", f"You won {n}")
        msg["X-Spam-Flag"] = "YES"
        msg.set_content(filler)
    else:
        msg = _base(n, "Carol <carol@corp.test>", f"Lunch on day {n}?")
        msg.set_content(f"Hi, lunch on day {n}?\n\n{filler}\n\nCarol")
    return bytes(msg)


def append(stack: MailStack, address: str, messages: list[bytes], folder: str = "INBOX") -> None:
    """Put `messages` into `folder`, in order (blocking; run it in a thread)."""
    conn = stack.imap_login(address)
    try:
        for raw in messages:
            typ, data = conn.append(_imap_quote(folder), None, None, raw.replace(b"\r\n", b"\n"))
            assert typ == "OK", data
    finally:
        with contextlib.suppress(Exception):
            conn.logout()
