"""`hl-email requests …` against the sandbox's store (--dev) and a missing store (never created)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from hl_email.models import ContactChannel, EmailContactChannel, FunctionCall, FunctionCallSpec
from hl_email.sandbox import Sandbox, sandbox_store_path

ALICE = "alice@example.com"


def run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hl_email.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.fixture
async def sandbox(tmp_path):
    box = Sandbox(tmp_path / "dev", port=0)
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


async def wait_for_inbox(sandbox: Sandbox, address: str, count: int = 1) -> list:
    for _ in range(600):
        if address in sandbox.boxes() and len(sandbox.list_messages(address)) >= count:
            return sandbox.list_messages(address)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no email reached {address}")


async def test_requests_list_and_show_read_the_sandbox_store(sandbox, tmp_path):
    channel = ContactChannel(email=EmailContactChannel(address=ALICE))
    for n, amount in enumerate((120, 900)):
        await sandbox.gateway.create_function_call(
            FunctionCall(
                run_id="dev-run",
                call_id=f"dev-call-{n}-with-a-long-call-id",
                spec=FunctionCallSpec(
                    fn="issue_refund", kwargs={"amount": amount}, channel=channel
                ),
            )
        )
    await wait_for_inbox(sandbox, ALICE, 2)
    assert sandbox_store_path(tmp_path / "dev").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data_dir = str(tmp_path / "dev")
    listed = await asyncio.to_thread(
        run, "requests", "list", "--dev", "--data-dir", data_dir, cwd=str(elsewhere)
    )
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["CALL", "ID", "CREATED", "(UTC)", "STATE", "WHAT"]
    # Columns line up: every row's STATE starts where the header's does.
    col = lines[0].index("STATE")
    for line in lines[1:]:
        assert line[col:].startswith("pending"), line
        assert line[col - 2 : col] == "  ", line
    assert {"dev-call-0-with-a-long-call-id", "dev-call-1-with-a-long-call-id"} <= {
        line.split()[0] for line in lines[1:]
    }
    shown = await asyncio.to_thread(
        run, "requests", "--dev", "--data-dir", data_dir, "show", "dev-call-1-with-a-long-call-id"
    )
    assert shown.returncode == 0, shown.stderr
    assert "issue_refund(amount=900)" in shown.stdout
    assert "state:    pending" in shown.stdout
    assert ALICE in shown.stdout and "ask" in shown.stdout
    as_json = await asyncio.to_thread(
        run,
        "requests",
        "show",
        "dev-call-1-with-a-long-call-id",
        "--dev",
        "--data-dir",
        data_dir,
        "--json",
    )
    data = json.loads(as_json.stdout)
    assert data["spec"]["kwargs"] == {"amount": 900}
    assert [o["purpose"] for o in data["outbox"]] == ["ask"]
    assert not (elsewhere / "hl-email.db").exists()


def test_read_commands_never_create_a_store(tmp_path):
    listed = run("requests", "list", cwd=str(tmp_path))
    assert listed.returncode == 1
    assert "no store at" in listed.stderr and "hl-email.db" in listed.stderr
    assert "--dev" in listed.stderr
    shown = run("requests", "show", "x", "--dev", "--data-dir", str(tmp_path / "nope"))
    assert shown.returncode == 1
    assert "no sandbox store at" in shown.stderr
    assert str(tmp_path / "nope" / "hl-email.db") in shown.stderr
    assert list(tmp_path.iterdir()) == []


async def test_export_jsonl_and_purge_raw(sandbox, tmp_path):
    channel = ContactChannel(email=EmailContactChannel(address=ALICE))
    await sandbox.gateway.create_function_call(
        FunctionCall(
            run_id="dev-run",
            call_id="export-1",
            spec=FunctionCallSpec(fn="issue_refund", kwargs={"amount": 5}, channel=channel),
        )
    )
    (ask,) = await wait_for_inbox(sandbox, ALICE)
    _, outcome = await sandbox.send_reply(ALICE, ask.key, body="approve")
    assert outcome["outcome"] == "applied"
    data_dir = str(tmp_path / "dev")
    exported = await asyncio.to_thread(
        run, "requests", "export", "--jsonl", "--dev", "--data-dir", data_dir
    )
    assert exported.returncode == 0, exported.stderr
    (line,) = exported.stdout.splitlines()
    record = json.loads(line)
    assert record["call_id"] == "export-1" and record["status"]["approved"] is True
    assert [r["outcome"] for r in record["replies"]] == ["applied"]
    assert record["replies"][0]["raw_kept"] is True
    assert {e["purpose"] for e in record["emails"]} >= {"ask"}

    toml = tmp_path / "retention.toml"
    toml.write_text(
        f'[store]\nurl = "sqlite:///{sandbox_store_path(data_dir)}"\nkeep_raw_mail = 0.001\n',
        encoding="utf-8",
    )
    purged = await asyncio.to_thread(run, "requests", "purge-raw", "--config", str(toml))
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.startswith("purged 1 raw replies")
    (row,) = await sandbox.gateway.store.list_inbound()
    assert row.raw is None and row.outcome == "applied"


async def test_cancel_dev_uses_the_sandboxs_own_api_key(sandbox, tmp_path):
    await sandbox.start_http()
    channel = ContactChannel(email=EmailContactChannel(address=ALICE))
    await sandbox.gateway.create_function_call(
        FunctionCall(
            run_id="dev-run",
            call_id="dev-cancel-1",
            spec=FunctionCallSpec(fn="issue_refund", kwargs={"amount": 5}, channel=channel),
        )
    )
    await wait_for_inbox(sandbox, ALICE)
    result = await asyncio.to_thread(
        run,
        "requests",
        "cancel",
        "dev-cancel-1",
        "--dev",
        "--data-dir",
        str(tmp_path / "dev"),
        "--api-url",
        sandbox.api_base_url,
    )
    assert result.returncode == 0, result.stderr
    assert "through the gateway" in result.stdout
    messages = await wait_for_inbox(sandbox, ALICE, 2)
    assert len(messages) == 2  # the ask and "no longer needed", sent by the running sandbox
    row = await sandbox.gateway.store.get_request(call_id="dev-cancel-1")
    assert row.status["cancelled"] is True
