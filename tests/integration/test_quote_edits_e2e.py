"""An approval on top and an edit inside the quote of our email (Outlook quotes without ">",
so the edit looks like our own text): asked again, never approved. The same reply without the
edit approves, in every client shape, and so does a plain yes on the clarification."""

from __future__ import annotations

import asyncio

import pytest
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec

ALICE = "alice@corp.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))
KWARGS = {"order": "A-7731", "amount": 120, "currency": "EUR"}


def _edit(msg, old: str, new: str) -> None:
    """Change our quoted text in both parts of the reply, as the human would in Outlook."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html"):
            body = part.get_content()
            ours = body.find("##-")  # our quoted email (not the quoted Subject line above it)
            assert ours >= 0 and old in body[ours:], (kind, body[:400])
            edited = body[:ours] + body[ours:].replace(old, new, 1)
            part.set_content(edited, subtype=kind.split("/")[1])


async def _approved(hl: AsyncHumanLayer, call_id: str) -> bool | None:
    for _ in range(400):
        call = await hl.get_function_call(call_id)
        if call.status and call.status.approved is not None:
            return call.status.approved
        await asyncio.sleep(0.05)
    return None


@pytest.mark.parametrize(
    ("old", "new"),
    [("120", "50"), ("A-7731", "A-7731 NOT this order, the other one")],
    ids=["amount", "not"],
)
async def test_an_edit_inside_an_outlook_quote_is_asked_again(
    gateway_config, mail_client, old, new
):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        spec = FunctionCallSpec(fn="issue_refund", kwargs=KWARGS, channel=CHANNEL)
        await hl.create_function_call(spec, call_id="qe-1")
        ask = await alice.wait_for_message()
        reply = alice.build_reply(ask, "Approved", style="outlook")
        _edit(reply, old, new)
        await alice.send(reply)
        clarify = await alice.wait_for_message()
        assert "change inside the quoted email" in clarify.text()
        [row] = await hl.transport.gateway.store.list_requests()
        assert row.state == "pending" and row.status.get("approved") is None
        # APPROVE alone on the clarification (its quote holds the whole thread) approves
        await alice.reply(clarify, "Approved", style="outlook")
        assert await _approved(hl, "qe-1") is True


@pytest.mark.parametrize("style", ["gmail", "outlook", "apple", "plain"])
async def test_the_same_reply_without_an_edit_approves(gateway_config, mail_client, style):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        spec = FunctionCallSpec(fn="issue_refund", kwargs=KWARGS, channel=CHANNEL)
        await hl.create_function_call(spec, call_id="qe-2")
        ask = await alice.wait_for_message()
        await alice.reply(ask, "Approved", style=style)
        assert await _approved(hl, "qe-2") is True
