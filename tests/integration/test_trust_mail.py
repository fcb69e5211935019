"""Trust hardening over the real Dovecot + SMTP stack (issue 10): encoded-word header injection
never reaches the human's mailbox, inbound bombs in front of a real reply cost little and the
reply is applied, and only authentic bounces fail a recipient."""

from __future__ import annotations

import asyncio
import resource
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid

import pytest
from hl_email_sdk import (
    AsyncHumanLayer,
    ContactChannel,
    EmailContactChannel,
    FunctionCallSpec,
    HumanContactSpec,
)
from hl_email_sdk.errors import HumanLayerException

from hl_email.errors import RequestInvalidError

ALICE = "alice@corp.test"
AGENT = "agent@example.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))
INJECT = "=?utf-8?q?x=0D=0ABcc:_mallory@evil.test=0D=0AReply-To:_mallory@evil.test?="


async def outcomes(gateway) -> list[str]:
    return [r.outcome for r in reversed(await gateway.store.list_inbound())]


async def wait_outcomes(gateway, wanted: list[str], timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = await outcomes(gateway)
        if all(got.count(o) >= wanted.count(o) for o in wanted):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"expected outcomes {wanted}, got {got}")
        await asyncio.sleep(0.05)


async def test_encoded_line_breaks_never_reach_the_mailbox(gateway_config, mail_client):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        for spec in (
            FunctionCallSpec(fn=f"refund {INJECT}", kwargs={}, channel=CHANNEL),
            FunctionCallSpec(
                fn="refund",
                kwargs={},
                channel=ContactChannel(email=EmailContactChannel(address=ALICE, subject=INJECT)),
            ),
        ):
            with pytest.raises(RequestInvalidError, match="encoded word"):
                await hl.create_function_call(spec)
        # A question's first line only feeds the subject: neutralised, and the ask is sent.
        contact = await hl.create_human_contact(
            HumanContactSpec(msg=f"{INJECT}\nWhich plan?", channel=CHANNEL)
        )
        ask = await alice.wait_for_message()
        assert ask.msg["Bcc"] is None and ask.msg["Reply-To"] is None
        assert "\n" not in ask.subject and "mallory" in ask.subject
        assert ask.msg["To"] == ALICE
        await alice.reply(ask, "The premium plan.")
        done = await asyncio.wait_for(hl.wait_for_human_response(contact.call_id), 20)
        assert "premium" in done.as_completed()


