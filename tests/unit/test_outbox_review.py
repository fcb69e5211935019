"""Review of the pipelined outbox: a retry recorded while other rows are in flight, a store
error while a pause gives rows back, and a row offered while a claim that reads it is running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from hl_email.config import SmtpConfig
from hl_email.outbound.outbox import OutboxWorker, PausingDeliveryError, TransientDeliveryError
from hl_email.store.base import OutboxRow, RecipientRow, RequestRow
from hl_email.store.sqlite import SqliteStore

WAIT = 10.0


def _request(i: int) -> RequestRow:
    return RequestRow(
        id=f"r{i}", call_id=f"c{i}", run_id="run", kind="function_call", spec={}, status={}
    )


def _row(i: int) -> OutboxRow:
    return OutboxRow(f"r{i}", 0, "ask", "a@x.test", [f"u{i}@x.test"], b"msg %d" % i)


async def _add(store: SqliteStore, i: int) -> OutboxRow:
    row = _row(i)
    await store.create_request(_request(i), [RecipientRow(f"r{i}", 0, f"u{i}@x.test")], [row])
    return row


async def _no_failure(row: OutboxRow, reason: str) -> None:
    raise AssertionError(f"no permanent failure expected: {reason}")


async def _until(check: Callable[[], bool], wait: float = WAIT) -> None:
    deadline = asyncio.get_running_loop().time() + wait
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the outbox")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def _running(
    store: SqliteStore,
    send: Callable[[str, list[str], bytes], Awaitable[None]],
    config: SmtpConfig | None = None,
) -> AsyncIterator[tuple[OutboxWorker, asyncio.Task[None]]]:
    worker = OutboxWorker(store, send, config or SmtpConfig(), on_permanent_failure=_no_failure)
    task = asyncio.create_task(worker.run())
    try:
        yield worker, task
    finally:
        worker.stopping = True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.flush()


def test_a_retry_coming_due_while_another_row_is_in_flight_is_sent_in_its_time(
    tmp_path: Path,
) -> None:
    """msg 1 fails once (backoff 50 ms) while msg 0 hangs on a slow server: its retry must not
    wait until msg 0 is done (the claim loop computed its sleep while msg 1 was in flight)."""

    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        release = asyncio.Event()
        failed_once = False
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            nonlocal failed_once
            if message == b"msg 0":
                await asyncio.wait_for(release.wait(), WAIT)
            if message == b"msg 1" and not failed_once:
                failed_once = True
                raise TransientDeliveryError("451 try later")
            sent.append(message)

        config = SmtpConfig(backoff_initial=0.05, backoff_max=0.05)
        await _add(store, 0)
        async with _running(store, send, config) as (worker, _task):
            await _until(lambda: worker.in_flight == 1)
            await _add(store, 1)
            worker.wake()
            await _until(lambda: failed_once)
            try:
                # The retry is due 25-50 ms later; msg 0 is still being sent.
                await _until(lambda: sent == [b"msg 1"], wait=3.0)
            finally:
                release.set()
            await _until(lambda: worker.in_flight == 0)
        assert sorted(sent) == [b"msg 0", b"msg 1"]
        await store.close()

    asyncio.run(run())


def test_a_store_error_giving_rows_back_at_a_pause_does_not_stop_the_worker(
    tmp_path: Path,
) -> None:
    """The pause gives the claimed rows back (outbox_retry); the store fails that once. The
    worker must go on (log, resume later), not end: no email would be sent until a restart."""

    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        broken = True
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            if broken:
                raise PausingDeliveryError("SMTP login refused: 535", fix="smtp.password")
            sent.append(message)

        retry = store.outbox_retry
        errors = 0

        async def flaky_retry(*args: object, **kwargs: object) -> None:
            nonlocal errors
            if errors == 0:
                errors += 1
                raise RuntimeError("database is locked")
            await retry(*args, **kwargs)  # type: ignore[arg-type]

        store.outbox_retry = flaky_retry  # type: ignore[method-assign]
        await _add(store, 0)
        async with _running(store, send) as (worker, task):
            await _until(lambda: errors == 1 and worker.in_flight == 0)
            await asyncio.sleep(0.05)
            assert not task.done(), f"the outbox worker ended: {task.exception()!r}"
            broken = False
            worker.resume()
            await _until(lambda: sent == [b"msg 0"] and worker.in_flight == 0, wait=3.0)
        (row,) = await store.outbox_for_request("r0")
        assert row.state == "sent"
        await store.close()

    asyncio.run(run())


def test_a_row_offered_while_a_claim_that_reads_it_runs_is_sent_once(tmp_path: Path) -> None:
    """SQLite: the claim's read runs on the store's thread while the gateway stores a new ask and
    offers it (put in flight, sent, marked sent). The claim's result, which still has the row as
    pending, reaches the worker a loop turn later: the row must not be sent a second time."""

    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        claim = store.claim_outbox
        hold = asyncio.Event()
        holding = asyncio.Event()
        held = False

        async def late_claim(*args: object, **kwargs: object) -> list[OutboxRow]:
            nonlocal held
            rows = await claim(*args, **kwargs)  # type: ignore[arg-type]
            if rows and not held:
                held = True
                holding.set()
                await asyncio.wait_for(hold.wait(), WAIT)  # the hop back from the thread
            return rows

        store.claim_outbox = late_claim  # type: ignore[method-assign]
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            sent.append(message)

        async with _running(store, send) as (worker, _task):
            await asyncio.sleep(0.05)  # idle: nothing to send
            row = await _add(store, 7)  # committed; the claim below reads it ...
            worker.wake()
            await asyncio.wait_for(holding.wait(), WAIT)
            worker.offer([row])  # ... and create() offers it meanwhile
            await _until(lambda: sent == [b"msg 7"] and worker.in_flight == 0)
            (stored,) = await store.outbox_for_request("r7")
            assert stored.state == "sent"
            hold.set()  # the claim's result arrives
            await asyncio.sleep(0.2)
            await _until(lambda: worker.in_flight == 0)
        assert sent == [b"msg 7"], "sent twice"
        (stored,) = await store.outbox_for_request("r7")
        assert stored.state == "sent" and stored.attempts == 1
        await store.close()

    asyncio.run(run())


def test_rows_waiting_for_room_are_not_overtaken_by_offered_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In flight is full and stored rows wait for room (a backlog, retries, confirmations):
    new asks offered meanwhile must queue behind them, not take every slot that frees (the
    stored rows would wait as long as requests come faster than the server takes them)."""
    from hl_email.outbound import outbox

    monkeypatch.setattr(outbox, "MAX_IN_FLIGHT", 8)
    monkeypatch.setattr(outbox, "CLAIM_BATCH", 4)

    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        backlog = [b"msg %d" % i for i in range(20)]
        for i in range(20):
            await _add(store, i)
        sent: list[bytes] = []
        pool = asyncio.Semaphore(2)  # an SmtpPool of 2 connections

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            async with pool:
                await asyncio.sleep(0.02)  # ~100 emails/s
                sent.append(message)

        async with _running(store, send) as (worker, _task):
            await _until(lambda: worker.in_flight == 8)
            for i in range(100, 180):  # new asks, faster than the server takes them
                worker.offer([await _add(store, i)])
                await asyncio.sleep(0.004)
            await _until(lambda: len(sent) == 100 and worker.in_flight == 0)
        last_backlog = max(sent.index(m) for m in backlog)
        assert last_backlog < 30, f"the stored rows waited behind {last_backlog - 19} new ones"
        await store.close()

    asyncio.run(run())


