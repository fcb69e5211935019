"""LMTP push delivery: the MTA hands the agent's mail straight to the gateway (no IMAP delay).

`[inbound] lmtp = "127.0.0.1:2424"` starts an aiosmtpd LMTP listener. Each message is written
to a spool directory and fsynced *before* the 250 answer (so the MTA may forget it), then
processed at once by the same pipeline the IMAP watcher feeds; its spool file is removed when
the outcome is stored. Files left by a crash are processed at the next start. IMAP can keep
running beside it: a message seen both ways is applied once (inbound de-duplication).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiosmtpd.lmtp import LMTP

if TYPE_CHECKING:
    from ..config import GatewayConfig

__all__ = ["LmtpListener", "listener_for", "parse_listen"]

log = logging.getLogger("hl_email.inbound.lmtp")

Handler = Callable[[bytes], Awaitable[Any]]


def parse_listen(value: str) -> tuple[str, int]:
    """ "host:port" (or "[v6]:port") → (host, port); ValueError naming the problem."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:2424)")
    number = int(port)
    if not 0 <= number <= 65535:
        raise ValueError(f"{value!r}: port out of range")
    return host.strip("[]"), number


class _Spool:
    """A Maildir-like directory: write to tmp/, fsync, rename into new/ (atomic and durable)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.new = root / "new"

    def open(self) -> None:
        for path in (self.tmp, self.new):
            path.mkdir(parents=True, exist_ok=True)

    def put(self, raw: bytes) -> Path:
        name = f"{time.time_ns()}.{os.getpid()}.{secrets.token_hex(6)}.eml"
        tmp = self.tmp / name
        with open(tmp, "wb") as file:
            file.write(raw)
            file.flush()
            os.fsync(file.fileno())
        final = self.new / name
        os.rename(tmp, final)
        fd = os.open(self.new, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself must survive a crash
        finally:
            os.close(fd)
        return final

    def pending(self) -> list[Path]:
        return sorted(self.new.glob("*.eml"))


class _LmtpHandler:
    def __init__(self, listener: LmtpListener) -> None:
        self.listener = listener

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if not self.listener.accepts(address):
            return f"550 5.1.1 <{address}>: not a mailbox of this gateway"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            path = await asyncio.to_thread(self.listener.spool.put, bytes(raw))
        except OSError as exc:
            log.error("LMTP: cannot spool a message: %s", exc)
            return "\r\n".join("451 4.3.0 cannot store the message now" for _ in envelope.rcpt_tos)
        self.listener.process_soon(path)
        # LMTP answers DATA once per accepted recipient (RFC 2033 4.2); the gateway applies a
        # message once however many of its addresses it was sent to.
        return "\r\n".join(f"250 2.0.0 <{rcpt}> stored" for rcpt in envelope.rcpt_tos)


class LmtpListener:
    """Accepts LMTP from the MTA on `listen` and feeds each message to `handle`."""

    def __init__(
        self,
        listen: str,
        spool_dir: str | os.PathLike[str],
        handle: Handler,
        *,
        accepts: Callable[[str], bool] = lambda address: True,
    ) -> None:
        self.host, self.port = parse_listen(listen)
        self.spool = _Spool(Path(spool_dir))
        self.handle = handle
        self.accepts = accepts
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.last_error: str | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def start(self) -> None:
        await asyncio.to_thread(self.spool.open)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: LMTP(
                _LmtpHandler(self),
                hostname="hl-email",
                ident="hl-email LMTP",
                decode_data=False,
                enable_SMTPUTF8=True,
            ),
            self.host,
            self.port,
        )
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]
        for path in await asyncio.to_thread(self.spool.pending):  # left by a crash
            self.process_soon(path)
        log.info("LMTP listening on %s:%s", self.host, self.port)

    def process_soon(self, path: Path) -> None:
        task = asyncio.create_task(self._process(path))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, path: Path) -> None:
        try:
            raw = await asyncio.to_thread(path.read_bytes)
            outcome = await self.handle(raw)
        except asyncio.CancelledError:
            raise  # the file stays: processed at the next start
        except Exception as exc:
            # The pipeline records outcomes itself; this is a bug or the store is down. Keep
            # the file: it is tried again at the next start.
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("LMTP: processing %s failed; kept for the next start", path.name)
            return
        if getattr(outcome, "outcome", None) == "error":
            # handle_inbound never raises: an "error" outcome is a bug or a store that is down
            # (its own record of the failure may not have been stored either). Keep the file.
            self.last_error = getattr(outcome, "detail", "") or "processing failed"
            log.warning("LMTP: processing %s failed; kept for the next start", path.name)
            return
        self.last_error = None
        with contextlib.suppress(OSError):
            await asyncio.to_thread(path.unlink)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        for task in list(self._tasks):
            task.cancel()


def listener_for(config: GatewayConfig, handle: Handler) -> LmtpListener | None:
    """The `[inbound] lmtp` listener, accepting the agent's address (and its plus forms)."""
    if not config.inbound.lmtp:
        return None
    ours = {config.agent.address.lower(), *(m.address.lower() for m in config.mailboxes)}
    sep = config.agent.plus_separator

    def accepts(address: str) -> bool:
        a_local, _, a_domain = address.lower().rpartition("@")
        base = a_local.split(sep, 1)[0] if sep else a_local
        return f"{base}@{a_domain}" in ours

    return LmtpListener(config.inbound.lmtp, config.lmtp_spool_dir, handle, accepts=accepts)
