"""The PostgreSQL store's queues: the outbox, timers and the webhook queue, claimed with leases.

Each gateway sharing the database claims due rows for a while (owner, lease expiry); an expired
lease is taken over, so exactly one gateway works a row at a time.
"""

from __future__ import annotations

from collections.abc import Collection

from .base import OutboxRow, TimerRow, WebhookRow
from .postgres_db import PgDb
from .sql import (
    as_float,
    nul_free,
    outbox_from_row,
    rows_affected,
    timer_from_row,
    webhook_from_row,
)

__all__ = ["PgQueues"]

# A claim takes due rows nobody holds (or whose holder's lease ran out). SKIP LOCKED: two
# gateways claiming at the same moment take different rows instead of waiting for each other.
# An outbox row also waits while an earlier row of its thread (request, recipient) is leased by
# another gateway, so one thread's emails still go out in order.
_CLAIM_OUTBOX = """
UPDATE outbox SET lease_owner = $2, lease_until = $3
WHERE id IN (
    SELECT o.id FROM outbox o
    WHERE o.state = 'pending' AND o.next_attempt_at <= $1
      AND (o.lease_until IS NULL OR o.lease_until < $1 OR o.lease_owner = $2)
      AND NOT EXISTS (
          SELECT 1 FROM outbox e
          WHERE e.request_id = o.request_id AND e.recipient_seq = o.recipient_seq
            AND e.state = 'pending' AND e.id < o.id
            AND e.lease_until >= $1 AND e.lease_owner <> $2)
      AND NOT (o.id = ANY($5::bigint[]))
    ORDER BY o.next_attempt_at, o.id
    LIMIT $4
    FOR UPDATE SKIP LOCKED)
RETURNING *
"""

_CLAIM = """
UPDATE {table} SET lease_owner = $2, lease_until = $3
WHERE id IN (
    SELECT id FROM {table}
    WHERE state = 'pending' AND {due} <= $1
      AND (lease_until IS NULL OR lease_until < $1 OR lease_owner = $2)
    ORDER BY {due}, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED)
RETURNING *
"""

# When the next row is due for anyone: a leased row counts from its lease's end.
_NEXT_DUE = (
    "SELECT MIN(GREATEST({due}, COALESCE(lease_until, 0))) FROM {table} WHERE state = 'pending'"
)