def test_one_recipient_deferred_while_others_are_delivered_backs_off(tmp_path: Path) -> None:
    """One recipient's server defers (451 greylisting, 452 mailbox full) while the other
    emails are accepted: the other emails' success must not count as "SMTP is back" after each
    of its failures, retrying it at once again and again instead of after its backoff."""

    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        tries = 0
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            nonlocal tries
            await asyncio.sleep(0.005)
            if message == b"msg 0":
                tries += 1
                # what classify() makes of aiosmtplib's SMTPRecipientsRefused with a 451
                raise TransientDeliveryError(
                    "recipient deferred: u0@x.test: 451 greylisted, try again later", code=451
                )
            sent.append(message)

        config = SmtpConfig(backoff_initial=5.0)
        await _add(store, 0)
        async with _running(store, send, config) as (worker, _task):
            for i in range(1, 60):  # a steady stream of other requests
                worker.offer([await _add(store, i)])
                await asyncio.sleep(0.01)
            await _until(lambda: len(sent) == 59)
        assert tries <= 2, f"the deferred row was tried {tries} times in under a second"
        await store.close()

    asyncio.run(run())


def test_only_a_server_down_counts_as_an_outage() -> None:
    import aiosmtplib

    from hl_email.outbound.smtp import classify

    down = [
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
        aiosmtplib.SMTPServerDisconnected("gone"),
        aiosmtplib.SMTPResponseException(421, "service not available"),
    ]
    deferred = [
        aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(451, "greylisted", "u@x.test")]
        ),
        aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(452, "mailbox full", "u@x.test")]
        ),
        aiosmtplib.SMTPDataError(451, "try again later"),
    ]
    assert all(classify(e).outage for e in down), [str(classify(e)) for e in down]
    assert not any(classify(e).outage for e in deferred), [str(classify(e)) for e in deferred]
    assert not classify(aiosmtplib.SMTPDataError(554, "rejected")).outage  # permanent
