"""The Store contract, run against every backend: SQLite (a file in tmp_path) and PostgreSQL (a
fresh schema per test in the database named by HL_EMAIL_TEST_POSTGRES, default
postgresql://postgres@127.0.0.1:5432/test; skipped only when that server is unreachable)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator

import pytest

from hl_email.store import (
    Checkpoint,
    CommitResult,
    DuplicateCallError,
    InboundRecord,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    SqliteStore,
    TimerRow,
    open_store,
)

PG_URL = os.environ.get("HL_EMAIL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

_pg_unreachable: str | None = None  # cached reason, so an absent server costs one timeout


async def _pg_admin():
    """A plain asyncpg connection to the test database, or pytest.skip with the reason."""
    global _pg_unreachable
    asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed")
    if _pg_unreachable:
        pytest.skip(_pg_unreachable)
    try:
        return await asyncpg.connect(PG_URL, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        _pg_unreachable = f"PostgreSQL is unreachable at {PG_URL}: {exc!r}"
        pytest.skip(_pg_unreachable)


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request, tmp_path) -> AsyncIterator:
    if request.param == "sqlite":
        s = SqliteStore(tmp_path / "contract.db")
        await s.open()
        try:
            yield s
        finally:
            await s.close()
        return
    admin = await _pg_admin()
    schema = f"hl_test_{uuid.uuid4().hex[:16]}"
    sep = "&" if "?" in PG_URL else "?"
    s = open_store(f"{PG_URL}{sep}schema={schema}&pool_max=4")
    try:
        await s.open()
        yield s
    finally:
        await s.close()
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


# -- row factories ------------------------------------------------------------------------------


def req(n: int = 1, **kw) -> RequestRow:
    values = dict(
        id=f"r{n}",
        call_id=f"call-{n}",
        run_id="run",
        kind="function_call",
        spec={"fn": "refund", "kwargs": {"order": "A-1", "amount": 120, "zeta": 1, "alpha": 2}},
        status={"requested_at": "now"},
        subject=f"Approve refund {n}",
        created_at=1000.0 + n,
    )
    values.update(kw)
    return RequestRow(**values)


def rcpt(request_id: str = "r1", seq: int = 0, **kw) -> RecipientRow:
    values = dict(
        request_id=request_id,
        seq=seq,
        address=f"human{seq}@corp.test",
        reply_key=f"key-{request_id}-{seq}",
        thread=["<a@x>"],
    )
    values.update(kw)
    return RecipientRow(**values)


def mail(request_id: str = "r1", seq: int = 0, **kw) -> OutboxRow:
    values = dict(
        request_id=request_id,
        recipient_seq=seq,
        purpose="ask",
        mail_from="agent@example.test",
        rcpt_to=[f"human{seq}@corp.test"],
        message=b"Subject: hi\r\n\r\n\x00\xff binary body\r\n",
        message_id=f"<{request_id}.{seq}@example.test>",
        next_attempt_at=1000.0,
        created_at=1000.0,
    )
    values.update(kw)
    return OutboxRow(**values)


def timer(request_id: str = "r1", due: float = 2000.0, kind: str = "reminder") -> TimerRow:
    return TimerRow(request_id=request_id, kind=kind, due_at=due, payload={"step": 1, "a": [1]})


def inbound(key: str = "k1", request_id: str | None = "r1", at: float = 1500.0, **kw):
    values = dict(
        dedupe_key=key,
        message_id=f"<{key}@corp.test>",
        received_at=at,
        from_address="human0@corp.test",
        subject="Re: Approve refund",
        outcome="decided",
        detail="approve",
        request_id=request_id,
        recipient_seq=0 if request_id else None,
        raw=b"From: human0@corp.test\r\n\r\nApprove\x00\xfe\r\n",
    )
    values.update(kw)
    return InboundRecord(**values)


async def snapshot(store, request_id: str = "r1") -> tuple:
    """Everything observable about one request, to prove a refused commit changed nothing."""
    return (
        await store.get_request(id=request_id),
        await store.get_recipients(request_id),
        await store.outbox_for_request(request_id),
        await store.list_inbound(limit=1000),
        await store.due_timers(10**12, limit=1000),
    )


async def seeded(store, n: int = 1) -> RequestRow:
    row = req(n)
    await store.create_request(
        row,
        [rcpt(row.id, 0), rcpt(row.id, 1, field="cc")],
        [mail(row.id, 0), mail(row.id, 1)],
        [timer(row.id)],
    )
    return row


# -- lifecycle ----------------------------------------------------------------------------------


async def test_ping_and_reopen(store):
    assert await store.ping() is True
    await seeded(store)
    await store.close()
    assert await store.ping() is False
    # A second store on the same database: the schema exists already, the data is there.
    if isinstance(store, SqliteStore):
        again = SqliteStore(store.path)
    else:
        again = type(store)(store.dsn, schema=store.schema)
    await again.open()
    try:
        assert await again.ping() is True
        assert (await again.get_request(call_id="call-1")) is not None
    finally:
        await again.close()


# -- requests -----------------------------------------------------------------------------------


async def test_create_and_get_request_round_trips(store):
    row = req(1, route={"rule": "finance", "n": [1, 2]})
    recipients = [rcpt("r1", 0), rcpt("r1", 1, field="bcc", auto_replied=True)]
    outbox = [mail("r1", 0), mail("r1", 1)]
    timers = [timer("r1", 3000.0), timer("r1", 2000.0, "timeout")]
    await store.create_request(row, recipients, outbox, timers)
    assert all(isinstance(o.id, int) for o in outbox) and outbox[0].id != outbox[1].id
    assert all(isinstance(t.id, int) for t in timers)

    got = await store.get_request(call_id="call-1")
    assert got == RequestRow(**{**row.__dict__, "version": 0})
    assert list(got.spec["kwargs"]) == ["order", "amount", "zeta", "alpha"]  # key order kept
    assert await store.get_request(id="r1") == got
    assert await store.get_request(call_id="nope") is None
    assert await store.get_request(id="nope") is None
    with pytest.raises(ValueError):
        await store.get_request()

    assert await store.get_recipients("r1") == recipients
    assert await store.get_recipients("nope") == []
    stored = await store.outbox_for_request("r1")
    assert stored == outbox
    assert stored[0].message == b"Subject: hi\r\n\r\n\x00\xff binary body\r\n"
    assert [t.id for t in await store.due_timers(10**9)] == [timers[1].id, timers[0].id]


async def test_create_request_without_timers(store):
    await store.create_request(req(1), [rcpt()], [])
    assert await store.outbox_for_request("r1") == []
    assert await store.next_timer_due() is None


async def test_duplicate_call_id_raises_and_writes_nothing(store):
    await seeded(store)
    before = await snapshot(store)
    dup = req(2, call_id="call-1")
    with pytest.raises(DuplicateCallError):
        await store.create_request(dup, [rcpt("r2")], [mail("r2")], [timer("r2")])
    assert await snapshot(store) == before
    assert await store.get_request(id="r2") is None
    assert await store.outbox_for_request("r2") == []
    assert await store.get_recipients("r2") == []


async def test_concurrent_create_same_call_id_one_wins(store):
    results = await asyncio.gather(
        *(store.create_request(req(n, call_id="same"), [], []) for n in range(1, 5)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, DuplicateCallError) for r in results if r is not None)
    assert len(await store.list_requests()) == 1


async def test_concurrent_creates_a_duplicate_undoes_only_itself(store):
    """Creates that meet at once (SQLite runs them in one transaction) stand or fall alone."""
    await seeded(store)
    rows = {n: (req(n), mail(f"r{n}"), timer(f"r{n}")) for n in range(2, 12)}
    rows[6] = (req(6, call_id="call-1"), mail("r6"), timer("r6"))  # call-1 is stored already
    results = await asyncio.gather(
        *(store.create_request(row, [rcpt(row.id)], [out], [tm]) for row, out, tm in rows.values()),
        return_exceptions=True,
    )
    assert [type(r).__name__ for r in results].count("DuplicateCallError") == 1
    assert isinstance(results[4], DuplicateCallError)
    for n, (row, out, tm) in rows.items():
        if n == 6:
            assert await store.get_request(id="r6") is None
            assert await store.get_recipients("r6") == []
            assert await store.outbox_for_request("r6") == []
            assert out.id is None and tm.id is None
            continue
        assert (await store.get_request(id=row.id)).call_id == row.call_id
        assert [o.id for o in await store.outbox_for_request(row.id)] == [out.id]
        assert len(await store.get_recipients(row.id)) == 1
    assert len(await store.due_timers(10**9, limit=100)) == 10  # r1 and nine new ones


async def test_concurrent_commits_a_conflict_undoes_only_itself(store):
    for n in range(1, 6):
        await seeded(store, n)
    confirms = {n: mail(f"r{n}", 0, purpose="confirm") for n in range(1, 6)}
    # r3 is asked for a version it is not at: only that commit is refused.
    updates = [
        RequestUpdate(f"r{n}", state="done", expect_version=7 if n == 3 else 0) for n in range(1, 6)
    ]
    results = await asyncio.gather(
        *(
            store.commit(inbound=inbound(f"k{n}", f"r{n}"), request=u, outbox=[confirms[n]])
            for n, u in zip(range(1, 6), updates, strict=True)
        )
    )
    assert results == [CommitResult.OK] * 2 + [CommitResult.CONFLICT] + [CommitResult.OK] * 2
    states = [(await store.get_request(id=f"r{n}")).state for n in range(1, 6)]
    assert states == ["done", "done", "pending", "done", "done"]
    assert confirms[3].id is None and all(confirms[n].id for n in (1, 2, 4, 5))
    assert not await store.inbound_seen("k3") and await store.inbound_seen("k4")


async def test_sqlite_operations_run_in_the_order_they_were_made(store):
    """A read made after a write (neither awaited yet) sees it, as with one queue to the thread."""
    if not isinstance(store, SqliteStore):
        pytest.skip("SQLite-only: PostgreSQL runs concurrent operations on separate connections")
    create = asyncio.ensure_future(store.create_request(req(1), [rcpt()], [mail()]))
    read = asyncio.ensure_future(store.get_request(call_id="call-1"))
    update = asyncio.ensure_future(store.commit(request=RequestUpdate("r1", state="done")))
    again = asyncio.ensure_future(store.get_request(call_id="call-1"))
    await create
    assert (await read).state == "pending"
    assert await update is CommitResult.OK
    assert (await again).state == "done"


async def test_sqlite_a_create_cancelled_before_its_batch_started_is_not_stored(store):
    if not isinstance(store, SqliteStore):
        pytest.skip("SQLite-only: the queue to the store's thread")
    # An idle store runs a create inline; behind a batch on the thread it waits in the queue.
    busy = asyncio.ensure_future(store.list_requests())
    await asyncio.sleep(0)  # the read's batch is on the thread now
    create = asyncio.ensure_future(store.create_request(req(1), [rcpt()], [mail()]))
    await asyncio.sleep(0)  # one turn: the create is queued, its batch not yet started
    create.cancel()
    with pytest.raises(asyncio.CancelledError):
        await create
    await busy
    assert await store.get_request(call_id="call-1") is None
    await store.create_request(req(2), [rcpt("r2")], [mail("r2")])  # the queue goes on
    assert (await store.get_request(call_id="call-2")).id == "r2"


async def test_list_requests_by_state_newest_first_with_limit(store):
    for n in range(1, 6):
        await store.create_request(req(n, state="done" if n % 2 else "pending"), [], [])
    assert [r.id for r in await store.list_requests()] == ["r5", "r4", "r3", "r2", "r1"]
    assert [r.id for r in await store.list_requests(limit=2)] == ["r5", "r4"]
    assert [r.id for r in await store.list_requests(state="done")] == ["r5", "r3", "r1"]
    assert [r.id for r in await store.list_requests(state="pending", limit=1)] == ["r4"]
    assert await store.list_requests(state="failed") == []


async def test_recipient_upsert_updates_mutable_fields_only(store):
    await store.create_request(req(1), [rcpt("r1", 0)], [])
    changed = rcpt(
        "r1",
        0,
        address="other@corp.test",
        field="cc",
        reply_key="other-key",
        state="answered",
        message_count=3,
        thread=["<a@x>", "<b@x>"],
        error="boom",
        auto_replied=True,
    )
    assert await store.commit(recipients=[changed, rcpt("r1", 1)]) is CommitResult.OK
    first, second = await store.get_recipients("r1")
    assert (first.address, first.field, first.reply_key) == ("human0@corp.test", "to", "key-r1-0")
    assert (first.state, first.message_count, first.thread, first.error, first.auto_replied) == (
        "answered",
        3,
        ["<a@x>", "<b@x>"],
        "boom",
        True,
    )
    assert second == rcpt("r1", 1)


# -- outbox -------------------------------------------------------------------------------------


async def test_outbox_due_next_sent_retry_failed(store):
    await store.create_request(req(1), [rcpt("r1", 0), rcpt("r1", 1), rcpt("r1", 2)], [])
    rows = [
        mail("r1", 0, next_attempt_at=30.0),
        mail("r1", 1, next_attempt_at=10.0),
        mail("r1", 2, next_attempt_at=10.0),
    ]
    assert await store.next_outbox_due() is None
    assert await store.commit(outbox=rows) is CommitResult.OK
    a, b, c = rows
    assert await store.next_outbox_due() == 10.0
    assert [o.id for o in await store.due_outbox(5.0)] == []
    assert [o.id for o in await store.due_outbox(10.0)] == [b.id, c.id]  # by time, then id
    assert [o.id for o in await store.due_outbox(100.0)] == [b.id, c.id, a.id]
    assert [o.id for o in await store.due_outbox(100.0, limit=1)] == [b.id]

    await store.outbox_retry(b.id, 2, 50.0, "421 try later")
    retried = next(o for o in await store.outbox_for_request("r1") if o.id == b.id)
    assert (retried.attempts, retried.next_attempt_at, retried.last_error) == (
        2,
        50.0,
        "421 try later",
    )
    assert retried.state == "pending"
    assert [o.id for o in await store.due_outbox(40.0)] == [c.id, a.id]

    await store.outbox_sent(c.id, 41.0)
    await store.outbox_sent_many([(a.id, 42.0), (b.id, 43.0)])
    by_id = {o.id: o for o in await store.outbox_for_request("r1")}
    assert [by_id[x].state for x in (a.id, b.id, c.id)] == ["sent", "sent", "sent"]
    assert (by_id[b.id].sent_at, by_id[b.id].attempts, by_id[b.id].last_error) == (43.0, 3, None)
    assert (by_id[a.id].sent_at, by_id[a.id].attempts) == (42.0, 1)
    assert await store.due_outbox(10**9) == []
    assert await store.next_outbox_due() is None
    assert [r.state for r in await store.get_recipients("r1")] == ["sent", "sent", "sent"]
    await store.outbox_sent_many([])  # nothing to do is fine

    # outbox_failed (through commit) marks one row failed and counts the attempt.
    d = mail("r1", 0, purpose="reminder")
    assert await store.commit(outbox=[d]) is CommitResult.OK
    assert await store.commit(outbox_failed=(d.id, "550 no such user")) is CommitResult.OK
    failed = next(o for o in await store.outbox_for_request("r1") if o.id == d.id)
    assert (failed.state, failed.last_error, failed.attempts) == ("failed", "550 no such user", 1)
    assert await store.due_outbox(10**9) == []


async def test_outbox_sent_marks_only_pending_recipients(store):
    await store.create_request(
        req(1), [rcpt("r1", 0), rcpt("r1", 1, state="answered")], [mail("r1", 0), mail("r1", 1)]
    )
    a, b = await store.outbox_for_request("r1")
    await store.outbox_sent_many([(a.id, 5.0), (b.id, 6.0), (999_999, 7.0)])  # unknown id: ignored
    assert [r.state for r in await store.get_recipients("r1")] == ["sent", "answered"]


# -- commit -------------------------------------------------------------------------------------


async def test_commit_applies_everything_at_once(store):
    await seeded(store)
    [t] = await store.due_timers(10**9)
    recorded = inbound("k1")
    new_mail = mail("r1", 0, purpose="confirm")
    new_timer = timer("r1", 5000.0, "escalation")
    result = await store.commit(
        inbound=recorded,
        request=RequestUpdate("r1", status={"approved": True}, state="done", resolved_at=1600.0),
        recipients=[rcpt("r1", 0, state="answered")],
        outbox=[new_mail],
        timers=[new_timer],
        timer_done=t.id,
    )
    assert result is CommitResult.OK and bool(result) is True
    got = await store.get_request(id="r1")
    assert (got.state, got.status, got.resolved_at, got.version) == (
        "done",
        {"approved": True},
        1600.0,
        1,
    )
    assert (await store.get_recipients("r1"))[0].state == "answered"
    assert new_mail.id in [o.id for o in await store.outbox_for_request("r1")]
    assert [x.id for x in await store.due_timers(10**9)] == [new_timer.id]
    assert await store.list_inbound() == [recorded]
    assert await store.inbound_seen("k1") is True
    assert await store.inbound_seen("k2") is False


async def test_commit_nothing_is_ok(store):
    assert await store.commit() is CommitResult.OK


async def test_every_update_bumps_version(store):
    await seeded(store)
    assert await store.commit(request=RequestUpdate("r1", clarifications=1, expect_version=0))
    assert await store.commit(request=RequestUpdate("r1", status={"votes": 1}))
    got = await store.get_request(id="r1")
    assert (got.clarifications, got.status, got.version, got.state) == (
        1,
        {"votes": 1},
        2,
        "pending",
    )
    # expect_state=None: applies whatever the state is.
    assert await store.commit(request=RequestUpdate("r1", state="done", expect_state=None))
    assert await store.commit(
        request=RequestUpdate("r1", state="failed", expect_state=None, expect_version=3)
    )
    got = await store.get_request(id="r1")
    assert (got.state, got.version) == ("failed", 4)


async def test_commit_duplicate_inbound_applies_nothing(store):
    await seeded(store)
    assert await store.commit(inbound=inbound("k1")) is CommitResult.OK
    before = await snapshot(store)
    [t] = await store.due_timers(10**9)
    result = await store.commit(
        inbound=inbound("k1", outcome="other", detail="second copy"),
        request=RequestUpdate("r1", state="done", resolved_at=1.0),
        recipients=[rcpt("r1", 0, state="answered"), rcpt("r1", 7)],
        outbox=[mail("r1", 0, purpose="confirm")],
        timers=[timer("r1", 1.0)],
        timer_done=t.id,
        outbox_failed=((await store.outbox_for_request("r1"))[0].id, "x"),
    )
    assert result is CommitResult.DUPLICATE and bool(result) is False
    assert await snapshot(store) == before
    assert (await store.list_inbound())[0].outcome == "decided"


async def test_commit_state_conflict_applies_nothing(store):
    await seeded(store)
    assert await store.commit(request=RequestUpdate("r1", state="done", resolved_at=1.0))
    before = await snapshot(store)
    [t] = await store.due_timers(10**9)
    result = await store.commit(
        inbound=inbound("k9"),
        request=RequestUpdate("r1", status={"late": True}, state="done"),  # expects pending
        recipients=[rcpt("r1", 0, state="answered")],
        outbox=[mail("r1", 0, purpose="confirm")],
        timers=[timer("r1", 1.0)],
        timer_done=t.id,
    )
    assert result is CommitResult.CONFLICT and bool(result) is False
    assert await snapshot(store) == before
    assert await store.inbound_seen("k9") is False  # the inbound insert was rolled back too
    # ...so the same message can be processed again and recorded.
    assert await store.commit(inbound=inbound("k9")) is CommitResult.OK


async def test_commit_version_conflict_applies_nothing(store):
    await seeded(store)
    assert await store.commit(request=RequestUpdate("r1", clarifications=1, expect_version=0))
    before = await snapshot(store)
    result = await store.commit(
        inbound=inbound("k2"),
        request=RequestUpdate("r1", clarifications=5, expect_version=0),  # stale
        outbox=[mail("r1", 1, purpose="clarify")],
    )
    assert result is CommitResult.CONFLICT
    assert await snapshot(store) == before
    assert (await store.get_request(id="r1")).version == 1


async def test_commit_unknown_request_is_a_conflict(store):
    await seeded(store)
    before = await snapshot(store)
    result = await store.commit(
        inbound=inbound("k3"), request=RequestUpdate("nope", state="done"), outbox=[mail("r1")]
    )
    assert result is CommitResult.CONFLICT
    assert await snapshot(store) == before


async def test_commit_timer_done_conflict_applies_nothing(store):
    await seeded(store)
    [t] = await store.due_timers(10**9)
    assert await store.commit(timer_done=t.id) is CommitResult.OK
    assert await store.due_timers(10**9) == []
    before = await snapshot(store)
    result = await store.commit(
        inbound=inbound("k4"),
        request=RequestUpdate("r1", state="done"),
        recipients=[rcpt("r1", 0, state="answered")],
        outbox=[mail("r1", 0, purpose="reminder")],
        timers=[timer("r1", 9.0)],
        timer_done=t.id,  # already done
    )
    assert result is CommitResult.CONFLICT
    assert await snapshot(store) == before
    assert (await store.get_request(id="r1")).state == "pending"
    assert await store.commit(timer_done=987_654) is CommitResult.CONFLICT  # unknown timer


async def test_concurrent_conditional_updates_one_wins(store):
    await seeded(store)
    version = (await store.get_request(id="r1")).version

    async def vote(n: int) -> CommitResult:
        return await store.commit(
            inbound=inbound(f"vote-{n}"),
            request=RequestUpdate("r1", status={"winner": n}, expect_version=version),
        )

    results = await asyncio.gather(*(vote(n) for n in range(6)))
    assert results.count(CommitResult.OK) == 1
    assert results.count(CommitResult.CONFLICT) == 5
    got = await store.get_request(id="r1")
    assert got.version == version + 1
    winner = results.index(CommitResult.OK)
    assert got.status == {"winner": winner}
    assert [r.dedupe_key for r in await store.list_inbound()] == [f"vote-{winner}"]


async def test_concurrent_duplicate_inbound_recorded_once(store):
    await seeded(store)
    results = await asyncio.gather(*(store.commit(inbound=inbound("same")) for _ in range(5)))
    assert results.count(CommitResult.OK) == 1
    assert results.count(CommitResult.DUPLICATE) == 4
    assert len(await store.list_inbound()) == 1


# -- inbound ------------------------------------------------------------------------------------


async def test_list_inbound_filters_and_orders(store):
    await seeded(store, 1)
    await seeded(store, 2)
    records = [
        inbound("a", "r1", at=10.0),
        inbound("b", "r2", at=30.0),
        inbound("c", None, at=20.0, raw=None, message_id=None, from_address=None, subject=None),
        inbound("d", "r1", at=40.0, detail="", outcome="unclear"),
    ]
    for record in records:
        assert await store.commit(inbound=record) is CommitResult.OK
    assert [r.dedupe_key for r in await store.list_inbound()] == ["d", "b", "c", "a"]
    assert [r.dedupe_key for r in await store.list_inbound(limit=2)] == ["d", "b"]
    assert await store.list_inbound(request_id="r1") == [records[3], records[0]]
    assert await store.list_inbound(request_id="r1", limit=1) == [records[3]]
    assert await store.list_inbound(request_id="nope") == []
    assert [r for r in await store.list_inbound() if r.dedupe_key == "c"] == [records[2]]


async def test_thread_messages_finds_received_and_sent_by_message_id(store):
    await store.create_request(req(1), [rcpt("r1", 0), rcpt("r1", 1)], [])
    sent, pending = mail("r1", 0), mail("r1", 1)
    assert await store.commit(outbox=[sent, pending]) is CommitResult.OK
    await store.outbox_sent(sent.id, 1200.0)
    for record in (inbound("a", None, at=1100.0), inbound("b", None, at=1300.0)):
        assert await store.commit(inbound=record) is CommitResult.OK
    ids = ["<a@corp.test>", sent.message_id, pending.message_id, "<b@corp.test>", "<x@y>"]
    found = await store.thread_messages(ids)
    assert [at for at, _ in found] == [1100.0, 1200.0, 1300.0]  # oldest first; unsent left out
    assert found[1][1] == sent.message and found[0][1] == inbound("a").raw
    assert await store.thread_messages([]) == []


# -- checkpoints --------------------------------------------------------------------------------


async def test_checkpoints(store):
    assert await store.get_checkpoint("INBOX") is None
    await store.set_checkpoint(Checkpoint("INBOX", 1, 10))
    await store.set_checkpoint(Checkpoint("Archive", 7, 3))
    assert await store.get_checkpoint("INBOX") == Checkpoint("INBOX", 1, 10)
    big = 2**32 - 1  # UIDVALIDITY and UIDs are unsigned 32-bit
    await store.set_checkpoint(Checkpoint("INBOX", big, big))
    assert await store.get_checkpoint("INBOX") == Checkpoint("INBOX", big, big)
    assert await store.get_checkpoint("Archive") == Checkpoint("Archive", 7, 3)


# -- timers -------------------------------------------------------------------------------------


async def test_timers_due_next_cancel(store):
    await store.create_request(req(1), [], [])
    await store.create_request(req(2), [], [])
    t1, t2, t3 = timer("r1", 30.0), timer("r1", 10.0, "timeout"), timer("r2", 20.0)
    assert await store.next_timer_due() is None
    assert await store.commit(timers=[t1, t2, t3]) is CommitResult.OK
    assert await store.next_timer_due() == 10.0
    assert await store.due_timers(5.0) == []
    due = await store.due_timers(25.0)
    assert [t.id for t in due] == [t2.id, t3.id]
    assert due[0] == t2 and due[0].payload == {"step": 1, "a": [1]}
    assert [t.id for t in await store.due_timers(100.0, limit=1)] == [t2.id]

    await store.cancel_timers("r1")
    assert [t.id for t in await store.due_timers(100.0)] == [t3.id]
    assert await store.next_timer_due() == 20.0
    assert await store.commit(timer_done=t1.id) is CommitResult.CONFLICT  # cancelled, not pending
    await store.cancel_timers("nope")
    assert await store.commit(timer_done=t3.id) is CommitResult.OK
    assert await store.next_timer_due() is None
    await store.cancel_timers("r2")  # nothing pending left: harmless


# -- PostgreSQL specifics -----------------------------------------------------------------------


async def test_postgres_text_with_nul_is_stored(store):
    """Hostile mail can put NUL in a subject or Message-ID; text columns cannot hold it."""
    if isinstance(store, SqliteStore):
        pytest.skip("PostgreSQL-only: SQLite keeps NUL as is")
    await seeded(store)
    record = inbound("nul\x00key", subject="Re: a\x00b", message_id="<a\x00b@x>", detail="x\x00")
    assert await store.commit(inbound=record) is CommitResult.OK
    assert await store.inbound_seen("nul\x00key") is True
    [got] = await store.list_inbound()
    assert got.subject == "Re: a\ufffdb" and got.message_id == "<a\ufffdb@x>"
    # JSON keeps NUL exactly (json escapes it).
    assert await store.commit(request=RequestUpdate("r1", status={"comment": "a\x00b"}))
    assert (await store.get_request(id="r1")).status == {"comment": "a\x00b"}


async def test_ids_assigned_only_on_success(store):
    await seeded(store)
    assert await store.commit(inbound=inbound("k1")) is CommitResult.OK
    row = mail("r1", 0, purpose="confirm")
    assert await store.commit(inbound=inbound("k1"), outbox=[row]) is CommitResult.DUPLICATE
    assert row.id is None


def test_postgres_url_parameters():
    from hl_email.store.postgres import parse_url

    dsn, schema, lo, hi = parse_url(
        "postgresql://u:p@h:5433/db?schema=hl_a&pool_min=2&pool_max=5&sslmode=disable"
    )
    assert (dsn, schema, lo, hi) == ("postgresql://u:p@h:5433/db?sslmode=disable", "hl_a", 2, 5)
    assert parse_url("postgres://h/db") == ("postgres://h/db", None, 1, 10)
    for bad in ("postgresql://h/db?schema=a;drop", "postgresql://h/db?pool_max=0", "mysql://h/db"):
        with pytest.raises(ValueError, match="store.url"):
            parse_url(bad)


# -- issue 13: "SMTP is back" and named secrets ---------------------------------------------------


async def test_outbox_retry_now_makes_only_rows_backing_off_due(store):
    await store.create_request(
        req(1), [rcpt("r1", 0), rcpt("r1", 1)], [mail("r1", 0), mail("r1", 1)]
    )
    first, second = await store.outbox_for_request("r1")
    await store.outbox_retry(first.id, 1, 5000.0, "451 later")  # backing off
    assert [o.id for o in await store.due_outbox(2000.0)] == [second.id]
    assert await store.outbox_retry_now(2000.0) == 1
    assert sorted(o.id for o in await store.due_outbox(2000.0)) == sorted([first.id, second.id])
    assert await store.outbox_retry_now(2000.0) == 0


async def test_named_secrets_round_trip_and_overwrite(store):
    assert await store.get_secret("oauth-refresh:x") is None
    await store.set_secret("oauth-refresh:x", b"\x00sealed\xff")
    assert await store.get_secret("oauth-refresh:x") == b"\x00sealed\xff"
    await store.set_secret("oauth-refresh:x", b"rotated")
    assert await store.get_secret("oauth-refresh:x") == b"rotated"


def test_both_stores_have_every_protocol_method_with_its_parameters():
    """base.Store is the whole contract: each backend has each method, named parameters alike."""
    import inspect

    from hl_email.store import Store
    from hl_email.store.postgres import PostgresStore

    names = [n for n, v in vars(Store).items() if callable(v) and not n.startswith("_")]
    assert {"claim_webhooks", "enqueue_webhooks", "outbox_retry", "commit"} <= set(names)
    for backend in (SqliteStore, PostgresStore):
        for name in names:
            wanted = list(inspect.signature(getattr(Store, name)).parameters)
            assert list(inspect.signature(getattr(backend, name)).parameters) == wanted, (
                backend.__name__,
                name,
            )


async def test_inbound_seen_keys_answers_for_a_batch(store):
    for key in ("mid:<a@x>", "mid:<b@x>", "nul\x00key"):
        assert await store.commit(inbound=inbound(key, request_id=None)) is CommitResult.OK
    asked = ["mid:<a@x>", "mid:<c@x>", "nul\x00key", "mid:<a@x>"] + [f"k{i}" for i in range(700)]
    assert await store.inbound_seen_keys(asked) == {"mid:<a@x>", "nul\x00key"}
    assert await store.inbound_seen_keys([]) == set()


async def test_sqlite_a_write_waits_for_another_process_holding_the_lock(store, tmp_path):
    """Inline writes never wait for a lock: locked by another connection, the create goes to
    the store's thread, which waits (busy_timeout) and stores it once the lock is released."""
    if not isinstance(store, SqliteStore):
        pytest.skip("SQLite-only: the inline path")
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        create = asyncio.ensure_future(store.create_request(req(1), [rcpt()], [mail()]))
        await asyncio.sleep(0.05)
        assert not create.done()
        other.execute("COMMIT")
        await asyncio.wait_for(create, 10)
    finally:
        other.close()
    assert (await store.get_request(call_id="call-1")).id == "r1"
