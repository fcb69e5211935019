"""Outbox worker: delivered rows are marked sent (grouped into few transactions), failed ones
are not."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from hl_email.config import SmtpConfig
from hl_email.outbound.outbox import OutboxWorker, PermanentDeliveryError, TransientDeliveryError
from hl_email.store.base import OutboxRow, RecipientRow, RequestRow
from hl_email.store.sqlite import SqliteStore


async def _store(tmp_path: Path, n: int) -> SqliteStore:
    store = SqliteStore(tmp_path / "o.db")
    await store.open()
    for i in range(n):
        request = RequestRow(
            id=f"r{i}", call_id=f"c{i}", run_id="run", kind="function_call", spec={}, status={}
        )
        recipient = RecipientRow(f"r{i}", 0, f"u{i}@x.test")
        row = OutboxRow(f"r{i}", 0, "ask", "a@x.test", [f"u{i}@x.test"], b"msg %d" % i)
        await store.create_request(request, [recipient], [row])
    return store


def test_every_delivered_row_is_marked_sent_in_grouped_transactions(tmp_path: Path) -> None:
    async def run() -> None:
        store = await _store(tmp_path, 10)
        calls: list[int] = []
        many = store.outbox_sent_many

        async def counting(sent: list[tuple[int, float]]) -> None:
            calls.append(len(sent))
            await many(sent)

        store.outbox_sent_many = counting  # type: ignore[method-assign]
        sent: list[bytes] = []

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            sent.append(message)
            await asyncio.sleep(0)

        async def failed(*_: object) -> None:
            raise AssertionError("no failure expected")

        worker = OutboxWorker(store, send, SmtpConfig(), on_permanent_failure=failed)
        assert await worker.run_once() == 10
        assert len(sent) == 10 and sum(calls) == 10 and len(calls) < 10
        assert await store.due_outbox(1e12) == []
        for i in range(10):
            (row,) = await store.outbox_for_request(f"r{i}")
            assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None
            assert (await store.get_recipients(f"r{i}"))[0].state == "sent"
        await store.close()

    asyncio.run(run())


def test_failed_rows_are_not_marked_sent(tmp_path: Path) -> None:
    async def run() -> None:
        store = await _store(tmp_path, 3)
        permanent: list[int] = []

        async def send(_from: str, to: list[str], _message: bytes) -> None:
            if to == ["u1@x.test"]:
                raise TransientDeliveryError("451 later")
            if to == ["u2@x.test"]:
                raise PermanentDeliveryError("550 no")

        async def failed(row: OutboxRow, _reason: str) -> None:
            assert row.id is not None
            permanent.append(row.id)

        worker = OutboxWorker(store, send, SmtpConfig(), on_permanent_failure=failed)
        await worker.run_once()
        states = [(await store.outbox_for_request(f"r{i}"))[0] for i in range(3)]
        assert [r.state for r in states] == ["sent", "pending", "pending"]
        assert states[1].attempts == 1 and states[1].next_attempt_at > 0
        assert permanent == [states[2].id]
        await store.close()

    asyncio.run(run())


def test_threads_go_in_parallel_and_each_thread_stays_in_order(tmp_path: Path) -> None:
    async def run() -> None:
        store = await _store(tmp_path, 3)  # three requests: three threads
        # A second email in thread r0 (a confirmation after the ask) must never overtake it.
        await store.commit(
            outbox=[OutboxRow("r0", 0, "confirm", "a@x.test", ["u0@x.test"], b"r0 second")]
        )
        active = 0
        most = 0
        order: list[bytes] = []

        two_at_once = asyncio.Event()

        async def send(_from: str, _to: list[str], message: bytes) -> None:
            nonlocal active, most
            active += 1
            most = max(most, active)
            if active >= 2:
                two_at_once.set()
            # Hold the connection until a second send runs alongside (bounded: a sequential
            # worker fails the assertion below instead of hanging).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(two_at_once.wait(), 5)
            order.append(message)
            active -= 1

        async def failed(*_: object) -> None:
            raise AssertionError("no failure expected")

        worker = OutboxWorker(store, send, SmtpConfig(), on_permanent_failure=failed)
        assert await worker.run_once() == 4
        assert most >= 2, "different threads are sent at the same time"
        assert order.index(b"msg 0") < order.index(b"r0 second")
        await store.close()

    asyncio.run(run())


def test_smtp_pool_uses_at_most_its_size(tmp_path: Path) -> None:
    from hl_email.outbound.smtp import SmtpPool

    async def run() -> None:
        pool = SmtpPool(SmtpConfig(connections=2))
        active = 0
        most = 0

        both_busy = asyncio.Event()

        async def fake_send(self, mail_from, rcpt_to, message) -> None:  # noqa: ANN001
            nonlocal active, most
            active += 1
            most = max(most, active)
            if active >= 2:
                both_busy.set()
            with contextlib.suppress(TimeoutError):  # bounded: see the assertion below
                await asyncio.wait_for(both_busy.wait(), 5)
            await asyncio.sleep(0)  # let a third send try to get in while two are busy
            active -= 1

        for sender in pool.senders:
            sender.send = fake_send.__get__(sender)  # type: ignore[method-assign]
        await asyncio.gather(*(pool.send("a@x.test", ["b@x.test"], b"m") for _ in range(6)))
        assert most == 2

    asyncio.run(run())
