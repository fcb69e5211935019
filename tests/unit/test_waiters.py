"""Waiters: a waiter that goes away leaves nothing behind, wherever it was cancelled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hl_email.service.waiters import Waiters
from hl_email.store.base import RecipientRow, RequestRow
from hl_email.store.sqlite import SqliteStore


def test_a_waiter_cancelled_while_it_reads_the_request_leaves_no_future(tmp_path: Path) -> None:
    async def run() -> None:
        store = SqliteStore(tmp_path / "w.db")
        await store.open()
        request = RequestRow(
            id="r1", call_id="c1", run_id="run", kind="function_call", spec={}, status={}
        )
        await store.create_request(request, [RecipientRow("r1", 0, "u@x.test")], [])
        reading = asyncio.Event()
        release = asyncio.Event()
        get = store.get_request

        async def slow_get(**kwargs: str) -> RequestRow | None:
            reading.set()
            await release.wait()  # a busy store: the read takes a while
            return await get(**kwargs)

        store.get_request = slow_get  # type: ignore[method-assign]
        waiters = Waiters(store)
        task = asyncio.create_task(waiters.wait("c1", timeout=30))
        await asyncio.wait_for(reading.wait(), 5)
        assert waiters.futures.get("c1"), "registered before the read"
        task.cancel()  # the client went away during the read
        with pytest.raises(asyncio.CancelledError):
            await task
        assert waiters.futures == {}
        store.get_request = get  # type: ignore[method-assign]
        # A waiter that times out leaves nothing behind either.
        waiting = asyncio.create_task(waiters.wait("c1", timeout=0.2))
        with pytest.raises(TimeoutError):
            await waiting
        assert waiters.futures == {}
        await store.close()

    asyncio.run(run())
