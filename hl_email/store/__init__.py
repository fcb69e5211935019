"""Storage: the Store interface and the embedded SQLite implementation."""

from __future__ import annotations

from .base import (
    Checkpoint,
    CommitResult,
    DuplicateCallError,
    InboundRecord,
    Leadership,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    Store,
    TimerRow,
    WebhookRow,
)
from .sqlite import SqliteStore

__all__ = [
    "Checkpoint",
    "CommitResult",
    "DuplicateCallError",
    "InboundRecord",
    "Leadership",
    "OutboxRow",
    "RecipientRow",
    "RequestRow",
    "RequestUpdate",
    "SqliteStore",
    "Store",
    "TimerRow",
    "WebhookRow",
    "open_store",
]


def open_store(url: str, *, base_dir: str | None = None) -> Store:
    """A store for a URL from config (`sqlite:///path.db`, `postgresql://…`); not yet opened."""
    import os

    if url.startswith("sqlite:///") or url.startswith("sqlite://"):
        path = url.removeprefix("sqlite:///").removeprefix("sqlite://") or ":memory:"
        if base_dir and path != ":memory:" and not os.path.isabs(path):
            path = os.path.join(base_dir, path)
        return SqliteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore  # asyncpg is an optional dependency

        return PostgresStore(url)
    raise ValueError(f"store.url: unsupported store URL {url!r}")
