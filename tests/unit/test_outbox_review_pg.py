"""Review of the pipelined outbox on PostgreSQL with two gateways: a row queued behind a slow
send of its thread keeps its lease (renewed with the rows in flight), so the other gateway never
takes it over and sends it twice or out of order."""

from __future__ import annotations

import asyncio
import contextlib

from test_store_contract import mail, rcpt, req, store  # noqa: F401
from test_store_scaleout import twin  # noqa: F401

from hl_email.config import SmtpConfig
from hl_email.outbound.outbox import OutboxWorker
from hl_email.store.base import OutboxRow


async def _no_failure(row: OutboxRow, reason: str) -> None:
    raise AssertionError(f"no permanent failure expected: {reason}")


async def test_a_row_queued_behind_a_slow_send_keeps_its_lease(store, twin):  # noqa: F811
    lease = 0.3
    await store.create_request(req(1), [rcpt("r1", 0)], [mail("r1", 0, message=b"A")])
    await store.commit(outbox=[mail("r1", 0, purpose="confirm", message=b"B")])
    release = asyncio.Event()
    sent: list[tuple[str, bytes]] = []

    def sender(name: str):
        async def send(_from: str, _to: list[str], message: bytes) -> None:
            if message == b"A":
                await asyncio.wait_for(release.wait(), 10)
            sent.append((name, message))

        return send

    one = OutboxWorker(
        store, sender("one"), SmtpConfig(), on_permanent_failure=_no_failure, lease=lease
    )
    two = OutboxWorker(
        twin, sender("two"), SmtpConfig(), on_permanent_failure=_no_failure, lease=lease
    )
    tasks = [asyncio.create_task(one.run())]
    try:
        for _ in range(200):
            if one.in_flight == 2:
                break
            await asyncio.sleep(0.01)
        assert one.in_flight == 2  # A being sent, B queued behind it
        tasks.append(asyncio.create_task(two.run()))
        await asyncio.sleep(lease * 5)  # several leases long
        assert sent == []
        release.set()
        for _ in range(300):
            if len(sent) == 2 and one.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(lease * 2)
    finally:
        for w in (one, two):
            w.stopping = True
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await one.flush()
        await two.flush()
    assert sent == [("one", b"A"), ("one", b"B")]
    rows = await store.outbox_for_request("r1")
    assert [(r.state, r.attempts) for r in rows] == [("sent", 1), ("sent", 1)]