class PgQueues(PgDb):
    """Outbox, timers and webhook deliveries."""

    # -- outbox ------------------------------------------------------------------------------------

    async def due_outbox(self, now: float, limit: int = 50) -> list[OutboxRow]:
        rows = await self.pool.fetch(
            "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1"
            " ORDER BY next_attempt_at, id LIMIT $2",
            float(now),
            limit,
        )
        return [outbox_from_row(r) for r in rows]

    async def claim_outbox(
        self,
        now: float,
        *,
        owner: str,
        lease: float,
        limit: int = 50,
        exclude: Collection[int] = (),
    ) -> list[OutboxRow]:
        rows = await self.pool.fetch(
            _CLAIM_OUTBOX, float(now), owner, float(now + lease), limit, [int(i) for i in exclude]
        )
        claimed = [outbox_from_row(r) for r in rows]
        claimed.sort(key=lambda o: (o.next_attempt_at, o.id or 0))
        return claimed

    async def renew_outbox(self, ids: list[int], *, owner: str, until: float) -> None:
        if ids:
            await self.pool.execute(
                "UPDATE outbox SET lease_until = $1 WHERE id = ANY($2::bigint[])"
                " AND lease_owner = $3 AND state = 'pending'",
                float(until),
                ids,
                owner,
            )

    async def next_outbox_due(self, exclude: Collection[int] = ()) -> float | None:
        if not exclude:
            return await self.pool.fetchval(_NEXT_DUE.format(table="outbox", due="next_attempt_at"))
        return await self.pool.fetchval(
            _NEXT_DUE.format(table="outbox", due="next_attempt_at")
            + " AND NOT (id = ANY($1::bigint[]))",
            [int(i) for i in exclude],
        )

    async def outbox_for_request(self, request_id: str) -> list[OutboxRow]:
        rows = await self.pool.fetch(
            "SELECT * FROM outbox WHERE request_id = $1 ORDER BY id", request_id
        )
        return [outbox_from_row(r) for r in rows]

    async def outbox_sent(self, outbox_id: int, now: float) -> None:
        await self.outbox_sent_many([(outbox_id, now)])

    async def outbox_sent_many(self, sent: list[tuple[int, float]]) -> None:
        """Mark several delivered rows sent, (id, sent_at) each, in one transaction."""
        if not sent:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            for outbox_id, now in sent:
                row = await conn.fetchrow(
                    "UPDATE outbox SET state = 'sent', sent_at = $1, attempts = attempts + 1,"
                    " last_error = NULL WHERE id = $2 RETURNING request_id, recipient_seq",
                    float(now),
                    outbox_id,
                )
                if row is not None:
                    await conn.execute(
                        "UPDATE recipients SET state = 'sent' WHERE request_id = $1 AND seq = $2"
                        " AND state = 'pending'",
                        row["request_id"],
                        row["recipient_seq"],
                    )

    async def outbox_retry(self, outbox_id: int, attempts: int, next_at: float, error: str) -> None:
        await self.pool.execute(
            "UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3,"
            " lease_owner = NULL, lease_until = NULL WHERE id = $4",
            attempts,
            float(next_at),
            nul_free(error),
            outbox_id,
        )

    async def outbox_retry_now(self, now: float) -> int:
        status = await self.pool.execute(
            "UPDATE outbox SET next_attempt_at = $1 WHERE state = 'pending'"
            " AND next_attempt_at > $1 AND attempts > 0 AND lease_owner IS NULL",
            float(now),
        )
        return rows_affected(status)

    # -- timers ------------------------------------------------------------------------------------

    async def due_timers(self, now: float, limit: int = 100) -> list[TimerRow]:
        rows = await self.pool.fetch(
            "SELECT * FROM timers WHERE state = 'pending' AND due_at <= $1"
            " ORDER BY due_at, id LIMIT $2",
            float(now),
            limit,
        )
        return [timer_from_row(r) for r in rows]

    async def claim_timers(
        self, now: float, *, owner: str, lease: float, limit: int = 100
    ) -> list[TimerRow]:
        rows = await self.pool.fetch(
            _CLAIM.format(table="timers", due="due_at"),
            float(now),
            owner,
            float(now + lease),
            limit,
        )
        claimed = [timer_from_row(r) for r in rows]
        claimed.sort(key=lambda t: (t.due_at, t.id or 0))
        return claimed

    async def next_timer_due(self) -> float | None:
        return await self.pool.fetchval(_NEXT_DUE.format(table="timers", due="due_at"))

    async def cancel_timers(self, request_id: str) -> None:
        await self.pool.execute(
            "UPDATE timers SET state = 'cancelled' WHERE request_id = $1 AND state = 'pending'",
            request_id,
        )

    # -- webhook queue -----------------------------------------------------------------------------

    async def enqueue_webhooks(
        self, rows: list[WebhookRow], *, high_water: float | None = None
    ) -> int:
        added = 0
        async with self.pool.acquire() as conn, conn.transaction():
            for row in rows:
                status = await conn.execute(
                    "INSERT INTO webhook_deliveries (hook_url, event_id, event_type, call_id,"
                    " body, state, attempts, next_attempt_at, created_at)"
                    " VALUES ($1,$2,$3,$4,$5,'pending',0,$6,$7)"
                    " ON CONFLICT (hook_url, event_id) DO NOTHING",
                    nul_free(row.hook_url),
                    nul_free(row.event_id),
                    nul_free(row.event_type),
                    nul_free(row.call_id),
                    bytes(row.body),
                    as_float(row.next_attempt_at),
                    as_float(row.created_at),
                )
                added += rows_affected(status)
            if high_water is not None:
                await conn.execute(
                    "INSERT INTO webhook_state (key, value) VALUES ('high_water', $1)"
                    " ON CONFLICT (key) DO UPDATE"
                    " SET value = GREATEST(webhook_state.value, excluded.value)",
                    float(high_water),
                )
        return added

    async def webhook_high_water(self, initial: float) -> float | None:
        async with self.pool.acquire() as conn, conn.transaction():
            value = await conn.fetchval("SELECT value FROM webhook_state WHERE key = 'high_water'")
            if value is not None:
                return float(value)
            status = await conn.execute(
                "INSERT INTO webhook_state (key, value) VALUES ('high_water', $1)"
                " ON CONFLICT (key) DO NOTHING",
                float(initial),
            )
            if rows_affected(status) == 0:  # another gateway stored it meanwhile
                return float(
                    await conn.fetchval("SELECT value FROM webhook_state WHERE key = 'high_water'")
                )
            return None

    async def resolved_since(self, since: float) -> list[str]:
        rows = await self.pool.fetch(
            "SELECT call_id FROM requests WHERE state IN ('done', 'failed')"
            " AND resolved_at >= $1 ORDER BY resolved_at",
            float(since),
        )
        return [r["call_id"] for r in rows]

    async def claim_webhooks(
        self, now: float, *, owner: str, lease: float, limit: int = 50
    ) -> list[WebhookRow]:
        rows = await self.pool.fetch(
            _CLAIM.format(table="webhook_deliveries", due="next_attempt_at"),
            float(now),
            owner,
            float(now + lease),
            limit,
        )
        claimed = [webhook_from_row(r) for r in rows]
        claimed.sort(key=lambda w: (w.next_attempt_at, w.id or 0))
        return claimed

    async def next_webhook_due(self) -> float | None:
        return await self.pool.fetchval(
            _NEXT_DUE.format(table="webhook_deliveries", due="next_attempt_at")
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
        await self.pool.execute(
            "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3,"
            " last_error = $4, delivered_at = $5, lease_owner = NULL, lease_until = NULL"
            " WHERE id = $6",
            state,
            attempts,
            float(next_at),
            nul_free(error),
            as_float(delivered_at),
            webhook_id,
        )

    async def list_webhooks(self) -> list[WebhookRow]:
        rows = await self.pool.fetch("SELECT * FROM webhook_deliveries ORDER BY id")
        return [webhook_from_row(r) for r in rows]
