"""Proves the integration mail stack itself: SMTP -> LMTP -> Dovecot -> IMAP, IDLE, faults, and
the "human" client's reply shapes."""

from __future__ import annotations

import asyncio
import email.utils
import time
from email.message import EmailMessage

import aioimaplib
import aiosmtplib
import pytest
from mailclient import STYLES, MailClient, parse
from mailstack import MailStack, start_mail_stack

pytestmark = pytest.mark.integration

AGENT = "agent@gateway.test"
HUMAN = "alice@example.test"


def agent_request(
    subject: str = "Approve deploy to prod?", refs: str | None = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr(("Deploy Agent", AGENT))
    msg["To"] = HUMAN
    msg["Reply-To"] = "agent+tok123@gateway.test"
    msg["Subject"] = subject
    msg["Date"] = "Wed, 25 Nov 2026 15:04:00 +0000"
    msg["Message-ID"] = email.utils.make_msgid(domain="gateway.test")
    if refs:
        msg["References"] = refs
    msg.set_content("The agent wants to run:\n\n  deploy prod\n\nReply APPROVE or REJECT.\n")
    msg.add_alternative(
        "<html><body><p>The agent wants to run:</p><pre>deploy prod</pre>"
        "<p>Reply APPROVE or REJECT.</p></body></html>",
        subtype="html",
    )
    return msg


async def test_smtp_message_arrives_over_imap(mail_stack: MailStack, mail_client):
    agent = mail_client(AGENT)
    human = mail_client(HUMAN)
    req = agent_request()
    mid = await agent.send(req)
    got = await human.wait_for_message(lambda m: m["Message-ID"] == mid, timeout=10)
    assert got.subject == "Approve deploy to prod?"
    assert "deploy prod" in got.text()
    assert "\\Seen" in got.flags
    assert len(mail_stack.accepted) == 1
    env = mail_stack.accepted[0]
    assert env.mail_from == AGENT and env.rcpt_tos == [HUMAN]
    assert env.message()["Message-ID"] == mid
    # fetch_all sees it, does not change flags, and the UID is stable
    [(uid, raw, flags)] = await mail_stack.fetch_all(HUMAN)
    assert uid == got.uid and parse(raw)["Message-ID"] == mid and "\\Seen" in flags


async def test_smtp_auth_is_optional_and_accepts_anything(mail_stack: MailStack):
    msg = agent_request()
    await aiosmtplib.send(
        msg,
        hostname=mail_stack.host,
        port=mail_stack.smtp_port,
        username="whoever",
        password="whatever",
        start_tls=False,
    )
    assert mail_stack.accepted[-1].auth_user == "whoever"
    assert len(await mail_stack.wait_for_count(HUMAN, 1)) == 1


async def test_plus_address_is_delivered_to_base_mailbox(mail_stack: MailStack, mail_client):
    await mail_client(HUMAN).send(
        b"From: alice@example.test\r\nTo: agent+tok123@gateway.test\r\nSubject: x\r\n\r\nhi\r\n"
    )
    msgs = await mail_stack.wait_for_count(AGENT, 1)
    assert len(msgs) == 1
    assert b"Delivered-To: agent+tok123@gateway.test" in msgs[0][1]


async def test_imap_idle_capability_and_push(mail_stack: MailStack):
    assert "IDLE" in await mail_stack.capabilities()
    imap = aioimaplib.IMAP4(host=mail_stack.host, port=mail_stack.imap_port, timeout=10)
    await imap.wait_hello_from_server()
    assert (await imap.login(HUMAN, mail_stack.password)).result == "OK"
    assert (await imap.select("INBOX")).result == "OK"
    assert imap.has_capability("IDLE")
    idle = await imap.idle_start(timeout=10)
    try:
        t0 = time.monotonic()
        await mail_stack.deliver(agent_request().as_bytes(), [HUMAN])
        pushed: list = []
        while not any(b"EXISTS" in bytes(x) for x in pushed if isinstance(x, bytes | bytearray)):
            pushed += await asyncio.wait_for(imap.wait_server_push(), 60)
        assert time.monotonic() - t0 < 2.5
    finally:
        imap.idle_done()
        await asyncio.wait_for(idle, 60)
        await imap.logout()


async def test_deliver_duplicate_lands_twice(mail_stack: MailStack):
    raw = agent_request().as_bytes()
    await mail_stack.deliver(raw, [HUMAN])
    await mail_stack.deliver(raw, [HUMAN])
    msgs = await mail_stack.fetch_all(HUMAN)
    assert len(msgs) == 2 and msgs[0][0] != msgs[1][0]
    assert mail_stack.accepted == []  # LMTP delivery bypasses the SMTP server


async def test_fault_451_then_success(mail_stack: MailStack):
    mail_stack.smtp_faults.fail_next(1)
    msg = agent_request()
    with pytest.raises(aiosmtplib.SMTPResponseException) as exc:
        await aiosmtplib.send(msg, hostname=mail_stack.host, port=mail_stack.smtp_port)
    assert exc.value.code == 451
    assert "Try again later" in exc.value.message
    assert await mail_stack.fetch_all(HUMAN) == []
    assert mail_stack.accepted == []
    # the retry goes through
    await aiosmtplib.send(msg, hostname=mail_stack.host, port=mail_stack.smtp_port)
    assert len(mail_stack.accepted) == 1
    assert len(await mail_stack.wait_for_count(HUMAN, 1)) == 1
    faults = mail_stack.smtp_faults
    assert faults.data_attempts == 2
    assert [(e.stage, e.code) for e in faults.events] == [("DATA", 451)]


async def test_fault_on_rcpt_stage(mail_stack: MailStack):
    mail_stack.smtp_faults.fail_next(2, code=421, message="4.7.0 Slow down", stage="RCPT")
    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as exc:
            await aiosmtplib.send(
                agent_request(), hostname=mail_stack.host, port=mail_stack.smtp_port
            )
        assert exc.value.recipients[0].code == 421
    await aiosmtplib.send(agent_request(), hostname=mail_stack.host, port=mail_stack.smtp_port)
    assert len(mail_stack.accepted) == 1


async def test_reject_rcpt_550(mail_stack: MailStack):
    mail_stack.smtp_faults.reject_rcpt("Bob@Example.test")
    msg = agent_request()
    msg.replace_header("To", "bob@example.test")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as exc:
        await aiosmtplib.send(msg, hostname=mail_stack.host, port=mail_stack.smtp_port)
    [refusal] = exc.value.recipients
    assert refusal.code == 550 and "5.1.1" in refusal.message
    assert mail_stack.accepted == []
    # permanent: it keeps failing; other recipients are fine
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await aiosmtplib.send(msg, hostname=mail_stack.host, port=mail_stack.smtp_port)
    errors, _ = await aiosmtplib.send(
        msg,
        sender=AGENT,
        recipients=["bob@example.test", HUMAN],
        hostname=mail_stack.host,
        port=mail_stack.smtp_port,
    )
    assert errors["bob@example.test"].code == 550
    assert mail_stack.accepted[-1].rcpt_tos == [HUMAN]


@pytest.mark.parametrize("style", STYLES)
async def test_reply_threading_and_shape(mail_stack: MailStack, mail_client, style: str):
    agent: MailClient = mail_client(AGENT)
    human: MailClient = mail_client(HUMAN, name="Alice Human")
    req = agent_request(refs="<earlier@gateway.test>")
    req_id = await agent.send(req)
    got = await human.wait_for_message(lambda m: m["Message-ID"] == req_id)

    reply_id = await human.reply(got, "APPROVE\n\nLooks good to me.", style=style)

    [(_, raw, _)] = await mail_stack.wait_for_count(AGENT, 1)  # via Reply-To (plus address)
    r = parse(raw)
    assert r["Message-ID"] == reply_id != req_id
    assert r["In-Reply-To"] == req_id
    assert r["References"].split() == ["<earlier@gateway.test>", req_id]
    assert r["Subject"] == ("RE: " if style == "outlook" else "Re: ") + "Approve deploy to prod?"
    assert r["To"] == "agent+tok123@gateway.test"
    assert email.utils.parseaddr(r["From"]) == ("Alice Human", HUMAN)
    assert email.utils.parsedate_to_datetime(r["Date"]) is not None
    text = r.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("APPROVE\n\nLooks good to me.\n")
    html_part = r.get_body(("html",))
    if style == "plain":
        assert r.get_content_type() == "text/plain"
        assert "> Reply APPROVE or REJECT." in text
        return
    assert r.get_content_type() == "multipart/alternative"
    h = html_part.get_content().replace("\r\n", "\n")
    assert "deploy prod" in h
    if style == "gmail":
        assert "On Wed, 25 Nov 2026 at 15:04, Deploy Agent <agent@gateway.test> wrote:" in text
        assert "> Reply APPROVE or REJECT." in text
        assert '<div class="gmail_quote">' in h and '<blockquote class="gmail_quote"' in h
        assert reply_id.endswith("@mail.gmail.com>")
    elif style == "outlook":
        assert (
            "________________________________\nFrom: Deploy Agent <agent@gateway.test>\nSent: "
            in text
        )
        assert "\nSubject: Approve deploy to prod?\n\nThe agent wants to run:" in text
        assert '<div id="divRplyFwdMsg"' in h and "<hr" in h
        assert r["Thread-Topic"] == "Approve deploy to prod?"
    elif style == "apple":
        assert "> On 25 Nov 2026, at 15:04, Deploy Agent <agent@gateway.test> wrote:" in text
        assert "> Reply APPROVE or REJECT." in text
        assert '<blockquote type="cite">' in h
        assert r["MIME-Version"].startswith("1.0 (Mac OS X Mail")


async def test_reply_text_only_spoofed_and_extra_headers(mail_stack: MailStack, mail_client):
    human = mail_client(HUMAN)
    req_id = await mail_client(AGENT).send(agent_request())
    got = await human.wait_for_message()
    assert got.message_id == req_id
    await human.reply(
        got,
        "REJECT",
        style="gmail",
        html=False,
        from_address="ceo@example.test",
        extra_headers={
            "Authentication-Results": "mx.gateway.test; dmarc=fail header.from=example.test"
        },
        to=AGENT,
    )
    [(_, raw, _)] = await mail_stack.wait_for_count(AGENT, 1)
    r = parse(raw)
    assert r.get_content_type() == "text/plain"
    assert email.utils.parseaddr(r["From"])[1] == "ceo@example.test"
    assert "dmarc=fail" in r["Authentication-Results"]
    assert mail_stack.accepted[-1].mail_from == "ceo@example.test"


async def test_wait_for_message_times_out_with_context(mail_stack: MailStack, mail_client):
    with pytest.raises(TimeoutError, match="0 message"):
        await mail_client(HUMAN).wait_for_message(timeout=0.2)


async def test_stop_cleans_up(tmp_path):
    stack = await start_mail_stack(tmp_path)
    root = stack.root
    assert root is not None and root.exists()
    await stack.deliver(b"Subject: x\r\n\r\ny\r\n", ["u@x.test"])
    dovecot = stack._proc
    assert dovecot is not None and dovecot.poll() is None
    await stack.stop()
    assert not root.exists()
    # Dovecot's master is gone (its process group was SIGKILLed). Its ports are not probed:
    # on a shared machine another process may take a freed port at once.
    assert dovecot.poll() is not None
    # The SMTP server's port is closed: our own in-process server no longer accepts.
    with pytest.raises(OSError):
        await asyncio.wait_for(asyncio.open_connection(stack.host, stack.smtp_port), 1)
    await stack.stop()  # idempotent
