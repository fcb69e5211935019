"""Maildir mailboxes for the dev sandbox: durable delivery, and a source that feeds the gateway.

Delivery follows the Maildir protocol: the message is written to ``tmp/``, fsynced, then renamed
into ``new/`` (atomic), so a crash never leaves a half-written message where a reader sees it.
:class:`MaildirSource` hands every message in ``new/`` to the gateway's inbound pipeline and only
then moves it to ``cur/`` (flag ``S``, seen); after a crash between the two the message is handed
over again, which the pipeline de-duplicates by Message-ID.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Maildir", "MaildirEntry", "MaildirSource"]

log = logging.getLogger("hl_email.inbound.maildir")

_counter = itertools.count()


@dataclass(frozen=True)
class MaildirEntry:
    """One message file: `key` is the unique part of the file name (stable across new/ → cur/)."""

    key: str
    path: Path
    flags: str
    mtime: float

    @property
    def seen(self) -> bool:
        return "S" in self.flags

    @property
    def is_new(self) -> bool:
        return self.path.parent.name == "new"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Maildir:
    """A minimal Maildir (tmp/new/cur): deliver, list, read, mark seen. Safe across processes."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        if create:
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)

    # -- writing ------------------------------------------------------------------------------

    def deliver(self, raw: bytes, *, fsync: bool = True) -> str:
        """Store `raw` durably; returns its key. The message is complete before it is visible."""
        key = f"{time.time_ns()}.P{os.getpid()}Q{next(_counter)}.{socket.gethostname().replace('/', '_').replace(':', '_')}"
        tmp = self.path / "tmp" / key
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.rename(tmp, self.path / "new" / key)
        if fsync:
            _fsync_dir(self.path / "new")
        return key

    def mark_seen(self, key: str) -> MaildirEntry | None:
        """Move a message from new/ to cur/ with the S flag (idempotent)."""
        entry = self.get(key)
        if entry is None:
            return None
        flags = "".join(sorted(set(entry.flags) | {"S"}))
        target = self.path / "cur" / f"{key}:2,{flags}"
        if entry.path != target:
            os.rename(entry.path, target)
            _fsync_dir(self.path / "cur")
        return MaildirEntry(key, target, flags, entry.mtime)

    # -- reading ------------------------------------------------------------------------------

    def _entries(self, sub: str) -> list[MaildirEntry]:
        out: list[MaildirEntry] = []
        try:
            names = os.listdir(self.path / sub)
        except FileNotFoundError:
            return out
        for name in names:
            if name.startswith("."):
                continue
            key, _, info = name.partition(":")
            flags = info[2:] if info.startswith("2,") else ""
            path = self.path / sub / name
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:  # moved meanwhile by another reader
                continue
            out.append(MaildirEntry(key, path, flags, mtime))
        return out

    def new(self) -> list[MaildirEntry]:
        """Messages not yet picked up, oldest first."""
        return sorted(self._entries("new"), key=lambda e: (e.mtime, e.key))

    def entries(self) -> list[MaildirEntry]:
        """Every message (new and cur), newest first."""
        return sorted(
            self._entries("new") + self._entries("cur"),
            key=lambda e: (e.mtime, e.key),
            reverse=True,
        )

    def get(self, key: str) -> MaildirEntry | None:
        if not key or "/" in key or ":" in key or key.startswith("."):
            return None
        for entry in self._entries("new") + self._entries("cur"):
            if entry.key == key:
                return entry
        return None

    def read(self, key: str) -> bytes | None:
        for _ in range(3):  # the file may move from new/ to cur/ between get() and open()
            entry = self.get(key)
            if entry is None:
                return None
            try:
                return entry.path.read_bytes()
            except FileNotFoundError:
                continue
        return None


Handler = Callable[[bytes], Awaitable[Any]]


class MaildirSource:
    """Feeds every message that arrives in a Maildir's new/ to `handle`, then marks it seen.

    Woken by :meth:`poke` (the sandbox's SMTP server calls it after a delivery) and, as a
    fallback for files dropped in by other processes, by a slow poll.
    """

    def __init__(
        self,
        maildir: Maildir,
        handle: Handler,
        *,
        poll_interval: float = 2.0,
        on_processed: Callable[[str, bytes, Any], None] | None = None,
    ) -> None:
        self.maildir = maildir
        self.handle = handle
        self.poll_interval = poll_interval
        self.on_processed = on_processed
        self.last_error: str | None = None
        self._poke = asyncio.Event()

    def poke(self) -> None:
        self._poke.set()

    async def process_new(self) -> int:
        """Hand every message in new/ to the pipeline; returns how many were processed."""
        handled = 0
        for entry in self.maildir.new():
            try:
                raw = entry.path.read_bytes()
            except FileNotFoundError:
                continue
            # The pipeline stores the outcome first; only then does the file leave new/.
            result = await self.handle(raw)
            self.maildir.mark_seen(entry.key)
            handled += 1
            if self.on_processed is not None:
                try:
                    self.on_processed(entry.key, raw, result)
                except Exception:
                    log.exception("on_processed callback failed")
        return handled

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                self._poke.clear()
                await self.process_new()
                failures = 0
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in the pipeline: keep the file, retry later
                failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("maildir source: processing failed; retrying")
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            try:
                await asyncio.wait_for(self._poke.wait(), self.poll_interval)
            except TimeoutError:
                pass
