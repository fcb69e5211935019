"""Catch-up in chunks: one UID FETCH per chunk (headers first when the handler can triage),
one STORE per chunk, one checkpoint move per chunk, new mail before the backlog.

aioimaplib reads one FETCH response in time quadratic in its size, so a chunk is bounded in
messages and bytes. Within a chunk messages are handled concurrently, except that two that may
concern the same request (triage.lanes) are handled in arrival order.

The checkpoint is UIDVALIDITY plus the highest UID below which every message is done. Mail
handled above it out of order (new mail first) is known from the inbound records: after a
restart the headers above the mark are fetched again and recorded messages are skipped.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .triage import BODY_SEARCH_TERMS, lanes

if TYPE_CHECKING:
    import aioimaplib

    from ..store.base import Checkpoint
    from .imap import ImapWatcher

__all__ = ["CHUNK", "CatchUp", "parse_fetch_items", "uid_set"]

log = logging.getLogger("hl_email.inbound")

CHUNK = 200  # messages per header FETCH, STORE and checkpoint move
BODY_CHUNK = 100  # messages per body FETCH
BODY_CHUNK_BYTES = 2_000_000  # bytes per body FETCH (one bigger message goes alone)
CONCURRENCY = 8  # messages handled at once within a chunk (gateway handler only)

_FETCH_START = re.compile(rb"^\d+ FETCH \(", re.I)
_LITERAL_END = re.compile(rb"\{\d+\}\s*$")
_UID = re.compile(rb"\bUID (\d+)", re.I)
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.I)


def uid_set(uids: list[int]) -> str:
    """"3:5,9" for [3, 4, 5, 9]."""
    ranges: list[str] = []
    ordered = sorted(set(uids))
    start = prev = ordered[0]
    for uid in ordered[1:] + [None]:  # type: ignore[list-item]
        if uid is not None and uid == prev + 1:
            prev = uid
            continue
        ranges.append(str(start) if start == prev else f"{start}:{prev}")
        if uid is not None:
            start = prev = uid
    return ",".join(ranges)


def parse_fetch_items(lines: list[Any]) -> dict[int, tuple[int | None, bytes]]:
    """{uid: (RFC822.SIZE or None, the literal)} of a multi-message FETCH response (one
    literal per message; untagged FETCH lines without one, e.g. flag updates, are skipped)."""
    found: dict[int, tuple[int | None, bytes]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if isinstance(line, bytes) and _FETCH_START.match(line) and _LITERAL_END.search(line):
            literal = lines[i + 1] if i + 1 < len(lines) else None
            tail = lines[i + 2] if i + 2 < len(lines) and isinstance(lines[i + 2], bytes) else b""
            meta = line + b" " + tail
            uid = _UID.search(meta)
            if isinstance(literal, bytearray) and uid:
                size = _SIZE.search(meta)
                found[int(uid.group(1))] = (int(size.group(1)) if size else None, bytes(literal))
                i += 2
                continue
        i += 1
    return found


def _check(response: Any, what: str) -> Any:
    from .imap import _check as check

    return check(response, what)


@dataclass
class _Lanes:
    """Runs handlings concurrently (bounded) while keeping those that share a request in order."""

    limit: int
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    last: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    barrier: asyncio.Task[Any] | None = None

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.limit)

    def add(self, keys: frozenset[str] | None, work: Callable[[], Awaitable[Any]]) -> None:
        if keys is None:  # may touch any request: after everything before it
            after = list(self.tasks)
        else:
            after = [self.last[k] for k in keys if k in self.last]
            if self.barrier is not None:
                after.append(self.barrier)

        async def run() -> Any:
            if after:
                await asyncio.wait(after)
            async with self.slots:
                return await work()

        task = asyncio.ensure_future(run())
        self.tasks.append(task)
        if keys is None:
            self.barrier = task
            self.last = {}
        else:
            self.last.update(dict.fromkeys(keys, task))

    async def finish(self) -> None:
        """Wait for every handling (not cut short by a lost connection: each message is stored
        or not, and a second look is de-duplicated); the first failure is raised."""
        if not self.tasks:
            return
        results = await asyncio.shield(asyncio.gather(*self.tasks, return_exceptions=True))
        for result in results:
            if isinstance(result, BaseException):
                raise result


class CatchUp:
    """One pass over a list of UIDs for one watcher; `run` returns (checkpoint, handled)."""

    def __init__(self, watcher: ImapWatcher, client: aioimaplib.IMAP4, uidvalidity: int) -> None:
        self.watcher = watcher
        self.client = client
        self.uidvalidity = uidvalidity

    async def run(self, backlog: list[int], checkpoint: Checkpoint) -> tuple[Checkpoint, int]:
        from ..store.base import Checkpoint

        w = self.watcher
        pending = list(backlog)
        highest = max(max(backlog, default=0), checkpoint.last_uid)
        # UIDs above the checkpoint not done yet: the mark stops below the lowest of them.
        outstanding = {uid for uid in backlog if uid > checkpoint.last_uid}
        handled = 0
        first = True
        while pending:
            if not first:  # new mail first: whatever arrived meanwhile goes before the backlog
                fresh = await self._above(highest)
                if fresh:
                    highest = max(fresh)
                    outstanding.update(fresh)
                    pending = fresh + pending
            first = False
            chunk, pending = pending[:CHUNK], pending[CHUNK:]
            handled += await self._chunk(chunk)
            # \Seen records progress through the first catch-up (mail at or below the floor);
            # above it, the checkpoint does.
            _check(
                await self.client.uid("store", uid_set(chunk), "+FLAGS.SILENT (\\Seen)"),
                "UID STORE",
            )
            outstanding.difference_update(chunk)
            mark = min(outstanding) - 1 if outstanding else highest
            if mark > checkpoint.last_uid:
                checkpoint = await w._move(
                    checkpoint,
                    Checkpoint(w.mailbox_key, self.uidvalidity, mark, checkpoint.catchup_floor),
                )
        return checkpoint, handled

    async def _above(self, highest: int) -> list[int]:
        from .imap import parse_search_uids

        response = _check(await self.client.uid_search(f"UID {highest + 1}:*"), "UID SEARCH")
        return [u for u in parse_search_uids(response.lines) if u > highest]

    async def _chunk(self, chunk: list[int]) -> int:
        """Handle one chunk; returns how many messages it had."""
        w = self.watcher
        lanes_ = _Lanes(CONCURRENCY if w.record_unfetched is not None else 1)
        to_fetch = await self._triage(chunk) if w.record_unfetched is not None else chunk
        sizes = self.sizes
        for batch in _batches(to_fetch, sizes):
            part = f"<0.{w.max_fetch_bytes}>" if w.max_fetch_bytes else ""
            response = _check(
                await self.client.uid("fetch", uid_set(batch), f"(BODY.PEEK[]{part})"),
                f"UID FETCH {uid_set(batch)[:40]}",
            )
            bodies = parse_fetch_items(response.lines)
            for uid in batch:
                if uid not in bodies:
                    continue  # expunged meanwhile
                raw = bodies[uid][1]
                keys = lanes(raw) if lanes_.limit > 1 else None
                lanes_.add(keys, lambda raw=raw, uid=uid: self._handle(uid, raw))
        await lanes_.finish()
        return len(chunk)

    async def _handle(self, uid: int, raw: bytes) -> None:
        try:
            await self.watcher.handle(raw)
        except Exception:
            # The pipeline records outcomes itself; this is a bug, not bad input. Stop so the
            # checkpoint does not move past an unprocessed message.
            log.exception("processing IMAP UID %s failed; will retry", uid)
            raise

    sizes: dict[int, int] = {}

    async def _triage(self, chunk: list[int]) -> list[int]:
        """Headers first: records what the headers decide; returns the UIDs to fetch whole."""
        w = self.watcher
        assert w.record_unfetched is not None
        response = _check(
            await self.client.uid("fetch", uid_set(chunk), "(UID RFC822.SIZE BODY.PEEK[HEADER])"),
            "UID FETCH headers",
        )
        heads = parse_fetch_items(response.lines)
        present = [uid for uid in chunk if uid in heads]
        if not present:
            return []
        terms = [f'BODY "{term}"' for term in BODY_SEARCH_TERMS]
        query = terms[-1]
        for term in reversed(terms[:-1]):
            query = f"OR {term} {query}"
        from .imap import parse_search_uids

        hits = set(
            parse_search_uids(
                _check(
                    await self.client.uid_search(f"UID {uid_set(present)} {query}"),
                    "UID SEARCH BODY",
                ).lines
            )
        )
        self.sizes = {uid: heads[uid][0] or 0 for uid in present}
        outcomes = await w.record_unfetched(
            [(heads[uid][1], heads[uid][0] or 0, uid in hits) for uid in present]
        )
        return [uid for uid, outcome in zip(present, outcomes, strict=True) if outcome is None]


def _batches(uids: list[int], sizes: dict[int, int]) -> list[list[int]]:
    batches: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if current and (len(current) >= BODY_CHUNK or total + size > BODY_CHUNK_BYTES):
            batches.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    if current:
        batches.append(current)
    return batches
