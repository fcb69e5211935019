"""Mailbox leadership: of the gateways sharing a store, one watches each mailbox at a time.

The others stand by (connected to the store, asking for the lock every half second) and take
over within about a second of the leader's death; a leader that loses its lock connection stops
watching at once. Checkpoints are compare-and-set besides, so even two watchers in the moment of
a failover never move a checkpoint backwards, and inbound mail is de-duplicated by Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from ..store.base import Leadership

__all__ = ["watch_while_leading"]

log = logging.getLogger("hl_email.inbound")


async def watch_while_leading(
    leadership: Leadership,
    watch: Callable[[], Awaitable[None]],
    *,
    on_role: Callable[[str], None] = lambda role: None,
) -> None:
    """Run `watch()` whenever this gateway leads; forever, until cancelled."""
    try:
        while True:
            on_role("standby")
            await leadership.acquire()
            on_role("leader")
            watching = asyncio.ensure_future(watch())
            lost = asyncio.ensure_future(leadership.lost.wait())
            try:
                await asyncio.wait({watching, lost}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (watching, lost):
                    task.cancel()
                for task in (watching, lost):
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if lost.done() and not lost.cancelled():
                log.warning("lost the leadership of the mailbox; standing by")
            elif watching.done() and not watching.cancelled() and watching.exception():
                log.error("mailbox watcher failed: %r", watching.exception())
            await leadership.release()
    finally:
        on_role("stopped")
        await leadership.release()
