"""The SQLite store's mailbox state: inbound records, thread lookups, checkpoints, secrets."""

from __future__ import annotations

import sqlite3
import time

from .base import Checkpoint, InboundRecord
from .sql import inbound_from_row
from .sqlite_db import SqliteDb

__all__ = ["SqliteMailbox"]


class SqliteMailbox(SqliteDb):
    """What the watchers keep: every inbound message's outcome, and where each mailbox is."""

    # -- inbound records ---------------------------------------------------------------------------

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

    # -- IMAP checkpoints --------------------------------------------------------------------------

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
