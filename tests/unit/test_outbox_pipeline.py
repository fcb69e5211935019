"""Outbox worker pipelining: rows added while others are being sent are claimed and sent at
once (a slow send never holds a new request back), a row in flight is never claimed twice, and
a thread's later row waits behind its earlier one however the claims fall."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from hl_email.config import SmtpConfig
from hl_email.outbound.outbox import (
    OutboxWorker,
    PausingDeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from hl_email.store.base import OutboxRow, RecipientRow, RequestRow
from hl_email.store.sqlite import SqliteStore

WAIT = 10.0  # bound on every wait for a condition (never reached when the worker works)


def _request(i: int) -> RequestRow:
    return RequestRow(
        id=f"r{i}", call_id=f"c{i}", run_id="run", kind="function_call", spec={}, status={}
    )


async def _add(store: SqliteStore, i: int, body: bytes | None = None) -> None:
    row = OutboxRow(f"r{i}", 0, "ask", "a@x.test", [f"u{i}@x.test"], body or b"msg %d" % i)
    await store.create_request(_request(i), [RecipientRow(f"r{i}", 0, f"u{i}@x.test")], [row])


async def _no_failure(row: OutboxRow, reason: str) -> None:
    raise AssertionError(f"no permanent failure expected: {reason}")


async def _until(check: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the outbox")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def _running(
    store: SqliteStore,
    send: Callable[[str, list[str], bytes], Awaitable[None]],
    on_failure: Callable[[OutboxRow, str], Awaitable[None]] | None = None,
) -> AsyncIterator[OutboxWorker]:
    worker = OutboxWorker(store, send, SmtpConfig(), on_permanent_failure=on_failure or _no_failure)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stopping = True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.flush()


def test_a_row_added_during_a_slow_send_is_sent_before_that_send_ends(tmp_path: Path) -> None:
    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        release = asyncio.Event()
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            if message == b"msg 0":
                await asyncio.wait_for(release.wait(), WAIT)  # a server slow on this one
            sent.append(message)

        await _add(store, 0)
        async with _running(store, send) as worker:
            await _until(lambda: worker.in_flight == 1)
            for i in (1, 2, 3):
                await _add(store, i)
                worker.wake()
            await _until(lambda: len(sent) == 3)
            assert sent == [b"msg 1", b"msg 2", b"msg 3"]  # msg 0 is still being sent
            # Woken again and again while msg 0 is in flight: it is never claimed twice.
            for _ in range(5):
                worker.wake()
                await asyncio.sleep(0.01)
            release.set()
            await _until(lambda: worker.in_flight == 0)
        assert sorted(sent) == [b"msg 0", b"msg 1", b"msg 2", b"msg 3"]
        assert await store.due_outbox(1e12) == []
        for i in range(4):
            (row,) = await store.outbox_for_request(f"r{i}")
            assert row.state == "sent" and row.attempts == 1
        await store.close()

    asyncio.run(run())


def test_a_later_row_of_a_thread_in_flight_waits_behind_it(tmp_path: Path) -> None:
    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        release = asyncio.Event()
        order: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            if message == b"msg 0":
                await asyncio.wait_for(release.wait(), WAIT)
            order.append(message)

        await _add(store, 0)
        async with _running(store, send) as worker:
            await _until(lambda: worker.in_flight == 1)
            # The confirmation in r0's thread, claimed while the ask is still being sent.
            await store.commit(
                outbox=[OutboxRow("r0", 0, "confirm", "a@x.test", ["u0@x.test"], b"r0 second")]
            )
            await _add(store, 1)
            worker.wake()
            await _until(lambda: order == [b"msg 1"] and worker.in_flight == 2)
            release.set()
            await _until(lambda: worker.in_flight == 0)
        assert order == [b"msg 1", b"msg 0", b"r0 second"]
        await store.close()

    asyncio.run(run())


def test_rows_failing_while_others_are_in_flight_are_retried_not_lost(tmp_path: Path) -> None:
    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        release = asyncio.Event()
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            if message == b"msg 0":
                await asyncio.wait_for(release.wait(), WAIT)
            if message == b"msg 1":
                raise TransientDeliveryError("451 try later")
            sent.append(message)

        await _add(store, 0)
        async with _running(store, send) as worker:
            await _until(lambda: worker.in_flight == 1)
            await _add(store, 1)
            await _add(store, 2)
            worker.wake()
            await _until(lambda: sent == [b"msg 2"] and worker.in_flight == 1)
            (failed,) = await store.outbox_for_request("r1")
            # (msg 2's success says the server is back: backing-off rows may be tried again)
            assert failed.state == "pending" and failed.attempts >= 1
            assert failed.last_error and "451" in failed.last_error
            release.set()
            await _until(lambda: worker.in_flight == 0)
        assert sorted(sent) == [b"msg 0", b"msg 2"]
        await store.close()

    asyncio.run(run())


def test_a_backlog_larger_than_one_claim_is_sent_whole_with_bounded_rows_in_flight(
    tmp_path: Path,
) -> None:
    from hl_email.outbound import outbox

    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        n = outbox.MAX_IN_FLIGHT + 2 * outbox.CLAIM_BATCH + 7
        for i in range(n):
            await _add(store, i)
        most = 0
        sent: list[bytes] = []
        running: list[OutboxWorker] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            nonlocal most
            most = max(most, running[0].in_flight)
            await asyncio.sleep(0)
            sent.append(message)

        async with _running(store, send) as worker:
            running.append(worker)
            await _until(lambda: len(sent) == n and worker.in_flight == 0)
        assert len(set(sent)) == n, "every row once"
        assert most <= outbox.MAX_IN_FLIGHT
        assert await store.due_outbox(1e12) == []
        await store.close()

    asyncio.run(run())


def test_a_store_error_recording_a_failure_is_retried_and_the_worker_goes_on(
    tmp_path: Path,
) -> None:
    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        recorded: list[str] = []
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            if message == b"msg 0":
                raise PermanentDeliveryError("550 no such user")
            sent.append(message)

        async def on_failure(row: OutboxRow, reason: str) -> None:
            if not recorded:
                recorded.append("store down")
                raise RuntimeError("the store is briefly unreachable")
            recorded.append(reason)
            assert row.id is not None
            await store.commit(outbox_failed=(row.id, reason))

        await _add(store, 0)
        await _add(store, 1)
        async with _running(store, send, on_failure) as worker:
            await _until(lambda: len(recorded) == 2 and worker.in_flight == 0)
            await _add(store, 2)
            worker.wake()
            await _until(lambda: len(sent) == 2 and worker.in_flight == 0)
        assert recorded[0] == "store down" and "550" in recorded[1]
        assert sorted(sent) == [b"msg 1", b"msg 2"]
        (row,) = await store.outbox_for_request("r0")
        assert row.state == "failed"
        await store.close()

    asyncio.run(run())


def test_a_pause_hit_by_the_only_row_in_flight_is_noticed_and_resumed(tmp_path: Path) -> None:
    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        broken = True
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            if broken:
                raise PausingDeliveryError("SMTP login refused: 535", fix="smtp.password")
            sent.append(message)

        await _add(store, 0)
        async with _running(store, send) as worker:
            await _until(lambda: worker.paused is not None and worker.in_flight == 0)
            (row,) = await store.outbox_for_request("r0")
            assert row.state == "pending" and row.attempts == 0  # given back, not a failure
            broken = False
            worker.resume()
            await _until(lambda: sent == [b"msg 0"] and worker.in_flight == 0)
            assert worker.paused is None
        (row,) = await store.outbox_for_request("r0")
        assert row.state == "sent" and row.attempts == 1
        await store.close()

    asyncio.run(run())


def test_rows_offered_by_their_own_gateway_are_sent_without_a_claim(tmp_path: Path) -> None:
    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        claimed: list[int] = []
        claim = store.claim_outbox

        async def counting(*args: object, **kwargs: object) -> list[OutboxRow]:
            rows = await claim(*args, **kwargs)  # type: ignore[arg-type]
            claimed.extend(r.id for r in rows if r.id is not None)
            return rows

        store.claim_outbox = counting  # type: ignore[method-assign]
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            sent.append(message)

        worker = OutboxWorker(store, send, SmtpConfig(), on_permanent_failure=_no_failure)
        row = OutboxRow("r9", 0, "ask", "a@x.test", ["u9@x.test"], b"early")
        await store.create_request(_request(9), [RecipientRow("r9", 0, "u9@x.test")], [row])
        worker.offer([row])  # not running yet: only a wake; the first claim takes it
        assert worker.in_flight == 0
        async with _running(store, send) as worker:
            await _until(lambda: sent == [b"early"] and worker.in_flight == 0)
            assert claimed == [row.id]
            for i in range(3):
                row = OutboxRow(f"r{i}", 0, "ask", "a@x.test", [f"u{i}@x.test"], b"msg %d" % i)
                recipient = RecipientRow(f"r{i}", 0, f"u{i}@x.test")
                await store.create_request(_request(i), [recipient], [row])
                worker.offer([row])
                assert worker.in_flight >= 1  # in flight at once, before any claim
            await _until(lambda: len(sent) == 4 and worker.in_flight == 0)
        assert claimed == [claimed[0]], "the offered rows were never claimed"
        for i in range(3):
            (stored,) = await store.outbox_for_request(f"r{i}")
            assert stored.state == "sent" and stored.attempts == 1
        await store.close()

    asyncio.run(run())


def test_a_shared_store_gets_a_wake_not_a_send(tmp_path: Path) -> None:
    async def run() -> None:
        store = SqliteStore(tmp_path / "o.db")
        await store.open()
        store.single_gateway = False  # as PostgreSQL: other gateways may claim the row
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            sent.append(message)

        async with _running(store, send) as worker:
            await asyncio.sleep(0)
            row = OutboxRow("r1", 0, "ask", "a@x.test", ["u1@x.test"], b"claimed")
            await store.create_request(_request(1), [RecipientRow("r1", 0, "u1@x.test")], [row])
            worker.offer([row])
            assert worker.in_flight == 0  # not put in flight without its lease
            await _until(lambda: sent == [b"claimed"] and worker.in_flight == 0)
        await store.close()

    asyncio.run(run())
