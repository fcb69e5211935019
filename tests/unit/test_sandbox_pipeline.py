"""The sandbox's inbound path without sockets: Maildir → MaildirSource → Gateway.handle_inbound.

The gateway's outbox "sends" into the person's Maildir (as the sandbox's SMTP server does); the
person's reply is built with build_reply and delivered into the agent's Maildir.
"""

from __future__ import annotations

import asyncio
import email
import email.policy

import pytest

from hl_email.config import load_config
from hl_email.gateway import Gateway
from hl_email.inbound.maildir import Maildir, MaildirSource
from hl_email.models import ContactChannel, EmailContactChannel, FunctionCall, FunctionCallSpec
from hl_email.sandbox import build_reply, mailbox_name

AGENT = "agent@hl-email.test"
ALICE = "alice@example.com"


@pytest.fixture
async def rig(tmp_path):
    boxes: dict[str, Maildir] = {}

    def box(address: str) -> Maildir:
        name = mailbox_name(address)
        if name not in boxes:
            boxes[name] = Maildir(tmp_path / "mail" / name)
        return boxes[name]

    async def send(mail_from: str, rcpt_to: list[str], message: bytes) -> None:
        for rcpt in rcpt_to:
            box(rcpt).deliver(message)

    config = load_config(
        None,
        agent={"address": AGENT, "name": "Refund agent"},
        imap={"enabled": False},
        store={"url": f"sqlite:///{tmp_path / 'db.sqlite'}"},
        security={"secret": "unit-secret-0123456789-sandbox-pipeline"},
        replies={"send_confirmations": False},
    )
    gateway = Gateway(config, send=send)
    await gateway.start(inbound=False)
    try:
        yield gateway, box
    finally:
        await gateway.stop()


async def wait_for_mail(md: Maildir, count: int = 1) -> list:
    for _ in range(500):
        entries = md.entries()
        if len(entries) >= count:
            return entries
        await asyncio.sleep(0.01)
    raise AssertionError(f"{md.path}: expected {count} message(s), found {len(md.entries())}")


async def ask(gateway: Gateway, call_id: str) -> None:
    await gateway.create_function_call(
        FunctionCall(
            run_id="run",
            call_id=call_id,
            spec=FunctionCallSpec(
                fn="issue_refund",
                kwargs={"order_id": "A-1001"},
                channel=ContactChannel(email=EmailContactChannel(address=ALICE)),
            ),
        )
    )


def reply_to(raw: bytes, body: str) -> bytes:
    original = email.message_from_bytes(raw, policy=email.policy.default)
    return build_reply(original, from_address=ALICE, from_name="Alice", body=body).as_bytes(
        policy=email.policy.SMTP
    )


async def test_reply_in_agent_maildir_resolves_the_call(rig) -> None:
    gateway, box = rig
    await ask(gateway, "call-1")
    (entry,) = await wait_for_mail(box(ALICE))
    outcomes: list = []
    source = MaildirSource(
        box(AGENT), gateway.handle_inbound, on_processed=lambda k, raw, r: outcomes.append(r)
    )
    key = box(AGENT).deliver(reply_to(entry.path.read_bytes(), "APPROVE"))
    assert await source.process_new() == 1
    assert [o.outcome for o in outcomes] == ["applied"]
    call = await gateway.wait_function_call("call-1", timeout=5)
    assert call.status is not None and call.status.approved is True
    # Processed mail leaves new/ only after its outcome is stored.
    assert box(AGENT).new() == [] and box(AGENT).get(key).seen


async def test_nothing_lost_when_processing_fails_and_nothing_applied_twice(rig) -> None:
    gateway, box = rig
    await ask(gateway, "call-2")
    (entry,) = await wait_for_mail(box(ALICE))
    raw_reply = reply_to(entry.path.read_bytes(), "REJECT: too expensive")
    calls = 0

    async def crashing(raw: bytes):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("simulated crash before the outcome was stored")
        return await gateway.handle_inbound(raw)

    source = MaildirSource(box(AGENT), crashing)
    key = box(AGENT).deliver(raw_reply)
    with pytest.raises(RuntimeError):
        await source.process_new()
    assert [e.key for e in box(AGENT).new()] == [key]  # still waiting, not lost
    assert (await gateway.get_function_call("call-2")).status.approved is None
    assert await source.process_new() == 1
    call = await gateway.get_function_call("call-2")
    assert call.status.approved is False and "too expensive" in (call.status.comment or "")
    # The same message delivered again (e.g. a crash after storing, before marking seen).
    box(AGENT).deliver(raw_reply)
    results: list = []
    source.on_processed = lambda k, raw, r: results.append(r)
    assert await source.process_new() == 1
    assert [r.outcome for r in results] == ["duplicate"]


async def test_source_run_wakes_on_poke(rig) -> None:
    gateway, box = rig
    await ask(gateway, "call-3")
    (entry,) = await wait_for_mail(box(ALICE))
    done = asyncio.Event()
    source = MaildirSource(
        box(AGENT), gateway.handle_inbound, poll_interval=3600, on_processed=lambda *a: done.set()
    )
    task = asyncio.create_task(source.run())
    try:
        await asyncio.sleep(0)
        box(AGENT).deliver(reply_to(entry.path.read_bytes(), "APPROVE"))
        source.poke()
        await asyncio.wait_for(done.wait(), 10)
        assert (await gateway.get_function_call("call-3")).status.approved is True
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
