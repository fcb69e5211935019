"""The "human" in integration tests: reads its IMAP inbox and replies like a real mail client.

Reply shapes follow what Gmail, Outlook (web/desktop) and Apple Mail really produce: subject
prefix, threading headers, top-posted answer, the original quoted in each client's own way, and
multipart/alternative text + HTML.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import email.utils
import html as htmllib
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message

import aiosmtplib

try:  # imported as tests.integration.mailclient
    from .mailstack import MailStack, _imap_quote, parse_fetch
except ImportError:  # imported as a top-level module (pytest rootdir-less import, no __init__.py)
    from mailstack import MailStack, _imap_quote, parse_fetch  # type: ignore[no-redef]

__all__ = ["MailClient", "Received", "html_to_text"]

STYLES = ("gmail", "outlook", "apple", "plain")


@dataclass
class Received:
    uid: int
    raw: bytes
    msg: EmailMessage
    flags: set[str] = field(default_factory=set)

    @property
    def subject(self) -> str:
        return str(self.msg.get("Subject", ""))

    @property
    def message_id(self) -> str:
        return str(self.msg.get("Message-ID", "")).strip()

    def text(self) -> str:
        """The text/plain body (or the HTML body rendered to text)."""
        return _plain_text(self.msg)

    def html(self) -> str | None:
        part = self.msg.get_body(preferencelist=("html",))
        return _content(part) if part is not None else None


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# body helpers
# --------------------------------------------------------------------------------------------


def html_to_text(html: str) -> str:
    s = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", html)
    s = re.sub(r"(?i)<br\s*/?>", "\n", s)
    s = re.sub(r"(?i)</(p|div|tr|h[1-6]|li|blockquote)>", "\n", s)
    s = re.sub(r"(?s)<[^>]+>", "", s)
    s = htmllib.unescape(s).replace("\xa0", " ")
    s = re.sub(r"[ \t]+\n", "\n", s)
    s = re.sub(r"\n{3,}", "\n\n", s)
    return s.strip("\n") + "\n"


def _content(part) -> str:
    return part.get_content().replace("\r\n", "\n")


def _plain_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    if part is not None:
        return _content(part)
    part = msg.get_body(preferencelist=("html",))
    if part is not None:
        return html_to_text(_content(part))
    return ""


def _html_inner(msg: EmailMessage) -> str:
    """The original's HTML body content (inside <body>), or its text as HTML."""
    part = msg.get_body(preferencelist=("html",))
    if part is None:
        return _text_to_html(_plain_text(msg))
    h = _content(part)
    m = re.search(r"(?is)<body[^>]*>(.*)</body>", h)
    return m.group(1) if m else h


def _text_to_html(text: str, line_tag: str | None = None) -> str:
    lines = text.rstrip("\n").split("\n")
    if line_tag:
        return "".join(
            f"<{line_tag}>{htmllib.escape(ln) if ln else '<br>'}</{line_tag}>" for ln in lines
        )
    return "<br>".join(htmllib.escape(ln) for ln in lines)


def _quote_lines(text: str, prefix: str = "> ") -> str:
    out = []
    for ln in text.rstrip("\n").split("\n"):
        if ln == "":
            out.append(prefix.rstrip())
        elif ln.startswith(">"):
            out.append(prefix.rstrip() + ln)  # ">> nested", like real clients
        else:
            out.append(prefix + ln)
    return "\n".join(out) + "\n"


def _orig_date(msg: EmailMessage) -> datetime:
    d = msg.get("Date")
    if d:
        with contextlib.suppress(Exception):
            dt = email.utils.parsedate_to_datetime(str(d))
            if dt is not None:
                return dt
    return datetime.now(UTC)


def _display(addr_header: str) -> tuple[str, str]:
    name, addr = email.utils.parseaddr(addr_header)
    return name, addr


def _first_addr(header: str | None) -> str:
    if not header:
        return ""
    pairs = email.utils.getaddresses([str(header)])
    return pairs[0][1] if pairs else ""


def _addr_list(headers: Iterable[str | None]) -> list[str]:
    vals = [str(h) for h in headers if h]
    return [a for _, a in email.utils.getaddresses(vals) if a]


