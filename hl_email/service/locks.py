"""Per-request locks: changes to different requests run concurrently on one gateway."""

from __future__ import annotations

import asyncio
import weakref

__all__ = ["RequestLocks"]


class RequestLocks:
    """One in-process lock per request (not one for the gateway). Every commit is versioned
    besides, which is what orders the writers of several gateways (and the inbound path, which
    retries on a conflict)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, request_id: str) -> asyncio.Lock:
        """The lock of one request (kept while anyone holds or waits for it)."""
        lock = self._locks.get(request_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[request_id] = lock
        return lock
