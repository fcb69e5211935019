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
* Queue: the `webhook_deliveries` table in the gateway's store (SQLite or PostgreSQL), reached
  through the Store protocol. With several gateways on one PostgreSQL store each delivery is
  claimed by one of them (a lease, taken over when it runs out), and every gateway enqueues what
  it resolves. A 2xx answer marks a row delivered; anything else (or a network error) is retried
  with exponential backoff up to `max_attempts`, after which the row is kept as `dead` with its
  last error.
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
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from .config import WebhookConfig
from .store.base import WebhookRow

__all__ = ["SIGNATURE_TOLERANCE", "WebhookDispatcher", "event_id", "sign", "verify"]

log = logging.getLogger("hl_email.webhooks")

SIGNATURE_HEADER = "X-HL-Email-Signature"
# Seconds a claimed delivery stays with this gateway (longer than any hook's timeout).
_LEASE = 300.0


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


Delivery = WebhookRow  # one queued delivery of one event to one hook


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
        self.owner = getattr(gateway, "instance_id", "") or f"webhooks-{random.getrandbits(48):x}"

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
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
        rows = _rows(hooks, eid, event_type, payload.message_id, body, self.clock())
        try:
            if await self.store.enqueue_webhooks(rows):
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
        added = await self.store.enqueue_webhooks(
            _rows(hooks, eid, event_type, row.call_id, body, now),
            high_water=row.resolved_at or now,
        )
        if added:
            self._wake.set()
        return added

    async def _catch_up(self) -> None:
        """Enqueue what was resolved since the last enqueued event (a crash between the store
        commit and the listener). On the very first start, history is not replayed."""
        mark = await self.store.webhook_high_water(self.clock())
        if mark is None:
            return
        for call_id in await self.store.resolved_since(mark):
            await self._enqueue_call(call_id)

    # -- delivering -----------------------------------------------------------------------------

    async def _due(self, now: float) -> tuple[list[Delivery], float | None]:
        due = await self.store.claim_webhooks(now, owner=self.owner, lease=_LEASE)
        return due, await self.store.next_webhook_due()

    async def _run(self) -> None:
        while True:
            try:
                self._wake.clear()
                due, nxt = await self._due(self.clock())
                if due:
                    await asyncio.gather(*(self._deliver(d) for d in due))
                    continue
                timeout = None if nxt is None else max(0.0, nxt - self.clock())
                if timeout == 0.0:
                    timeout = 0.5  # due, but another gateway holds it: look again soon

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
        await self.store.webhook_attempted(
            row_id,
            state=state,
            attempts=attempts,
            next_at=next_at,
            error=error,
            delivered_at=delivered_at,
        )

    # -- inspection (tests, CLI) ----------------------------------------------------------------

    async def deliveries(self) -> list[dict[str, Any]]:
        return [
            {
                "hook_url": d.hook_url,
                "event_id": d.event_id,
                "event_type": d.event_type,
                "call_id": d.call_id,
                "state": d.state,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "delivered_at": d.delivered_at,
            }
            for d in await self.store.list_webhooks()
        ]


def _rows(
    hooks: list[WebhookConfig], eid: str, event_type: str, call_id: str, body: bytes, now: float
) -> list[WebhookRow]:
    """One pending delivery per hook (the store skips an event already queued for a hook)."""
    return [
        WebhookRow(
            hook_url=hook.url,
            event_id=eid,
            event_type=event_type,
            call_id=call_id,
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        for hook in hooks
    ]