def _msgid(domain: str, style: str) -> str:
    token = uuid.uuid4().hex
    if style == "gmail":
        return f"<CA+{token[:20].upper()}{token[20:]}@mail.gmail.com>"
    if style == "outlook":
        return f"<AM0PR{token[:2].upper()}MB{token[2:30].upper()}@AM0PR04MB1234.eurprd04.prod.outlook.com>"
    if style == "apple":
        return f"<{str(uuid.uuid4()).upper()}@{domain}>"
    return f"<{time.strftime('%Y%m%d%H%M%S')}.{token[:12]}@{domain}>"


def _strip_prefix(subject: str) -> str:
    return re.sub(r"^\s*((re|aw|sv|fw|fwd)\s*:\s*)+", "", subject, flags=re.I)


# --------------------------------------------------------------------------------------------
# attribution lines
# --------------------------------------------------------------------------------------------


def _gmail_attr(dt: datetime, from_hdr: str) -> str:
    name, addr = _display(from_hdr)
    who = f"{name} <{addr}>" if name else f"<{addr}>"
    return f"On {dt:%a}, {dt.day} {dt:%b %Y} at {dt:%H:%M}, {who} wrote:"


def _apple_attr(dt: datetime, from_hdr: str) -> str:
    name, addr = _display(from_hdr)
    who = f"{name} <{addr}>" if name else addr
    return f"On {dt.day} {dt:%b %Y}, at {dt:%H:%M}, {who} wrote:"


def _outlook_sent(dt: datetime) -> str:
    hour = dt.hour % 12 or 12
    return f"{dt:%A}, {dt:%B} {dt.day}, {dt.year} {hour}:{dt:%M} {'AM' if dt.hour < 12 else 'PM'}"


# --------------------------------------------------------------------------------------------
# the client
# --------------------------------------------------------------------------------------------


