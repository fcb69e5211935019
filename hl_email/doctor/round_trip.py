"""Doctor's round trip: a test message sent over SMTP and seen arriving over IMAP, and how
soon IDLE announced it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aioimaplib
import aiosmtplib

from ..config import GatewayConfig
from ..inbound.imap import parse_search_uids
from .report import DOCTOR_HEADER, Add, error_text, imap_text


def doctor_message(config: GatewayConfig, to: str, token: str) -> EmailMessage:
    domain = config.agent.address.rpartition("@")[2]
    msg = EmailMessage()
    msg["From"] = config.agent.address
    msg["To"] = to
    msg["Subject"] = f"hl-email doctor test {token}"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = f"<hl-doctor-{token}@{domain}>"
    msg[DOCTOR_HEADER] = "1"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(
        "This is a test message from `hl-email doctor`, checking that mail sent to the agent\n"
        "address arrives in its IMAP folder. The gateway ignores it; you can delete it.\n"
    )
    return msg


class RoundTrip:
    """Over a logged-in SMTP client and an IMAP client with the folder selected."""

    def __init__(
        self,
        config: GatewayConfig,
        smtp: aiosmtplib.SMTP,
        imap: aioimaplib.IMAP4,
        *,
        timeout: float,
        add: Add,
    ) -> None:
        self.config = config
        self.smtp = smtp
        self.imap = imap
        self.timeout = timeout
        self.add = add

    async def _wait_for(self, token: str, deadline: float) -> int | None:
        while True:
            await self.imap.noop()
            response = await self.imap.uid_search(f"HEADER Message-ID hl-doctor-{token}")
            if response.result == "OK":
                uids = parse_search_uids(response.lines)
                if uids:
                    return uids[-1]
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.1)

    async def _start_idle(self) -> Any:
        """IDLE on the selected folder, when the server has it (None otherwise)."""
        if "IDLE" not in {c.upper() for c in self.imap.protocol.capabilities}:
            return None
        try:
            return await asyncio.wait_for(self.imap.idle_start(timeout=self.timeout + 5), 10)
        except Exception:
            return None

    async def _push_delay(self, idle: Any, accepted: float, deadline: float) -> float | None:
        """Seconds from the SMTP server's 250 to IDLE announcing new mail (None: not seen)."""
        pushed_at = None
        try:
            while pushed_at is None and time.monotonic() < deadline:
                lines = await self.imap.wait_server_push(
                    timeout=max(0.1, deadline - time.monotonic())
                )
                lines = lines if isinstance(lines, list) else [lines]
                if any(re.search(r"\bEXISTS\b", imap_text([line])) for line in lines):
                    pushed_at = time.monotonic()
        except Exception:
            pass
        finally:
            await self._end_idle(idle)
        return None if pushed_at is None else pushed_at - accepted

    async def _end_idle(self, idle: Any) -> None:
        if idle is None:
            return
        with contextlib.suppress(Exception):
            self.imap.idle_done()
            await asyncio.wait_for(idle, 10)

    def _report_push(self, delay: float | None) -> None:
        lmtp = (
            "deliver the agent's mail to the gateway over LMTP ([inbound] lmtp, see "
            "docs/deploy.md), or tune the server's IDLE notifications"
        )
        if delay is None:
            self.add(
                "IMAP push",
                "warn",
                f"IDLE did not announce the test message within {self.timeout:g} s: replies "
                "will wait for the next poll or re-IDLE",
                lmtp,
            )
        elif delay > 2.0:
            self.add(
                "IMAP push",
                "warn",
                f"slow: IDLE announced new mail {delay:.1f} s after the SMTP server accepted it",
                lmtp,
            )
        else:
            self.add(
                "IMAP push",
                "ok",
                f"IDLE announced new mail {delay * 1000:.0f} ms after the SMTP server accepted it",
            )

    async def _send(self, name: str, to: str, fix: str, msg: EmailMessage, idle: Any) -> bool:
        try:
            errors, _ = await self.smtp.send_message(
                msg, sender=self.config.agent.address, recipients=[to]
            )
        except aiosmtplib.SMTPException as exc:
            await self._end_idle(idle)
            self.add(
                name,
                "fail",
                f"sending to {to} failed: {error_text(exc)}",
                "the SMTP server refused the test message; see its message",
            )
            return False
        if errors:
            await self._end_idle(idle)
            self.add(name, "fail", f"the SMTP server refused {to}: {errors}", fix)
            return False
        return True

    async def run(self, name: str, to: str, fix: str, *, measure_push: bool) -> None:
        """One line `name`: the test message to `to` arrived (or `fix`); before it, the IMAP
        push line when `measure_push`."""
        token = secrets.token_hex(8)
        msg = doctor_message(self.config, to, token)
        idle = await self._start_idle() if measure_push else None
        started = time.monotonic()
        if not await self._send(name, to, fix, msg, idle):
            return
        if idle is not None:
            delay = await self._push_delay(idle, time.monotonic(), started + self.timeout)
            self._report_push(delay)
        uid = await self._wait_for(token, started + self.timeout)
        folder = self.config.imap.folder
        if uid is None:
            self.add(
                name,
                "fail",
                f"sent to {to}, but it did not arrive in {folder} within {self.timeout:g} s",
                fix,
            )
            return
        elapsed_ms = (time.monotonic() - started) * 1000
        await self.imap.uid("store", str(uid), "+FLAGS.SILENT (\\Seen)")
        self.add(
            name,
            "ok",
            f"test message to {to} arrived in {folder} in {elapsed_ms:.0f} ms "
            f"(marked \\Seen, Message-ID <hl-doctor-{token}@…>)",
        )
