"""Outbox retry policy over time: transient failures are retried for `retry_for` seconds (not a
fixed number of attempts), and the first success after an outage sends every waiting row."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hl_email.config import SmtpConfig
from hl_email.outbound.outbox import OutboxWorker, TransientDeliveryError
from hl_email.store.base import OutboxRow, RecipientRow, RequestRow
from hl_email.store.sqlite import SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _store(tmp_path: Path, n: int, created_at: float) -> SqliteStore:
    store = SqliteStore(tmp_path / "o.db")
    await store.open()
    for i in range(n):
        request = RequestRow(
            id=f"r{i}", call_id=f"c{i}", run_id="run", kind="function_call", spec={}, status={}
        )
        row = OutboxRow(
            f"r{i}", 0, "ask", "a@x.test", [f"u{i}@x.test"], b"m%d" % i, created_at=created_at
        )
        await store.create_request(request, [RecipientRow(f"r{i}", 0, f"u{i}@x.test")], [row])
    return store


def test_transient_failures_are_retried_until_retry_for_then_failed(tmp_path: Path) -> None:
    async def run() -> None:
        clock = Clock()
        store = await _store(tmp_path, 1, created_at=clock.now)
        failed: list[str] = []

        async def send(*_: object) -> None:
            raise TransientDeliveryError("451 try later")

        async def on_failed(_row: OutboxRow, reason: str) -> None:
            failed.append(reason)

        config = SmtpConfig(retry_for=300, backoff_initial=2, backoff_max=60)
        worker = OutboxWorker(
            store, send, config, on_permanent_failure=on_failed, clock=clock, rand=lambda: 0.5
        )
        attempts = 0
        while not failed:
            due = await store.next_outbox_due()
            assert due is not None and due <= 1000 + 300  # never scheduled past the window
            clock.now = max(clock.now, due)
            await worker.run_once()
            attempts += 1
            assert attempts < 100
        assert attempts > 8  # more than the old fixed attempt count: bounded by time
        assert clock.now >= 1300 and "gave up after" in failed[0]
        await store.close()

    asyncio.run(run())


def test_the_first_success_after_an_outage_sends_every_waiting_row(tmp_path: Path) -> None:
    async def run() -> None:
        clock = Clock()
        store = await _store(tmp_path, 5, created_at=clock.now)
        down = True
        sent: list[bytes] = []

        async def send(_f: str, _t: list[str], message: bytes) -> None:
            if down:
                raise TransientDeliveryError("421 service not available")
            sent.append(message)

        async def on_failed(*_: object) -> None:
            raise AssertionError("nothing fails for good")

        config = SmtpConfig(backoff_initial=2, backoff_max=600)
        worker = OutboxWorker(store, send, config, on_permanent_failure=on_failed, clock=clock)
        for _ in range(4):  # a few rounds of failures: rows back off, each on its own schedule
            clock.now = max(clock.now, await store.next_outbox_due() or clock.now)
            await worker.run_once()
        down = False
        clock.now = await store.next_outbox_due() or clock.now  # the earliest row's retry
        task = asyncio.create_task(worker.run())
        try:
            for _ in range(200):
                if len(sent) == 5:
                    break
                await asyncio.sleep(0.01)
        finally:
            worker.stopping = True
            task.cancel()
        assert len(sent) == 5  # all at once, although the others' retries were not due yet
        await store.close()

    asyncio.run(run())