class MailClient:
    """A human with a mailbox on the test stack."""

    def __init__(self, stack: MailStack, address: str, name: str | None = None):
        self.stack = stack
        self.address = address
        local = address.split("@", 1)[0]
        self.name = name if name is not None else local.replace(".", " ").replace("_", " ").title()
        self.domain = address.split("@", 1)[1] if "@" in address else "example.test"
        self._returned: set[int] = set()

    @property
    def from_header(self) -> str:
        return email.utils.formataddr((self.name, self.address))

    # -- reading -------------------------------------------------------------------------------

    async def inbox(self, folder: str = "INBOX") -> list[Received]:
        """All messages in the folder (does not change flags)."""
        return [
            Received(uid, raw, parse(raw), flags)
            for uid, raw, flags in await self.stack.fetch_all(self.address, folder)
        ]

    async def wait_for_message(
        self,
        match: Callable[[EmailMessage], bool] | None = None,
        timeout: float = 60,  # noqa: ASYNC109 - API asked for by the tests
        *,
        folder: str = "INBOX",
        poll_interval: float = 0.05,
    ) -> Received:
        """Poll the inbox until an unseen message matching ``match`` is there; return the newest
        such message and mark it \\Seen (so the next call returns a different one)."""
        deadline = time.monotonic() + timeout
        while True:
            got = await asyncio.to_thread(self._poll_once, match, folder)
            if got is not None:
                return got
            if time.monotonic() >= deadline:
                seen = await self.inbox(folder)
                subjects = [r.subject for r in seen]
                raise TimeoutError(
                    f"no matching unseen message for {self.address} within {timeout}s; "
                    f"{folder} holds {len(seen)} message(s): {subjects!r}"
                )
            await asyncio.sleep(poll_interval)

    def _poll_once(self, match, folder: str) -> Received | None:
        conn = self.stack.imap_login(self.address)
        try:
            typ, _ = conn.select(_imap_quote(folder))
            if typ != "OK":
                return None
            typ, data = conn.uid("SEARCH", None, "UNSEEN")
            if typ != "OK" or not data or not data[0]:
                return None
            uids = sorted((int(x) for x in data[0].split()), reverse=True)
            uids = [u for u in uids if u not in self._returned]
            for uid in uids:
                typ, fetched = conn.uid("FETCH", str(uid), "(UID FLAGS BODY.PEEK[])")
                if typ != "OK":
                    continue
                items = parse_fetch(fetched)
                if not items:
                    continue
                _, raw, flags = items[0]
                msg = parse(raw)
                if match is None or match(msg):
                    conn.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
                    self._returned.add(uid)
                    return Received(uid, raw, msg, flags | {"\\Seen"})
            return None
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    # -- writing -------------------------------------------------------------------------------

    def build_reply(
        self,
        received: Received | EmailMessage,
        text: str,
        *,
        style: str = "gmail",
        html: bool = True,
        from_address: str | None = None,
        extra_headers: dict[str, str] | None = None,
        to: str | None = None,
        quote: bool = True,
    ) -> EmailMessage:
        """Build (but do not send) a reply; see ``reply``."""
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}")
        orig = received.msg if isinstance(received, Received) else received
        orig_from = str(orig.get("From", ""))
        orig_subject = str(orig.get("Subject", ""))
        orig_msgid = str(orig.get("Message-ID", "")).strip()
        orig_refs = str(orig.get("References", "")).split()
        dt = _orig_date(orig)
        orig_text = _plain_text(orig)
        if to is None:
            to = str(orig.get("Reply-To") or orig_from)

        from_hdr = (
            email.utils.formataddr((self.name, from_address)) if from_address else self.from_header
        )
        base_subject = _strip_prefix(orig_subject)
        subject = ("RE: " if style == "outlook" else "Re: ") + base_subject

        text = text.rstrip("\n") + "\n"
        if not quote:
            plain = text
            html_body = _text_to_html(text, "div")
        elif style == "gmail":
            plain = f"{text}\n{_gmail_attr(dt, orig_from)}\n\n{_quote_lines(orig_text)}"
            attr_html = htmllib.escape(_gmail_attr(dt, orig_from))
            _, oaddr = _display(orig_from)
            if oaddr:
                attr_html = attr_html.replace(
                    htmllib.escape(f"<{oaddr}>"),
                    f'&lt;<a href="mailto:{oaddr}">{oaddr}</a>&gt;',
                )
            html_body = (
                f'<div dir="ltr">{_text_to_html(text)}</div><br>'
                f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{attr_html}<br></div>'
                '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                'border-left:1px solid rgb(204,204,204);padding-left:1ex">'
                f"{_html_inner(orig)}</blockquote></div>\n"
            )
        elif style == "outlook":
            to_line = str(orig.get("To", self.address))
            plain = (
                f"{text}\n"
                "________________________________\n"
                f"From: {orig_from}\n"
                f"Sent: {_outlook_sent(dt)}\n"
                f"To: {to_line}\n"
                f"Subject: {orig_subject}\n\n"
                f"{orig_text.rstrip()}\n"
            )
            html_body = (
                '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} '
                '</style></head><body dir="ltr">'
                '<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, '
                'Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">'
                f"{_text_to_html(text)}</div>"
                '<div id="appendonsend"></div>'
                '<hr style="display:inline-block;width:98%" tabindex="-1">'
                '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" '
                'style="font-size:11pt" color="#000000">'
                f"<b>From:</b> {htmllib.escape(orig_from)}<br>"
                f"<b>Sent:</b> {htmllib.escape(_outlook_sent(dt))}<br>"
                f"<b>To:</b> {htmllib.escape(to_line)}<br>"
                f"<b>Subject:</b> {htmllib.escape(orig_subject)}</font>"
                "<div>&nbsp;</div></div>"
                f"<div>{_html_inner(orig)}</div></body></html>\n"
            )
        elif style == "apple":
            attr = _apple_attr(dt, orig_from)
            plain = f"{text}\n{_quote_lines(attr + chr(10) + chr(10) + orig_text)}"
            html_body = (
                '<html aria-label="message body"><head><meta http-equiv="content-type" '
                'content="text/html; charset=utf-8"></head><body style="overflow-wrap: '
                'break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">'
                f"{_text_to_html(text)}"
                '<br id="lineBreakAtBeginningOfMessage"><div><br><blockquote type="cite">'
                f"<div>{htmllib.escape(attr)}</div><br>"
                f'<div><div dir="ltr">{_html_inner(orig)}</div></div></blockquote></div>'
                "<br></body></html>\n"
            )
        else:  # plain: mutt-like
            name, addr = _display(orig_from)
            attr = f"On {dt:%a, %b %d, %Y at %I:%M:%S%p %z}, {name or addr} wrote:"
            plain = f"{text}\n{attr}\n{_quote_lines(orig_text)}"
            html_body = ""

        msg = EmailMessage()
        msg["From"] = from_hdr
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = email.utils.format_datetime(datetime.now().astimezone())
        sender_domain = (from_address or self.address).rsplit("@", 1)[-1]
        msg["Message-ID"] = _msgid(sender_domain, style)
        if orig_msgid:
            msg["In-Reply-To"] = orig_msgid
            refs = [r for r in orig_refs if r != orig_msgid] + [orig_msgid]
            msg["References"] = " ".join(refs)
        elif orig_refs:
            msg["References"] = " ".join(orig_refs)
        if style == "outlook":
            msg["Thread-Topic"] = base_subject
            msg["Thread-Index"] = "AQHb" + uuid.uuid4().hex[:20]
            msg["Accept-Language"] = "en-GB, en-US"
            msg["X-MS-Has-Attach"] = ""
        elif style == "apple":
            msg["X-Mailer"] = "Apple Mail (2.3826.200.121)"
        elif style == "plain":
            msg["User-Agent"] = "NeoMutt/20220429"

        msg.set_content(plain)
        if html and style != "plain":
            msg.add_alternative(html_body, subtype="html")
            if style == "gmail":
                msg.set_boundary("000000000000" + uuid.uuid4().hex[:16])
            elif style == "apple":
                msg.set_boundary(f"Apple-Mail={str(uuid.uuid4()).upper()}")
            elif style == "outlook":
                msg.set_boundary(f"_000_{uuid.uuid4().hex.upper()}_")
        for part in msg.iter_parts():  # the email package adds this to sub-parts; clients don't
            del part["MIME-Version"]
        if style == "outlook":
            msg["Content-Language"] = "en-GB"  # set_content() drops Content-* headers set earlier
        if style == "apple":
            msg.replace_header("MIME-Version", "1.0 (Mac OS X Mail 16.0 \\(3826.200.121\\))")
        for k, v in (extra_headers or {}).items():
            if k in msg:
                del msg[k]
            msg[k] = v
        return msg

    async def reply(
        self,
        received: Received | EmailMessage,
        text: str,
        *,
        style: str = "gmail",
        html: bool = True,
        from_address: str | None = None,
        extra_headers: dict[str, str] | None = None,
        to: str | None = None,
        quote: bool = True,
    ) -> str:
        """Reply like ``style`` ("gmail" | "outlook" | "apple" | "plain") would; send it through
        the stack's SMTP server. ``from_address`` spoofs the From header (and envelope sender);
        ``extra_headers`` are set (replacing existing ones), e.g. Authentication-Results.
        Returns the new Message-ID."""
        msg = self.build_reply(
            received,
            text,
            style=style,
            html=html,
            from_address=from_address,
            extra_headers=extra_headers,
            to=to,
            quote=quote,
        )
        await self.send(msg, mail_from=from_address or self.address)
        return str(msg["Message-ID"])

    async def send(
        self,
        raw_or_message: bytes | str | Message,
        *,
        mail_from: str | None = None,
        rcpt_to: list[str] | None = None,
    ) -> str:
        """Send an arbitrary message through the stack's SMTP server. Envelope defaults: sender =
        this client's address, recipients = To + Cc + Bcc of the message. Returns its Message-ID
        (empty if it has none)."""
        if isinstance(raw_or_message, Message):
            msg = raw_or_message
            raw = msg.as_bytes(policy=email.policy.SMTP)
        else:
            raw = (
                raw_or_message.encode("utf-8")
                if isinstance(raw_or_message, str)
                else raw_or_message
            )
            msg = parse(raw)
        if rcpt_to is None:
            rcpt_to = _addr_list([msg.get("To"), msg.get("Cc"), msg.get("Bcc")])
        if not rcpt_to:
            raise ValueError("no recipients")
        raw = re.sub(rb"\r?\n", b"\r\n", raw)
        await aiosmtplib.send(
            raw,
            sender=mail_from or self.address,
            recipients=rcpt_to,
            hostname=self.stack.host,
            port=self.stack.smtp_port,
            start_tls=False,
            use_tls=False,
            timeout=15,
        )
        return str(msg.get("Message-ID", "")).strip()
