"""Webhooks: a signed POST to `[[webhooks]] url` when a request completes, from a durable queue.

* Events: `function_call.completed` and `human_contact.completed` (HumanLayer's names; the body is
  HumanLayer's `V1Beta2FunctionCallCompleted` / `V1Beta2HumanContactCompleted` shape:
  `{"is_test": false, "type": "...", "event": <FunctionCall | HumanContact>}`), plus the hl-email
  additions `function_call.failed` / `human_contact.failed` (delivery failed; opt in via `events`).
* Headers: `X-HL-Email-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + raw body with
  the hook's secret>` (receivers refuse old timestamps: docs/webhooks.md),
  `X-HL-Email-Event: <type>`, `X-HL-Email-Delivery: <event id>` and `Idempotency-Key: <event id>`.
  The event id is the same on every retry (and if the event is ever enqueued twice): receivers
  de-duplicate on it. Delivery is at-least-once.
* Queue: the `webhook_deliveries` table in the gateway's SQLite store, created here through the
  store's own connection (its single writer thread). A 2xx answer marks a row delivered; anything
  else (or a network error) is retried with exponential backoff up to `max_attempts`, after which
  the row is kept as `dead` with its last error.
* Crash safety: the gateway tells listeners about a resolution after storing it; if the process
  dies in between, `start()` re-enqueues every request resolved since the last enqueued one
  (a high-water mark kept in `webhook_state`), so no completion is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .config import WebhookConfig

__all__ = ["SIGNATURE_TOLERANCE", "WebhookDispatcher", "event_id", "sign", "verify"]

log = logging.getLogger("hl_email.webhooks")

SIGNATURE_HEADER = "X-HL-Email-Signature"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hook_url TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    call_id TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    created_at REAL NOT NULL,
    delivered_at REAL,
    UNIQUE (hook_url, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_due ON webhook_deliveries(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS webhook_state (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""


# How old a signature a receiver should accept (docs/webhooks.md); `verify` defaults to it.
SIGNATURE_TOLERANCE = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value, as Stripe does it: `t=<unix time>,v1=<hex HMAC-SHA256 of
    "<t>." + raw body>`. The timestamp is signed too, so a receiver can refuse replays."""
    signed = str(int(timestamp)).encode() + b"." + body
    return f"t={int(timestamp)},v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str, header: str, body: bytes, now: float, tolerance: float = SIGNATURE_TOLERANCE
) -> bool:
    """Whether `header` is a valid signature of `body` made at most `tolerance` s before `now`."""
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields.get("t", [""])[0])
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).partition("v1=")[2]
    return any(hmac.compare_digest(expected, v) for v in fields.get("v1", []))


def event_id(event_type: str, call_id: str) -> str:
    """Stable per (event, call): the idempotency id a receiver de-duplicates on."""
    return "evt_" + hashlib.sha256(f"{event_type}\0{call_id}".encode()).hexdigest()[:32]


def _insert_deliveries(
    conn: sqlite3.Connection,
    hooks: list[WebhookConfig],
    eid: str,
    event_type: str,
    call_id: str,
    body: bytes,
    now: float,
) -> int:
    """One pending delivery per hook; an event already queued for a hook is not queued again."""
    added = 0
    for hook in hooks:
        cur = conn.execute(
            "INSERT OR IGNORE INTO webhook_deliveries (hook_url, event_id, event_type,"
            " call_id, body, state, attempts, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
            (hook.url, eid, event_type, call_id, body, now, now),
        )
        added += cur.rowcount
    return added


@dataclass
class Delivery:
    id: int
    hook_url: str
    event_id: str
    event_type: str
    call_id: str
    body: bytes
    attempts: int


