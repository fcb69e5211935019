"""A restart during the first catch-up of a mailbox replays nothing: the floor checkpoint is
stored before the first message is processed, so mail that was already read when the gateway
first looked is never handed on, and the unread mail the first run had not reached still is.
Real Dovecot; SQLite and PostgreSQL stores."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from email.message import EmailMessage

import pytest

from hl_email.config import ImapConfig
from hl_email.inbound.imap import ImapWatcher
from hl_email.store import SqliteStore, open_store

PG_URL = os.environ.get("HL_EMAIL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
AGENT = "agent@example.test"


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request, tmp_path):
    if request.param == "sqlite":
        s = SqliteStore(tmp_path / "catchup.db")
        await s.open()
        yield s
        await s.close()
        return
    asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed")
    try:
        admin = await asyncpg.connect(PG_URL, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL is unreachable at {PG_URL}: {exc!r}")
    schema = f"hl_it_{uuid.uuid4().hex[:16]}"
    sep = "&" if "?" in PG_URL else "?"
    s = open_store(f"{PG_URL}{sep}schema={schema}&pool_max=4")
    try:
        await s.open()
        yield s
    finally:
        await s.close()
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


def _message(n: int, label: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "someone@corp.test"
    msg["To"] = AGENT
    msg["Subject"] = f"{label} {n}"
    msg["Message-ID"] = f"<{label}-{n}-{uuid.uuid4().hex[:8]}@corp.test>"
    msg.set_content(f"{label} message {n}")
    return msg.as_bytes()


def _label(raw: bytes) -> str:
    for line in raw.split(b"\n"):
        if line.startswith(b"Subject:"):
            return line[8:].strip().decode()
    return "?"


async def test_restart_during_first_catch_up_replays_nothing(mail_stack, store):
    # Read and unread mail interleaved: a checkpoint that follows the unread UIDs alone would
    # fall below the read ones, and a restart would hand them on as new.
    for n in range(4):
        await mail_stack.deliver(_message(n, "unread"), AGENT)
        await mail_stack.deliver(_message(n, "read"), AGENT)

    def mark_read() -> None:
        conn = mail_stack.imap_login(AGENT)
        try:
            conn.select("INBOX")
            typ, data = conn.uid("SEARCH", None, "ALL")
            for uid in data[0].split():
                typ, fetched = conn.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                if b"read" in fetched[0][1] and b"unread" not in fetched[0][1]:
                    conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        finally:
            conn.logout()

    await asyncio.to_thread(mark_read)
    config = ImapConfig(
        host=mail_stack.host,
        port=mail_stack.imap_port,
        username=AGENT,
        password=mail_stack.password,
        security="none",
        reconnect_initial=0.05,
        reconnect_max=0.5,
    )

    first: list[str] = []
    stuck = asyncio.Event()

    async def crash_after_two(raw: bytes) -> None:
        first.append(_label(raw))
        if len(first) == 3:
            stuck.set()
            await asyncio.Event().wait()  # the process dies while handling the third message

    watcher = ImapWatcher(config, store, crash_after_two)
    task = asyncio.create_task(watcher.run())
    await asyncio.wait_for(stuck.wait(), 30)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert first == ["unread 0", "unread 1", "unread 2"]

    # A new message arrives while the gateway is down; then it restarts.
    await mail_stack.deliver(_message(9, "new"), AGENT)
    second: list[str] = []
    done = asyncio.Event()

    async def record(raw: bytes) -> None:
        second.append(_label(raw))
        if "new 9" in second:
            done.set()

    watcher = ImapWatcher(config, store, record)
    task = asyncio.create_task(watcher.run())
    try:
        # UIDs are handled in order and the new message has the highest: anything replayed
        # would have come before it.
        await asyncio.wait_for(done.wait(), 30)
        for _ in range(400):  # the pass ends by closing the first catch-up
            checkpoint = await store.get_checkpoint(watcher.mailbox_key)
            if checkpoint is not None and checkpoint.catchup_floor == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # The third message was being handled at the crash, so it comes again (inbound mail is
    # de-duplicated by Message-ID); no read message ever comes.
    assert second == ["unread 2", "unread 3", "new 9"]
    assert checkpoint is not None and checkpoint.catchup_floor == 0
