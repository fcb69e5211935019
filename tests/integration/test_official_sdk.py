"""The official HumanLayer 0.7.9 SDKs, unchanged, against hl-email's API over the real mail stack.

Python: `humanlayer==0.7.9` from PyPI. Node: `@humanlayer/sdk@0.7.9` from npm (tests/node,
installed by .ci/run). Both poll every 3 s; one test per SDK keeps that, the others shorten the
SDK's own `sleep` option (a documented constructor field, not a patch of the package).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from hl_email.api import API_PREFIX, ApiServer
from hl_email.gateway import Gateway

humanlayer = pytest.importorskip(
    "humanlayer",
    reason="humanlayer==0.7.9 is not installed (pip install humanlayer==0.7.9; .ci/run does)",
)

ALICE = "alice@corp.test"
KEY = "official-sdk-key"
NODE_DIR = Path(__file__).resolve().parents[1] / "node"


def containing(needle: str):
    def match(msg) -> bool:
        part = msg.get_body(preferencelist=("plain", "html"))
        return part is not None and needle in part.get_content()

    return match


@pytest.fixture
async def served(gateway_config):
    cfg = gateway_config(api={"host": "127.0.0.1", "port": 0, "api_keys": [KEY]})
    gateway = Gateway(cfg)
    await gateway.start()
    server = ApiServer(gateway, cfg)
    await server.start()
    try:
        yield gateway, server.base_url + API_PREFIX
    finally:
        await server.stop()
        await gateway.stop()


def official_channel():
    return humanlayer.ContactChannel(email=humanlayer.EmailContactChannel(address=ALICE))


async def test_official_python_require_approval_unchanged(served, mail_client, monkeypatch):
    """Migration as documented: two environment variables, nothing else changes."""
    gateway, base = served
    monkeypatch.setenv("HUMANLAYER_API_BASE", base)
    monkeypatch.setenv("HUMANLAYER_API_KEY", KEY)
    alice = mail_client(ALICE)
    hl = humanlayer.HumanLayer(run_id="official-agent", contact_channel=official_channel())
    assert hl.sleep is time.sleep  # the SDK's own 3 s polling, untouched
    ran: list[str] = []

    @hl.require_approval()
    def send_refund(order: str, amount: int) -> str:
        ran.append(order)
        return f"refunded {amount} on {order}"

    task = asyncio.create_task(asyncio.to_thread(send_refund, order="P-1", amount=77))
    ask = await alice.wait_for_message()
    assert "send_refund" in ask.text() and "P-1" in ask.text()
    await alice.reply(ask, "Approved.", style="gmail")
    assert await asyncio.wait_for(task, 60) == "refunded 77 on P-1"
    assert ran == ["P-1"]
    row = (await gateway.store.list_requests())[0]
    assert row.run_id == "official-agent" and row.state == "done"
    assert row.status["approved"] is True


async def test_official_python_reject_and_human_as_tool(served, mail_client):
    gateway, base = served
    alice = mail_client(ALICE)
    hl = humanlayer.HumanLayer(
        api_key=KEY,
        api_base_url=base,
        contact_channel=official_channel(),
        sleep=lambda _s: time.sleep(0.05),
    )
    ran: list[int] = []

    @hl.require_approval()
    def wire_money(usd: int) -> str:
        ran.append(usd)
        return "wired"

    task = asyncio.create_task(asyncio.to_thread(wire_money, usd=9000))
    ask = await alice.wait_for_message()
    await alice.reply(ask, "Reject - that is far too much, talk to finance first", style="outlook")
    result = await asyncio.wait_for(task, 60)
    assert (
        result == "User denied wire_money with message: that is far too much, talk to finance first"
    )
    assert ran == []

    tool = hl.human_as_tool()
    assert tool.__name__ == "contact_human_via_email_alice_corp_test"
    task = asyncio.create_task(asyncio.to_thread(tool, "Which warehouse ships order P-2?"))
    ask = await alice.wait_for_message(containing("Which warehouse"))
    await alice.reply(ask, "Rotterdam, it has stock.", style="apple")
    assert await asyncio.wait_for(task, 60) == "Rotterdam, it has stock."


async def test_official_python_async_client_with_reject_options(served, mail_client):
    gateway, base = served
    alice = mail_client(ALICE)

    async def fast_sleep(_s):
        await asyncio.sleep(0.05)

    hl = humanlayer.AsyncHumanLayer(
        api_key=KEY, api_base_url=base, contact_channel=official_channel(), sleep=fast_sleep
    )
    options = [
        humanlayer.ResponseOption(name="wrong_customer", title="Wrong customer"),
        humanlayer.ResponseOption(name="too_high", title="Amount too high"),
    ]

    @hl.require_approval(reject_options=options)
    async def send_refund(amount: int) -> str:
        return "sent"

    task = asyncio.create_task(send_refund(amount=5000))
    ask = await alice.wait_for_message()
    assert "Amount too high" in ask.text()
    await alice.reply(ask, "2", style="plain")
    result = await asyncio.wait_for(task, 60)
    assert result.startswith("User denied send_refund with message: ")
    row = (await gateway.store.list_requests())[0]
    assert row.status["reject_option_name"] == "too_high"


def _node_ready() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    if not (NODE_DIR / "node_modules" / "@humanlayer" / "sdk").exists():
        npm = shutil.which("npm")
        assert npm, "node is installed but npm is not; cannot install tests/node"
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
        )
    return node


async def test_official_node_sdk(served, mail_client):
    node = _node_ready()
    if node is None:
        pytest.skip("node is not installed: the @humanlayer/sdk test needs Node.js >= 18")
    gateway, base = served
    alice = mail_client(ALICE)
    env = {
        **os.environ,
        "HUMANLAYER_API_BASE": base,
        "HUMANLAYER_API_KEY": KEY,
        "HL_TEST_ADDRESS": ALICE,
    }
    proc = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "official_sdk.cjs"),
        cwd=NODE_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )

    async def next_result() -> tuple[str, object]:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            err = (await proc.stderr.read()).decode()
            raise AssertionError(f"node exited early: {err}")
        data = json.loads(line)
        return data["step"], data["result"]

    try:
        ask = await alice.wait_for_message(containing("N-1"))
        assert "send_refund" in ask.text()
        await alice.reply(ask, "approve", style="gmail")
        step, result = await next_result()
        assert (step, result) == ("approve", "refunded 42 on N-1")

        ask = await alice.wait_for_message(containing("9000"))
        await alice.reply(ask, "No. Not without a second signature.", style="outlook")
        step, result = await next_result()
        assert step == "reject"
        assert (
            result
            == "User denied function wire_money with comment: Not without a second signature."
        )

        ask = await alice.wait_for_message(containing("which region"))
        await alice.reply(ask, "eu-west-1 please", style="gmail")
        step, result = await next_result()
        assert (step, result) == ("question", "eu-west-1 please")

        step, result = await next_result()
        assert step == "store"
        assert result["got"] == result["created"] == result["escalated"]
        assert result["fn"] == "noop"
        assert await asyncio.wait_for(proc.wait(), 60) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    rows = {r.call_id: r for r in await gateway.store.list_requests()}
    assert {r.run_id for r in rows.values()} == {"node-agent"}
    kinds = sorted(r.kind for r in rows.values())
    assert kinds == ["function_call", "function_call", "function_call", "human_contact"]
