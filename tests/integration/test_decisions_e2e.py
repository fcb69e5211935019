"""Issue 9 end to end over Dovecot: replies that are not a plain yes never approve (in Gmail,
Outlook and Apple Mail shapes), approval codes, and a reply key used on an unrelated email."""

from __future__ import annotations

import asyncio
import re

import pytest
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec

ALICE = "alice@corp.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))
STYLES = ("gmail", "outlook", "apple")

# One sample of each shape the issue names (tests/data/decisions holds the full corpus).
NOT_PLAIN_YES = [
    ("apostrophe", "Yes, I don´t approve"),
    ("full_width", "Ｙｅｓ ｐｅｎｄｉｎｇ ｒｅｖｉｅｗ"),
    ("zero_width", "Yes, I do n\u200bot approve"),
    ("other_language_negator", "Godkänt? Nej, inte godkänt"),
    ("cjk_negated_verb", "是的，我不同意"),
    ("acknowledgement", "Ok, noted."),
    ("deferral", "Sure, I'll look at it tomorrow"),
    ("condition", "Yes pending legal review"),
    ("counter_offer", "Approve it for 50 instead"),
    ("delegation", "Ask Bob to approve it"),
    ("inflected_reject", "I agree with the rejection"),
    ("retraction_after_signature", "Approve.\n\nSent from my iPhone\n\nWait, no!"),
    ("sarcasm", "Sure, approve it, what could go wrong"),
]


async def _pending(hl: AsyncHumanLayer) -> bool:
    [row] = await hl.transport.gateway.store.list_requests()
    return row.state == "pending" and row.status.get("approved") is None


@pytest.mark.parametrize(("shape", "body"), NOT_PLAIN_YES, ids=[s for s, _ in NOT_PLAIN_YES])
async def test_not_plain_yes_is_asked_again_in_thread(gateway_config, mail_client, shape, body):
    style = STYLES[[s for s, _ in NOT_PLAIN_YES].index(shape) % 3]
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        spec = FunctionCallSpec(fn="issue_refund", kwargs={"amount": 120}, channel=CHANNEL)
        await hl.create_function_call(spec, call_id="e2e-1")
        ask = await alice.wait_for_message()
        await alice.reply(ask, body, style=style)
        clarify = await alice.wait_for_message()
        assert clarify.subject.lower().startswith("re:")
        assert ask.message_id in (clarify.msg["References"] or "")
        assert "I read" in clarify.text()
        assert await _pending(hl)
        # a plain yes in the same thread then approves
        await alice.reply(clarify, "Approved.", style=style)
        call = await hl.get_function_call("e2e-1")
        for _ in range(400):
            if call.status and call.status.approved is not None:
                break
            await asyncio.sleep(0.05)
            call = await hl.get_function_call("e2e-1")
        assert call.status.approved is True


@pytest.mark.parametrize("style", STYLES)
async def test_approval_code_flow(gateway_config, mail_client, style):
    alice = mail_client(ALICE)
    config = gateway_config(replies={"approval": "code"})
    async with AsyncHumanLayer.local(config=config) as hl:
        spec = FunctionCallSpec(fn="wire_money", kwargs={"amount": 9000}, channel=CHANNEL)
        task = asyncio.create_task(hl.fetch_approval(spec))
        ask = await alice.wait_for_message()
        code = re.search(r"Approval code: ([A-Z2-9]{6})", ask.text()).group(1)
        assert code in (ask.html() or "")
        await alice.reply(ask, "Approve", style=style)
        clarify = await alice.wait_for_message()
        assert "approval code" in clarify.text()
        assert not task.done()
        await alice.reply(clarify, f"APPROVE {code}", style=style)
        completed = await asyncio.wait_for(task, 30)
        assert completed.call.status.approved is True


async def test_reply_key_on_an_unrelated_email_is_answered_in_our_thread(
    gateway_config, mail_client
):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        spec = FunctionCallSpec(fn="issue_refund", kwargs={"amount": 120}, channel=CHANNEL)
        await hl.create_function_call(spec, call_id="e2e-2")
        ask = await alice.wait_for_message()
        # An unrelated email that carries our reply key in its threading headers.
        other = alice.build_reply(ask, "Yes, sounds good!", style="gmail", quote=False)
        del other["Subject"]
        other["Subject"] = "Team lunch on Friday?"
        await alice.send(other)
        clarify = await alice.wait_for_message()
        assert "does not answer ours" in clarify.text()
        assert ask.message_id in (clarify.msg["References"] or "")
        assert str(other["Message-ID"]) not in (clarify.msg["References"] or "")
        assert await _pending(hl)
