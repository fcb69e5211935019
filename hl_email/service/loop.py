"""One worker loop for the gateway's background tasks: run a step, sleep until it is due again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["run_loop"]

log = logging.getLogger("hl_email.gateway")


async def run_loop(
    step: Callable[[], Awaitable[float | None]],
    *,
    stopping: Callable[[], bool],
    failed: str,
    wake: asyncio.Event | None = None,
    longest: float = 60.0,
    retry_after: float = 1.0,
) -> None:
    """Run `step` until `stopping()`. The step returns how long to sleep (None: `longest`; at
    most `longest` anyway; 0: run again at once); a failed step is logged with `failed` and
    retried after `retry_after` s. A set `wake` event ends the sleep early."""
    while not stopping():
        try:
            delay = await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(failed)
            delay = retry_after
        if delay is not None and delay <= 0.0:
            continue
        timeout = min(delay or longest, longest)
        if wake is None:
            await asyncio.sleep(timeout)
            continue
        try:
            await asyncio.wait_for(wake.wait(), timeout)
        except TimeoutError:
            pass
        wake.clear()
