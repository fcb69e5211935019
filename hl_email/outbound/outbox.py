"""Durable send queue: rows stored with their request are delivered over SMTP, retried, or failed."""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

from hl_email.config import SmtpConfig
from hl_email.outbound.smtp import (
    DeliveryError,
    PausingDeliveryError,
    PermanentDeliveryError,
    SmtpPool,
    SmtpSender,
    TransientDeliveryError,
    classify,
)
from hl_email.store.base import OutboxRow, Store

__all__ = [
    "DeliveryError",
    "MAX_RETRY_FOR",
    "OutboxWorker",
    "PausingDeliveryError",
    "PermanentDeliveryError",
    "SmtpPool",
    "SmtpSender",
    "TransientDeliveryError",
    "backoff_delay",
]

log = logging.getLogger("hl_email.outbox")


MAX_RETRY_FOR = 86400.0  # transient failures are never retried for longer than a day
MARK_WINDOW = 0.005  # seconds delivered rows wait to be marked sent together
CLAIM_BATCH = 50  # rows per claim
MAX_IN_FLIGHT = 200  # rows claimed and not yet settled, at most (bounds memory)


def backoff_delay(attempt: int, *, initial: float, maximum: float, jitter: float) -> float:
    """Exponential backoff with jitter; `attempt` counts from 1, `jitter` is a draw in [0, 1)."""
    base = min(maximum, initial * (2 ** max(0, attempt - 1)))
    # "Equal jitter": never less than half the base, so retries don't stampede nor spin.
    return base / 2 + base / 2 * jitter


Sender = Callable[[str, list[str], bytes], Awaitable[None]]


RetryWindow = Callable[[OutboxRow], Awaitable[float | None]]


