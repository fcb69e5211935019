"""The watcher notices a broken IMAP link (implicit TLS, through a TCP proxy that cuts or freezes
the connection) and the reply sent meanwhile is still applied. Recovery times are printed, never
asserted (no timing thresholds in tests)."""

from __future__ import annotations

import asyncio
import time

import pytest
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel
from mailclient import MailClient
from tcpproxy import start_proxy

ALICE = "alice@corp.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))


async def _until(predicate, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("fault", ["cut", "freeze"])
async def test_reply_is_applied_after_the_imap_link_breaks(tls_stack, tls_gateway_config, fault):
    proxy = await start_proxy(tls_stack.host, tls_stack.imaps_port)
    config = tls_gateway_config(
        "starttls",
        "tls",
        imap={"port": proxy.port, "heartbeat": 1.0, "timeout": 3.0},
    )
    alice = MailClient(tls_stack, ALICE)
    try:
        async with AsyncHumanLayer.local(config=config, run_id="link") as hl:
            gateway = hl._local_gateway()  # noqa: SLF001
            watcher = gateway.watcher

            async def refund(order: str) -> str:
                return f"refunded {order}"

            call = asyncio.create_task(
                hl.require_approval(contact_channel=CHANNEL)(refund)(order="L-1")
            )
            ask = await alice.wait_for_message(timeout=30)

            def idling() -> bool:
                client = watcher._client  # noqa: SLF001
                return watcher.connected and client is not None and client.has_pending_idle()

            await _until(idling, 20, "the watcher to IDLE")
            before = proxy.connections
            broken_at = time.monotonic()
            assert (proxy.cut() if fault == "cut" else proxy.freeze()) >= 1
            await alice.reply(ask, "Approved.", style="gmail")
            assert await asyncio.wait_for(call, 60) == "refunded L-1"
            resolved = time.monotonic() - broken_at
            assert proxy.connections > before  # it reconnected, and found the reply
            print(
                f"\nIMAP link {fault}: reply applied {resolved * 1000:.0f} ms after the break "
                f"(heartbeat 1 s, reply bound 3 s)"
            )
    finally:
        await proxy.close()
