"""Waiting callers: futures woken when a request changes here or on another gateway."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..errors import NotFoundError
from ..store import RequestRow, Store

__all__ = ["Waiters"]

log = logging.getLogger("hl_email.gateway")


class Waiters:
    """The callers waiting on requests and the change listeners of one gateway."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.futures: dict[str, set[asyncio.Future[None]]] = {}
        self._listeners: set[Callable[[str, str], None]] = set()
        self._tasks: set[asyncio.Future[None]] = set()

    def subscribe(self, listener: Callable[[str, str], None]) -> Callable[[], None]:
        """Call `listener(call_id, state)` whenever a request changes; returns an unsubscribe."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    def notify(self, call_id: str, state: str) -> None:
        """A request changed here: wake this gateway's waiters and tell the other gateways."""
        self.wake_local(call_id, state)
        task = asyncio.ensure_future(self._publish(call_id, state))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, call_id: str, state: str) -> None:
        try:
            await self.store.publish_change(call_id, state)
        except Exception:
            # Waiters elsewhere still wake: their long-polls re-read at their timeout.
            log.warning("could not publish the change of %s", call_id, exc_info=True)

    def on_remote_change(self, call_id: str, state: str) -> None:
        """Another gateway on the store changed a request (LISTEN/NOTIFY with PostgreSQL)."""
        if call_id == "*":  # notifications may have been missed: every waiter re-reads
            for futures in list(self.futures.values()):
                for future in futures:
                    if not future.done():
                        future.set_result(None)
            self.futures.clear()
            return
        self.wake_local(call_id, state)

    def wake_local(self, call_id: str, state: str) -> None:
        for future in self.futures.pop(call_id, set()):
            if not future.done():
                future.set_result(None)
        for listener in list(self._listeners):
            try:
                listener(call_id, state)
            except Exception:
                log.exception("listener failed")

    def cancel_all(self) -> None:
        """The gateway stops: every waiter is cancelled."""
        for futures in self.futures.values():
            for future in futures:
                if not future.done():
                    future.cancel()
        self.futures.clear()

    async def wait(self, call_id: str, timeout: float | None = None) -> RequestRow:
        """Until the request is done or failed; woken by the gateway, never by polling."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            self.futures.setdefault(call_id, set()).add(future)
            try:
                # Registered before the read, so an answer between the read and the wait is
                # not missed; removed however this ends, also when the waiter goes away
                # (cancelled) during the read: a vanished waiter leaves nothing behind.
                row = await self.store.get_request(call_id=call_id)
                if row is None:
                    raise NotFoundError(f"no request with call_id {call_id!r}")
                if row.state != "pending":
                    return row
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"no answer to {call_id} within {timeout:g} s")
                try:
                    await asyncio.wait_for(future, remaining)
                except TimeoutError:
                    raise TimeoutError(f"no answer to {call_id} within {timeout:g} s") from None
            finally:
                waiters = self.futures.get(call_id)
                if waiters is not None:
                    waiters.discard(future)
                    if not waiters:
                        self.futures.pop(call_id, None)
