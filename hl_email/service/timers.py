"""Durable timers (reminders, escalation steps, timeouts) and the raw-mail retention sweep."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ..config import GatewayConfig, normalize_address
from ..core.durations import reminder_deferred_until
from ..core.expiry import timed_out
from ..core.wording import t
from ..store import (
    CommitResult,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    Store,
    TimerRow,
)
from .loop import run_loop

__all__ = ["TIMER_LEASE", "Timers", "purge_raw_mail", "retention_loop"]

log = logging.getLogger("hl_email.gateway")

# Seconds a claimed timer stays with this gateway before another may take it over.
TIMER_LEASE = 60.0


class Note(Protocol):
    def __call__(
        self, request: RequestRow, recipient: RecipientRow, message: str, *, kind: str = "note"
    ) -> OutboxRow | None: ...


class Timers:
    """Runs the due timers this gateway claims, each under its request's lock."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        owner: str,
        lock_for: Callable[[str], asyncio.Lock],
        note: Note,
        escalate: Callable[..., Awaitable[CommitResult]],
        notify: Callable[[str, str], None],
        wake_outbox: Callable[[], None],
        lease: float = TIMER_LEASE,
    ) -> None:
        self.store = store
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self._lock_for = lock_for
        self._note = note
        self._escalate = escalate
        self._notify = notify
        self._wake_outbox = wake_outbox
        self.wake = asyncio.Event()  # set when a new timer may be due sooner than the next one

    async def run_once(self) -> int:
        """Run every timer that is due; a step missed while the gateway was down runs once."""
        # Claimed: with several gateways on one store, one of them runs each timer (and a
        # crashed one's claim runs out after `lease` seconds).
        timers = await self.store.claim_timers(self.clock(), owner=self.owner, lease=self.lease)
        for timer in timers:
            async with self._lock_for(timer.request_id):
                try:
                    # CONFLICT: the request changed since the timer read it (another gateway
                    # applied an answer) or the timer was run elsewhere: read again and redo the
                    # step, which then finds the request decided or the timer done.
                    for _ in range(3):
                        if await self._run(timer) is not CommitResult.CONFLICT:
                            break
                except Exception:
                    log.exception("timer %s (%s) failed", timer.id, timer.kind)
                    await self.store.commit(timer_done=timer.id)
        return len(timers)

    async def run(self, stopping: Callable[[], bool]) -> None:
        """The timer loop: sleeps until the next timer is due (or a new one is stored)."""

        async def step() -> float | None:
            await self.run_once()
            due = await self.store.next_timer_due()
            return None if due is None else max(0.0, due - self.clock())

        await run_loop(
            step, stopping=stopping, failed="timer loop error; continuing", wake=self.wake
        )

    async def _run(self, timer: TimerRow) -> CommitResult | None:
        """One step; every effect commits only while the request is at the version read here."""
        request = await self.store.get_request(id=timer.request_id)
        if request is None or request.state != "pending":
            return await self.store.commit(timer_done=timer.id)
        recipients = await self.store.get_recipients(request.id)
        waiting = [r for r in recipients if r.state in ("pending", "sent")]
        if timer.kind == "reminder":
            later = reminder_deferred_until(request.route, self.clock())
            if later is not None:
                # Due outside working hours (the gateway was down, or hours changed): wait.
                again = TimerRow(request.id, "reminder", later, dict(timer.payload))
                await self.store.commit(timer_done=timer.id, timers=[again])
                self.wake.set()
                return None
            key = "reminder_approval" if request.kind == "function_call" else "reminder_question"
            notes = [self._note(request, r, t(key, request), kind="reminder") for r in waiting]
            return await self._commit(request, waiting, notes, timer)
        if timer.kind == "escalation":
            step = timer.payload
            adds = [(normalize_address(a), "to") for a in step.get("add") or []]
            handover = [(normalize_address(a), "to") for a in step.get("handover") or []]
            return await self._escalate(
                request,
                add=adds + handover,
                message=step.get("message") or t("escalated", request),
                handover=bool(handover),
                timer_done=timer.id,
            )
        if timer.kind == "timeout":
            now = self.clock()
            status, state = timed_out(
                request.kind, request.status, request.route.get("timeout") or 0, now
            )
            notes = [self._note(request, r, t("timed_out_note", request)) for r in waiting]
            update = RequestUpdate(
                request.id,
                status=status,
                state=state,
                resolved_at=now,
                expect_version=request.version,
            )
            result = await self._commit(request, waiting, notes, timer, update=update)
            if result:
                self._notify(request.call_id, state)
            return result
        return await self.store.commit(timer_done=timer.id)

    async def _commit(
        self,
        request: RequestRow,
        waiting: list[RecipientRow],
        notes: list[OutboxRow | None],
        timer: TimerRow,
        *,
        update: RequestUpdate | None = None,
    ) -> CommitResult:
        result = await self.store.commit(
            request=update or RequestUpdate(request.id, expect_version=request.version),
            timer_done=timer.id,
            recipients=waiting,
            outbox=[n for n in notes if n is not None],
        )
        if result:
            self._wake_outbox()
        return result


async def purge_raw_mail(store: Store, config: GatewayConfig, now: float) -> tuple[int, int]:
    """`[store] keep_raw_mail`: drop raw mail older than that; outcomes stay."""
    from ..retention import purge_raw_mail as purge

    keep = config.store.keep_raw_mail
    if not keep:
        return 0, 0
    return await purge(store, older_than=keep, now=now)


async def retention_loop(
    purge: Callable[[], Awaitable[tuple[int, int]]], keep: Any, stopping: Callable[[], bool]
) -> None:
    """Purge now and then: every keep/24, between a minute and an hour."""

    async def step() -> float:
        inbound, outbox = await purge()
        if inbound or outbox:
            log.info("retention: purged %d raw replies, %d sent bodies", inbound, outbox)
        return min(3600.0, max(60.0, float(keep or 0) / 24))

    await run_loop(
        step,
        stopping=stopping,
        failed="retention purge failed; trying again later",
        longest=3600.0,
        retry_after=min(3600.0, max(60.0, float(keep or 0) / 24)),
    )
