"""The SQL both stores share: row mapping, the writes of `create_request` and `commit`, dialects.

* Rows as the databases return them (any mapping by column name) → the store's dataclasses; both
  stores keep JSON as text and raw mail as bytes.
* `create_writes` and `commit_writes` spell out, once, the statements of the two transactions that
  change a request (the request row, the versioned update, recipient upserts, outbox rows, timers,
  the inbound record); each store runs the list in one transaction of its own.
* Dialects: statements are written with `?` placeholders; `dollar()` turns them into `$1…` for
  PostgreSQL, whose text columns also cannot hold NUL (`nul_free`).
* `fetch`/`execute`: plain SQL over either store for operator tools (metrics, retention), reading
  or changing only columns both schemas share. The Store protocol stays the gateway's contract;
  this is the side door for operations, kept in one place.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .base import (
    CommitResult,
    InboundRecord,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    TimerRow,
    WebhookRow,
)

__all__ = [
    "Rollback",
    "assign_ids",
    "same_text",
    "Text",
    "Write",
    "as_float",
    "commit_writes",
    "create_writes",
    "dollar",
    "execute",
    "fetch",
    "inbound_from_row",
    "nul_free",
    "outbox_from_row",
    "recipient_from_row",
    "request_from_row",
    "rows_affected",
    "timer_from_row",
    "webhook_from_row",
]

# -- rows → dataclasses ----------------------------------------------------------------------------


def request_from_row(row: Mapping[str, Any]) -> RequestRow:
    return RequestRow(
        id=row["id"],
        call_id=row["call_id"],
        run_id=row["run_id"],
        kind=row["kind"],
        spec=json.loads(row["spec"]),
        status=json.loads(row["status"]),
        state=row["state"],
        subject=row["subject"],
        created_at=row["created_at"],
        resolved_at=row["resolved_at"],
        clarifications=row["clarifications"],
        route=json.loads(row["route"] or "{}"),
        version=row["version"],
    )


def recipient_from_row(row: Mapping[str, Any]) -> RecipientRow:
    return RecipientRow(
        request_id=row["request_id"],
        seq=row["seq"],
        address=row["address"],
        field=row["field"],
        state=row["state"],
        reply_key=row["reply_key"],
        message_count=row["message_count"],
        thread=json.loads(row["thread"]),
        error=row["error"],
        auto_replied=bool(row["auto_replied"]),
    )


def outbox_from_row(row: Mapping[str, Any]) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        request_id=row["request_id"],
        recipient_seq=row["recipient_seq"],
        purpose=row["purpose"],
        mail_from=row["mail_from"],
        rcpt_to=json.loads(row["rcpt_to"]),
        message=bytes(row["message"]),
        message_id=row["message_id"],
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )


def inbound_from_row(row: Mapping[str, Any]) -> InboundRecord:
    return InboundRecord(
        dedupe_key=row["dedupe_key"],
        message_id=row["message_id"],
        received_at=row["received_at"],
        from_address=row["from_address"],
        subject=row["subject"],
        outcome=row["outcome"],
        detail=row["detail"],
        request_id=row["request_id"],
        recipient_seq=row["recipient_seq"],
        raw=bytes(row["raw"]) if row["raw"] is not None else None,
    )


def timer_from_row(row: Mapping[str, Any]) -> TimerRow:
    return TimerRow(
        id=row["id"],
        request_id=row["request_id"],
        kind=row["kind"],
        due_at=row["due_at"],
        payload=json.loads(row["payload"]),
        state=row["state"],
    )


def webhook_from_row(row: Mapping[str, Any]) -> WebhookRow:
    return WebhookRow(
        id=row["id"],
        hook_url=row["hook_url"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        call_id=row["call_id"],
        body=bytes(row["body"]),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
    )


# -- dialects --------------------------------------------------------------------------------------

Text = Callable[[str | None], str | None]
"""How a dialect stores a text value: SQLite as it is, PostgreSQL without NUL (`nul_free`)."""


def same_text(value: str | None) -> str | None:
    return value


def nul_free(value: str | None) -> str | None:
    """Text for a PostgreSQL text column, which cannot hold NUL: NUL becomes U+FFFD."""
    if value is None or "\x00" not in value:
        return value
    return value.replace("\x00", "\ufffd")


def as_float(value: float | None) -> float | None:
    return None if value is None else float(value)


@functools.lru_cache(maxsize=512)
def dollar(sql: str) -> str:
    """`?` placeholders → PostgreSQL's `$1…` (no statement here has a `?` inside a literal)."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", sql)


