"""The whole loop over real Dovecot + SMTP: ask by email, the human replies, the call resolves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from hl_email_sdk import (
    AsyncHumanLayer,
    ContactChannel,
    DeliveryFailedError,
    EmailContactChannel,
    FunctionCallSpec,
    HumanLayer,
    ResponseOption,
)

from hl_email.gateway import Gateway

ALICE = "alice@corp.test"
BOB = "bob@corp.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))


async def outcomes(gateway: Gateway) -> list[str]:
    return [r.outcome for r in reversed(await gateway.store.list_inbound())]


async def wait_outcome(gateway: Gateway, outcome: str, timeout: float = 60, count: int = 1) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await outcomes(gateway)).count(outcome) < count:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {outcome!r} outcome; got {await outcomes(gateway)}")
        await asyncio.sleep(0.05)


async def wait_all_seen(mail_stack, address: str, count: int, timeout: float = 60) -> None:
    """Wait until ``count`` messages are in the mailbox and the watcher has handled (\\Seen) all."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        msgs = await mail_stack.fetch_all(address)
        if len(msgs) >= count and all("\\Seen" in flags for _, _, flags in msgs):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not all handled: {[sorted(f) for _, _, f in msgs]}")
        await asyncio.sleep(0.05)


async def refund(order: str, amount: int) -> str:
    return f"refunded {amount} on {order}"


@pytest.mark.parametrize("style", ["gmail", "outlook", "apple", "plain"])
async def test_approve_in_each_client_shape(gateway_config, mail_client, style):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config(), run_id="refund-agent") as hl:
        send_refund = hl.require_approval(contact_channel=CHANNEL)(refund)
        call = asyncio.create_task(send_refund(order="A-17", amount=120))
        ask = await alice.wait_for_message()
        assert ask.subject == "Approval needed: refund(order=A-17, amount=120) (Refund agent)"
        assert "refund" in ask.text()
        assert "A-17" in ask.text() and "120" in ask.text()
        assert ask.msg["Auto-Submitted"] == "auto-generated"
        await alice.reply(ask, "Approve, go ahead.", style=style)
        assert await asyncio.wait_for(call, 60) == "refunded 120 on A-17"
        # A confirmation lands in the same thread.
        confirm = await alice.wait_for_message()
        assert confirm.subject.lower().startswith("re:")
        assert ask.message_id in (confirm.msg["References"] or "")


async def test_reject_with_comment(gateway_config, mail_client):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        ran = []

        @hl.require_approval(contact_channel=CHANNEL)
        async def send_refund(order: str, amount: int) -> str:
            ran.append(order)
            return "done"

        call = asyncio.create_task(send_refund(order="A-18", amount=900))
        ask = await alice.wait_for_message()
        await alice.reply(ask, "REJECT: amount is too high, check with finance", style="outlook")
        result = await asyncio.wait_for(call, 60)
        assert (
            result == "User denied send_refund with message: amount is too high, check with finance"
        )
        assert ran == []


async def test_reject_option_by_number(gateway_config, mail_client):
    alice = mail_client(ALICE)
    options = [
        ResponseOption(name="wrong_order", title="Wrong order"),
        ResponseOption(name="too_high", title="Amount too high"),
    ]
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        spec = FunctionCallSpec(
            fn="send_refund", kwargs={"amount": 5000}, channel=CHANNEL, reject_options=options
        )
        task = asyncio.create_task(hl.fetch_approval(spec))
        ask = await alice.wait_for_message()
        assert "1." in ask.text() and "Amount too high" in ask.text()
        await alice.reply(ask, "2", style="apple")
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is False
        assert completed.call.status.reject_option_name == "too_high"
        assert completed.call.status.comment


async def test_question_answered(gateway_config, mail_client):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        ask_tool = hl.human_as_tool(contact_channel=CHANNEL)
        assert ask_tool.__name__.startswith("contact_human_via_email")
        assert ask_tool.__doc__
        task = asyncio.create_task(ask_tool("Which plan should this customer get?"))
        ask = await alice.wait_for_message()
        assert "Which plan" in ask.text()
        await alice.reply(ask, "The Pro plan, with the yearly discount.", style="gmail")
        answer = await asyncio.wait_for(task, 60)
        assert answer == "The Pro plan, with the yearly discount."


