"""Store contract for several gateways on one store: claims with leases, version-checked effects,
compare-and-set checkpoints, leadership, change notifications and the webhook queue.

Runs against SQLite and PostgreSQL like test_store_contract.py; what only matters with several
gateways (exclusive claims, leadership, notifications) is PostgreSQL-only, since SQLite serves
one gateway and keeps its simple path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from test_store_contract import PG_URL, mail, rcpt, req, store, timer  # noqa: F401

from hl_email.store import Checkpoint, CommitResult, RequestUpdate, WebhookRow, open_store


@pytest.fixture
async def twin(store) -> AsyncIterator:  # noqa: F811
    """A second gateway's store on the same database (PostgreSQL only)."""
    if not hasattr(store, "pool"):
        pytest.skip("SQLite serves one gateway: claims are its simple path")
    sep = "&" if "?" in PG_URL else "?"
    other = open_store(f"{PG_URL}{sep}schema={store.schema}&pool_max=4")
    await other.open()
    try:
        yield other
    finally:
        await other.close()


async def _outbox(store, n: int = 6, *, due: float = 10.0) -> list:  # noqa: F811
    rows = [mail(f"r{i}", 0, next_attempt_at=due) for i in range(n)]
    for i, row in enumerate(rows):
        await store.create_request(req(i), [rcpt(f"r{i}", 0)], [row])
    return rows


# -- outbox claims --------------------------------------------------------------------------------


async def test_claim_outbox_returns_due_rows_in_order(store):  # noqa: F811
    rows = await _outbox(store, 3)
    assert await store.claim_outbox(5.0, owner="a", lease=60) == []
    claimed = await store.claim_outbox(20.0, owner="a", lease=60)
    assert [o.id for o in claimed] == [o.id for o in rows]
    await store.outbox_sent_many([(o.id, 21.0) for o in claimed])
    assert await store.claim_outbox(10**9, owner="a", lease=60) == []


async def test_claim_outbox_leaves_out_the_rows_in_flight(store):  # noqa: F811
    """The outbox worker claims again while rows are being sent: those are excluded, from the
    claim and from the next due time, on both backends (the same owner re-claims its own)."""
    rows = await _outbox(store, 5)
    ids = [o.id for o in rows]
    first = await store.claim_outbox(20.0, owner="a", lease=60, limit=2)
    assert [o.id for o in first] == ids[:2]
    rest = await store.claim_outbox(20.0, owner="a", lease=60, exclude={o.id for o in first})
    assert [o.id for o in rest] == ids[2:]
    assert await store.claim_outbox(20.0, owner="a", lease=60, exclude=set(ids)) == []
    assert await store.next_outbox_due(exclude=set(ids)) is None
    assert await store.next_outbox_due(exclude=set(ids[1:])) is not None
    await store.outbox_retry(ids[0], 1, 99.0, "451 later")
    assert await store.next_outbox_due(exclude=set(ids[1:])) == 99.0


async def test_two_gateways_claim_disjoint_rows(store, twin):  # noqa: F811
    rows = await _outbox(store, 20)
    a, b = await asyncio.gather(
        store.claim_outbox(20.0, owner="a", lease=60, limit=12),
        twin.claim_outbox(20.0, owner="b", lease=60, limit=12),
    )
    ids_a, ids_b = {o.id for o in a}, {o.id for o in b}
    assert not ids_a & ids_b
    # Whatever one left, the other takes on its next claim; nothing is claimed twice.
    rest = await twin.claim_outbox(20.0, owner="c", lease=60, limit=50)
    assert ids_a | ids_b | {o.id for o in rest} == {o.id for o in rows}
    assert not (ids_a | ids_b) & {o.id for o in rest}


async def test_expired_outbox_lease_is_taken_over_and_renewal_keeps_it(store, twin):  # noqa: F811
    [row] = await _outbox(store, 1)
    assert [o.id for o in await store.claim_outbox(20.0, owner="a", lease=60)] == [row.id]
    assert await twin.claim_outbox(50.0, owner="b", lease=60) == []  # a's lease holds
    await store.renew_outbox([row.id], owner="a", until=200.0)
    assert await twin.claim_outbox(100.0, owner="b", lease=60) == []  # renewed until 200
    assert await twin.next_outbox_due() == 200.0  # due for anyone when the lease ends
    await twin.renew_outbox([row.id], owner="b", until=10**6)  # not b's: no effect
    taken = await twin.claim_outbox(201.0, owner="b", lease=60)  # a died: b takes over
    assert [o.id for o in taken] == [row.id]
    assert await store.claim_outbox(202.0, owner="a", lease=60) == []


