"""Coordination between gateways on one PostgreSQL database: leadership and change notices.

* Leadership of a named job (a mailbox): a session advisory lock on a connection of its own.
* Changes: `pg_notify` on a channel per schema; each store LISTENs on one connection of its own
  and hands other gateways' notices to its listeners.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
from typing import Any

from .base import ChangeListener
from .postgres_db import PgDb

try:  # optional dependency: pip install 'hl-email[postgres]'
    import asyncpg
except ImportError:  # pragma: no cover - exercised only without the extra
    asyncpg = None

__all__ = ["PgCoordination", "PgLeadership"]

log = logging.getLogger("hl_email.store")

_CHANNEL_PREFIX = "hl_email_"
"""LISTEN/NOTIFY channel: the prefix + a digest of the schema, so schemas do not hear each other."""

# How often a standby gateway asks for a free leadership lock, and how often a leader checks that
# its lock connection is alive (a dead leader's session ends, and the lock with it, at once).
_LEADER_RETRY = 0.5
_LEADER_CHECK = 1.0
_KEEPALIVE = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}


def _lock_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key for a name (schema and mailbox)."""
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PgLeadership:
    """Leadership through a session advisory lock held on a connection of its own.

    The lock lives exactly as long as that session: when the leading process dies its socket
    closes, PostgreSQL ends the session and frees the lock, and a standby (asking every
    `_LEADER_RETRY` s) takes over. The leader checks its connection every `_LEADER_CHECK` s and
    sets `lost` when it is gone, so it stops acting as leader (it fences itself); TCP keepalives
    make the server notice a leader host that vanished without closing its socket.
    """

    def __init__(self, dsn: str, key: int, name: str) -> None:
        self.dsn = dsn
        self.key = key
        self.name = name
        self.lost = asyncio.Event()
        self._conn: Any = None
        self._watch: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        await self.release()
        while True:
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(
                        self.dsn, timeout=10, server_settings=dict(_KEEPALIVE)
                    )
                if await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
                    break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("leadership of %s: %s; retrying", self.name, exc)
                await self._drop()
                await asyncio.sleep(_LEADER_RETRY * 4)
                continue
            await asyncio.sleep(_LEADER_RETRY)
        self.lost = asyncio.Event()
        conn, lost = self._conn, self.lost
        conn.add_termination_listener(lambda _conn: lost.set())
        self._watch = asyncio.create_task(self._check(conn, lost), name="hl-email-leadership")
        log.info("leading %s", self.name)

    async def _check(self, conn: Any, lost: asyncio.Event) -> None:
        try:
            while not lost.is_set():
                await asyncio.sleep(_LEADER_CHECK)
                await asyncio.wait_for(conn.fetchval("SELECT 1"), _LEADER_CHECK * 3)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("leadership of %s lost: %s", self.name, exc)
        lost.set()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:
                conn.terminate()

    async def release(self) -> None:
        """Give up leadership (closing the session frees the lock)."""
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            try:
                await watch
            except (asyncio.CancelledError, Exception):
                pass
        self.lost.set()
        await self._drop()


class PgCoordination(PgDb):
    """Leadership and LISTEN/NOTIFY for a `PostgresStore`."""

    def __init__(self, dsn: str, **options: Any) -> None:
        super().__init__(dsn, **options)
        self._channel = (
            _CHANNEL_PREFIX + hashlib.sha256((self.schema or "").encode()).hexdigest()[:16]
        )
        self._listeners: list[ChangeListener] = []
        # Marks this store's own notifications, which come back on its LISTEN connection.
        self._origin = secrets.token_hex(8)
        self._listen_task: asyncio.Task[None] | None = None

    async def close(self) -> None:
        task, self._listen_task = self._listen_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._listeners.clear()
        await super().close()

    def leadership(self, name: str) -> PgLeadership:
        return PgLeadership(self.dsn, _lock_key(self.schema or "", name), name)

    async def publish_change(self, call_id: str, state: str) -> None:
        # Delivered to every session LISTENing on the channel, this store's own too (dropped
        # there by origin: its gateway woke its own waiters already).
        await self.pool.execute(
            "SELECT pg_notify($1, $2)", self._channel, json.dumps([call_id, state, self._origin])
        )

    async def listen_changes(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)
        if self._listen_task is None:
            connected = asyncio.get_running_loop().create_future()
            self._listen_task = asyncio.create_task(self._listen(connected), name="hl-email-listen")
            await asyncio.wait({connected, self._listen_task}, timeout=self.connect_timeout)

    def _dispatch(self, call_id: str, state: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(call_id, state)
            except Exception:
                log.exception("change listener failed")

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            call_id, state, origin = json.loads(payload)
        except (ValueError, TypeError):
            return
        if origin != self._origin:
            self._dispatch(str(call_id), str(state))

    async def _listen(self, connected: asyncio.Future[None]) -> None:
        """Keep one connection LISTENing; after a reconnect, tell listeners to re-check ("*"):
        notifications sent while it was down are gone."""
        first = True
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(
                    self.dsn, timeout=self.connect_timeout, server_settings=dict(_KEEPALIVE)
                )
                closed = asyncio.Event()
                conn.add_termination_listener(lambda _c, closed=closed: closed.set())
                await conn.add_listener(self._channel, self._on_notify)
                if not connected.done():
                    connected.set_result(None)
                if not first:
                    self._dispatch("*", "")
                first = False
                while not closed.is_set():
                    try:
                        await asyncio.wait_for(closed.wait(), _LEADER_CHECK * 5)
                    except TimeoutError:
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), _LEADER_CHECK * 5)
            except asyncio.CancelledError:
                if conn is not None:
                    conn.terminate()
                raise
            except Exception as exc:
                log.warning("LISTEN connection: %s; reconnecting", exc)
            if conn is not None:
                conn.terminate()
            await asyncio.sleep(1.0)