async def test_question_option_by_name(gateway_config, mail_client):
    alice = mail_client(ALICE)
    options = [ResponseOption(name="basic", title="Basic"), ResponseOption(name="pro", title="Pro")]
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        tool = hl.human_as_tool(contact_channel=CHANNEL, response_options=options)
        task = asyncio.create_task(tool("Which plan?"))
        ask = await alice.wait_for_message()
        await alice.reply(ask, "pro", style="plain")
        assert (await asyncio.wait_for(task, 60)).startswith("Pro")
        [row] = await hl.transport.gateway.store.list_requests()
        assert row.status["response_option_name"] == "pro"


async def test_auto_reply_is_ignored(gateway_config, mail_client):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        gateway = hl.transport.gateway
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        await alice.reply(
            ask,
            "I am out of the office until Monday. Yes, I will read your email then.",
            style="outlook",
            extra_headers={
                "Auto-Submitted": "auto-replied",
                "Subject": "Automatic reply: " + ask.subject,
            },
        )
        await wait_outcome(gateway, "auto_reply")
        assert not task.done()
        await alice.reply(ask, "approved", style="gmail")
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is True


async def test_spoofed_from_with_dmarc_fail_is_refused(gateway_config, mail_client):
    alice = mail_client(ALICE)
    cfg = gateway_config(
        security={
            "secret": "s3cret-key-for-tests-0123456789abcdef",
            "trusted_authserv_id": "mx.corp.test",
        }
    )
    async with AsyncHumanLayer.local(config=cfg) as hl:
        gateway = hl.transport.gateway
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        await alice.reply(
            ask,
            "Approve",
            extra_headers={
                "Authentication-Results": "mx.corp.test; spf=fail smtp.mailfrom=corp.test; dmarc=fail (p=none) header.from=corp.test"
            },
        )
        await wait_outcome(gateway, "dmarc_failed")
        # A forged header claiming another authserv-id does not count either.
        await alice.reply(
            ask,
            "Approve",
            extra_headers={
                "Authentication-Results": "evil.example; dmarc=pass header.from=corp.test"
            },
        )
        await wait_outcome(gateway, "dmarc_failed", count=2)
        assert not task.done()
        await alice.reply(
            ask,
            "I reject this",
            extra_headers={
                "Authentication-Results": "mx.corp.test; dkim=pass header.d=corp.test; dmarc=pass (p=reject) header.from=corp.test"
            },
        )
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is False
        assert (await outcomes(gateway)).count("dmarc_failed") == 2


async def test_reply_from_someone_else_is_refused(gateway_config, mail_client):
    alice, bob = mail_client(ALICE), mail_client(BOB)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        gateway = hl.transport.gateway
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        # Bob got the email forwarded and replies to the thread: his answer must not count.
        await bob.reply(ask, "Approve", to="agent@example.test")
        await wait_outcome(gateway, "sender_mismatch")
        # A spoofed From with Alice's address but no DMARC is accepted when no authserv is
        # configured; that is why the README tells production setups to set one.
        assert not task.done()
        await alice.reply(ask, "no, not today", style="gmail")
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is False
        rows = await gateway.store.list_inbound()
        mismatch = next(r for r in rows if r.outcome == "sender_mismatch")
        assert BOB in mismatch.detail and ALICE in mismatch.detail


async def test_same_reply_twice_is_applied_once(gateway_config, mail_client, mail_stack):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        gateway = hl.transport.gateway
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        reply = alice.build_reply(ask, "Approved", style="gmail")
        raw = bytes(reply)
        await mail_stack.deliver(raw, ["agent@example.test"], mail_from=ALICE)
        await mail_stack.deliver(raw, ["agent@example.test"], mail_from=ALICE)
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is True
        await wait_all_seen(
            mail_stack, "agent@example.test", 2
        )  # the watcher has handled both copies
        assert (await outcomes(gateway)).count("applied") == 1
        # Exactly one confirmation went out.
        confirms = [
            o
            for o in await gateway.store.outbox_for_request(
                (await gateway.store.list_requests())[0].id
            )
            if o.purpose == "confirm"
        ]
        assert len(confirms) == 1


async def test_reply_while_stopped_is_applied_after_restart(gateway_config, mail_client):
    alice = mail_client(ALICE)
    cfg = gateway_config()
    async with AsyncHumanLayer.local(config=cfg) as hl:
        call = await hl.create_function_call(
            FunctionCallSpec(fn="deploy", kwargs={"env": "prod"}, channel=CHANNEL)
        )
        ask = await alice.wait_for_message()
    # Gateway is down; Alice answers.
    await alice.reply(ask, "Approve", style="apple")
    await asyncio.sleep(0.2)
    async with AsyncHumanLayer.local(config=cfg) as hl:
        completed = await asyncio.wait_for(hl.wait_for_approval(call.call_id), 60)
        assert completed.call.status.approved is True
        fetched = await hl.get_function_call(call.call_id)
        assert fetched.status.approved is True