async def test_outbox_retry_releases_the_lease(store, twin):  # noqa: F811
    [row] = await _outbox(store, 1)
    await store.claim_outbox(20.0, owner="a", lease=60)
    await store.outbox_retry(row.id, 1, 30.0, "421 later")
    assert [o.id for o in await twin.claim_outbox(31.0, owner="b", lease=60)] == [row.id]


async def test_a_thread_stays_with_the_gateway_sending_its_earlier_row(store, twin):  # noqa: F811
    await store.create_request(req(1), [rcpt("r1", 0)], [mail("r1", 0, next_attempt_at=10.0)])
    [first] = await store.claim_outbox(20.0, owner="a", lease=60)
    later = mail("r1", 0, purpose="confirm", next_attempt_at=15.0)
    assert await store.commit(outbox=[later]) is CommitResult.OK
    assert await twin.claim_outbox(20.0, owner="b", lease=60) == []  # would overtake `first`
    assert [o.id for o in await store.claim_outbox(20.0, owner="a", lease=60)] == [
        first.id,
        later.id,
    ]


# -- timers -----------------------------------------------------------------------------------------


async def test_claim_timers(store):  # noqa: F811
    t = timer("r1", 100.0)
    await store.create_request(req(1), [rcpt()], [], [t])
    assert await store.claim_timers(50.0, owner="a", lease=60) == []
    assert [x.id for x in await store.claim_timers(100.0, owner="a", lease=60)] == [t.id]
    assert await store.commit(timer_done=t.id) is CommitResult.OK
    assert await store.claim_timers(10**9, owner="a", lease=60) == []


async def test_timer_claims_are_exclusive_until_the_lease_expires(store, twin):  # noqa: F811
    t = timer("r1", 100.0)
    await store.create_request(req(1), [rcpt()], [], [t])
    a, b = await asyncio.gather(
        store.claim_timers(100.0, owner="a", lease=60),
        twin.claim_timers(100.0, owner="b", lease=60),
    )
    assert sorted(len(x) for x in (a, b)) == [0, 1]
    assert await twin.next_timer_due() == 160.0
    assert [x.id for x in await twin.claim_timers(161.0, owner="c", lease=60)] == [t.id]


async def test_version_checked_touch_bumps_the_version_and_detects_a_decision(store):  # noqa: F811
    await store.create_request(req(1), [rcpt()], [])
    row = await store.get_request(id="r1")
    # Another writer decides (version 0 -> 1) ...
    assert await store.commit(
        request=RequestUpdate("r1", state="done", status={"approved": True}, resolved_at=5.0),
        recipients=[rcpt(state="answered")],
    )
    # ... so an effect prepared at version 0 (a reminder) must not land.
    stale = await store.commit(
        request=RequestUpdate("r1", expect_state=None, expect_version=row.version),
        recipients=[rcpt(state="sent", message_count=2)],
        outbox=[mail(purpose="reminder")],
    )
    assert stale is CommitResult.CONFLICT
    assert [r.state for r in await store.get_recipients("r1")] == ["answered"]
    fresh = await store.get_request(id="r1")
    assert fresh.version == row.version + 1
    assert await store.commit(
        request=RequestUpdate("r1", expect_state=None, expect_version=fresh.version)
    )
    assert (await store.get_request(id="r1")).version == fresh.version + 1


# -- checkpoints -------------------------------------------------------------------------------


async def test_swap_checkpoint_is_compare_and_set(store):  # noqa: F811
    first = Checkpoint("INBOX", 7, 40, catchup_floor=40)
    assert await store.swap_checkpoint(None, first)
    assert not await store.swap_checkpoint(None, Checkpoint("INBOX", 7, 1))
    assert await store.get_checkpoint("INBOX") == first
    done = Checkpoint("INBOX", 7, 41)
    assert await store.swap_checkpoint(first, done)
    assert not await store.swap_checkpoint(first, Checkpoint("INBOX", 7, 99))  # lost the race
    assert await store.get_checkpoint("INBOX") == done


# -- coordination ----------------------------------------------------------------------------------


