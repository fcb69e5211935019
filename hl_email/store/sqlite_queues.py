"""The SQLite store's queues: the outbox, timers and the webhook queue.

One gateway uses one SQLite file, and each queue has one worker in it: a claim is simply the due
rows (owner and lease, which PostgreSQL needs between gateways, have nothing to do here).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from .base import OutboxRow, TimerRow, WebhookRow
from .sql import outbox_from_row, timer_from_row, webhook_from_row
from .sqlite_db import SqliteDb

__all__ = ["SqliteQueues"]


def _not_in(ids: Collection[int]) -> tuple[str, tuple[int, ...]]:
    """An ` AND id NOT IN (?, …)` clause and its parameters; nothing for no ids."""
    if not ids:
        return "", ()
    values = tuple(int(i) for i in ids)
    return f" AND id NOT IN ({', '.join('?' * len(values))})", values


class SqliteQueues(SqliteDb):
    """Outbox, timers and webhook deliveries."""

    # -- outbox ------------------------------------------------------------------------------------

    async def due_outbox(self, now: float, limit: int = 50) -> list[OutboxRow]:
        return await self._due_outbox(now, limit, ())

    async def _due_outbox(
        self, now: float, limit: int, exclude: Collection[int]
    ) -> list[OutboxRow]:
        skip, ids = _not_in(exclude)

        def q(conn: sqlite3.Connection) -> list[OutboxRow]:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?"
                f"{skip} ORDER BY next_attempt_at, id LIMIT ?",
                (now, *ids, limit),
            )
            return [outbox_from_row(r) for r in rows]

        return await self._run_quick(q)

    async def claim_outbox(
        self,
        now: float,
        *,
        owner: str,
        lease: float,
        limit: int = 50,
        exclude: Collection[int] = (),
    ) -> list[OutboxRow]:
        # One gateway per SQLite file, one outbox worker per gateway: due rows are its own.
        return await self._due_outbox(now, limit, exclude)

    async def renew_outbox(self, ids: list[int], *, owner: str, until: float) -> None:
        return None

    async def next_outbox_due(self, exclude: Collection[int] = ()) -> float | None:
        skip, ids = _not_in(exclude)

        def q(conn: sqlite3.Connection) -> float | None:
            row = conn.execute(
                f"SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'{skip}", ids
            ).fetchone()
            return row[0]

        return await self._run_quick(q)

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

        await self._tx_quick(tx)

    async def outbox_retry(self, outbox_id: int, attempts: int, next_at: float, error: str) -> None:
        await self._tx_quick(
            lambda conn: conn.execute(
                "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                (attempts, next_at, error, outbox_id),
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

    # -- timers ------------------------------------------------------------------------------------

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

    # -- webhook queue -----------------------------------------------------------------------------

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