class OutboxWorker:
    """Sends due outbox rows; wakes when the gateway adds rows, sleeps until the next retry.

    Retry policy: a transient failure (4xx, connection trouble) is retried with backoff for
    `smtp.retry_for` seconds after the row was queued (default: the request's own timeout,
    else a day; never more than a day). A certificate, login or TLS-mode problem pauses the
    whole outbox (`paused` says why) instead of failing rows: it is tried again every
    `smtp.pause_retry` seconds, and at once on `resume()` or when `smtp.ca_file` changes.
    When the server comes back after an outage (no answer, or 421), every row waiting for a
    retry is sent at once; a deferred recipient (451, 452 …) keeps its own backoff.
    """

    def __init__(
        self,
        store: Store,
        send: Sender,
        config: SmtpConfig,
        *,
        on_permanent_failure: Callable[[OutboxRow, str], Awaitable[None]],
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        retry_window: RetryWindow | None = None,
        owner: str = "",
        lease: float = 120.0,
    ) -> None:
        self.store = store
        # Rows are claimed for `lease` seconds (renewed while sending): with several gateways on
        # one PostgreSQL store, exactly one sends each row; a crashed one's rows are taken over
        # when its lease runs out.
        self.owner = owner or f"outbox-{random.getrandbits(48):012x}"
        self.lease = lease
        self.send = send
        self.config = config
        self.on_permanent_failure = on_permanent_failure
        self.clock = clock
        self.rand = rand
        self.retry_window = retry_window
        self._wake = asyncio.Event()
        self._resume = asyncio.Event()  # new rows wake the worker; only this ends a pause early
        self.last_error: str | None = None
        self.paused: str | None = None  # why sending is paused (certificate, login, TLS mode)
        self.stopping = False
        # Set by a transient failure, cleared by the next success: that success means "SMTP is
        # back", and every row backing off is then sent at once instead of at its own time.
        self._outage = False
        self._drain = False
        # Delivered rows waiting to be marked sent, and the task marking them (group commit).
        self._sent: list[tuple[int, float]] = []
        self._marking: asyncio.Task[None] | None = None
        # Pipelining: ids claimed and not yet settled (excluded from the next claims), the
        # queue of each thread being sent, its sender tasks, rows a pause stopped.
        self._inflight: set[int] = set()
        self._threads: dict[tuple[str, int], collections.deque[OutboxRow]] = {}
        self._senders: set[asyncio.Task[None]] = set()
        self._unsent: list[OutboxRow] = []
        self._renewer: asyncio.Task[None] | None = None
        self._more = False  # the last claim was full: more rows may be due than it took
        self._hold_until = 0.0  # after a store error, claim again no sooner than this
        self._running = False  # run() is on: offered rows may be sent without a claim
        self._offered: set[int] | None = None  # ids offered while a claim runs

    def wake(self) -> None:
        self._wake.set()

    def resume(self) -> None:
        """Try a paused outbox again now (the configuration or the server was fixed)."""
        self._resume.set()
        self._wake.set()

    def offer(self, rows: Sequence[OutboxRow]) -> None:
        """Rows this gateway has just stored (committed, with their ids). With a store only
        this gateway uses, the running worker starts sending them at once, with no claim;
        otherwise (a shared store, a paused or stopped worker) it is woken to claim them."""
        single = getattr(self.store, "single_gateway", False)
        if not (self._running and single) or self.paused is not None or self.stopping:
            self.wake()
            return
        if self._more:
            # Stored rows wait for room (the last claim was full): new ones queue behind them
            # in the store, or they would take every slot that frees while requests come in.
            self.wake()
            return
        now = self.clock()
        for row in rows:
            full = len(self._inflight) >= MAX_IN_FLIGHT
            if row.id is None or row.next_attempt_at > now or full:
                self.wake()  # claimed in its time, like any stored row
                continue
            self._dispatch(row)
            if self._offered is not None:
                self._offered.add(row.id)
        self._ensure_renewer()

    @property
    def in_flight(self) -> int:
        """Rows claimed and not yet settled (sent and marked, retried later, or failed)."""
        return len(self._inflight)

    async def run_once(self) -> int:
        """Send every row that is due now (up to one claim); returns how many were claimed.
        Every delivered row is marked sent when this returns."""
        claimed = await self._claim()
        await self._settle()
        return claimed

    async def _claim(self) -> int:
        """Claim due rows that are not in flight and start sending them; returns how many.

        One sender task per thread (request and recipient) keeps each thread in order; other
        threads are sent in parallel (as many at once as the send callable allows: the
        SmtpPool's size). A row of a thread that is still being sent waits behind that
        thread's rows. Claims go on while rows are in flight, so a slow server never holds
        new requests back until a whole batch is done."""
        room = MAX_IN_FLIGHT - len(self._inflight)
        if room <= 0:
            self._more = True
            return 0
        limit = min(CLAIM_BATCH, room)
        # Rows offered while the claim runs are left out of what it returns: its read may
        # have seen them pending before they were sent and marked (the claim ran on the
        # store's thread), and they would be sent again.
        self._offered = set()
        try:
            rows = await self.store.claim_outbox(
                self.clock(),
                owner=self.owner,
                lease=self.lease,
                limit=limit,
                exclude=self._inflight,
            )
        finally:
            offered, self._offered = self._offered, None
        self._more = len(rows) >= limit
        for row in rows:
            if row.id not in offered:
                self._dispatch(row)
        self._ensure_renewer()
        return len(rows)

    def _dispatch(self, row: OutboxRow) -> None:
        """Put a row in flight: behind its thread's rows in flight, or in a new sender task."""
        assert row.id is not None
        if row.id in self._inflight:
            return  # offered and claimed both (the claim ran after the row was stored)
        self._inflight.add(row.id)
        key = (row.request_id, row.recipient_seq)
        queue = self._threads.get(key)
        if queue is not None:
            queue.append(row)  # after the rows of its thread put in flight before it
            return
        self._threads[key] = collections.deque([row])
        task = asyncio.create_task(self._send_thread(key), name="hl-email-outbox-send")
        self._senders.add(task)
        task.add_done_callback(self._senders.discard)

    def _ensure_renewer(self) -> None:
        if self._inflight and (self._renewer is None or self._renewer.done()):
            self._renewer = asyncio.create_task(self._renew(), name="hl-email-outbox-renew")

    def _room(self) -> bool:
        return len(self._inflight) + CLAIM_BATCH <= MAX_IN_FLIGHT

    def _release(self, ids: Iterable[int], *, pending: bool = False) -> None:
        """Rows leave the in-flight set: their outcome is stored (or they are to be sent
        again). Wake the claim loop when it waits for room or nothing is left in flight, or
        when the rows are `pending` again (a retry, a store error): the loop's sleep was
        worked out while they were in flight, without their time."""
        for row_id in ids:
            self._inflight.discard(row_id)
        if pending or not self._inflight or (self._more and self._room()):
            self._wake.set()

    async def _send_thread(self, key: tuple[str, int]) -> None:
        """Send one thread's queued rows in order until it is empty or the outbox pauses."""
        queue = self._threads[key]
        try:
            while queue:
                row = queue[0]
                if self.paused is not None or not await self._deliver(row):
                    break  # paused: the rest are given back (_settle)
                queue.popleft()
        except asyncio.CancelledError:
            raise
        except Exception:  # a store error recording an outcome: never lose the worker
            log.exception("outbox: could not record the outcome of a send; trying again soon")
            self._hold_until = self.clock() + 1.0
            # The thread's rows are claimed again (in order) after the hold.
            stuck = [r.id for r in queue if r.id is not None]
            queue.clear()
            self._release(stuck, pending=True)
        finally:
            del self._threads[key]
            self._unsent.extend(queue)

    async def _settle(self) -> None:
        """Wait until no row is in flight: every sender done, every delivered row marked
        sent, and the rows a pause stopped given back untouched (no attempt counted)."""
        while self._senders:
            await asyncio.wait(set(self._senders))
        await self._marked()
        unsent, self._unsent = self._unsent, []
        now = self.clock()
        try:
            for row in unsent:
                assert row.id is not None
                await self.store.outbox_retry(
                    row.id, row.attempts, now, self.last_error or "outbox paused"
                )
        finally:
            self._release(r.id for r in unsent if r.id is not None)
        if not self._inflight and self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None

    async def _stop_senders(self) -> None:
        """Cancel the sends in progress (at stop); their rows stay pending and are sent at the
        next start, as a crash would leave them."""
        for task in [*self._senders, self._renewer]:
            if task is not None and not task.done():
                task.cancel()
        pending = [t for t in [*self._senders, self._renewer] if t is not None]
        if pending:
            await asyncio.wait(pending, timeout=5)
        self._renewer = None
        unsent, self._unsent = self._unsent, []
        self._release(r.id for r in unsent if r.id is not None)

    async def _renew(self) -> None:
        """Keep the claim on rows still being sent (a slow server must not let another gateway
        take them over and send them a second time)."""
        while self._inflight:
            await asyncio.sleep(self.lease / 3)
            ids = sorted(self._inflight)
            if not ids:
                return
            try:
                await self.store.renew_outbox(
                    ids, owner=self.owner, until=self.clock() + self.lease
                )
            except Exception:
                log.warning("could not renew the outbox lease", exc_info=True)

    def _mark_sent(self, row_id: int) -> None:
        """Queue a row the server accepted to be marked sent. The SMTP connection goes on with
        the next row meanwhile; rows accepted while one transaction commits share the next one
        (a crash in between re-sends them, as a crash between accept and commit always could)."""
        self._sent.append((row_id, self.clock()))
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_pending())

    async def _mark_pending(self) -> None:
        # Rows accepted within a few ms share the commit (a small commit runs inline now, so
        # without this wait every row would get one of its own).
        await asyncio.sleep(MARK_WINDOW)
        while self._sent:
            batch, self._sent = self._sent, []
            marked = False
            try:
                await self.store.outbox_sent_many(batch)
                marked = True
            except Exception:
                log.warning(
                    "could not mark %d delivered rows as sent; they will be sent again",
                    len(batch),
                    exc_info=True,
                )
            finally:
                self._release((row_id for row_id, _ in batch), pending=not marked)

    async def _marked(self) -> None:
        """Wait until every queued row is marked sent (or its marking failed and was logged:
        the row is then sent again)."""
        while self._marking is not None:
            task = self._marking
            try:
                await asyncio.shield(task)  # a cancelled worker leaves the commit running
            finally:
                if self._marking is task and task.done():
                    self._marking = None

    async def flush(self) -> None:
        """Mark sent every row the server has accepted (at stop, before the store closes): a
        row left unmarked would be sent again at the next start."""
        await self._stop_senders()
        try:
            await self._marked()
        except Exception:
            log.warning("could not mark delivered rows as sent; they will be sent again")

    async def _deliver(self, row: OutboxRow) -> bool:
        """Send one row; False when it was not attempted for good (the outbox paused)."""
        assert row.id is not None
        try:
            await self.send(row.mail_from, row.rcpt_to, row.message)
        except Exception as exc:  # never let one row kill the worker
            err = classify(exc, self.config.security)
            if isinstance(err, PausingDeliveryError):
                self._pause(err)
                return False
            await self._failed(row, err)
            self._release([row.id], pending=True)  # its retry or failure is stored
            return True
        self.last_error = None
        if self._outage:
            self._outage = False
            self._drain = True  # SMTP is back: the rows backing off need not wait
            self._wake.set()
        self._mark_sent(row.id)
        return True

    def _pause(self, err: PausingDeliveryError) -> None:
        reason = f"{err} (fix: {err.fix})" if err.fix else str(err)
        if self.paused != reason:
            log.error("outbox paused: %s; retrying every %gs", reason, self.config.pause_retry)
        self.paused = reason
        self.last_error = f"outbox paused: {reason}"
        self._wake.set()  # the claim loop stops claiming, settles and waits out the pause

    async def _window(self, row: OutboxRow) -> float:
        window = self.config.retry_for
        if window is None and self.retry_window is not None:
            window = await self.retry_window(row)
        return min(window or MAX_RETRY_FOR, MAX_RETRY_FOR)

    async def _failed(self, row: OutboxRow, exc: DeliveryError) -> None:
        assert row.id is not None
        attempts = row.attempts + 1
        self.last_error = str(exc)
        now = self.clock()
        if exc.outage:
            # The server is down, not this one recipient: its next success sends every row
            # backing off at once. A deferred recipient (451 greylisting, 452 mailbox full)
            # keeps its own backoff.
            self._outage = True
        if exc.transient:
            give_up_at = (row.created_at or now) + await self._window(row)
            capped = self.config.max_attempts is not None and attempts >= self.config.max_attempts
            if now < give_up_at and not capped:
                delay = backoff_delay(
                    attempts,
                    initial=self.config.backoff_initial,
                    maximum=self.config.backoff_max,
                    jitter=self.rand(),
                )
                next_at = min(now + delay, give_up_at)
                log.warning(
                    "outbox %s to %s: %s; retry %d in %.1fs",
                    row.id,
                    row.rcpt_to,
                    exc,
                    attempts,
                    next_at - now,
                )
                await self.store.outbox_retry(row.id, attempts, next_at, str(exc))
                return
        if not exc.transient:
            reason = str(exc)
        else:
            reason = f"gave up after {attempts} attempts over {now - (row.created_at or now):.0f}s: {exc}"
        log.error("outbox %s to %s failed: %s", row.id, row.rcpt_to, reason)
        await self.on_permanent_failure(row, reason)

    def _ca_stamp(self) -> float | None:
        if not self.config.ca_file:
            return None
        try:
            return os.stat(self.config.ca_file).st_mtime
        except OSError:
            return None

    async def _wait_paused(self) -> None:
        """Sleep while paused: until pause_retry passes, resume() is called, or ca_file changes."""
        stamp = self._ca_stamp()
        deadline = self.clock() + self.config.pause_retry
        while not self.stopping:
            step = min(2.0, max(0.0, deadline - self.clock()))
            try:
                await asyncio.wait_for(self._resume.wait(), step)
            except TimeoutError:
                pass
            if self._resume.is_set() or self._ca_stamp() != stamp or self.clock() >= deadline:
                break
        self._resume.clear()
        self._wake.clear()
        self.paused = None  # try again; the next failure pauses again

    async def run(self) -> None:
        self._running = True
        try:
            await self._run()
        finally:
            self._running = False
            await self._stop_senders()

    async def _run(self) -> None:
        while not self.stopping:
            if self.paused is not None:
                try:
                    await self._settle()
                except asyncio.CancelledError:
                    raise
                except Exception:  # a store error giving rows back: they are claimed again
                    log.exception("outbox: could not give rows back at a pause; continuing")
                await self._wait_paused()
                continue
            claimed = 0
            try:
                hold = self._hold_until - self.clock()
                if hold > 0:
                    await asyncio.sleep(hold)
                claimed = await self._claim()
                if self._drain and self.paused is None:
                    self._drain = False
                    # Every row backing off is due now (on every gateway sharing the store).
                    if await self.store.outbox_retry_now(self.clock()):
                        continue
                due = await self.store.next_outbox_due(self._inflight)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox worker error; continuing")
                due = self.clock() + 1.0
            if self.paused is not None:
                continue
            if self._more and self._room():
                continue  # more rows are due than one claim takes
            timeout = None if due is None else max(0.0, due - self.clock())
            if timeout == 0.0:
                if claimed and self._room():
                    continue
                # Due but not ours to claim now (another gateway holds an earlier row of its
                # thread, or no room): look again soon, or when rows settle, rather than spin.
                timeout = 0.5
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
            self._wake.clear()
