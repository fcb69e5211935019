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
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..store.base import Checkpoint
from .responses import check_ok, parse_fetch_items, parse_search_uids, parse_sizes, uid_set
from .triage import BODY_SEARCH_TERMS, lanes

if TYPE_CHECKING:
    import aioimaplib

    from .imap import ImapWatcher

__all__ = ["CHUNK", "CatchUp"]

log = logging.getLogger("hl_email.inbound")

CHUNK = 200  # messages per header FETCH, STORE and checkpoint move
BODY_CHUNK = 100  # messages per body FETCH
BODY_CHUNK_BYTES = 2_000_000  # bytes per body FETCH (one bigger message goes alone)
HEADER_CAP = 65_536  # bytes of one header block fetched (over [inbound] max_header_bytes)
CONCURRENCY = 8  # messages handled at once within a chunk (gateway handler only)


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
        self.sizes: dict[int, int] = {}

    async def run(self, backlog: list[int], checkpoint: Checkpoint) -> tuple[Checkpoint, int]:
        pending = list(backlog)
        self.checkpoint = checkpoint
        self.highest = max(max(backlog, default=0), checkpoint.last_uid)
        # UIDs above the checkpoint not done yet: the mark stops below the lowest of them.
        self.outstanding = {uid for uid in backlog if uid > checkpoint.last_uid}
        handled = 0
        first = True
        ahead: _HeadsAhead | None = None
        try:
            while pending:
                if not first:  # new mail first: whatever arrived meanwhile goes before the backlog
                    fresh = await self._above(self.highest)
                    if fresh:
                        self.highest = max(fresh)
                        self.outstanding.update(fresh)
                        pending = fresh + pending
                first = False
                chunk, pending = pending[:CHUNK], pending[CHUNK:]
                if self.watcher.record_unfetched is not None:
                    heads = await ahead.take(chunk) if ahead is not None else None
                    # the next chunk's headers come in while this one is handled (read-only:
                    # BODY.PEEK and SEARCH; used only if that chunk is still the next one)
                    ahead = _HeadsAhead.start(self, pending[:CHUNK]) if pending else None
                    await self._chunk(chunk, heads)
                    await self._done(chunk)
                else:
                    await self._one_by_one(chunk)
                handled += len(chunk)
        finally:
            if ahead is not None:  # stopped by an error or a cancel: nobody waits for it
                ahead.cancel()
        return self.checkpoint, handled

    async def _done(self, uids: list[int]) -> None:
        """Record progress: \\Seen for the first catch-up (mail at or below the floor), and
        the checkpoint mark above it."""
        # (unchecked, as before: a folder that refuses flags still has the checkpoint)
        await self.client.uid("store", uid_set(uids), "+FLAGS.SILENT (\\Seen)")
        self.outstanding.difference_update(uids)
        mark = min(self.outstanding) - 1 if self.outstanding else self.highest
        if mark > self.checkpoint.last_uid:
            w = self.watcher
            new = Checkpoint(w.mailbox_key, self.uidvalidity, mark, self.checkpoint.catchup_floor)
            self.checkpoint = await w._move(self.checkpoint, new)

    async def _above(self, highest: int) -> list[int]:
        response = check_ok(await self.client.uid_search(f"UID {highest + 1}:*"), "UID SEARCH")
        return [u for u in parse_search_uids(response.lines) if u > highest]

    async def _bodies(self, uids: list[int]) -> list[tuple[int, bytes]]:
        """(uid, raw) in order, fetched in batches bounded in messages and bytes."""
        part = f"<0.{self.watcher.max_fetch_bytes}>" if self.watcher.max_fetch_bytes else ""
        found: list[tuple[int, bytes]] = []
        for batch in _batches(uids, self.sizes):
            response = check_ok(
                await self.client.uid("fetch", uid_set(batch), f"(BODY.PEEK[]{part})"),
                f"UID FETCH {uid_set(batch)[:40]}",
            )
            bodies = parse_fetch_items(response.lines)
            found.extend((uid, bodies[uid][1]) for uid in batch if uid in bodies)  # else expunged
        return found

    async def _one_by_one(self, chunk: list[int]) -> None:
        """A plain handler (no de-duplication of its own): in UID order, progress per message."""
        await self._sizes(chunk)
        for uid, raw in await self._bodies(chunk):
            # Shielded: a lost connection must not cut processing short.
            await asyncio.shield(self._handle(uid, raw))
            await self._done([uid])
        self.outstanding.difference_update(chunk)  # expunged ones

    async def _chunk(self, chunk: list[int], heads: _Heads | None = None) -> None:
        """Headers first, then the rest whole; handled concurrently in lanes."""
        running = _Lanes(CONCURRENCY)
        for uid, raw in await self._bodies(await self._triage(chunk, heads)):
            running.add(lanes(raw), lambda raw=raw, uid=uid: self._handle(uid, raw))
        await running.finish()

    async def _handle(self, uid: int, raw: bytes) -> None:
        try:
            await self.watcher.handle(raw)
        except Exception:
            # The pipeline records outcomes itself; this is a bug, not bad input. Stop so the
            # checkpoint does not move past an unprocessed message.
            log.exception("processing IMAP UID %s failed; will retry", uid)
            raise

    async def _heads(self, chunk: list[int]) -> _Heads:
        """The header blocks and sizes of a chunk, and which bodies have a search term."""
        response = check_ok(
            await self.client.uid(
                "fetch", uid_set(chunk), f"(UID RFC822.SIZE BODY.PEEK[HEADER]<0.{HEADER_CAP}>)"
            ),
            "UID FETCH headers",
        )
        heads = parse_fetch_items(response.lines)
        present = [uid for uid in chunk if uid in heads]
        return heads, present, (await self._body_hits(present) if present else set())

    async def _triage(self, chunk: list[int], fetched: _Heads | None = None) -> list[int]:
        """Headers first: records what the headers decide; returns the UIDs to fetch whole."""
        w = self.watcher
        assert w.record_unfetched is not None
        heads, present, hits = fetched if fetched is not None else await self._heads(chunk)
        if not present:
            return []
        # unknown size: as if too big, so the headers never decide it
        self.sizes = {uid: _size(heads[uid][0]) for uid in present}
        outcomes = await w.record_unfetched(
            [
                # a header block cut at the cap is not the message's: fetch that one whole
                (heads[uid][1], self.sizes[uid], uid in hits or len(heads[uid][1]) >= HEADER_CAP)
                for uid in present
            ]
        )
        return [uid for uid, outcome in zip(present, outcomes, strict=True) if outcome is None]

    async def _body_hits(self, uids: list[int]) -> set[int]:
        """The UIDs whose body has a triage.BODY_SEARCH_TERMS string (server-side SEARCH); all
        of them when the server cannot say."""
        query = f'BODY "{BODY_SEARCH_TERMS[-1]}"'
        for term in reversed(BODY_SEARCH_TERMS[:-1]):
            query = f'OR BODY "{term}" {query}'
        response = await self.client.uid_search(f"UID {uid_set(uids)} {query}")
        if response.result != "OK":
            log.warning("IMAP SEARCH BODY failed (%s); fetching every message", response.result)
            return set(uids)
        return set(parse_search_uids(response.lines))

    async def _sizes(self, uids: list[int]) -> None:
        """RFC822.SIZE of each message, to bound the body FETCHes (plain handlers)."""
        response = check_ok(
            await self.client.uid("fetch", uid_set(uids), "(UID RFC822.SIZE)"), "UID FETCH size"
        )
        self.sizes = parse_sizes(response.lines)


_Heads = tuple[dict[int, tuple[Any, bytes]], list[int], set[int]]


@dataclass
class _HeadsAhead:
    """The next chunk's header FETCH and body SEARCH, running while this chunk is handled."""

    chunk: list[int]
    task: asyncio.Task[_Heads]

    @classmethod
    def start(cls, catchup: CatchUp, chunk: list[int]) -> _HeadsAhead:
        return cls(list(chunk), asyncio.ensure_future(catchup._heads(chunk)))

    async def take(self, chunk: list[int]) -> _Heads | None:
        """The headers, when fetched for this very chunk (else None: fetch again)."""
        if chunk != self.chunk:
            await self.drop()
            return None
        return await self.task

    async def drop(self) -> None:
        """Wait for it, ignoring its result (the connection stays in step)."""
        with contextlib.suppress(Exception):
            await self.task

    def cancel(self) -> None:
        if not self.task.done():
            self.task.cancel()
        elif not self.task.cancelled():
            self.task.exception()  # retrieved: a failure here is the run's own, already raised


def _size(size: int | None) -> int:
    return size if size is not None else 1 << 62


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
