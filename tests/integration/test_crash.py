"""Nothing is lost on a crash: `hl-email serve` killed with SIGKILL, then started again."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec

from hl_email.store import open_store

ALICE = "alice@corp.test"
AGENT = "agent@example.test"
KEY = "crash-test-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: Path, stack, port: int) -> Path:
    path.write_text(
        f"""
[agent]
address = "{AGENT}"
name = "Crash agent"
[smtp]
host = "{stack.host}"
port = {stack.smtp_port}
security = "none"
backoff_initial = 0.1
backoff_max = 0.3
max_attempts = 1000
[imap]
host = "{stack.host}"
port = {stack.imap_port}
username = "{AGENT}"
password = "{stack.password}"
security = "none"
[store]
url = "sqlite:///{path.parent / "crash.db"}"
[security]
secret = "crash-secret-0123456789-abcdefghijklmn"
[api]
host = "127.0.0.1"
port = {port}
api_keys = ["{KEY}"]
"""
    )
    return path


async def start_serve(config: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(  # noqa: ASYNC220 - a short, non-blocking spawn in a test
        [sys.executable, "-m", "hl_email.cli", "serve", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    async with httpx.AsyncClient() as http:
        for _ in range(1200):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError("hl-email serve did not come up")


async def wait_ask_recorded_sent(db: Path, call_id: str, timeout: float = 60) -> None:
    """Poll the gateway's own store (read from outside the process) until the ask is sent."""
    store = open_store(f"sqlite:///{db}")
    await store.open()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            request = await store.get_request(call_id=call_id)
            rows = await store.outbox_for_request(request.id) if request else []
            if any(r.purpose == "ask" and r.state == "sent" for r in rows):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the ask was never recorded as sent: {rows}")
            await asyncio.sleep(0.05)
    finally:
        await store.close()


def kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


async def test_sigkill_loses_no_request_and_no_reply(mail_stack, mail_client, tmp_path):
    port = free_port()
    config = write_config(tmp_path / "hl-email.toml", mail_stack, port)
    alice = mail_client(ALICE)
    base = f"http://127.0.0.1:{port}/humanlayer/v1"
    channel = ContactChannel(email=EmailContactChannel(address=ALICE))

    # 1. The SMTP server defers everything; the request is stored, then the gateway dies.
    mail_stack.smtp_faults.fail_next(10_000, code=451)
    proc = await start_serve(config, port)
    async with AsyncHumanLayer(api_base_url=base, api_key=KEY) as hl:
        call = await hl.create_function_call(
            FunctionCallSpec(fn="wire_money", kwargs={"eur": 900}, channel=channel)
        )
    for _ in range(1200):  # until the gateway has tried (and been deferred) at least once
        if mail_stack.smtp_faults.events:
            break
        await asyncio.sleep(0.05)
    assert mail_stack.smtp_faults.events, "the gateway never tried to send the ask"
    kill(proc)
    assert await mail_stack.fetch_all(ALICE) == []

    # 2. Mail flows again; after a restart the stored ask goes out, exactly once.
    mail_stack.smtp_faults.reset()
    proc = await start_serve(config, port)
    try:
        ask = await alice.wait_for_message(timeout=60)
        assert "wire_money" in ask.text()
        # 3. The gateway dies again, after it has recorded the ask as sent (a SIGKILL between
        # the SMTP server's 250 and that record re-sends the ask on restart: SMTP delivery is
        # at least once, see docs/postgres.md); Alice answers while it is down.
        await wait_ask_recorded_sent(tmp_path / "crash.db", call.call_id)
        kill(proc)
        await alice.reply(ask, "Approved.")
        await asyncio.sleep(0.3)
        proc = await start_serve(config, port)
        async with AsyncHumanLayer(api_base_url=base, api_key=KEY) as hl:
            completed = await hl.wait_for_approval(call.call_id, timeout=60)
        assert completed.call.status.approved is True
        asks = [m for m in await mail_stack.fetch_all(ALICE) if b"wire_money" in m[1]]
        assert len(asks) >= 1
        subjects = [
            line
            for uid, raw, _ in asks
            for line in raw.split(b"\r\n")
            if line.startswith(b"Subject:")
        ]
        assert sum(1 for s in subjects if not s.lower().startswith(b"subject: re:")) == 1
    finally:
        kill(proc)
