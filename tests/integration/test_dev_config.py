"""`hl-email dev --config FILE`: the file's routes, default route, quorum and language shape the
sandbox's requests; the sandbox's own mail settings replace the file's."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from hl_email.sandbox import DEFAULT_PERSON, Sandbox

humanlayer = pytest.importorskip("humanlayer", reason="humanlayer==0.7.9 is not installed")

CONFIG = """
[agent]
address = "ops-agent@corp.test"
name = "Ops agent"
[smtp]
host = "smtp.unreachable.invalid"   # replaced by the sandbox's SMTP capture
port = 25
[imap]
host = "imap.unreachable.invalid"
[store]
url = "sqlite:///somewhere-else.db"  # replaced by the sandbox's store

[[routes]]
name = "big-wires"
fn = "wire_money"
when = ["usd >= 1000"]
to = ["cfo@corp.test", "ceo@corp.test"]
policy = "quorum"
quorum = 2
reminders = ["1h"]
language = "de"

[default_route]
name = "on-call"
to = ["oncall@corp.test"]
"""


async def wait_for_inbox(sandbox: Sandbox, address: str, count: int = 1) -> list:
    for _ in range(600):
        if address in sandbox.boxes() and len(sandbox.list_messages(address)) >= count:
            return sandbox.list_messages(address)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no email reached {address}")


@pytest.fixture
async def configured(tmp_path):
    path = tmp_path / "hl-email.toml"
    path.write_text(CONFIG, encoding="utf-8")
    box = Sandbox(tmp_path / "dev", port=0, config=path)
    await box.start()
    await box.start_http()
    try:
        yield box
    finally:
        await box.stop()


async def test_official_sdk_without_channel_uses_the_files_default_route(configured):
    sandbox = configured
    assert sandbox.config.smtp.host == "127.0.0.1" and not sandbox.config.imap.enabled
    assert sandbox.config.store.url.endswith("/dev/hl-email.db")
    assert sandbox.agent_address == "ops-agent@corp.test"
    hl = humanlayer.HumanLayer(
        api_key=sandbox.api_key,
        api_base_url=sandbox.api_base_url,
        sleep=lambda _s: time.sleep(0.05),
    )

    @hl.require_approval()
    def restart_service(name: str) -> str:
        return f"restarted {name}"

    task = asyncio.create_task(asyncio.to_thread(restart_service, name="billing"))
    (ask,) = await wait_for_inbox(sandbox, "oncall@corp.test")
    _, outcome = await sandbox.send_reply("oncall@corp.test", ask.key, body="Approved")
    assert outcome is not None and outcome["outcome"] == "applied"
    assert await asyncio.wait_for(task, 30) == "restarted billing"


async def test_routes_quorum_and_language_from_the_file(configured):
    sandbox = configured
    hl = humanlayer.HumanLayer(
        api_key=sandbox.api_key,
        api_base_url=sandbox.api_base_url,
        sleep=lambda _s: time.sleep(0.05),
    )

    @hl.require_approval()
    def wire_money(usd: int) -> str:
        return "wired"

    task = asyncio.create_task(asyncio.to_thread(wire_money, usd=5000))
    (cfo_ask,) = await wait_for_inbox(sandbox, "cfo@corp.test")
    (ceo_ask,) = await wait_for_inbox(sandbox, "ceo@corp.test")
    raw = sandbox.read("cfo@corp.test", cfo_ask.key)[1].decode("utf-8", "replace")
    assert "Freigabe" in raw or "Genehmigung" in raw  # the route's language
    rows = await sandbox.gateway.store.list_requests()
    assert rows[0].route["rule"] == "big-wires" and rows[0].route["quorum"] == 2
    _, first = await sandbox.send_reply("cfo@corp.test", cfo_ask.key, body="Approved")
    assert first["outcome"] == "vote_recorded"
    assert not task.done()
    _, second = await sandbox.send_reply("ceo@corp.test", ceo_ask.key, body="Approved")
    assert second["outcome"] == "applied"
    assert await asyncio.wait_for(task, 30) == "wired"


async def test_without_config_a_call_without_channel_asks_the_sandbox_person(tmp_path):
    sandbox = Sandbox(tmp_path / "dev", port=0)
    await sandbox.start()
    await sandbox.start_http()
    try:
        hl = humanlayer.HumanLayer(
            api_key=sandbox.api_key,
            api_base_url=sandbox.api_base_url,
            sleep=lambda _s: time.sleep(0.05),
        )
        tool = hl.human_as_tool()
        task = asyncio.create_task(asyncio.to_thread(tool, "Which region?"))
        (ask,) = await wait_for_inbox(sandbox, DEFAULT_PERSON)
        await sandbox.send_reply(DEFAULT_PERSON, ask.key, body="eu-west-1")
        assert await asyncio.wait_for(task, 30) == "eu-west-1"
    finally:
        await sandbox.stop()


def test_dev_with_a_bad_config_file_exits_with_its_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[routes]]\nname = "x"\nto = []\n', encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hl_email.cli",
            "dev",
            "--port",
            "0",
            "--config",
            str(path),
            "--data-dir",
            str(tmp_path / "dev"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "routes.0" in result.stdout + result.stderr


def test_dev_with_a_config_the_gateway_refuses_exits_1_naming_it(tmp_path):
    path = tmp_path / "weak.toml"
    path.write_text('[security]\nsecret = "short"\n', encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hl_email.cli",
            "dev",
            "--port",
            "0",
            "--config",
            str(path),
            "--data-dir",
            str(tmp_path / "dev"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot start the sandbox" in result.stdout
    assert "security.secret" in result.stdout
