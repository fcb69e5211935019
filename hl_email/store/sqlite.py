"""SQLite (WAL) store, the embedded default: one writer thread, every operation one transaction."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .base import (
    ChangeListener,
    Checkpoint,
    CommitResult,
    DuplicateCallError,
    InboundRecord,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    TimerRow,
    WebhookRow,
)
from .rows import (
    inbound_from_row,
    outbox_from_row,
    recipient_from_row,
    request_from_row,
    timer_from_row,
    webhook_from_row,
)

__all__ = ["SqliteStore"]

T = TypeVar("T")

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


class _OneProcess:
    """Leadership with an embedded store: the one gateway on it always leads."""

    def __init__(self) -> None:
        self.lost = asyncio.Event()

    async def acquire(self) -> None:
        self.lost = asyncio.Event()

    async def release(self) -> None:
        return None


class _Conflict(Exception):
    """Raised inside a transaction to roll it back when a precondition no longer holds."""

    def __init__(self, result: CommitResult) -> None:
        super().__init__(result.value)
        self.result = result


class SqliteStore:
    """All SQL runs on one dedicated thread, so the event loop never blocks on disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl-email-sqlite")
        self._conn: sqlite3.Connection | None = None

    # -- plumbing -------------------------------------------------------------------------------

    def _connect(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA foreign_keys=ON")
        # Databases made by an earlier version get the columns added since (before the
        # schema script, whose indexes may name them).
        for table, column, ddl in _ADDED_COLUMNS:
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if columns and column not in columns:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
        conn.executescript(_SCHEMA)
        self._conn = conn

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()

        def call() -> T:
            if self._conn is None:
                raise RuntimeError("store is not open")
            return fn(self._conn)

        return await loop.run_in_executor(self._executor, call)

    async def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._run(call)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._connect)

    async def close(self) -> None:
        if self._conn is not None:
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

    # -- requests -------------------------------------------------------------------------------

    @staticmethod
    def _insert_outbox(conn: sqlite3.Connection, rows: list[OutboxRow]) -> None:
        for row in rows:
            cursor = conn.execute(
                "INSERT INTO outbox (request_id, recipient_seq, purpose, mail_from, rcpt_to, message,"
                " message_id, state, attempts, next_attempt_at, last_error, created_at, sent_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.request_id,
                    row.recipient_seq,
                    row.purpose,
                    row.mail_from,
                    json.dumps(row.rcpt_to),
                    row.message,
                    row.message_id,
                    row.state,
                    row.attempts,
                    row.next_attempt_at,
                    row.last_error,
                    row.created_at,
                    row.sent_at,
                ),
            )
            row.id = cursor.lastrowid

    @staticmethod
    def _insert_timers(conn: sqlite3.Connection, rows: list[TimerRow]) -> None:
        for row in rows:
            cursor = conn.execute(
                "INSERT INTO timers (request_id, kind, due_at, payload, state) VALUES (?,?,?,?,?)",
                (row.request_id, row.kind, row.due_at, json.dumps(row.payload), row.state),
            )
            row.id = cursor.lastrowid

    @staticmethod
    def _upsert_recipients(conn: sqlite3.Connection, rows: list[RecipientRow]) -> None:
        for r in rows:
            conn.execute(
                "INSERT INTO recipients (request_id, seq, address, field, state, reply_key,"
                " message_count, thread, error, auto_replied) VALUES (?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(request_id, seq) DO UPDATE SET state=excluded.state,"
                " message_count=excluded.message_count, thread=excluded.thread,"
                " error=excluded.error, auto_replied=excluded.auto_replied",
                (
                    r.request_id,
                    r.seq,
                    r.address,
                    r.field,
                    r.state,
                    r.reply_key,
                    r.message_count,
                    json.dumps(r.thread),
                    r.error,
                    int(r.auto_replied),
                ),
            )

    async def create_request(
        self,
        request: RequestRow,
        recipients: list[RecipientRow],
        outbox: list[OutboxRow],
        timers: list[TimerRow] | None = None,
    ) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            if conn.execute(
                "SELECT 1 FROM requests WHERE call_id = ?", (request.call_id,)
            ).fetchone():
                raise DuplicateCallError(request.call_id)
            conn.execute(
                "INSERT INTO requests (id, call_id, run_id, kind, spec, status, state, subject,"
                " created_at, resolved_at, clarifications, route) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    request.id,
                    request.call_id,
                    request.run_id,
                    request.kind,
                    json.dumps(request.spec),
                    json.dumps(request.status),
                    request.state,
                    request.subject,
                    request.created_at,
                    request.resolved_at,
                    request.clarifications,
                    json.dumps(request.route),
                ),
            )
            self._upsert_recipients(conn, recipients)
            self._insert_outbox(conn, outbox)
            self._insert_timers(conn, timers or [])

        await self._tx(tx)

    async def get_request(
        self, *, call_id: str | None = None, id: str | None = None
    ) -> RequestRow | None:
        if call_id is not None:
            query, arg = "SELECT * FROM requests WHERE call_id = ?", call_id
        elif id is not None:
            query, arg = "SELECT * FROM requests WHERE id = ?", id
        else:
            raise ValueError("get_request needs call_id or id")

        def q(conn: sqlite3.Connection) -> RequestRow | None:
            row = conn.execute(query, (arg,)).fetchone()
            return request_from_row(row) if row else None

        return await self._run(q)

    async def list_requests(self, *, state: str | None = None, limit: int = 50) -> list[RequestRow]:
        def q(conn: sqlite3.Connection) -> list[RequestRow]:
            if state:
                rows = conn.execute(
                    "SELECT * FROM requests WHERE state = ? ORDER BY created_at DESC LIMIT ?",
                    (state, limit),
                )
            else:
                rows = conn.execute(
                    "SELECT * FROM requests ORDER BY created_at DESC LIMIT ?", (limit,)
                )
            return [request_from_row(r) for r in rows]

        return await self._run(q)

    async def get_recipients(self, request_id: str) -> list[RecipientRow]:
        def q(conn: sqlite3.Connection) -> list[RecipientRow]:
            rows = conn.execute(
                "SELECT * FROM recipients WHERE request_id = ? ORDER BY seq", (request_id,)
            )
            return [recipient_from_row(r) for r in rows]

        return await self._run(q)

    # -- outbox ---------------------------------------------------------------------------------

    async def due_outbox(self, now: float, limit: int = 50) -> list[OutboxRow]:
        def q(conn: sqlite3.Connection) -> list[OutboxRow]:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?",
                (now, limit),
            )
            return [outbox_from_row(r) for r in rows]

        return await self._run(q)

    async def claim_outbox(
        self, now: float, *, owner: str, lease: float, limit: int = 50
    ) -> list[OutboxRow]:
        # One gateway per SQLite file, one outbox worker per gateway: due rows are its own.
        return await self.due_outbox(now, limit)

    async def renew_outbox(self, ids: list[int], *, owner: str, until: float) -> None:
        return None

    async def next_outbox_due(self) -> float | None:
        def q(conn: sqlite3.Connection) -> float | None:
            row = conn.execute(
                "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'"
            ).fetchone()
            return row[0]

        return await self._run(q)

    async def outbox_for_request(self, request_id: str) -> list[OutboxRow]:
        def q(conn: sqlite3.Connection) -> list[OutboxRow]:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE request_id = ? ORDER BY id", (request_id,)
            )
            return [outbox_from_row(r) for r in rows]

        return await self._run(q)

    async def outbox_sent(self, outbox_id: int, now: float) -> None:
        await self.outbox_sent_many([(outbox_id, now)])

    async def outbox_sent_many(self, sent: list[tuple[int, float]]) -> None:
        """Mark several delivered rows sent, (id, sent_at) each, in one transaction."""

        def tx(conn: sqlite3.Connection) -> None:
            for outbox_id, now in sent:
                row = conn.execute(
                    "SELECT request_id, recipient_seq FROM outbox WHERE id = ?", (outbox_id,)
                ).fetchone()
                conn.execute(
                    "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
                    " last_error = NULL WHERE id = ?",
                    (now, outbox_id),
                )
                if row is not None:
                    conn.execute(
                        "UPDATE recipients SET state = 'sent' WHERE request_id = ? AND seq = ?"
                        " AND state = 'pending'",
                        (row["request_id"], row["recipient_seq"]),
                    )

        await self._tx(tx)

    async def outbox_retry(self, outbox_id: int, attempts: int, next_at: float, error: str) -> None:
        await self._tx(
            lambda conn: conn.execute(
                "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                (attempts, next_at, error, outbox_id),
            )
        )

    # -- the one transaction that applies an outcome ----------------------------------------------

    async def commit(
        self,
        *,
        inbound: InboundRecord | None = None,
        request: RequestUpdate | None = None,
        recipients: list[RecipientRow] | None = None,
        outbox: list[OutboxRow] | None = None,
        outbox_failed: tuple[int, str] | None = None,
        timers: list[TimerRow] | None = None,
        timer_done: int | None = None,
    ) -> CommitResult:
        """Apply everything or nothing; False when the inbound message was already recorded or
        the request was no longer in the expected state."""

        def tx(conn: sqlite3.Connection) -> None:
            if inbound is not None:
                cursor = conn.execute(
                    "INSERT INTO inbound (dedupe_key, message_id, received_at,"
                    " from_address, subject, outcome, detail, request_id, recipient_seq, raw)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(dedupe_key) DO NOTHING",
                    (
                        inbound.dedupe_key,
                        inbound.message_id,
                        inbound.received_at,
                        inbound.from_address,
                        inbound.subject,
                        inbound.outcome,
                        inbound.detail,
                        inbound.request_id,
                        inbound.recipient_seq,
                        inbound.raw,
                    ),
                )
                if cursor.rowcount == 0:
                    raise _Conflict(CommitResult.DUPLICATE)
            if request is not None:
                sets: list[str] = []
                args: list[Any] = []
                if request.status is not None:
                    sets.append("status = ?")
                    args.append(json.dumps(request.status))
                if request.state is not None:
                    sets.append("state = ?")
                    args.append(request.state)
                if request.resolved_at is not None:
                    sets.append("resolved_at = ?")
                    args.append(request.resolved_at)
                if request.clarifications is not None:
                    sets.append("clarifications = ?")
                    args.append(request.clarifications)
                if sets or request.expect_version is not None:
                    sets.append("version = version + 1")
                    where = "id = ?"
                    args.append(request.request_id)
                    if request.expect_state is not None:
                        where += " AND state = ?"
                        args.append(request.expect_state)
                    if request.expect_version is not None:
                        where += " AND version = ?"
                        args.append(request.expect_version)
                    cursor = conn.execute(
                        f"UPDATE requests SET {', '.join(sets)} WHERE {where}", args
                    )
                    if cursor.rowcount == 0:
                        raise _Conflict(CommitResult.CONFLICT)
            if recipients:
                self._upsert_recipients(conn, recipients)
            if outbox:
                self._insert_outbox(conn, outbox)
            if timers:
                self._insert_timers(conn, timers)
            if timer_done is not None:
                cursor = conn.execute(
                    "UPDATE timers SET state = 'done' WHERE id = ? AND state = 'pending'",
                    (timer_done,),
                )
                if cursor.rowcount == 0:
                    raise _Conflict(CommitResult.CONFLICT)
            if outbox_failed is not None:
                conn.execute(
                    "UPDATE outbox SET state = 'failed', last_error = ?, attempts = attempts + 1"
                    " WHERE id = ?",
                    (outbox_failed[1], outbox_failed[0]),
                )

        try:
            await self._tx(tx)
        except _Conflict as conflict:
            return conflict.result
        return CommitResult.OK

    async def inbound_seen(self, dedupe_key: str) -> bool:
        return await self._run(
            lambda conn: (
                conn.execute("SELECT 1 FROM inbound WHERE dedupe_key = ?", (dedupe_key,)).fetchone()
                is not None
            )
        )

    async def inbound_seen_keys(self, dedupe_keys: list[str]) -> set[str]:
        keys = list(dict.fromkeys(dedupe_keys))

        def q(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(keys), 500):  # under SQLite's bound-parameter limit
                batch = keys[start : start + 500]
                marks = ",".join("?" * len(batch))
                found.update(
                    row[0]
                    for row in conn.execute(
                        f"SELECT dedupe_key FROM inbound WHERE dedupe_key IN ({marks})", batch
                    )
                )
            return found

        return await self._run(q) if keys else set()

    async def list_inbound(
        self, *, request_id: str | None = None, limit: int = 50
    ) -> list[InboundRecord]:
        def q(conn: sqlite3.Connection) -> list[InboundRecord]:
            if request_id is not None:
                rows = conn.execute(
                    "SELECT * FROM inbound WHERE request_id = ? ORDER BY received_at DESC LIMIT ?",
                    (request_id, limit),
                )
            else:
                rows = conn.execute(
                    "SELECT * FROM inbound ORDER BY received_at DESC LIMIT ?", (limit,)
                )
            return [inbound_from_row(r) for r in rows]

        return await self._run(q)

    async def thread_messages(self, message_ids: list[str]) -> list[tuple[float, bytes]]:
        ids = list(dict.fromkeys(message_ids))[:100]
        if not ids:
            return []

        def q(conn: sqlite3.Connection) -> list[tuple[float, bytes]]:
            marks = ",".join("?" * len(ids))
            found = [
                (r[0], bytes(r[1]))
                for r in conn.execute(
                    f"SELECT received_at, raw FROM inbound WHERE message_id IN ({marks})"
                    " AND raw IS NOT NULL",
                    ids,
                )
            ]
            found += [
                (r[0], bytes(r[1]))
                for r in conn.execute(
                    f"SELECT COALESCE(sent_at, created_at), message FROM outbox"
                    f" WHERE message_id IN ({marks}) AND state = 'sent'",
                    ids,
                )
            ]
            return sorted(found, key=lambda item: item[0])

        return await self._run(q)

    # -- timers ---------------------------------------------------------------------------------

    async def due_timers(self, now: float, limit: int = 100) -> list[TimerRow]:
        def q(conn: sqlite3.Connection) -> list[TimerRow]:
            rows = conn.execute(
                "SELECT * FROM timers WHERE state = 'pending' AND due_at <= ?"
                " ORDER BY due_at, id LIMIT ?",
                (now, limit),
            )
            return [timer_from_row(r) for r in rows]

        return await self._run(q)

    async def claim_timers(
        self, now: float, *, owner: str, lease: float, limit: int = 100
    ) -> list[TimerRow]:
        return await self.due_timers(now, limit)

    async def next_timer_due(self) -> float | None:
        return await self._run(
            lambda conn: conn.execute(
                "SELECT MIN(due_at) FROM timers WHERE state = 'pending'"
            ).fetchone()[0]
        )

    async def cancel_timers(self, request_id: str) -> None:
        await self._tx(
            lambda conn: conn.execute(
                "UPDATE timers SET state = 'cancelled' WHERE request_id = ? AND state = 'pending'",
                (request_id,),
            )
        )

    # -- IMAP checkpoint ------------------------------------------------------------------------

    async def get_checkpoint(self, mailbox: str) -> Checkpoint | None:
        def q(conn: sqlite3.Connection) -> Checkpoint | None:
            row = conn.execute("SELECT * FROM checkpoints WHERE mailbox = ?", (mailbox,)).fetchone()
            if row is None:
                return None
            return Checkpoint(
                row["mailbox"], row["uidvalidity"], row["last_uid"], row["catchup_floor"]
            )

        return await self._run(q)

    async def set_checkpoint(self, checkpoint: Checkpoint) -> None:
        await self._tx(
            lambda conn: conn.execute(
                "INSERT INTO checkpoints (mailbox, uidvalidity, last_uid, catchup_floor)"
                " VALUES (?,?,?,?) ON CONFLICT(mailbox) DO UPDATE SET"
                " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
                " catchup_floor = excluded.catchup_floor",
                (
                    checkpoint.mailbox,
                    checkpoint.uidvalidity,
                    checkpoint.last_uid,
                    checkpoint.catchup_floor,
                ),
            )
        )

    async def outbox_retry_now(self, now: float) -> int:
        def tx(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending'"
                " AND next_attempt_at > ? AND attempts > 0",
                (now, now),
            )
            return cursor.rowcount

        return await self._tx(tx)

    # -- named secrets (sealed OAuth2 refresh tokens) ----------------------------------------------

    _SECRETS_DDL = (
        "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL,"
        " updated_at REAL NOT NULL)"
    )

    async def get_secret(self, name: str) -> bytes | None:
        def q(conn: sqlite3.Connection) -> bytes | None:
            conn.execute(self._SECRETS_DDL)
            row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
            return bytes(row["value"]) if row else None

        return await self._run(q)

    async def set_secret(self, name: str, value: bytes) -> None:
        def q(conn: sqlite3.Connection) -> None:
            conn.execute(self._SECRETS_DDL)
            conn.execute(
                "INSERT INTO secrets (name, value, updated_at) VALUES (?,?,?)"
                " ON CONFLICT(name) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (name, value, time.time()),
            )

        await self._tx(q)

    async def swap_checkpoint(self, expected: Checkpoint | None, new: Checkpoint) -> bool:
        def tx(conn: sqlite3.Connection) -> bool:
            values = (new.uidvalidity, new.last_uid, new.catchup_floor)
            if expected is None:
                cursor = conn.execute(
                    "INSERT INTO checkpoints (mailbox, uidvalidity, last_uid, catchup_floor)"
                    " VALUES (?,?,?,?) ON CONFLICT(mailbox) DO NOTHING",
                    (new.mailbox, *values),
                )
            else:
                cursor = conn.execute(
                    "UPDATE checkpoints SET uidvalidity = ?, last_uid = ?, catchup_floor = ?"
                    " WHERE mailbox = ? AND uidvalidity = ? AND last_uid = ?"
                    " AND catchup_floor = ?",
                    (
                        *values,
                        new.mailbox,
                        expected.uidvalidity,
                        expected.last_uid,
                        expected.catchup_floor,
                    ),
                )
            return cursor.rowcount == 1

        return await self._tx(tx)

    # -- coordination: one gateway per SQLite file, so there is nobody to coordinate with --------

    def leadership(self, name: str) -> _OneProcess:
        return _OneProcess()

    async def publish_change(self, call_id: str, state: str) -> None:
        return None

    async def listen_changes(self, listener: ChangeListener) -> None:
        return None

    # -- webhook queue ----------------------------------------------------------------------------

    async def enqueue_webhooks(
        self, rows: list[WebhookRow], *, high_water: float | None = None
    ) -> int:
        def tx(conn: sqlite3.Connection) -> int:
            added = 0
            for row in rows:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO webhook_deliveries (hook_url, event_id, event_type,"
                    " call_id, body, state, attempts, next_attempt_at, created_at)"
                    " VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
                    (
                        row.hook_url,
                        row.event_id,
                        row.event_type,
                        row.call_id,
                        row.body,
                        row.next_attempt_at,
                        row.created_at,
                    ),
                )
                added += cursor.rowcount
            if high_water is not None:
                conn.execute(
                    "INSERT INTO webhook_state (key, value) VALUES ('high_water', ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
                    (high_water,),
                )
            return added

        return await self._tx(tx)

    async def webhook_high_water(self, initial: float) -> float | None:
        def tx(conn: sqlite3.Connection) -> float | None:
            mark = conn.execute(
                "SELECT value FROM webhook_state WHERE key = 'high_water'"
            ).fetchone()
            if mark is not None:
                return float(mark[0])
            conn.execute(
                "INSERT INTO webhook_state (key, value) VALUES ('high_water', ?)", (initial,)
            )
            return None

        return await self._tx(tx)

    async def resolved_since(self, since: float) -> list[str]:
        def q(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT call_id FROM requests WHERE state IN ('done', 'failed')"
                " AND resolved_at >= ? ORDER BY resolved_at",
                (since,),
            ).fetchall()
            return [r[0] for r in rows]

        return await self._run(q)

    async def claim_webhooks(
        self, now: float, *, owner: str, lease: float, limit: int = 50
    ) -> list[WebhookRow]:
        def q(conn: sqlite3.Connection) -> list[WebhookRow]:
            rows = conn.execute(
                "SELECT * FROM webhook_deliveries WHERE state = 'pending'"
                " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                (now, limit),
            )
            return [webhook_from_row(r) for r in rows]

        return await self._run(q)

    async def next_webhook_due(self) -> float | None:
        return await self._run(
            lambda conn: conn.execute(
                "SELECT min(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'"
            ).fetchone()[0]
        )

    async def webhook_attempted(
        self,
        webhook_id: int,
        *,
        state: str,
        attempts: int,
        next_at: float,
        error: str | None,
        delivered_at: float | None = None,
    ) -> None:
        await self._tx(
            lambda conn: conn.execute(
                "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?,"
                " last_error = ?, delivered_at = ? WHERE id = ?",
                (state, attempts, next_at, error, delivered_at, webhook_id),
            )
        )

    async def list_webhooks(self) -> list[WebhookRow]:
        def q(conn: sqlite3.Connection) -> list[WebhookRow]:
            rows = conn.execute("SELECT * FROM webhook_deliveries ORDER BY id")
            return [webhook_from_row(r) for r in rows]

        return await self._run(q)
