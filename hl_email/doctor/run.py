"""The order of doctor's checks, for the main account and each [[mailboxes]] entry."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys
from collections.abc import Callable
from typing import Any, TextIO

import aioimaplib
import aiosmtplib

from ..config import GatewayConfig
from ..connections import TokenSource
from .config_checks import check_config
from .imap_checks import check_imap
from .report import CheckResult, DoctorReport, Status
from .round_trip import RoundTrip
from .smtp_checks import check_smtp


class _Doctor:
    def __init__(
        self, config: GatewayConfig, *, timeout: float, emit: Callable[[CheckResult], None]
    ):
        self.config = config
        self.timeout = timeout
        self.emit = emit
        self.report = DoctorReport()
        self.smtp: aiosmtplib.SMTP | None = None
        self.imap: aioimaplib.IMAP4 | None = None
        self.smtp_tokens: TokenSource | None = None
        self.imap_tokens: TokenSource | None = None

    def add(self, name: str, status: Status, detail: str, fix: str = "") -> CheckResult:
        result = CheckResult(name, status, detail, fix)
        self.report.results.append(result)
        self.emit(result)
        return result

    async def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.smtp.quit(), 3)
        if self.imap is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.imap.logout(), 3)

    async def _oauth(self) -> Any:
        """Token providers for OAuth2 sections; the store when a refresh token lives there."""
        from ..oauth import mail_token_providers

        cfg = self.config
        store = None
        needs_store = any(
            sub.auth != "password" and not (sub.oauth and sub.oauth.refresh_token)
            for sub in (cfg.smtp, cfg.imap)
        )
        if needs_store:
            from ..store import open_store

            store = open_store(cfg.store.url, base_dir=cfg.base_dir)
            await store.open()
        self.imap_tokens, self.smtp_tokens = mail_token_providers(cfg, store)
        return store

    async def check_mailboxes(self) -> None:
        """The same checks for every [[mailboxes]] entry, each line prefixed with its name."""
        from ..config import ImapConfig

        for entry in self.config.mailboxes:
            agent = self.config.agent.model_copy(
                update={
                    "address": entry.address,
                    "name": entry.display_name or self.config.agent.name,
                }
            )
            sub_config = self.config.model_copy(
                update={
                    "agent": agent,
                    "smtp": entry.smtp or self.config.smtp,
                    "imap": entry.imap or ImapConfig(enabled=False),
                    "mailboxes": [],
                }
            )

            def emit(result: CheckResult, name: str = entry.name) -> None:
                prefixed = CheckResult(
                    f"{name}: {result.name}", result.status, result.detail, result.fix
                )
                self.report.results.append(prefixed)
                self.emit(prefixed)

            await _Doctor(sub_config, timeout=self.timeout, emit=emit).run(mailbox_only=True)

    async def round_trips(self, smtp: aiosmtplib.SMTP, imap: aioimaplib.IMAP4) -> None:
        """The test message to the agent address, then (when enabled) to a plus address."""
        trip = RoundTrip(self.config, smtp, imap, timeout=self.timeout, add=self.add)
        agent = self.config.agent.address
        await trip.run(
            "Round trip",
            agent,
            f"check that mail for {agent} is delivered to the IMAP account "
            f"{self.config.imap.username} (folder {self.config.imap.folder}); a spam "
            "filter or a forwarding rule may be moving it",
            measure_push=self.report.get("IMAP push") is None,
        )
        if not self.config.agent.plus_addressing:
            return
        local, _, domain = agent.rpartition("@")
        sep = self.config.agent.plus_separator
        plus = f"{local}{sep}doctor{secrets.token_hex(3)}@{domain}"
        if self.report.get("Round trip").status == "ok":  # type: ignore[union-attr]
            await trip.run(
                "Plus addressing",
                plus,
                f"the server does not deliver {local}{sep}…@{domain} to {agent}: enable "
                "subaddressing on the server, or set agent.plus_addressing = false",
                measure_push=self.report.get("IMAP push") is None,
            )
        else:
            self.add("Plus addressing", "skip", "skipped: the plain round trip failed")

    async def run(self, *, mailbox_only: bool = False) -> DoctorReport:
        store = None
        try:
            store = await self._oauth()
            self.smtp, smtp_ready = await check_smtp(
                self.config.smtp, timeout=self.timeout, tokens=self.smtp_tokens, add=self.add
            )
            imap_ready = False
            if mailbox_only and not self.config.imap.enabled:
                self.add("IMAP", "skip", "no imap account: replies arrive over LMTP")
            else:
                self.imap, imap_ready = await check_imap(
                    self.config.imap, timeout=self.timeout, tokens=self.imap_tokens, add=self.add
                )
            if smtp_ready and imap_ready and self.smtp is not None and self.imap is not None:
                await self.round_trips(self.smtp, self.imap)
            else:
                self.add("Round trip", "skip", "skipped: needs working SMTP and IMAP (see above)")
            if not mailbox_only:
                await self.check_mailboxes()
                check_config(self.config, self.add)
        finally:
            await self.close()
            if store is not None:
                with contextlib.suppress(Exception):
                    await store.close()
        return self.report


async def diagnose(
    config: GatewayConfig,
    *,
    wait_seconds: float = 60.0,
    emit: Callable[[CheckResult], None] | None = None,
) -> DoctorReport:
    """Run every check; `emit` gets each result as soon as it is known. `wait_seconds` bounds
    each network step and the wait for the test message."""
    return await _Doctor(config, timeout=wait_seconds, emit=emit or (lambda r: None)).run()


async def run_doctor(
    config: GatewayConfig, *, wait_seconds: float = 60.0, out: TextIO | None = None
) -> int:
    """`hl-email doctor`: print one line per check; 0 when nothing failed, else 1."""
    stream = out or sys.stdout

    def emit(result: CheckResult) -> None:
        print(result.line(), file=stream, flush=True)

    print(
        f"hl-email doctor: checking the gateway for {config.agent.address}", file=stream, flush=True
    )
    report = await diagnose(config, wait_seconds=wait_seconds, emit=emit)
    failed = [r for r in report.results if r.status == "fail"]
    warned = [r for r in report.results if r.status == "warn"]
    if failed:
        print(f"\n{len(failed)} check(s) failed: {', '.join(r.name for r in failed)}", file=stream)
        return 1
    note = f" ({len(warned)} warning(s))" if warned else ""
    print(f"\nAll checks passed{note}.", file=stream)
    return 0
