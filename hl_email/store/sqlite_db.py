"""The SQLite database under `SqliteStore`: schema, one connection on one thread, and the queue.

Every operation runs on the store's one thread, so the event loop never blocks on disk. The hop to
that thread costs about as much as a small transaction itself, so operations are queued per event
loop and run in order in batches: whatever is queued when the thread is free goes over in one hop,
and the writes of a batch share one transaction (one commit), each inside a savepoint of its own
so that one failing write rolls back only itself. An operation's result is handed back only after
its transaction committed: a write that returned is stored. A crash mid-batch loses only writes
that had not returned.

Small bounded operations on the request path (creating or committing one request, the outbox's
claim and marks) run inline on the event loop when the store is idle: a WAL commit without fsync
costs less than the thread hop (the hop and its GIL hand-over were ~1 ms per request, a third of
the outbound CPU). Inline never waits for a lock: a database locked by another process, or a
batch already queued, sends the operation to the thread as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .sql import Rollback, Write, assign_ids

__all__ = ["SqliteDb"]

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
Outcome = tuple[bool, Any]  # (True, result) or (False, the exception it raised)
_BUSY_TIMEOUT_MS = 5000  # how long the thread waits for another process's write lock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL UNIQUE,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at REAL NOT NULL,
    resolved_at REAL,
    clarifications INTEGER NOT NULL DEFAULT 0,
    route TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_state ON requests(state, created_at);
CREATE TABLE IF NOT EXISTS recipients (
    request_id TEXT NOT NULL REFERENCES requests(id),
    seq INTEGER NOT NULL,
    address TEXT NOT NULL,
    field TEXT NOT NULL,
    state TEXT NOT NULL,
    reply_key TEXT NOT NULL,
    message_count INTEGER NOT NULL,
    thread TEXT NOT NULL,
    error TEXT,
    auto_replied INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (request_id, seq)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    recipient_seq INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    rcpt_to TEXT NOT NULL,
    message BLOB NOT NULL,
    message_id TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_request ON outbox(request_id);
CREATE TABLE IF NOT EXISTS inbound (
    dedupe_key TEXT PRIMARY KEY,
    message_id TEXT,
    received_at REAL NOT NULL,
    from_address TEXT,
    subject TEXT,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    request_id TEXT,
    recipient_seq INTEGER,
    raw BLOB
);
CREATE INDEX IF NOT EXISTS inbound_request ON inbound(request_id, received_at);
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    due_at REAL NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS timers_due ON timers(state, due_at);
CREATE TABLE IF NOT EXISTS checkpoints (
    mailbox TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL,
    catchup_floor INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hook_url TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    call_id TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    created_at REAL NOT NULL,
    delivered_at REAL,
    UNIQUE (hook_url, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_due ON webhook_deliveries(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS webhook_state (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""


_ADDED_COLUMNS = (
    ("requests", "route", "TEXT NOT NULL DEFAULT '{}'"),
    ("requests", "version", "INTEGER NOT NULL DEFAULT 0"),
    ("checkpoints", "catchup_floor", "INTEGER NOT NULL DEFAULT 0"),
)


class _Queue:
    """The operations one event loop has handed to the store's thread, not yet run."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Job, bool, asyncio.Future[Any]]] = []
        self.busy = False  # a batch is scheduled or on the thread


