"""LMTP push delivery: Postfix hands the agent's mail to the gateway's LMTP listener
(`[inbound] lmtp`, Postfix `transport_maps`), no IMAP in between."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from conftest import tls_sections
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel
from mailclient import MailClient
from mailstack import lmtp_deliver

from hl_email.config import load_config

AGENT = "agent@example.test"
ALICE = "alice@corp.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def lmtp_stack():
    import os

    from tlsstack import postfix_binary, start_tls_stack

    if postfix_binary() is None or os.geteuid() != 0:
        pytest.skip("needs postfix and root (as .ci/run provides)")
    port = _port()
    stack = await start_tls_stack(lmtp_routes={AGENT: f"127.0.0.1:{port}"})
    try:
        yield stack, port
    finally:
        await stack.stop()


async def test_reply_delivered_by_postfix_over_lmtp_resolves_the_call(lmtp_stack, tmp_path: Path):
    stack, port = lmtp_stack
    config = load_config(
        None,
        **tls_sections(
            stack,
            "starttls",
            "starttls",
            imap={"enabled": False},  # LMTP only: nothing comes over IMAP
            inbound={"lmtp": f"127.0.0.1:{port}", "lmtp_spool": str(tmp_path / "spool")},
            store={"url": f"sqlite:///{tmp_path / 'hl.db'}"},
        ),
    )
    alice = MailClient(stack, ALICE)
    async with AsyncHumanLayer.local(config=config, run_id="lmtp") as hl:
        gateway = hl._local_gateway()  # noqa: SLF001
        assert (await gateway.readiness())["lmtp"] is True

        async def refund(order: str) -> str:
            return f"refunded {order}"

        call = asyncio.create_task(
            hl.require_approval(contact_channel=CHANNEL)(refund)(order="M-1")
        )
        ask = await alice.wait_for_message(timeout=30)
        await alice.reply(ask, "Approved.", style="outlook")
        assert await asyncio.wait_for(call, 30) == "refunded M-1"
        log = stack.postfix_log()
        assert f"to=<{AGENT}>, relay=127.0.0.1[127.0.0.1]:{port}" in log, log[-2000:]
        assert await stack.fetch_all(AGENT) == []  # it never went to the IMAP mailbox
        deadline = asyncio.get_running_loop().time() + 10
        while list((tmp_path / "spool" / "new").iterdir()):  # processed, then removed
            assert asyncio.get_running_loop().time() < deadline, "spool file not removed"
            await asyncio.sleep(0.02)


async def test_lmtp_refuses_other_recipients_and_processes_a_spooled_message_at_start(
    tmp_path: Path, gateway_config
):
    port = _port()
    spool = tmp_path / "spool"
    (spool / "new").mkdir(parents=True)
    (spool / "tmp").mkdir()
    # Left by a crash after the 250: a plain message from nobody we asked.
    (spool / "new" / "1.eml").write_bytes(
        b"From: x@corp.test\r\nTo: agent@example.test\r\nSubject: hi\r\n"
        b"Message-ID: <spooled@corp.test>\r\n\r\nhello\r\n"
    )
    config = gateway_config(
        imap={"enabled": False}, inbound={"lmtp": f"127.0.0.1:{port}", "lmtp_spool": str(spool)}
    )
    from hl_email.gateway import Gateway

    gateway = Gateway(config)
    await gateway.start()
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while list((spool / "new").iterdir()):
            assert asyncio.get_running_loop().time() < deadline, "spooled file not processed"
            await asyncio.sleep(0.05)
        assert any(
            r.message_id == "<spooled@corp.test>" or "spooled" in (r.message_id or "")
            for r in await gateway.store.list_inbound()
        )
        results = await lmtp_deliver(
            "127.0.0.1",
            port,
            "x@corp.test",
            ["someone@else.test", "agent+abc@example.test"],
            b"Subject: x\r\n\r\nbody\r\n",
        )
        codes = dict((rcpt, code) for rcpt, code, _ in results)
        assert codes == {"someone@else.test": 550, "agent+abc@example.test": 250}
    finally:
        await gateway.stop()