def rows_affected(status: str) -> int:
    """The row count from a PostgreSQL command tag: 'UPDATE 1', 'INSERT 0 1'."""
    tail = str(status).rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


# -- the writes of create_request and commit -------------------------------------------------------


class Rollback(Exception):
    """Raised inside a transaction to roll it back when a precondition no longer holds."""

    def __init__(self, result: CommitResult) -> None:
        super().__init__(result.value)
        self.result = result


@dataclass(frozen=True)
class Write:
    """One statement of a transaction, `?` placeholders.

    `args` is one tuple, or a list of tuples for one executemany. When `unchanged` is set and the
    statement changes no row, the transaction is rolled back with that result. When `assigns` is
    set the statement ends in `RETURNING id`, and that row gets the id once the transaction is
    committed (never from a rolled-back one).
    """

    sql: str
    args: tuple[Any, ...] | list[tuple[Any, ...]]
    unchanged: CommitResult | None = None
    assigns: OutboxRow | TimerRow | None = None


_INSERT_REQUEST = (
    "INSERT INTO requests (id, call_id, run_id, kind, spec, status, state, subject,"
    " created_at, resolved_at, clarifications, route) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT (call_id) DO NOTHING"
)
_UPSERT_RECIPIENT = (
    "INSERT INTO recipients (request_id, seq, address, field, state, reply_key,"
    " message_count, thread, error, auto_replied) VALUES (?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT (request_id, seq) DO UPDATE SET state = excluded.state,"
    " message_count = excluded.message_count, thread = excluded.thread,"
    " error = excluded.error, auto_replied = excluded.auto_replied"
)
_INSERT_OUTBOX = (
    "INSERT INTO outbox (request_id, recipient_seq, purpose, mail_from, rcpt_to, message,"
    " message_id, state, attempts, next_attempt_at, last_error, created_at, sent_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id"
)
_INSERT_TIMER = (
    "INSERT INTO timers (request_id, kind, due_at, payload, state) VALUES (?,?,?,?,?) RETURNING id"
)
_INSERT_INBOUND = (
    "INSERT INTO inbound (dedupe_key, message_id, received_at, from_address, subject, outcome,"
    " detail, request_id, recipient_seq, raw) VALUES (?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT (dedupe_key) DO NOTHING"
)
_TIMER_DONE = "UPDATE timers SET state = 'done' WHERE id = ? AND state = 'pending'"
_OUTBOX_FAILED = (
    "UPDATE outbox SET state = 'failed', last_error = ?, attempts = attempts + 1 WHERE id = ?"
)


def _insert_request(r: RequestRow, text: Text) -> Write:
    values = (
        r.id,
        r.call_id,
        r.run_id,
        r.kind,
        json.dumps(r.spec),
        json.dumps(r.status),
        r.state,
        text(r.subject),
        as_float(r.created_at),
        as_float(r.resolved_at),
        r.clarifications,
        json.dumps(r.route),
    )
    # A call_id already stored: nothing of the request is written (create_request raises).
    return Write(_INSERT_REQUEST, values, unchanged=CommitResult.DUPLICATE)


def _upsert_recipients(rows: list[RecipientRow], text: Text) -> list[Write]:
    if not rows:
        return []
    values = [
        (
            r.request_id,
            r.seq,
            text(r.address),
            r.field,
            r.state,
            text(r.reply_key),
            r.message_count,
            json.dumps(r.thread),
            text(r.error),
            bool(r.auto_replied),
        )
        for r in rows
    ]
    return [Write(_UPSERT_RECIPIENT, values)]


def _insert_outbox(rows: list[OutboxRow], text: Text) -> list[Write]:
    return [
        Write(
            _INSERT_OUTBOX,
            (
                row.request_id,
                row.recipient_seq,
                text(row.purpose),
                text(row.mail_from),
                json.dumps(row.rcpt_to),
                bytes(row.message),
                text(row.message_id),
                row.state,
                row.attempts,
                as_float(row.next_attempt_at),
                text(row.last_error),
                as_float(row.created_at),
                as_float(row.sent_at),
            ),
            assigns=row,
        )
        for row in rows
    ]


