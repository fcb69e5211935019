"""Push latency from Dovecot itself (docs/deploy.md): with `imap_hibernate_timeout = 1s` a
hibernated IDLE connection is resumed on new mail without IDLE's 500 ms notify delay. The reply
is applied; the delivered → resolved time is printed, never asserted."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from conftest import tls_sections
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec
from mailclient import MailClient

from hl_email.config import load_config

AGENT = "agent@example.test"
ALICE = "alice@corp.test"


def _hibernating(stack) -> bool:
    """Whether Dovecot has started its imap-hibernate service (it does for a first client)."""
    assert stack._proc is not None  # noqa: SLF001
    group = os.getpgid(stack._proc.pid)  # noqa: SLF001
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != group:
                continue
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ProcessLookupError):
            continue
        if b"imap-hibernate" in cmdline:
            return True
    return False


async def test_reply_to_a_hibernated_idle_connection(tmp_path: Path):
    from tlsstack import postfix_binary, start_tls_stack

    if postfix_binary() is None or os.geteuid() != 0:
        pytest.skip("needs postfix and root (as .ci/run provides)")
    stack = await start_tls_stack(hibernate=True)
    try:
        sections = tls_sections(
            stack,
            "starttls",
            "starttls",
            imap={"security": "none", "port": stack.imap_port, "ca_file": ""},
            store={"url": f"sqlite:///{tmp_path / 'hl.db'}"},
            replies={"send_confirmations": False},
        )
        alice = MailClient(stack, ALICE)
        channel = ContactChannel(email=EmailContactChannel(address=ALICE))
        async with AsyncHumanLayer.local(config=load_config(None, **sections)) as hl:
            call = await hl.create_function_call(
                FunctionCallSpec(fn="refund", kwargs={}, channel=channel)
            )
            ask = await alice.wait_for_message(timeout=30)
            reply = bytes(alice.build_reply(ask, "Approved.", style="gmail"))
            deadline = time.monotonic() + 20
            while not _hibernating(stack):  # the watcher's IDLE connection went to sleep
                assert time.monotonic() < deadline, stack.log()[-2000:]
                await asyncio.sleep(0.1)
            t0 = time.perf_counter()
            await stack.deliver(reply, [AGENT], mail_from=ALICE)
            done = await hl.wait_for_approval(call.call_id, timeout=30)
            elapsed = time.perf_counter() - t0
        assert done.call.status.approved is True
        print(f"\nhibernated IDLE: delivered → resolved {elapsed * 1000:.0f} ms")
    finally:
        await stack.stop()
