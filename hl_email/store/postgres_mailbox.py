"""The PostgreSQL store's mailbox state: inbound records, thread lookups, checkpoints, secrets."""

from __future__ import annotations

import time

from .base import Checkpoint, InboundRecord
from .postgres_db import PgDb
from .sql import inbound_from_row, nul_free, rows_affected

__all__ = ["PgMailbox"]


class PgMailbox(PgDb):
    """What the watchers keep: every inbound message's outcome, and where each mailbox is."""

    # -- inbound records ---------------------------------------------------------------------------

    async def inbound_seen(self, dedupe_key: str) -> bool:
        return (
            await self.pool.fetchval(
                "SELECT 1 FROM inbound WHERE dedupe_key = $1", nul_free(dedupe_key)
            )
            is not None
        )

    async def inbound_seen_keys(self, dedupe_keys: list[str]) -> set[str]:
        if not dedupe_keys:
            return set()
        stored = {nul_free(k): k for k in dedupe_keys}  # as stored (NUL replaced) → as asked
        rows = await self.pool.fetch(
            "SELECT dedupe_key FROM inbound WHERE dedupe_key = ANY($1::text[])", list(stored)
        )
        return {stored[row["dedupe_key"]] for row in rows}

    async def list_inbound(
        self, *, request_id: str | None = None, limit: int = 50
    ) -> list[InboundRecord]:
        if request_id is not None:
            rows = await self.pool.fetch(
                "SELECT * FROM inbound WHERE request_id = $1 ORDER BY received_at DESC LIMIT $2",
                request_id,
                limit,
            )
        else:
            rows = await self.pool.fetch(
                "SELECT * FROM inbound ORDER BY received_at DESC LIMIT $1", limit
            )
        return [inbound_from_row(r) for r in rows]

    async def thread_messages(self, message_ids: list[str]) -> list[tuple[float, bytes]]:
        ids = list(dict.fromkeys(message_ids))[:100]
        if not ids:
            return []
        inbound = await self.pool.fetch(
            "SELECT received_at AS at, raw FROM inbound WHERE message_id = ANY($1::text[])"
            " AND raw IS NOT NULL",
            ids,
        )
        sent = await self.pool.fetch(
            "SELECT COALESCE(sent_at, created_at) AS at, message AS raw FROM outbox"
            " WHERE message_id = ANY($1::text[]) AND state = 'sent'",
            ids,
        )
        found = [(float(r["at"]), bytes(r["raw"])) for r in [*inbound, *sent]]
        return sorted(found, key=lambda item: item[0])

    # -- IMAP checkpoints --------------------------------------------------------------------------

    async def get_checkpoint(self, mailbox: str) -> Checkpoint | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM checkpoints WHERE mailbox = $1", nul_free(mailbox)
        )
        if row is None:
            return None
        return Checkpoint(row["mailbox"], row["uidvalidity"], row["last_uid"], row["catchup_floor"])

    async def set_checkpoint(self, checkpoint: Checkpoint) -> None:
        await self.pool.execute(
            "INSERT INTO checkpoints (mailbox, uidvalidity, last_uid, catchup_floor)"
            " VALUES ($1,$2,$3,$4) ON CONFLICT (mailbox) DO UPDATE SET"
            " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
            " catchup_floor = excluded.catchup_floor",
            nul_free(checkpoint.mailbox),
            checkpoint.uidvalidity,
            checkpoint.last_uid,
            checkpoint.catchup_floor,
        )

    async def swap_checkpoint(self, expected: Checkpoint | None, new: Checkpoint) -> bool:
        if expected is None:
            status = await self.pool.execute(
                "INSERT INTO checkpoints (mailbox, uidvalidity, last_uid, catchup_floor)"
                " VALUES ($1,$2,$3,$4) ON CONFLICT (mailbox) DO NOTHING",
                nul_free(new.mailbox),
                new.uidvalidity,
                new.last_uid,
                new.catchup_floor,
            )
        else:
            status = await self.pool.execute(
                "UPDATE checkpoints SET uidvalidity = $2, last_uid = $3, catchup_floor = $4"
                " WHERE mailbox = $1 AND uidvalidity = $5 AND last_uid = $6"
                " AND catchup_floor = $7",
                nul_free(new.mailbox),
                new.uidvalidity,
                new.last_uid,
                new.catchup_floor,
                expected.uidvalidity,
                expected.last_uid,
                expected.catchup_floor,
            )
        return rows_affected(status) == 1

    # -- named secrets (sealed OAuth2 refresh tokens) ----------------------------------------------

    _SECRETS_DDL = (
        "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BYTEA NOT NULL,"
        " updated_at DOUBLE PRECISION NOT NULL)"
    )

    async def get_secret(self, name: str) -> bytes | None:
        await self.pool.execute(self._SECRETS_DDL)
        value = await self.pool.fetchval(
            "SELECT value FROM secrets WHERE name = $1", nul_free(name)
        )
        return bytes(value) if value is not None else None

    async def set_secret(self, name: str, value: bytes) -> None:
        await self.pool.execute(self._SECRETS_DDL)
        await self.pool.execute(
            "INSERT INTO secrets (name, value, updated_at) VALUES ($1,$2,$3)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            nul_free(name),
            value,
            time.time(),
        )
