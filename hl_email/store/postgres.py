"""PostgreSQL store (asyncpg) for scale-out: several gateways may share one database.

Same contract as the SQLite store (`store/base.py`): every operation is one transaction, and
`commit()` applies everything or nothing. Two writers detect each other through the conditional
``UPDATE requests … WHERE state = $n AND version = $m`` (under READ COMMITTED a concurrent update
makes PostgreSQL re-check the WHERE clause against the committed row), the inbound dedupe key
through ``INSERT … ON CONFLICT DO NOTHING``, and a timer through ``… WHERE state = 'pending'``.

The URL and pool are in postgres_db.py, the queues (claims with leases) in postgres_queues.py,
mailbox state in postgres_mailbox.py, leadership and LISTEN/NOTIFY in postgres_coordination.py.

Note: PostgreSQL ``text`` cannot hold NUL characters, which hostile mail can carry in a subject
or Message-ID; they are stored as U+FFFD. JSON columns use the ``json`` type (not ``jsonb``) so
key order round-trips exactly, as it does with SQLite.
"""

from __future__ import annotations

from ..errors import DuplicateCallError
from .base import (
    CommitResult,
    InboundRecord,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    TimerRow,
)
from .postgres_coordination import PgCoordination
from .postgres_db import parse_url
from .postgres_mailbox import PgMailbox
from .postgres_queues import PgQueues
from .sql import (
    Rollback,
    commit_writes,
    create_writes,
    nul_free,
    recipient_from_row,
    request_from_row,
)

__all__ = ["PostgresStore", "parse_url"]


class PostgresStore(PgQueues, PgMailbox, PgCoordination):
    """The Store protocol on PostgreSQL (`store/base.py`), shareable by several gateways."""

    single_gateway = False  # rows are claimed with leases

    # -- requests -------------------------------------------------------------------------------

    async def create_request(
        self,
        request: RequestRow,
        recipients: list[RecipientRow],
        outbox: list[OutboxRow],
        timers: list[TimerRow] | None = None,
    ) -> None:
        writes = create_writes(request, recipients, outbox, timers, text=nul_free)
        try:
            await self._write(writes)
        except Rollback:
            raise DuplicateCallError(request.call_id) from None

    async def get_request(
        self, *, call_id: str | None = None, id: str | None = None
    ) -> RequestRow | None:
        if call_id is not None:
            query, arg = "SELECT * FROM requests WHERE call_id = $1", call_id
        elif id is not None:
            query, arg = "SELECT * FROM requests WHERE id = $1", id
        else:
            raise ValueError("get_request needs call_id or id")
        row = await self.pool.fetchrow(query, arg)
        return request_from_row(row) if row else None

    async def list_requests(self, *, state: str | None = None, limit: int = 50) -> list[RequestRow]:
        if state:
            rows = await self.pool.fetch(
                "SELECT * FROM requests WHERE state = $1 ORDER BY created_at DESC LIMIT $2",
                state,
                limit,
            )
        else:
            rows = await self.pool.fetch(
                "SELECT * FROM requests ORDER BY created_at DESC LIMIT $1", limit
            )
        return [request_from_row(r) for r in rows]

    async def get_recipients(self, request_id: str) -> list[RecipientRow]:
        rows = await self.pool.fetch(
            "SELECT * FROM recipients WHERE request_id = $1 ORDER BY seq", request_id
        )
        return [recipient_from_row(r) for r in rows]

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
        """Apply everything or nothing: DUPLICATE when the inbound message was already recorded,
        CONFLICT when the request was no longer in the expected state/version or the timer no
        longer pending."""
        writes = commit_writes(
            inbound=inbound,
            request=request,
            recipients=recipients,
            outbox=outbox,
            outbox_failed=outbox_failed,
            timers=timers,
            timer_done=timer_done,
            text=nul_free,
        )
        try:
            await self._write(writes)
        except Rollback as rollback:
            return rollback.result
        return CommitResult.OK