class SqliteDb:
    """Connection, thread and queue; the store's areas build on `_run` (read) and `_tx` (write)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl-email-sqlite")
        self._conn: sqlite3.Connection | None = None
        # Held while the connection is used (a batch on the thread, or an inline operation).
        self._using = threading.Lock()
        self._closing = False
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )

    def _connect(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        # Databases made by an earlier version get the columns added since (before the
        # schema script, whose indexes may name them).
        for table, column, ddl in _ADDED_COLUMNS:
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if columns and column not in columns:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
        conn.executescript(_SCHEMA)
        # 0: an inline write never waits on the event loop; the thread sets it per batch.
        conn.execute("PRAGMA busy_timeout=0")
        self._conn = conn

    async def open(self) -> None:
        self._closing = False
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._connect)

    async def close(self) -> None:
        self._closing = True  # what comes now goes over the thread, and fails once closed
        if self._conn is not None:
            await self._run(lambda _conn: None)  # what was queued before close() runs first
            conn = self._conn
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, conn.close)
            self._conn = None
        self._executor.shutdown(wait=False)

    async def ping(self) -> bool:
        try:
            return await self._run(lambda c: c.execute("SELECT 1").fetchone()[0] == 1)
        except Exception:
            return False

    # -- the queue ------------------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` on the store's thread (a read, or a write that needs no transaction)."""
        return await self._submit(fn, write=False)

    async def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` in a write transaction: all of it is stored, or (it raised) none."""
        return await self._submit(fn, write=True)

    async def _run_quick(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`_run` for a small bounded read: inline when the store is idle."""
        return await self._submit(fn, write=False, inline=True)

    async def _tx_quick(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`_tx` for a small bounded write (one request, a few outbox rows): inline when the
        store is idle, committed before this returns, as on the thread."""
        return await self._submit(fn, write=True, inline=True)

    def _submit(self, fn: Job, *, write: bool, inline: bool = False) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future = loop.create_future()
        if inline and not queue.busy and not self._closing and self._using.acquire(False):
            try:
                outcome = self._run_inline(fn, write)
            finally:
                self._using.release()
            if outcome is not None:
                ok, value = outcome
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
                return future
        queue.jobs.append((fn, write, future))
        if not queue.busy:
            queue.busy = True
            # On the next turn of the loop, so that what else is ready now joins the batch.
            loop.call_soon(self._start_batch, loop, queue)
        return future

    def _start_batch(self, loop: asyncio.AbstractEventLoop, queue: _Queue) -> None:
        # A caller cancelled before its batch started: its operation does not run.
        batch = [job for job in queue.jobs if not job[2].done()]
        queue.jobs = []
        if not batch:
            queue.busy = False
            return
        work = [(fn, write) for fn, write, _ in batch]
        try:
            running = self._executor.submit(self._run_batch, work)
        except RuntimeError as exc:  # closed: the thread is gone
            failed: ThreadFuture[list[Outcome]] = ThreadFuture()
            failed.set_exception(RuntimeError(f"store is not open ({exc})"))
            self._batch_done(loop, queue, batch, failed)
            return
        running.add_done_callback(
            lambda done: loop.call_soon_threadsafe(self._batch_done, loop, queue, batch, done)
        )

    def _batch_done(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: _Queue,
        batch: list[tuple[Job, bool, asyncio.Future[Any]]],
        done: ThreadFuture[list[Outcome]],
    ) -> None:
        try:
            outcomes = done.result()
        except BaseException as exc:  # the thread itself failed: nothing of the batch is known
            outcomes = [(False, exc)] * len(batch)
        for (_fn, _write, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if queue.jobs:
            loop.call_soon(self._start_batch, loop, queue)
        else:
            queue.busy = False

    def _run_inline(self, fn: Job, write: bool) -> Outcome | None:
        """One job on the caller's thread, in its own transaction if it writes; None (nothing
        done) when the database is locked by another process: the thread waits for it."""
        conn = self._conn
        if conn is None:
            return None
        if write:
            try:
                conn.execute("BEGIN IMMEDIATE")  # busy_timeout is 0 outside the thread's batches
            except sqlite3.OperationalError:
                return None
        try:
            outcome = _one(conn, fn, savepoint=False)
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if not isinstance(exc, Exception):
                raise
            outcome = (False, exc)
        return outcome

    def _run_batch(self, work: list[tuple[Job, bool]]) -> list[Outcome]:
        """On the thread: the jobs in order; the writes in one transaction, a savepoint each."""
        with self._using:
            conn = self._conn
            if conn is not None:
                conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            try:
                return self._run_batch_locked(work)
            finally:
                if conn is not None and self._conn is conn:
                    conn.execute("PRAGMA busy_timeout=0")

    def _run_batch_locked(self, work: list[tuple[Job, bool]]) -> list[Outcome]:
        conn = self._conn
        if conn is None:
            return [(False, RuntimeError("store is not open"))] * len(work)
        outcomes: list[Outcome] = []
        began = -1  # index of the first job inside the transaction
        savepoints = len(work) > 1
        try:
            for fn, write in work:
                if write and not conn.in_transaction:
                    try:
                        conn.execute("BEGIN IMMEDIATE")
                    except sqlite3.Error as exc:  # e.g. locked by another process
                        outcomes.append((False, exc))
                        continue
                    began = len(outcomes)
                outcomes.append(_one(conn, fn, savepoint=savepoints and conn.in_transaction))
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if began < 0 or not isinstance(exc, Exception):
                raise
            # Nothing since BEGIN is stored: every job in the transaction gets the error.
            outcomes = outcomes[:began] + [(False, exc)] * (len(work) - began)
        return outcomes

    # -- the shared writes (sql.py) ---------------------------------------------------------------

    @staticmethod
    def _apply(conn: sqlite3.Connection, writes: list[Write]) -> list[tuple[Any, int]]:
        """Run `writes` inside the current transaction; the (row, id) pairs to assign after
        commit. Raises `Rollback` when a write that must change a row changed none."""
        assigned: list[tuple[Any, int]] = []
        for write in writes:
            if isinstance(write.args, list):
                conn.executemany(write.sql, write.args)
                continue
            cursor = conn.execute(write.sql, write.args)
            if write.assigns is not None:
                assigned.append((write.assigns, cursor.fetchone()[0]))
            elif write.unchanged is not None and cursor.rowcount == 0:
                raise Rollback(write.unchanged)
        return assigned

    async def _write(self, writes: list[Write]) -> None:
        """`writes` in one transaction; rows get their ids once it committed."""
        assign_ids(await self._tx_quick(lambda conn: self._apply(conn, writes)))


def _one(conn: sqlite3.Connection, fn: Job, *, savepoint: bool) -> Outcome:
    """One job; when it fails, what it wrote is undone (its savepoint, or its transaction)."""
    if savepoint:
        conn.execute("SAVEPOINT job")
    try:
        value = fn(conn)
    except Exception as exc:
        if savepoint:
            conn.execute("ROLLBACK TO job")
            conn.execute("RELEASE job")
        elif conn.in_transaction:
            conn.execute("ROLLBACK")
        return (False, exc)
    if savepoint:
        conn.execute("RELEASE job")
    return (True, value)