def _insert_timers(rows: list[TimerRow]) -> list[Write]:
    return [
        Write(
            _INSERT_TIMER,
            (row.request_id, row.kind, as_float(row.due_at), json.dumps(row.payload), row.state),
            assigns=row,
        )
        for row in rows
    ]


def _insert_inbound(record: InboundRecord, text: Text) -> Write:
    values = (
        text(record.dedupe_key),
        text(record.message_id),
        as_float(record.received_at),
        text(record.from_address),
        text(record.subject),
        text(record.outcome),
        text(record.detail),
        record.request_id,
        record.recipient_seq,
        None if record.raw is None else bytes(record.raw),
    )
    return Write(_INSERT_INBOUND, values, unchanged=CommitResult.DUPLICATE)


def _update_request(update: RequestUpdate) -> list[Write]:
    """The versioned update: it applies only while the request is in the expected state (and
    version), and bumps the version."""
    sets: list[str] = []
    args: list[Any] = []
    if update.status is not None:
        sets.append("status = ?")
        args.append(json.dumps(update.status))
    if update.state is not None:
        sets.append("state = ?")
        args.append(update.state)
    if update.resolved_at is not None:
        sets.append("resolved_at = ?")
        args.append(float(update.resolved_at))
    if update.clarifications is not None:
        sets.append("clarifications = ?")
        args.append(update.clarifications)
    if not sets and update.expect_version is None:
        return []  # nothing to set and no version to check: checks nothing
    sets.append("version = version + 1")
    where = "id = ?"
    args.append(update.request_id)
    if update.expect_state is not None:
        where += " AND state = ?"
        args.append(update.expect_state)
    if update.expect_version is not None:
        where += " AND version = ?"
        args.append(update.expect_version)
    sql = f"UPDATE requests SET {', '.join(sets)} WHERE {where}"
    return [Write(sql, tuple(args), unchanged=CommitResult.CONFLICT)]


def create_writes(
    request: RequestRow,
    recipients: list[RecipientRow],
    outbox: list[OutboxRow],
    timers: list[TimerRow] | None,
    *,
    text: Text = same_text,
) -> list[Write]:
    """A new request with its recipients, first emails and timers."""
    return [
        _insert_request(request, text),
        *_upsert_recipients(recipients, text),
        *_insert_outbox(outbox, text),
        *_insert_timers(timers or []),
    ]


def commit_writes(
    *,
    inbound: InboundRecord | None = None,
    request: RequestUpdate | None = None,
    recipients: list[RecipientRow] | None = None,
    outbox: list[OutboxRow] | None = None,
    outbox_failed: tuple[int, str] | None = None,
    timers: list[TimerRow] | None = None,
    timer_done: int | None = None,
    text: Text = same_text,
) -> list[Write]:
    """The statements of `Store.commit`, in order; see there for what each argument means."""
    writes: list[Write] = []
    if inbound is not None:
        writes.append(_insert_inbound(inbound, text))
    if request is not None:
        writes += _update_request(request)
    writes += _upsert_recipients(recipients or [], text)
    writes += _insert_outbox(outbox or [], text)
    writes += _insert_timers(timers or [])
    if timer_done is not None:
        writes.append(Write(_TIMER_DONE, (timer_done,), unchanged=CommitResult.CONFLICT))
    if outbox_failed is not None:
        writes.append(Write(_OUTBOX_FAILED, (text(outbox_failed[1]), outbox_failed[0])))
    return writes


def assign_ids(assigned: list[tuple[OutboxRow | TimerRow, int]]) -> None:
    """Give inserted rows their ids, once their transaction is committed."""
    for row, row_id in assigned:
        row.id = row_id


# -- the operator side door (metrics, retention) ---------------------------------------------------


def _is_postgres(store: Any) -> bool:
    return type(store).__name__ == "PostgresStore"


async def fetch(store: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of a read-only query, as tuples."""
    if _is_postgres(store):
        rows = await store.pool.fetch(dollar(sql), *args)
        return [tuple(r.values()) for r in rows]
    return await store._run(lambda conn: [tuple(r) for r in conn.execute(sql, args).fetchall()])


async def execute(store: Any, sql: str, *args: Any) -> int:
    """Run one changing statement in its own transaction; returns the number of rows changed."""
    if _is_postgres(store):
        return rows_affected(await store.pool.execute(dollar(sql), *args))
    return await store._tx(lambda conn: conn.execute(sql, args).rowcount)
