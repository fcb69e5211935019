"""IMAP watcher: IDLE (or polling), catch-up from a stored checkpoint, reconnect with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aioimaplib

from ..config import ImapConfig
from ..connections import TokenSource, config_error, imap_mailbox, imap_open
from ..errors import ImapError as ImapError
from ..store.base import Checkpoint, Store
from .catchup import CatchUp
from .responses import check_ok as _check
from .responses import line_text as _text
from .responses import parse_search_uids, parse_uidvalidity

_MAILBOX_CHANGE = re.compile(rb"^(?:\* )?\d+ (?:EXISTS|RECENT)\b", re.IGNORECASE)

__all__ = [
    "ImapError",
    "ImapWatcher",
    "parse_search_uids",
    "parse_uidvalidity",
]

log = logging.getLogger("hl_email.inbound")

Handler = Callable[[bytes], Awaitable[Any]]


class ImapWatcher:
    """Feeds every new message of one folder to `handle`, exactly once per stored checkpoint."""

    def __init__(
        self,
        config: ImapConfig,
        store: Store,
        handle: Handler,
        *,
        clock: Callable[[], float] = time.time,
        tokens: TokenSource | None = None,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.store = store
        self.handle = handle
        self.clock = clock
        self.connected = False
        self.idle_supported: bool | None = None
        self.capabilities: set[str] = set()
        self.last_error: str | None = None
        self._client: aioimaplib.IMAP4 | None = None
        self.stopping = False
        # Set by the gateway to [inbound] max_message_bytes + 1: a bigger message is fetched
        # only that far (IMAP partial fetch), enough for the pipeline to record `too_large`.
        self.max_fetch_bytes: int | None = None
        # Headers first (catchup.py): a handler whose owner can record a message from its
        # headers alone (the gateway's `record_unfetched`, which also de-duplicates) gets only
        # what the headers do not decide, handled concurrently; any other handler gets every
        # message, one at a time, in UID order.
        self.record_unfetched: (
            Callable[[list[tuple[bytes, int, bool]]], Awaitable[list[Any]]] | None
        ) = getattr(getattr(handle, "__self__", None), "record_unfetched", None)
        self._changed = False
        self._lost = asyncio.Event()
        self._poke = asyncio.Event()
        self.mailbox_key = (
            f"imap://{config.username or ''}@{config.host}:{config.port}/{config.folder}"
        )

    def poke(self) -> None:
        """Check for new mail now (used by tests and the dev sandbox)."""
        self._poke.set()

    async def _connect(self) -> aioimaplib.IMAP4:
        cfg = self.config
        lost_event = asyncio.Event()
        self._lost = lost_event

        def lost(exc: Exception | None) -> None:
            lost_event.set()

        client = await imap_open(cfg, tokens=self.tokens, conn_lost_cb=lost)
        self._watch_untagged(client)
        self.capabilities = set(client.protocol.capabilities)
        self.idle_supported = "IDLE" in self.capabilities and cfg.idle
        return client

    def _watch_untagged(self, client: aioimaplib.IMAP4) -> None:
        """Note "* n EXISTS" that arrives inside the answer to one of our commands.

        The server announces new mail once. When that happens during a SEARCH or FETCH,
        aioimaplib drops the line, and the following IDLE would wait for news already given.
        """
        # TODO(3): relies on aioimaplib's private _untagged_response (checked by
        # tests/integration/test_watcher_cli.py); upstream a hook for untagged data instead.
        protocol = client.protocol
        original = getattr(protocol, "_untagged_response", None)
        if original is None:  # a different aioimaplib: fall back to re-searching after IDLE
            return

        def spy(line: bytes) -> Any:
            if _MAILBOX_CHANGE.search(line):
                self._changed = True
            return original(line)

        protocol._untagged_response = spy

    async def _select(self, client: aioimaplib.IMAP4) -> int:
        folder = self.config.folder
        response = _check(await client.select(imap_mailbox(folder)), f"SELECT {folder!r}")
        uidvalidity = parse_uidvalidity(response.lines)
        if uidvalidity is None:
            raise ImapError(f"IMAP SELECT {self.config.folder} returned no UIDVALIDITY")
        return uidvalidity

    async def sync(self, client: aioimaplib.IMAP4, uidvalidity: int) -> int:
        """Process everything after the checkpoint; returns how many messages were handled.

        Searches again until nothing new turns up: a message that arrives while we work is
        announced in the answer to one of our commands, not later in IDLE, so we must look.
        """
        handled = 0
        while True:
            self._changed = False
            uids, checkpoint = await self._new_uids(client, uidvalidity)
            if uids:
                checkpoint, count = await CatchUp(self, client, uidvalidity).run(uids, checkpoint)
                handled += count
            if checkpoint.catchup_floor:
                # Every unread message below the floor is done: the first catch-up is over.
                checkpoint = await self._move(
                    checkpoint, Checkpoint(self.mailbox_key, uidvalidity, checkpoint.last_uid)
                )
            if not uids and not self._changed:
                return handled

    async def _move(self, expected: Checkpoint | None, new: Checkpoint) -> Checkpoint:
        """Compare-and-set the checkpoint; another watcher having moved it means this one no
        longer leads the mailbox: stop (the caller reconnects and reads it again)."""
        if not await self.store.swap_checkpoint(expected, new):
            raise ImapError(
                f"the checkpoint of {self.mailbox_key} was moved by another watcher; re-reading it"
            )
        return new

    async def _new_uids(
        self, client: aioimaplib.IMAP4, uidvalidity: int
    ) -> tuple[list[int], Checkpoint]:
        """(UIDs to process in order, the stored checkpoint they count from)."""
        stored = await self.store.get_checkpoint(self.mailbox_key)
        if stored is not None and stored.uidvalidity == uidvalidity:
            last_uid = stored.last_uid
            response = _check(await client.uid_search(f"UID {last_uid + 1}:*"), "UID SEARCH")
            # "n:*" always matches the highest UID, even when it is below n.
            uids = [u for u in parse_search_uids(response.lines) if u > last_uid]
            if stored.catchup_floor:
                # A first catch-up was interrupted: the unread mail it had not reached yet.
                unseen = _check(
                    await client.uid_search(f"UID 1:{stored.catchup_floor} UNSEEN"),
                    "UID SEARCH UNSEEN",
                )
                below = [u for u in parse_search_uids(unseen.lines) if u <= stored.catchup_floor]
                uids = below + uids
            return uids, stored
        # First run (or the server renumbered the folder): take what nobody has read yet, then
        # continue after everything already there, so old mail is not replayed. The floor is
        # stored first, before any message is processed: a restart half-way then goes on with
        # the unread mail below it and never replays the read mail. (Re-processing would be
        # harmless anyway: inbound messages are de-duplicated by Message-ID.)
        # ALL first, then UNSEEN: a message that lands between the two is then unseen (and
        # processed) or above the baseline (and found by the next search); the other order
        # would put it under the baseline unprocessed.
        everything = _check(await client.uid_search("ALL"), "UID SEARCH ALL")
        unseen = _check(await client.uid_search("UNSEEN"), "UID SEARCH UNSEEN")
        baseline = max(parse_search_uids(everything.lines), default=0)
        uids = [u for u in parse_search_uids(unseen.lines) if u <= baseline]
        start = Checkpoint(self.mailbox_key, uidvalidity, baseline, baseline if uids else 0)
        return uids, await self._move(stored, start)

    async def _wait_for_change(self, client: aioimaplib.IMAP4) -> None:
        if self.idle_supported:
            await self._idle(client)
        else:
            poke_task = asyncio.ensure_future(self._poke.wait())
            lost_task = asyncio.ensure_future(self._lost.wait())
            try:
                done, _ = await asyncio.wait(
                    {poke_task, lost_task},
                    timeout=self.config.poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                for task in (poke_task, lost_task):
                    if not task.done():
                        task.cancel()
            if lost_task in done:
                raise ConnectionError("IMAP connection lost")
            self._poke.clear()
            await self._noop(client)

    async def _unless_lost(self, work: Awaitable[Any]) -> Any:
        """Run `work`, but give up as soon as the connection is lost: a command sent on a dead
        socket would otherwise wait for aioimaplib's command timeout."""
        task = asyncio.ensure_future(work)
        lost_task = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({task, lost_task}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled: stop the work too
            task.cancel()
            raise
        finally:
            if not lost_task.done():
                lost_task.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise ConnectionError("IMAP connection lost")
        return task.result()

    def _reply_bound(self) -> float:
        """How long a live server may take to answer DONE or NOOP."""
        return min(self.config.timeout, 10.0)

    async def _idle(self, client: aioimaplib.IMAP4) -> None:
        """One IDLE session: until new mail, a poke, the heartbeat, or the re-IDLE deadline.

        Every `heartbeat` seconds IDLE is ended and a NOOP must be answered: a half-open or
        frozen link (NAT, proxy) shows up as a missing answer, not as silence for 25 minutes.
        """
        cfg = self.config
        loop = asyncio.get_running_loop()
        idle_until = loop.time() + cfg.idle_timeout
        heartbeat = False
        idle = await client.idle_start(timeout=cfg.idle_timeout)
        try:
            while True:
                wait = min(cfg.heartbeat, idle_until - loop.time())
                if wait <= 0:
                    break  # re-issue IDLE well before the server's 29-minute cut-off
                push_task = asyncio.ensure_future(client.wait_server_push(timeout=wait))
                poke_task = asyncio.ensure_future(self._poke.wait())
                lost_task = asyncio.ensure_future(self._lost.wait())
                try:
                    done, _ = await asyncio.wait(
                        {push_task, poke_task, lost_task}, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    for task in (push_task, poke_task, lost_task):
                        if not task.done():
                            task.cancel()
                if lost_task in done:
                    raise ConnectionError("IMAP connection lost")
                if poke_task in done:
                    self._poke.clear()
                    break
                try:
                    pushed = push_task.result()
                except TimeoutError:
                    heartbeat = loop.time() < idle_until
                    break
                lines = pushed if isinstance(pushed, list) else [pushed]
                if any(re.search(r"EXISTS|RECENT|EXPUNGE|BYE", _text(line)) for line in lines):
                    break
        finally:
            await self._end_idle(client, idle)
        if heartbeat:
            await self._noop(client)

    async def _end_idle(self, client: aioimaplib.IMAP4, idle: Any) -> None:
        """DONE, and wait for IDLE's tagged answer, unless the socket is known to be dead."""
        if self._lost.is_set():
            raise ConnectionError("IMAP connection lost")
        if client.protocol.state == "IDLE" or not idle.done():
            client.idle_done()
        lost_task = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {idle, lost_task}, timeout=self._reply_bound(), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            if not lost_task.done():
                lost_task.cancel()
        if lost_task in done:
            raise ConnectionError("IMAP connection lost")
        if idle not in done:
            raise ConnectionError(
                f"IMAP server did not end IDLE within {self._reply_bound():g} s (link frozen?)"
            )

    async def _noop(self, client: aioimaplib.IMAP4) -> None:
        try:
            response = await asyncio.wait_for(client.noop(), self._reply_bound())
        except TimeoutError:
            raise ConnectionError(
                f"IMAP server did not answer NOOP within {self._reply_bound():g} s"
            ) from None
        _check(response, "NOOP")

    async def run(self) -> None:
        """Watch forever; connection problems are logged and retried with backoff."""
        failures = 0
        while not self.stopping:
            client: aioimaplib.IMAP4 | None = None
            try:
                client = await self._connect()
                self._client = client
                uidvalidity = await self._select(client)
                self.connected = True
                self.last_error = None
                failures = 0
                log.info(
                    "watching %s (%s)",
                    self.mailbox_key,
                    "IDLE"
                    if self.idle_supported
                    else f"polling every {self.config.poll_interval}s",
                )
                while not self.stopping:
                    await self._unless_lost(self.sync(client, uidvalidity))
                    await self._wait_for_change(client)
            except asyncio.CancelledError:
                await self._close(client)
                raise
            except Exception as exc:
                self.connected = False
                failures += 1
                problem = config_error(exc, "imap", self.config.security)
                if problem is not None:  # retrying cannot fix it: say what to change
                    self.last_error = f"{problem} (fix: {problem.fix})"
                    failures = max(failures, 8)  # and don't hammer the server meanwhile
                else:
                    self.last_error = f"{type(exc).__name__}: {exc}"
                delay = min(
                    self.config.reconnect_max,
                    self.config.reconnect_initial * (2 ** min(failures - 1, 10)),
                )
                delay = delay / 2 + random.random() * delay / 2
                log.warning("IMAP watcher: %s; reconnecting in %.1fs", self.last_error, delay)
                await self._close(client)
                await asyncio.sleep(delay)

    async def _close(self, client: aioimaplib.IMAP4 | None) -> None:
        self.connected = False
        if client is None:
            return
        if self._lost.is_set():  # nothing to say goodbye to
            with contextlib.suppress(Exception):
                client.protocol.transport.close()
            return
        try:
            await asyncio.wait_for(client.logout(), 2)
        except Exception:
            pass