def _subject_bomb() -> bytes:
    word = "=?utf-8?q?" + "a" * 40 + "?="
    subject = " ".join([word] * (1_000_000 // (len(word) + 1)))
    return (
        f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: {subject}\r\n"
        f"Message-ID: {make_msgid(domain='corp.test')}\r\n\r\nApprove\r\n"
    ).encode()


def _parts_bomb() -> bytes:
    head = (
        f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: parts\r\n"
        f"Message-ID: {make_msgid(domain='corp.test')}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
    ).encode()
    body = b"".join(
        b"--B\r\nContent-Type: text/plain\r\n\r\nApprove %d\r\n" % i for i in range(20_000)
    )
    return head + body + b"--B--\r\n"


def _references_bomb(real: str) -> bytes:
    refs = " ".join(f"<hl1-{i:012d}-0-{'a' * 20}.1@example.test>" for i in range(5000))
    return (
        f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: Re: deploy\r\n"
        f"Message-ID: {make_msgid(domain='corp.test')}\r\nIn-Reply-To: {real}\r\n"
        f"References: {refs} {real}\r\n\r\nApprove\r\n"
    ).encode()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def test_bombs_in_front_of_a_real_reply(gateway_config, mail_client, mail_stack):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        gateway = hl.transport.gateway
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        before = _peak_rss_mb()
        # The watcher sees the bombs first, then the real reply, all in the mailbox at once.
        for raw in (_subject_bomb(), _parts_bomb(), _references_bomb(ask.message_id)):
            await mail_stack.deliver(raw, [AGENT], mail_from=ALICE)
        await alice.reply(ask, "Approve", style="gmail")
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is True
        await wait_outcomes(gateway, ["too_large", "too_large", "too_large", "applied"])
        growth = _peak_rss_mb() - before
        print(f"\npeak RSS growth while the watcher took the bombs: {growth:.0f} MB")
        # Unbounded, the Subject alone took 23 GB (OOM); parts and references took seconds.
        assert growth < 400, f"peak RSS grew by {growth:.0f} MB"
        # The checkpoint moved past every bomb: a restart does not fetch them again.
        rows = await gateway.store.list_inbound()
        assert len(rows) == 4
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        await asyncio.sleep(0.5)
        assert len(await hl.transport.gateway.store.list_inbound()) == 4


def _bounce(original_message_id: str | None, *, auth: str = "", in_reply_to: str = "") -> bytes:
    date = format_datetime(datetime.now(UTC))
    headers = "" if original_message_id is None else f"Message-ID: {original_message_id}\n"
    extra = (f"Authentication-Results: {auth}\n" if auth else "") + (
        f"In-Reply-To: {in_reply_to}\n" if in_reply_to else ""
    )
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.corp.test>
To: {AGENT}
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.corp.test")}
Date: {date}
{extra}Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY42"

--BOUNDARY42
Content-Type: text/plain; charset=us-ascii

<{ALICE}>: host mx.corp.test said: 550 5.1.1 User unknown

--BOUNDARY42
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.corp.test

Final-Recipient: rfc822; {ALICE}
Action: failed
Status: 5.1.1

--BOUNDARY42
Content-Type: text/rfc822-headers

From: Refund agent <{AGENT}>
To: {ALICE}
Subject: Approval needed
{headers}
--BOUNDARY42--
""".replace("\n", "\r\n").encode()


async def test_only_an_authentic_bounce_fails_the_recipient(
    gateway_config, mail_client, mail_stack
):
    alice = mail_client(ALICE)
    trusted = "mx.corp.test"
    cfg = gateway_config(
        security={
            "secret": "integration-secret-0123456789-abcdef",
            "trusted_authserv_id": trusted,
        }
    )
    async with AsyncHumanLayer.local(config=cfg) as hl:
        gateway = hl.transport.gateway
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        passing = f"{trusted}; spf=pass smtp.helo=mx.corp.test; dmarc=pass header.from=mx.corp.test"
        for raw in (
            # Our key only in a header anyone who saw the email can write: not a report.
            _bounce(None, auth=passing, in_reply_to=ask.message_id),
            # Our Message-ID in the report, but no authentication from the trusted server.
            _bounce(ask.message_id),
            _bounce(ask.message_id, auth="evil.test; dmarc=pass header.from=mx.corp.test"),
        ):
            await mail_stack.deliver(raw, [AGENT], mail_from="")
        await wait_outcomes(gateway, ["bounce_unverified"] * 3)
        assert not task.done()
        row = (await gateway.store.list_requests())[0]
        assert [r.state for r in await gateway.store.get_recipients(row.id)] != ["failed"]
        await mail_stack.deliver(_bounce(ask.message_id, auth=passing), [AGENT], mail_from="")
        with pytest.raises(HumanLayerException, match="delivery failed"):
            await asyncio.wait_for(task, 30)
        assert "bounce" in await outcomes(gateway)


async def test_an_oversized_message_is_fetched_only_up_to_the_limit(
    gateway_config, mail_client, mail_stack
):
    alice = mail_client(ALICE)
    limit = 200_000
    cfg = gateway_config(inbound={"max_message_bytes": limit})
    async with AsyncHumanLayer.local(config=cfg) as hl:
        gateway = hl.transport.gateway
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        big = (
            f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: Re: deploy\r\n"
            f"Message-ID: {make_msgid(domain='corp.test')}\r\nIn-Reply-To: {ask.message_id}\r\n"
            "\r\nApprove\r\n"
        ).encode() + b"filler line of an attachment-sized reply\r\n" * 30_000
        await mail_stack.deliver(big, [AGENT], mail_from=ALICE)
        await wait_outcomes(gateway, ["too_large"])
        assert not task.done()
        row = next(r for r in await gateway.store.list_inbound() if r.outcome == "too_large")
        # Only the first limit + 1 bytes of the 1.2 MB message were fetched from IMAP.
        assert f"message is {limit + 1} bytes" in row.detail, row.detail
        assert "max_message_bytes" in row.detail
        await alice.reply(ask, "Approve", style="outlook")
        completed = await asyncio.wait_for(task, 30)
        assert completed.call.status.approved is True