async def test_smtp_451_is_retried(gateway_config, mail_client, mail_stack):
    alice = mail_client(ALICE)
    mail_stack.smtp_faults.fail_next(2, code=451)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        await alice.reply(ask, "yes")
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is True
        gateway = hl.transport.gateway
        rows = await gateway.store.outbox_for_request((await gateway.store.list_requests())[0].id)
        assert rows[0].attempts == 3 and rows[0].state == "sent"


async def test_smtp_550_reaches_the_caller(gateway_config, mail_client, mail_stack):
    mail_stack.smtp_faults.reject_rcpt(ALICE, code=550)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        ran = []

        @hl.require_approval(contact_channel=CHANNEL)
        def send_refund(order: str) -> str:
            ran.append(order)
            return "done"

        result = await asyncio.wait_for(send_refund(order="A-1"), 20)
        assert result.startswith("Error fetching approval for send_refund")
        assert "550" in result and ALICE in result
        assert ran == []
        with pytest.raises(DeliveryFailedError):
            await asyncio.wait_for(
                hl.fetch_approval(FunctionCallSpec(fn="x", kwargs={}, channel=CHANNEL)), 20
            )


async def test_unclear_reply_asks_again_in_thread(gateway_config, mail_client):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        await alice.reply(ask, "Hmm, what does this do exactly?", style="gmail")
        clarify = await alice.wait_for_message()
        assert clarify.msg["In-Reply-To"]
        assert ask.message_id in clarify.msg["References"]
        assert clarify.subject.lower().startswith("re:")
        # It says what was unclear (the decision's reason), not only that something was.
        (inbound,) = await hl.transport.gateway.store.list_inbound()
        assert inbound.outcome == "unclear_asked_again" and inbound.detail
        assert "Why I am asking again: " + inbound.detail.rstrip(".") in clarify.text()
        assert not task.done()
        await alice.reply(clarify, "OK then, approve.", style="gmail")
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is True


async def test_quoted_approve_does_not_approve(gateway_config, mail_client):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        gateway = hl.transport.gateway
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        # The quoted original says "Reply APPROVE"; the new text says nothing decisive.
        await alice.reply(ask, "", style="gmail")
        await wait_outcome(gateway, "unclear_asked_again")
        assert not task.done()
        task.cancel()


async def test_mailto_button_reply_without_threading_headers(gateway_config, mail_client):
    import re
    from urllib.parse import unquote

    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        link = re.search(r'href="(mailto:[^"]+body=APPROVE[^"]*)"', ask.html()).group(1)
        to, _, query = link.removeprefix("mailto:").partition("?")
        params = dict(p.split("=", 1) for p in query.replace("&amp;", "&").split("&"))
        msg = EmailMessage()
        msg["From"] = ALICE
        msg["To"] = unquote(to)
        msg["Subject"] = unquote(params["subject"])
        msg["Message-ID"] = make_msgid(domain="corp.test")
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg.set_content(unquote(params["body"]))
        await alice.send(msg)
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is True


async def test_timeout_fails_closed(gateway_config):
    async with AsyncHumanLayer.local(config=gateway_config(), timeout=0.3) as hl:
        ran = []

        @hl.require_approval(contact_channel=CHANNEL)
        def deploy() -> str:
            ran.append(1)
            return "deployed"

        result = await deploy()
        assert "Error fetching approval for deploy" in result and "0.3" in result
        assert ran == []


def test_sync_twin(gateway_config, mail_stack):
    import threading

    from mailclient import MailClient

    alice = MailClient(mail_stack, ALICE)
    with HumanLayer.local(config=gateway_config()) as hl:

        @hl.require_approval(contact_channel=CHANNEL)
        def restart_service(name: str) -> str:
            return f"restarted {name}"

        def human() -> None:
            async def go() -> None:
                ask = await alice.wait_for_message()
                await alice.reply(ask, "LGTM, approve")

            asyncio.run(go())

        t = threading.Thread(target=human)
        t.start()
        assert restart_service(name="api") == "restarted api"
        t.join(10)
