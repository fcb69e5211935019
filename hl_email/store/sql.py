"""Plain SQL over either store (SQLite or PostgreSQL) for operations: metrics, retention, export.

The queries here read or change only columns both schemas share; `?` placeholders are turned
into `$1…` for PostgreSQL. The Store protocol stays the gateway's contract; this is the side
door for operator tools, kept in one place.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["execute", "fetch"]


def _is_postgres(store: Any) -> bool:
    return type(store).__name__ == "PostgresStore"


def _pg(sql: str) -> str:
    counter = iter(range(1, 1000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", sql)


async def fetch(store: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of a read-only query, as tuples."""
    if _is_postgres(store):
        rows = await store.pool.fetch(_pg(sql), *args)
        return [tuple(r.values()) for r in rows]
    return await store._run(lambda conn: [tuple(r) for r in conn.execute(sql, args).fetchall()])


async def execute(store: Any, sql: str, *args: Any) -> int:
    """Run one changing statement in its own transaction; returns the number of rows changed."""
    if _is_postgres(store):
        status = await store.pool.execute(_pg(sql), *args)
        tail = str(status).rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0
    return await store._tx(lambda conn: conn.execute(sql, args).rowcount)