async def test_sqlite_leads_alone(store):  # noqa: F811
    if hasattr(store, "pool"):
        pytest.skip("SQLite-only")
    lead = store.leadership("imap://x")
    await asyncio.wait_for(lead.acquire(), 5)
    assert not lead.lost.is_set()
    await lead.release()


async def test_one_leader_per_name_and_failover(store, twin):  # noqa: F811
    a, b = store.leadership("imap://mbox"), twin.leadership("imap://mbox")
    other = twin.leadership("imap://another")
    await asyncio.wait_for(a.acquire(), 10)
    await asyncio.wait_for(other.acquire(), 10)  # another mailbox: its own leader
    waiting = asyncio.create_task(b.acquire())
    done, _ = await asyncio.wait({waiting}, timeout=1.5)
    assert not done  # a leads; b stays a warm standby
    # The leader's session dies (as when its process is killed): b takes over, a knows.
    killed = await store.pool.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory'"
        " AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1",
        (a.key >> 32) & 0xFFFFFFFF,
        a.key & 0xFFFFFFFF,
    )
    assert killed == 1
    await asyncio.wait_for(waiting, 15)
    await asyncio.wait_for(a.lost.wait(), 15)
    assert not b.lost.is_set()
    for lease in (a, b, other):
        await lease.release()


async def test_changes_published_on_one_store_reach_listeners_on_another(store, twin):  # noqa: F811
    heard: asyncio.Queue = asyncio.Queue()
    await twin.listen_changes(lambda call_id, state: heard.put_nowait((call_id, state)))
    await store.publish_change("call-1", "done")
    assert await asyncio.wait_for(heard.get(), 10) == ("call-1", "done")


# -- webhook queue -----------------------------------------------------------------------------


def _hook(n: int, call_id: str = "call-1") -> WebhookRow:
    return WebhookRow(
        hook_url=f"http://hooks.test/{n}",
        event_id="evt_1",
        event_type="function_call.completed",
        call_id=call_id,
        body=b'{"x":1}',
        next_attempt_at=10.0,
        created_at=10.0,
    )


async def test_webhook_queue(store):  # noqa: F811
    assert await store.webhook_high_water(5.0) is None  # first start: mark stored
    assert await store.webhook_high_water(99.0) == 5.0
    assert await store.enqueue_webhooks([_hook(1), _hook(2)], high_water=20.0) == 2
    assert await store.enqueue_webhooks([_hook(1)], high_water=15.0) == 0  # already queued
    assert await store.webhook_high_water(0.0) == 20.0  # never moves back
    assert await store.next_webhook_due() == 10.0
    claimed = await store.claim_webhooks(10.0, owner="a", lease=60)
    assert [w.hook_url for w in claimed] == ["http://hooks.test/1", "http://hooks.test/2"]
    first, second = claimed
    await store.webhook_attempted(
        first.id, state="delivered", attempts=1, next_at=11.0, error=None, delivered_at=11.0
    )
    await store.webhook_attempted(second.id, state="pending", attempts=1, next_at=30.0, error="500")
    rows = {w.id: w for w in await store.list_webhooks()}
    assert (rows[first.id].state, rows[first.id].delivered_at) == ("delivered", 11.0)
    assert (rows[second.id].state, rows[second.id].last_error) == ("pending", "500")
    assert await store.claim_webhooks(29.0, owner="a", lease=60) == []
    assert [w.id for w in await store.claim_webhooks(30.0, owner="a", lease=60)] == [second.id]


async def test_webhook_claims_are_exclusive(store, twin):  # noqa: F811
    await store.enqueue_webhooks([_hook(n) for n in range(10)])
    a, b = await asyncio.gather(
        store.claim_webhooks(10.0, owner="a", lease=60, limit=6),
        twin.claim_webhooks(10.0, owner="b", lease=60, limit=6),
    )
    assert not {w.id for w in a} & {w.id for w in b}
    assert len(a) + len(b) == 10


async def test_resolved_since(store):  # noqa: F811
    await store.create_request(req(1), [rcpt()], [])
    await store.create_request(req(2), [rcpt("r2")], [])
    assert await store.commit(request=RequestUpdate("r1", state="done", resolved_at=50.0))
    assert await store.commit(request=RequestUpdate("r2", state="failed", resolved_at=40.0))
    assert await store.resolved_since(45.0) == ["call-1"]
    assert await store.resolved_since(0.0) == ["call-2", "call-1"]