class WebhookDispatcher:
    """Subscribes to the gateway, enqueues completions durably, and delivers them."""

    def __init__(
        self,
        gateway: Any,
        hooks: list[WebhookConfig],
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.gateway = gateway
        self.store = gateway.store
        self.hooks = {hook.url: hook for hook in hooks}
        self.clock = clock
        self._client = client
        self._owns_client = client is None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._unsubscribe_email: Callable[[], None] | None = None
        # TODO(2): the queue lives in SQLite tables reached through the store's internals, so a
        # PostgreSQL store cannot have webhooks yet; move the queue behind the Store interface.
        if not hasattr(self.store, "_tx") or not hasattr(self.store, "_run"):
            raise RuntimeError("webhooks need the SQLite store (store.url = sqlite:///...)")

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        await self.store._run(lambda conn: conn.executescript(_SCHEMA))
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False)
        # Subscribe first, then catch up: a resolution in between is enqueued twice at most,
        # which the UNIQUE (hook_url, event_id) constraint turns into one row.
        self._unsubscribe = self.gateway.subscribe(self._on_change)
        if hasattr(self.gateway, "on_email"):
            self._unsubscribe_email = self.gateway.on_email(self._on_email)
        await self._catch_up()
        self._task = asyncio.create_task(self._run(), name="hl-email-webhooks")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._unsubscribe_email is not None:
            self._unsubscribe_email()
            self._unsubscribe_email = None
        for task in list(self._pending):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    # -- enqueueing -----------------------------------------------------------------------------

    def _on_change(self, call_id: str, state: str) -> None:
        if state not in ("done", "failed"):
            return
        task = asyncio.get_running_loop().create_task(self._enqueue_call(call_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _on_email(self, payload: Any) -> None:
        """`agent_email.received`: a new conversation for the agent (HumanLayer's shape)."""
        task = asyncio.get_running_loop().create_task(self._enqueue_email(payload))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _enqueue_email(self, payload: Any) -> None:
        event_type = "agent_email.received"
        hooks = [hook for hook in self.hooks.values() if event_type in hook.events]
        if not hooks:
            return
        body = json.dumps(
            {"is_test": False, "type": event_type, "event": payload.model_dump(mode="json")},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        eid = event_id(event_type, payload.message_id)
        now = self.clock()

        def tx(conn: sqlite3.Connection) -> int:
            return _insert_deliveries(conn, hooks, eid, event_type, payload.message_id, body, now)

        try:
            if await self.store._tx(tx):
                self._wake.set()
        except Exception:
            log.exception("could not enqueue agent_email.received")

    async def _enqueue_call(self, call_id: str) -> None:
        try:
            row = await self.store.get_request(call_id=call_id)
            if row is None or row.state not in ("done", "failed"):
                return
            await self._enqueue(row)
        except Exception:
            log.exception("could not enqueue the webhook for %s", call_id)

    async def _enqueue(self, row: Any) -> int:
        event_type = f"{row.kind}.{'completed' if row.state == 'done' else 'failed'}"
        hooks = [hook for hook in self.hooks.values() if event_type in hook.events]
        obj = await self.gateway.get_request(row.call_id)
        payload = {"is_test": False, "type": event_type, "event": obj.model_dump(mode="json")}
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        eid = event_id(event_type, row.call_id)
        now = self.clock()
        resolved = row.resolved_at or now

        def tx(conn: sqlite3.Connection) -> int:
            added = _insert_deliveries(conn, hooks, eid, event_type, row.call_id, body, now)
            conn.execute(
                "INSERT INTO webhook_state (key, value) VALUES ('high_water', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
                (resolved,),
            )
            return added

        added = await self.store._tx(tx)
        if added:
            self._wake.set()
        return added

    async def _catch_up(self) -> None:
        """Enqueue what was resolved since the last enqueued event (a crash between the store
        commit and the listener). On the very first start, history is not replayed."""

        def q(conn: sqlite3.Connection) -> tuple[float | None, list[str]]:
            mark = conn.execute(
                "SELECT value FROM webhook_state WHERE key = 'high_water'"
            ).fetchone()
            if mark is None:
                conn.execute(
                    "INSERT OR IGNORE INTO webhook_state (key, value) VALUES ('high_water', ?)",
                    (self.clock(),),
                )
                return None, []
            rows = conn.execute(
                "SELECT call_id FROM requests WHERE state IN ('done', 'failed')"
                " AND resolved_at >= ? ORDER BY resolved_at",
                (mark[0],),
            ).fetchall()
            return mark[0], [r[0] for r in rows]

        _, call_ids = await self.store._run(q)
        for call_id in call_ids:
            await self._enqueue_call(call_id)

    # -- delivering -----------------------------------------------------------------------------

    async def _due(self, now: float) -> tuple[list[Delivery], float | None]:
        def q(conn: sqlite3.Connection) -> tuple[list[Delivery], float | None]:
            rows = conn.execute(
                "SELECT id, hook_url, event_id, event_type, call_id, body, attempts"
                " FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT 50",
                (now,),
            ).fetchall()
            nxt = conn.execute(
                "SELECT min(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'"
            ).fetchone()[0]
            return [Delivery(r[0], r[1], r[2], r[3], r[4], bytes(r[5]), r[6]) for r in rows], nxt

        return await self.store._run(q)

    async def _run(self) -> None:
        while True:
            try:
                self._wake.clear()
                due, nxt = await self._due(self.clock())
                if due:
                    await asyncio.gather(*(self._deliver(d) for d in due))
                    continue
                timeout = None if nxt is None else max(0.0, nxt - self.clock())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook worker error; retrying in 1 s")
                await asyncio.sleep(1)

    async def _deliver(self, d: Delivery) -> None:
        hook = self.hooks.get(d.hook_url)
        if hook is None:  # the hook was removed from the config: keep the row, stop sending
            await self._update(d.id, "orphaned", d.attempts, 0, "hook no longer configured")
            return
        assert self._client is not None
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "hl-email-webhooks/0.1",
            "X-HL-Email-Event": d.event_type,
            "X-HL-Email-Delivery": d.event_id,
            "Idempotency-Key": d.event_id,
            # Signed per attempt: a retry carries a fresh timestamp (and the same event id).
            SIGNATURE_HEADER: sign(hook.secret, d.body, int(self.clock())),
        }
        attempts = d.attempts + 1
        error: str | None
        try:
            resp = await self._client.post(
                hook.url, content=d.body, headers=headers, timeout=hook.timeout
            )
            error = (
                None
                if 200 <= resp.status_code < 300
                else f"HTTP {resp.status_code}: {resp.text[:200]}"
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        now = self.clock()
        if error is None:
            await self._update(d.id, "delivered", attempts, now, None, delivered_at=now)
            log.info("webhook %s %s delivered to %s", d.event_type, d.call_id, hook.url)
            return
        if attempts >= hook.max_attempts:
            await self._update(d.id, "dead", attempts, now, error)
            log.error(
                "webhook %s for %s to %s gave up after %d attempts: %s",
                d.event_type,
                d.call_id,
                hook.url,
                attempts,
                error,
            )
            return
        delay = min(hook.backoff_initial * 2 ** (attempts - 1), hook.backoff_max)
        await self._update(d.id, "pending", attempts, now + delay, error)
        log.warning(
            "webhook %s for %s to %s failed (attempt %d): %s; retrying in %.1f s",
            d.event_type,
            d.call_id,
            hook.url,
            attempts,
            error,
            delay,
        )

    async def _update(
        self,
        row_id: int,
        state: str,
        attempts: int,
        next_at: float,
        error: str | None,
        *,
        delivered_at: float | None = None,
    ) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?,"
                " last_error = ?, delivered_at = ? WHERE id = ?",
                (state, attempts, next_at, error, delivered_at, row_id),
            )

        await self.store._tx(tx)

    # -- inspection (tests, CLI) ----------------------------------------------------------------

    async def deliveries(self) -> list[dict[str, Any]]:
        def q(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT hook_url, event_id, event_type, call_id, state, attempts, last_error,"
                " delivered_at FROM webhook_deliveries ORDER BY id"
            ).fetchall()
            keys = [
                "hook_url",
                "event_id",
                "event_type",
                "call_id",
                "state",
                "attempts",
                "last_error",
                "delivered_at",
            ]
            return [dict(zip(keys, tuple(r), strict=True)) for r in rows]

        return await self.store._run(q)
