"""First-run polish in the sandbox: the docstring reaches the ask, an empty reply is an error
the person sees, and the clarification names what was unclear."""

from __future__ import annotations

import asyncio
import email
import email.policy
from urllib.parse import quote

import httpx
import pytest
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel

from hl_email.sandbox import Sandbox

BOB = "bob@example.com"


def body_text(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg.get_body(("plain",)).get_content()


@pytest.fixture
async def sandbox(tmp_path):
    box = Sandbox(tmp_path / "dev", port=0)
    await box.start()
    await box.start_http()
    try:
        yield box
    finally:
        await box.stop()


async def wait_for_inbox(sandbox: Sandbox, address: str, count: int = 1) -> list:
    for _ in range(600):
        inbox = [m for m in sandbox.list_messages(address) if m.folder == "inbox"]
        if len(inbox) >= count:
            return inbox
        await asyncio.sleep(0.05)
    raise AssertionError(f"no email reached {address}")


async def test_docstring_empty_reply_and_clarification(sandbox):
    channel = ContactChannel(email=EmailContactChannel(address=BOB))
    async with AsyncHumanLayer(api_base_url=sandbox.api_base_url, api_key=sandbox.api_key) as hl:

        @hl.require_approval(contact_channel=channel)
        async def rotate_keys(service: str) -> str:
            """Rotate the service's API keys; clients reconnect within a minute."""
            return f"rotated {service}"

        task = asyncio.create_task(rotate_keys(service="billing"))
        (ask,) = await wait_for_inbox(sandbox, BOB)
        assert "Rotate the service's API keys" in body_text(sandbox.read(BOB, ask.key)[1])
        assert "rotate_keys(service=billing)" in ask.subject

        url = f"{sandbox.base_url}/dev/inbox/{quote(BOB, safe='@')}/{ask.key}"
        async with httpx.AsyncClient(follow_redirects=True) as client:
            page = await client.post(
                f"{url}/reply",
                content="body=%20%20&to=&subject=",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        assert page.status_code == 200
        assert 'id="reply-error"' in page.text and "the reply is empty" in page.text
        assert len(sandbox.list_messages(BOB)) == 1  # nothing was sent, not even to Sent

        _, outcome = await sandbox.send_reply(BOB, ask.key, body="maybe later")
        assert outcome["outcome"] == "unclear_asked_again"
        messages = await wait_for_inbox(sandbox, BOB, 2)
        clarify = next(m for m in messages if m.key != ask.key)
        text = body_text(sandbox.read(BOB, clarify.key)[1])
        assert "Why I am asking again:" in text
        _, outcome = await sandbox.send_reply(BOB, clarify.key, body="approve")
        assert outcome["outcome"] == "applied"
        assert await asyncio.wait_for(task, 30) == "rotated billing"
