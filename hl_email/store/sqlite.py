"""SQLite (WAL) store, the embedded default: one connection on one thread, every operation one
transaction (sqlite_db.py); queues in sqlite_queues.py, mailbox state in sqlite_mailbox.py."""

from __future__ import annotations

import asyncio
import sqlite3

from ..errors import DuplicateCallError
from .base import (
    ChangeListener,
    CommitResult,
    InboundRecord,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    TimerRow,
)
from .sql import Rollback, commit_writes, create_writes, recipient_from_row, request_from_row
from .sqlite_mailbox import SqliteMailbox
from .sqlite_queues import SqliteQueues

__all__ = ["SqliteStore"]


class _OneProcess:
    """Leadership with an embedded store: the one gateway on it always leads."""

    def __init__(self) -> None:
        self.lost = asyncio.Event()

    async def acquire(self) -> None:
        self.lost = asyncio.Event()

    async def release(self) -> None:
        return None


class SqliteStore(SqliteQueues, SqliteMailbox):
    """The Store protocol on one SQLite file (`store/base.py`)."""

    single_gateway = True  # one gateway per file: what it stores is its own to send

    # -- requests -------------------------------------------------------------------------------

    async def create_request(
        self,
        request: RequestRow,
        recipients: list[RecipientRow],
        outbox: list[OutboxRow],
        timers: list[TimerRow] | None = None,
    ) -> None:
        try:
            await self._write(create_writes(request, recipients, outbox, timers))
        except Rollback:
            raise DuplicateCallError(request.call_id) from None

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
        )
        try:
            await self._write(writes)
        except Rollback as rollback:
            return rollback.result
        return CommitResult.OK

    # -- coordination: one gateway per SQLite file, so there is nobody to coordinate with --------

    def leadership(self, name: str) -> _OneProcess:
        return _OneProcess()

    async def publish_change(self, call_id: str, state: str) -> None:
        return None

    async def listen_changes(self, listener: ChangeListener) -> None:
        return None
