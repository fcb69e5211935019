"""Routing, several humans, timers, out-of-office, bounces and the agent inbox, over real mail."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from hl_email_sdk import (
    AsyncHumanLayer,
    ContactChannel,
    EmailContactChannel,
    FunctionCallSpec,
    HumanLayerException,
)

ALICE, BOB, CAROL = "alice@corp.test", "bob@corp.test", "carol@corp.test"
ONCALL, LEAD = "oncall@corp.test", "lead@corp.test"
AGENT = "agent@example.test"


async def outcomes(gateway) -> list[str]:
    return [r.outcome for r in reversed(await gateway.store.list_inbound())]


async def wait_for(predicate, timeout: float = 60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def routes(*rules, default=None, **extra):
    out = {"routes": list(rules), **extra}
    if default is not None:
        out["default_route"] = default
    return out


async def test_rule_precedence_channel_rule_default(gateway_config, mail_client):
    cfg = gateway_config(
        **routes(
            {
                "name": "big-refunds",
                "fn": "send_refund",
                "when": ["amount >= 500"],
                "to": [ALICE, BOB],
            },
            default={"name": "on-call", "to": [ONCALL]},
        )
    )
    alice, bob, oncall, carol = (mail_client(a) for a in (ALICE, BOB, ONCALL, CAROL))
    async with AsyncHumanLayer.local(config=cfg) as hl:
        await hl.create_function_call(FunctionCallSpec(fn="send_refund", kwargs={"amount": 900}))
        assert "send_refund" in (await alice.wait_for_message()).text()
        assert "send_refund" in (await bob.wait_for_message()).text()
        await hl.create_function_call(FunctionCallSpec(fn="send_refund", kwargs={"amount": 90}))
        assert "90" in (await oncall.wait_for_message()).text()
        channel = ContactChannel(email=EmailContactChannel(address=CAROL))
        await hl.create_function_call(
            FunctionCallSpec(fn="send_refund", kwargs={"amount": 900}, channel=channel)
        )
        assert "900" in (await carol.wait_for_message()).text()
        gateway = hl.transport.gateway
        rows = await gateway.store.list_requests()
        sources = sorted((r.route["source"], r.route.get("rule") or "") for r in rows)
        assert sources == [
            ("channel", "big-refunds"),
            ("default", "on-call"),
            ("rule", "big-refunds"),
        ]


async def test_no_route_and_no_channel_is_refused(gateway_config):
    cfg = gateway_config(**routes({"name": "only-deploys", "fn": "deploy*", "to": [ALICE]}))
    async with AsyncHumanLayer.local(config=cfg) as hl:
        with pytest.raises(Exception, match="no route"):
            await hl.create_function_call(FunctionCallSpec(fn="send_refund", kwargs={}))
        assert await hl.transport.gateway.store.list_requests() == []


async def three_way(
    gateway_config, mail_client, policy: str, quorum: int | None, answers, after=None
):
    rule = {"name": "three", "fn": "*", "to": [ALICE, BOB, CAROL], "policy": policy}
    if quorum:
        rule["quorum"] = quorum
    cfg = gateway_config(**routes(rule))
    people = {a: mail_client(a) for a in (ALICE, BOB, CAROL)}
    async with AsyncHumanLayer.local(config=cfg) as hl:
        gateway = hl.transport.gateway
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="wire_money", kwargs={"eur": 5000}))
        )
        asks = {a: await c.wait_for_message() for a, c in people.items()}
        [request] = await gateway.store.list_requests()
        # What a user sees after each answer, read once the gateway has stored and handled it:
        # the stored request state (decided or not). The inbound row and the request update
        # commit in one transaction, so this is not a race; the waiting SDK call wakes a little
        # later, so it is awaited (bounded) instead of read at once.
        states = []
        for n, (address, text) in enumerate(answers, start=1):
            await people[address].reply(asks[address], text)
            await wait_for(lambda n=n: _count_answers(gateway, n))
            stored = await gateway.store.get_request(call_id=request.call_id)
            states.append(stored.state != "pending")
        completed = await asyncio.wait_for(task, 60)
        if after is not None:
            await after(completed.call, gateway, people, asks)
        return completed.call, states


async def _count_answers(gateway, n):
    rows = await gateway.store.list_inbound()
    return sum(1 for r in rows if r.outcome in ("applied", "vote_recorded", "late")) >= n


async def test_all_policy_needs_everyone(gateway_config, mail_client):
    call, states = await three_way(
        gateway_config,
        mail_client,
        "all",
        None,
        [(BOB, "approve"), (CAROL, "yes"), (ALICE, "approved")],
    )
    assert states == [False, False, True]
    assert call.status.approved is True
    assert sorted(r.address for r in call.status.responders) == [ALICE, BOB, CAROL]


async def test_all_policy_one_rejection_rejects_and_late_answer_changes_nothing(
    gateway_config, mail_client
):
    async def late_answer(call, gateway, people, asks):
        # Bob was told it is decided; his late approval is answered in-thread, changes nothing.
        note = await people[BOB].wait_for_message()
        assert "rejected" in note.text() and note.subject.lower().startswith("re:")
        await people[BOB].reply(asks[BOB], "approve")
        await wait_for(lambda: _has(gateway, "late"))
        already = await people[BOB].wait_for_message()
        assert "already" in already.text()
        assert (await gateway.get_function_call(call.call_id)).status.approved is False

    call, states = await three_way(
        gateway_config,
        mail_client,
        "all",
        None,
        [(CAROL, "approve"), (ALICE, "reject: not this quarter")],
        after=late_answer,
    )
    assert states == [False, True]
    assert call.status.approved is False and "not this quarter" in call.status.comment


async def _has(gateway, outcome):
    return outcome in await outcomes(gateway)


async def test_quorum_two_of_three(gateway_config, mail_client):
    call, states = await three_way(
        gateway_config,
        mail_client,
        "quorum",
        2,
        [(ALICE, "no"), (CAROL, "approve"), (BOB, "lgtm, approve")],
    )
    assert states == [False, False, True]
    assert call.status.approved is True
    assert [r.verdict for r in call.status.responders] == ["reject", "approve", "approve"]


async def test_reminder_then_escalation_then_answer(gateway_config, mail_client):
    rule = {
        "name": "deploys",
        "fn": "deploy",
        "to": [ALICE],
        "reminders": ["1s"],
        "escalations": [{"after": "2s", "add": [LEAD], "message": "Alice has not answered."}],
    }
    cfg = gateway_config(**routes(rule))
    alice, lead = mail_client(ALICE), mail_client(LEAD)
    async with AsyncHumanLayer.local(config=cfg) as hl:
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={"env": "prod"}))
        )
        ask = await alice.wait_for_message()
        reminder = await alice.wait_for_message()
        assert "reminder" in reminder.text().lower()
        assert ask.message_id in reminder.msg["References"]
        escalated = await lead.wait_for_message()
        assert "Alice has not answered." in escalated.text()
        await lead.reply(escalated, "Approve")
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is True
        assert completed.call.status.user_info["email"] == LEAD


async def test_due_reminder_missed_while_down_runs_once_after_restart(gateway_config, mail_client):
    cfg = gateway_config(**routes({"name": "r", "fn": "*", "to": [ALICE], "reminders": ["1s"]}))
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=cfg) as hl:
        call = await hl.create_function_call(FunctionCallSpec(fn="deploy", kwargs={}))
        await alice.wait_for_message()
    await asyncio.sleep(1.5)  # the reminder falls due while the gateway is down
    async with AsyncHumanLayer.local(config=cfg) as hl:
        reminder = await alice.wait_for_message()
        assert "reminder" in reminder.text().lower()
        # Another timer pass (as the timer loop makes) finds nothing left to run.
        assert await hl.transport.gateway.run_timers_once() == 0
        rows = await hl.transport.gateway.store.list_requests()
        outbox = await hl.transport.gateway.store.outbox_for_request(rows[0].id)
        assert [o.purpose for o in outbox].count("reminder") == 1
    async with AsyncHumanLayer.local(config=cfg) as hl:
        # A second restart: its timer pass runs nothing, and no reminder is added.
        assert await hl.transport.gateway.run_timers_once() == 0
        outbox = await hl.transport.gateway.store.outbox_for_request(rows[0].id)
        assert [o.purpose for o in outbox].count("reminder") == 1
        assert (await hl.get_function_call(call.call_id)).status.approved is None


async def test_timeout_fails_closed_with_a_denial(gateway_config, mail_client):
    cfg = gateway_config(**routes({"name": "t", "fn": "*", "to": [ALICE], "timeout": "1s"}))
    async with AsyncHumanLayer.local(config=cfg) as hl:
        ran = []

        @hl.require_approval()
        async def drop_table(name: str) -> str:
            ran.append(name)
            return "dropped"

        result = await asyncio.wait_for(drop_table(name="users"), 15)
        assert result.startswith("User denied drop_table with message:")
        assert "timed out" in result and "1 second" in result
        assert ran == []


async def test_out_of_office_asks_the_delegate(gateway_config, mail_client):
    cfg = gateway_config(
        **routes({"name": "d", "fn": "*", "to": [ALICE], "delegates": {ALICE: BOB}})
    )
    alice, bob = mail_client(ALICE), mail_client(BOB)
    async with AsyncHumanLayer.local(config=cfg) as hl:
        task = asyncio.create_task(hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={})))
        ask = await alice.wait_for_message()
        await alice.reply(
            ask,
            "I am out of the office until December 1st.",
            style="outlook",
            extra_headers={
                "Auto-Submitted": "auto-replied",
                "Subject": "Automatic reply: " + ask.subject,
            },
        )
        delegated = await bob.wait_for_message()
        assert "away" in delegated.text()
        await bob.reply(delegated, "approve")
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is True
        recipients = await hl.transport.gateway.store.get_recipients(
            (await hl.transport.gateway.store.list_requests())[0].id
        )
        assert next(r for r in recipients if r.address == ALICE).auto_replied


def dsn_for(original_message_id: str, failed: str) -> bytes:
    """A Postfix-style RFC 3464 bounce that quotes our original message's headers."""
    date = format_datetime(datetime.now(UTC))
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.corp.test>
To: {AGENT}
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.corp.test")}
Date: {date}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY42"

