"""Every ```python block in README.md and docs/*.md runs as written.

Each block runs as its own `python -c` process in a fresh directory holding an `hl-email.toml`
wired to the real test mail stack (Dovecot + SMTP), with a "human" at each address the docs use
answering what arrives: approvals with "Approved", questions with a short answer. A block that
cannot run on its own is marked on the line before its fence with
`<!-- docs-test: skip (why) -->`; that list is kept tiny (see MAX_SKIPPED).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SKIP_MARKER = re.compile(r"<!--\s*docs-test:\s*skip\b[^>]*-->\s*$")
MAX_SKIPPED = 2
# The people the documented examples ask.
HUMANS = ("alice@corp.com",)
# What some blocks must print (file name, 0-based index of its python blocks) -> substrings.
EXPECTED = {
    ("README.md", 0): ["refunded 120 on A-17", "The Pro plan"],
    ("routing.md", 0): ["rule 'vip'"],
    ("routing.md", 1): ["asked vip-desk@example.com"],
}


@dataclass(frozen=True)
class Block:
    path: Path
    index: int
    line: int
    code: str
    skipped: bool

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def python_blocks() -> list[Block]:
    blocks: list[Block] = []
    for path in DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        index = 0
        i = 0
        while i < len(lines):
            fence = re.match(r"^(```+)\s*(python|py)\s*$", lines[i])
            if fence is None:
                i += 1
                continue
            start = i
            i += 1
            body: list[str] = []
            while i < len(lines) and lines[i].strip() != fence.group(1):
                body.append(lines[i])
                i += 1
            skipped = start > 0 and bool(SKIP_MARKER.search(lines[start - 1]))
            blocks.append(Block(path, index, start + 1, "\n".join(body) + "\n", skipped))
            index += 1
            i += 1
    return blocks


BLOCKS = python_blocks()


def test_the_docs_have_python_blocks_and_few_skips():
    assert len(BLOCKS) >= 3
    skipped = [b.id for b in BLOCKS if b.skipped]
    assert len(skipped) <= MAX_SKIPPED, f"too many docs blocks marked not runnable: {skipped}"


async def _human(mail_client, address: str, done: asyncio.Event) -> None:
    person = mail_client(address)
    while not done.is_set():
        try:
            received = await person.wait_for_message(timeout=1)
        except TimeoutError:
            continue
        if received.subject.startswith("Approval needed"):
            await person.reply(received, "Approved.")
        elif not received.subject.lower().startswith("re:"):
            await person.reply(received, "The Pro plan, please.")


@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.skipped], ids=lambda b: b.id)
async def test_docs_block_runs(block: Block, gateway_config, mail_client, tmp_path):
    cfg = gateway_config()
    (tmp_path / "hl-email.toml").write_text(
        f"""
[agent]
address = "{cfg.agent.address}"
name = "Refund agent"
[smtp]
host = "{cfg.smtp.host}"
port = {cfg.smtp.port}
username = "{cfg.smtp.username}"
password = "{cfg.smtp.password}"
security = "none"
[imap]
host = "{cfg.imap.host}"
port = {cfg.imap.port}
username = "{cfg.imap.username}"
password = "{cfg.imap.password}"
security = "none"
[store]
url = "sqlite:///hl-email.db"
[security]
secret = "docs-test-secret-0123456789-0123456789"
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HL_EMAIL_", "HUMANLAYER_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "sdk"), env.get("PYTHONPATH", "")])
    done = asyncio.Event()
    humans = [asyncio.create_task(_human(mail_client, a, done)) for a in HUMANS]
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            block.code,
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 120)
        except TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
            raise AssertionError(
                f"{block.id} did not finish:\n{out.decode()}\n{err.decode()}"
            ) from None
    finally:
        done.set()
        for task in humans:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    stdout, stderr = out.decode(), err.decode()
    assert proc.returncode == 0, f"{block.id} failed:\n{block.code}\n--- stderr:\n{stderr}"
    for needle in EXPECTED.get((block.path.name, block.index), []):
        assert needle in stdout, f"{block.id}: {needle!r} not in output:\n{stdout}"