--BOUNDARY42
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.corp.test.

<{failed}>: host mx.corp.test said: 550 5.1.1 User unknown

--BOUNDARY42
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.corp.test

Final-Recipient: rfc822; {failed}
Action: failed
Status: 5.1.1

--BOUNDARY42
Content-Type: text/rfc822-headers

From: Refund agent <{AGENT}>
To: {failed}
Subject: Approval needed
Message-ID: {original_message_id}

--BOUNDARY42--
""".replace("\n", "\r\n").encode()


async def test_bounce_fails_the_recipient_and_ends_the_call(
    gateway_config, mail_client, mail_stack
):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        channel = ContactChannel(email=EmailContactChannel(address=ALICE))
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=channel))
        )
        ask = await alice.wait_for_message()
        await mail_stack.deliver(dsn_for(ask.message_id, ALICE), [AGENT], mail_from="")
        with pytest.raises(HumanLayerException, match="delivery failed"):
            await asyncio.wait_for(task, 60)
        assert "bounce" in await outcomes(hl.transport.gateway)


async def test_agent_inbox_handler_and_allowlist(gateway_config, mail_client):
    cfg = gateway_config(agent_inbox={"allowed_senders": ["@corp.test"]})
    alice = mail_client(ALICE)
    stranger = mail_client("eve@evil.test")
    async with AsyncHumanLayer.local(config=cfg) as hl:
        received = []
        hl.on_email(received.append)
        for sender, client in ((ALICE, alice), ("eve@evil.test", stranger)):
            msg = EmailMessage()
            msg["From"] = sender
            msg["To"] = AGENT
            msg["Subject"] = "Can you refund order A-99?"
            msg["Message-ID"] = make_msgid(domain=sender.split("@")[1])
            msg["Date"] = format_datetime(datetime.now(UTC))
            msg.set_content(
                "Hi agent,\n\nplease refund order A-99, it arrived broken.\n\nThanks\nAlice\n"
            )
            await client.send(msg)
        gateway = hl.transport.gateway
        await wait_for(lambda: _has(gateway, "agent_email_refused"))
        await wait_for(lambda: _has(gateway, "agent_email"))
        assert len(received) == 1
        payload = received[0]
        assert payload.from_address == ALICE and payload.to_address == AGENT
        assert (
            "refund order A-99" in payload.body and "Subject: Can you refund" in payload.raw_email
        )
        # The agent answers in the same thread with a follow-up question.
        reply_channel = ContactChannel(
            email=EmailContactChannel.in_reply_to(
                payload.from_address, payload.subject, payload.message_id
            )
        )
        task = asyncio.create_task(
            hl.human_as_tool(contact_channel=reply_channel)("Was the parcel damaged?")
        )
        question = await alice.wait_for_message()
        assert question.msg["In-Reply-To"] == payload.message_id
        assert question.subject == "Re: Can you refund order A-99?"
        await alice.reply(question, "Yes, the box was crushed.")
        assert await asyncio.wait_for(task, 60) == "Yes, the box was crushed."


async def test_route_language_german_end_to_end(gateway_config, mail_client):
    cfg = gateway_config(**routes({"name": "de", "fn": "*", "to": [ALICE], "language": "de"}))
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=cfg) as hl:
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="rueckerstattung", kwargs={"betrag": 120}))
        )
        ask = await alice.wait_for_message()
        html = ask.html()
        assert 'lang="de"' in html and "Freigeben" in html
        await alice.reply(ask, "Ja, genehmigt.")
        completed = await asyncio.wait_for(task, 60)
        assert completed.call.status.approved is True
        confirm = await alice.wait_for_message()
        assert "Freigegeben" in confirm.text()


async def test_bad_route_language_fails_at_start(gateway_config):
    from hl_email.errors import RequestInvalidError
    from hl_email.gateway import Gateway

    cfg = gateway_config(
        **routes({"name": "x", "fn": "*", "to": [ALICE], "template_set": "missing-set"})
    )
    with pytest.raises(RequestInvalidError, match="missing-set"):
        Gateway(cfg)
