"""`hl-email doctor --config FILE`: check a configuration against the real mail servers.

One line per check, ✓ or ✗ (with the fix), ⚠ for advice that does not fail the run:
SMTP connect, TLS (when configured), AUTH; IMAP connect, TLS, login, folder, IDLE and UIDPLUS;
a test message sent to the agent address and seen arriving over IMAP (round-trip time);
plus-addressing (when enabled); configuration warnings. Exit status 0 only when no check fails.

The test message carries `X-HL-Email-Doctor: 1` and `Auto-Submitted: auto-generated`, so the
gateway's classifier ignores it, and doctor marks it \\Seen (it deletes nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import secrets
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal, TextIO

import aioimaplib
import aiosmtplib

from .config import GatewayConfig
from .connections import (
    MailConfigError,
    TokenSource,
    config_error,
    decode_mailbox_name,
    imap_authenticate,
    imap_connect,
    imap_mailbox,
    imap_starttls,
    smtp_authenticate,
    smtp_client,
)
from .credentials import MIN_SECRET_BYTES, credential_problems, is_example_value
from .inbound.imap import parse_search_uids

__all__ = ["CheckResult", "DoctorReport", "diagnose", "run_doctor"]

Status = Literal["ok", "fail", "warn", "skip"]
SYMBOL = {"ok": "✓", "fail": "✗", "warn": "⚠", "skip": "-"}
DOCTOR_HEADER = "X-HL-Email-Doctor"


@dataclass
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{SYMBOL[self.status]} {self.name}: {self.detail}"
        if self.fix and self.status in ("fail", "warn"):
            text += f"\n    fix: {self.fix}"
        return text


@dataclass
class DoctorReport:
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(r.status == "fail" for r in self.results)

    def get(self, name: str) -> CheckResult | None:
        return next((r for r in self.results if r.name == name), None)


def _err(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return re.sub(r"\s+", " ", text)[:300]


def _imap_text(lines: list[Any]) -> str:
    out = []
    for line in lines:
        if isinstance(line, (bytes, bytearray)):
            line = bytes(line).decode("utf-8", "replace")
        out.append(str(line))
    return re.sub(r"\s+", " ", " ".join(out)).strip()[:300]


def _is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls_fix(what: str, security: str) -> str:
    other = "starttls" if security == "tls" else "tls"
    port = "587 (STARTTLS) or 465 (TLS)" if what == "smtp" else "143 (STARTTLS) or 993 (TLS)"
    return (
        f"check {what}.security ({security!r}) matches the port: usually {port}; try "
        f"{what}.security = {other!r}"
    )


def _tls_problem(exc: BaseException, what: str, security: str) -> tuple[str, str]:
    """(detail, fix) for a failed TLS step; certificate problems get the CA advice."""
    problem = config_error(exc, what, security)
    if isinstance(problem, MailConfigError):
        return str(problem), problem.fix or _tls_fix(what, security)
    return _err(exc), _tls_fix(what, security)


def _doctor_message(config: GatewayConfig, to: str, token: str) -> EmailMessage:
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
        self.smtp_ready = False
        self.imap_ready = False
        self.smtp_tokens: TokenSource | None = None
        self.imap_tokens: TokenSource | None = None

    def add(self, name: str, status: Status, detail: str, fix: str = "") -> CheckResult:
        result = CheckResult(name, status, detail, fix)
        self.report.results.append(result)
        self.emit(result)
        return result

    # -- SMTP -----------------------------------------------------------------------------------

    async def check_smtp(self) -> None:
        cfg = self.config.smtp
        where = f"{cfg.host}:{cfg.port}"
        try:
            self.smtp = smtp_client(cfg, timeout=min(cfg.timeout, self.timeout), start_tls=False)
        except MailConfigError as exc:
            self.add("SMTP connect", "fail", str(exc), exc.fix)
            return
        try:
            response = await self.smtp.connect()
        except (ssl.SSLError, aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            tls_failed = any(
                isinstance(link, ssl.SSLError) for link in (exc, exc.__cause__, exc.__context__)
            )
            if cfg.security == "tls" and tls_failed:
                detail, fix = _tls_problem(exc, "smtp", "tls")
                self.add(
                    "SMTP connect", "fail", f"TLS handshake with {where} failed: {detail}", fix
                )
            elif cfg.security == "tls" and isinstance(
                exc, (aiosmtplib.SMTPConnectTimeoutError, aiosmtplib.SMTPTimeoutError)
            ):
                self.add(
                    "SMTP connect",
                    "fail",
                    f"no TLS answer from {where}: {_err(exc)}",
                    _tls_fix("smtp", "tls"),
                )
            elif isinstance(exc, aiosmtplib.SMTPConnectTimeoutError):
                self.add(
                    "SMTP connect",
                    "fail",
                    f"{where} sent no SMTP greeting: {_err(exc)}",
                    'an implicit-TLS port (465) waits for TLS first: set smtp.security = "tls"'
                    if cfg.security != "tls"
                    else _tls_fix("smtp", "tls"),
                )
            else:
                self.add(
                    "SMTP connect",
                    "fail",
                    f"cannot connect to {where}: {_err(exc)}",
                    "check smtp.host and smtp.port (HL_EMAIL_SMTP__HOST / __PORT) and that the "
                    "server is reachable from this machine",
                )
            self.smtp = None
            return
        banner = _err(Exception(response.message)) if response.message else ""
        self.add("SMTP connect", "ok", f"{where} answered {response.code} {banner}".rstrip())
        try:
            await self.smtp.ehlo()
        except aiosmtplib.SMTPException as exc:
            self.add(
                "SMTP EHLO", "fail", f"{where} refused EHLO: {_err(exc)}", "is this an SMTP port?"
            )
            return
        if cfg.security == "tls":
            self.add("SMTP TLS", "ok", 'implicit TLS (smtp.security = "tls")')
        elif cfg.security == "starttls":
            if not self.smtp.supports_extension("starttls"):
                self.add(
                    "SMTP TLS",
                    "fail",
                    f"{where} does not offer STARTTLS",
                    _tls_fix("smtp", "starttls"),
                )
                return
            try:
                await self.smtp.starttls()
                # What the server offered before TLS must be forgotten (RFC 3207 4.2): AUTH
                # usually appears only now.
                await self.smtp.ehlo()
            except (aiosmtplib.SMTPException, ssl.SSLError, OSError) as exc:
                detail, fix = _tls_problem(exc, "smtp", "starttls")
                self.add("SMTP TLS", "fail", f"STARTTLS failed: {detail}", fix)
                return
            self.add("SMTP TLS", "ok", "STARTTLS negotiated")
        if cfg.username:
            if not self.smtp.supports_extension("auth"):
                self.add(
                    "SMTP AUTH",
                    "fail",
                    f"{where} offers no AUTH" + (" before TLS" if cfg.security == "none" else ""),
                    'most servers offer AUTH only after TLS: set smtp.security = "starttls" or '
                    '"tls"; or leave smtp.username empty if this relay needs no login',
                )
                return
            try:
                await smtp_authenticate(self.smtp, cfg, self.smtp_tokens)
            except aiosmtplib.SMTPAuthenticationError as exc:
                self.add(
                    "SMTP AUTH",
                    "fail",
                    f"login as {cfg.username} refused: {exc.code} {_err(Exception(exc.message))}",
                    "check smtp.username and smtp.password (HL_EMAIL_SMTP__PASSWORD); with Gmail "
                    'or Microsoft 365 use an app password or smtp.auth = "xoauth2"',
                )
                return
            except MailConfigError as exc:
                self.add("SMTP AUTH", "fail", str(exc), exc.fix)
                return
            except Exception as exc:
                self.add(
                    "SMTP AUTH",
                    "fail",
                    f"login as {cfg.username} failed: {_err(exc)}",
                    "check smtp.username and smtp.password (or the OAuth2 settings)",
                )
                return
            how = "" if cfg.auth == "password" else f" ({cfg.auth.upper()})"
            self.add("SMTP AUTH", "ok", f"logged in as {cfg.username}{how}")
        else:
            self.add("SMTP AUTH", "skip", "no smtp.username set: sending without login")
        self.smtp_ready = True

    # -- IMAP -----------------------------------------------------------------------------------

    async def check_imap(self) -> None:
        cfg = self.config.imap
        where = f"{cfg.host}:{cfg.port}"
        timeout = min(cfg.timeout, self.timeout)
        try:
            client = await imap_connect(cfg, timeout=timeout)
        except MailConfigError as exc:
            self.add("IMAP connect", "fail", str(exc), exc.fix)
            return
        except (OSError, TimeoutError, ssl.SSLError, aioimaplib.Abort) as exc:
            if cfg.security == "tls" and isinstance(exc, ssl.SSLError):
                detail, fix = _tls_problem(exc, "imap", "tls")
                self.add(
                    "IMAP connect", "fail", f"TLS handshake with {where} failed: {detail}", fix
                )
            elif isinstance(exc, TimeoutError):
                self.add(
                    "IMAP connect",
                    "fail",
                    f"{where} sent no IMAP greeting within {timeout:g} s",
                    'an implicit-TLS port (993) waits for TLS first: set imap.security = "tls"'
                    if cfg.security != "tls"
                    else _tls_fix("imap", "tls"),
                )
            else:
                self.add(
                    "IMAP connect",
                    "fail",
                    f"cannot connect to {where}: {_err(exc)}",
                    "check imap.host and imap.port (HL_EMAIL_IMAP__HOST / __PORT) and that the "
                    "server is reachable from this machine",
                )
            return
        protocol = client.protocol
        if protocol is None or protocol.state not in ("NONAUTH", "AUTH"):
            self.add(
                "IMAP connect",
                "fail",
                f"{where} did not greet as an IMAP server",
                "is this an IMAP port?",
            )
            return
        self.imap = client
        self.add("IMAP connect", "ok", f"{where}" + (" (TLS)" if cfg.security == "tls" else ""))
        if cfg.security == "starttls":
            if "STARTTLS" not in {c.upper() for c in protocol.capabilities}:
                self.add(
                    "IMAP TLS",
                    "fail",
                    f"{where} does not offer STARTTLS",
                    _tls_fix("imap", "starttls"),
                )
                return
            try:
                await imap_starttls(client, cfg)
            except Exception as exc:
                detail, fix = _tls_problem(exc, "imap", "starttls")
                self.add("IMAP TLS", "fail", f"STARTTLS failed: {detail}", fix)
                return
            self.add("IMAP TLS", "ok", "STARTTLS negotiated")
        elif cfg.security == "tls":
            self.add("IMAP TLS", "ok", 'implicit TLS (imap.security = "tls")')
        if not cfg.username:
            self.add(
                "IMAP login",
                "fail",
                "imap.username is not set",
                "set imap.username and imap.password for the agent's mailbox",
            )
            return
        try:
            await imap_authenticate(client, cfg, self.imap_tokens)
        except MailConfigError as exc:
            fix = (
                "check imap.username and imap.password (HL_EMAIL_IMAP__PASSWORD); with Gmail or "
                'Microsoft 365 use imap.auth = "xoauth2" (or an app password) and enable IMAP'
                if cfg.auth == "password"
                else exc.fix
            )
            self.add("IMAP login", "fail", str(exc), fix)
            return
        except Exception as exc:
            self.add(
                "IMAP login",
                "fail",
                f"login as {cfg.username} failed: {_err(exc)}",
                "check imap.username and imap.password",
            )
            return
        how = "" if cfg.auth == "password" else f" ({cfg.auth.upper()})"
        self.add("IMAP login", "ok", f"logged in as {cfg.username}{how}")
        response = await client.select(imap_mailbox(cfg.folder))
        if response.result != "OK":
            folders = await self._folders(client)
            self.add(
                "IMAP folder",
                "fail",
                f"cannot select {cfg.folder!r}: {response.result} {_imap_text(response.lines)}",
                "set imap.folder to an existing folder"
                + (f"; this account has: {', '.join(folders[:15])}" if folders else ""),
            )
            return
        text = _imap_text(response.lines)
        exists = re.search(r"(\d+) EXISTS", text)
        uidvalidity = re.search(r"UIDVALIDITY (\d+)", text)
        self.add(
            "IMAP folder",
            "ok",
            f"{cfg.folder} selected"
            + (f" ({exists.group(1)} messages" if exists else " (")
            + (f", UIDVALIDITY {uidvalidity.group(1)})" if uidvalidity else ")"),
        )
        caps = {c.upper() for c in protocol.capabilities}
        if "IDLE" in caps:
            self.add("IMAP IDLE", "ok", "supported: replies arrive by push")
        else:
            self.add(
                "IMAP IDLE",
                "warn",
                f"not supported: the gateway polls every {cfg.poll_interval:g} s instead of push",
                "use a server with IDLE (nearly all have it), or lower imap.poll_interval",
            )
        if "UIDPLUS" in caps:
            self.add("IMAP UIDPLUS", "ok", "supported")
        else:
            self.add(
                "IMAP UIDPLUS",
                "warn",
                "not supported (RFC 4315): the gateway works, but cannot target single messages by UID when moving them",
                "use a server with UIDPLUS if you can",
            )
        self.imap_ready = True

    async def _folders(self, client: aioimaplib.IMAP4) -> list[str]:
        with contextlib.suppress(Exception):
            response = await client.list('""', "*")
            names = []
            for line in response.lines:
                text = (
                    bytes(line).decode("utf-8", "replace")
                    if isinstance(line, (bytes, bytearray))
                    else str(line)
                )
                m = re.search(r'\)\s+(?:"[^"]*"|NIL)\s+(.+)$', text)
                if m:
                    names.append(decode_mailbox_name(m.group(1).strip().strip('"')))
            return names
        return []

    # -- round trip -----------------------------------------------------------------------------

    async def _wait_for(self, token: str, deadline: float) -> int | None:
        assert self.imap is not None
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
        assert self.imap is not None
        if "IDLE" not in {c.upper() for c in self.imap.protocol.capabilities}:
            return None
        try:
            return await asyncio.wait_for(self.imap.idle_start(timeout=self.timeout + 5), 10)
        except Exception:
            return None

    async def _push_delay(self, idle: Any, accepted: float, deadline: float) -> float | None:
        """Seconds from the SMTP server's 250 to IDLE announcing new mail (None: not seen)."""
        assert self.imap is not None
        pushed_at = None
        try:
            while pushed_at is None and time.monotonic() < deadline:
                lines = await self.imap.wait_server_push(
                    timeout=max(0.1, deadline - time.monotonic())
                )
                lines = lines if isinstance(lines, list) else [lines]
                if any(re.search(r"\bEXISTS\b", _imap_text([line])) for line in lines):
                    pushed_at = time.monotonic()
        except Exception:
            pass
        finally:
            await self._end_idle(idle)
        return None if pushed_at is None else pushed_at - accepted

    async def _end_idle(self, idle: Any) -> None:
        assert self.imap is not None
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

    async def round_trip(self, name: str, to: str, fix: str) -> None:
        assert self.smtp is not None and self.imap is not None
        token = secrets.token_hex(8)
        msg = _doctor_message(self.config, to, token)
        measure_push = self.report.get("IMAP push") is None
        idle = await self._start_idle() if measure_push else None
        started = time.monotonic()
        try:
            errors, _ = await self.smtp.send_message(
                msg, sender=self.config.agent.address, recipients=[to]
            )
        except aiosmtplib.SMTPException as exc:
            await self._end_idle(idle)
            self.add(
                name,
                "fail",
                f"sending to {to} failed: {_err(exc)}",
                "the SMTP server refused the test message; see its message",
            )
            return
        if errors:
            await self._end_idle(idle)
            self.add(name, "fail", f"the SMTP server refused {to}: {errors}", fix)
            return
        if idle is not None:
            delay = await self._push_delay(idle, time.monotonic(), started + self.timeout)
            self._report_push(delay)
        uid = await self._wait_for(token, started + self.timeout)
        if uid is None:
            self.add(
                name,
                "fail",
                f"sent to {to}, but it did not arrive in {self.config.imap.folder} within {self.timeout:g} s",
                fix,
            )
            return
        elapsed_ms = (time.monotonic() - started) * 1000
        await self.imap.uid("store", str(uid), "+FLAGS.SILENT (\\Seen)")
        self.add(
            name,
            "ok",
            f"test message to {to} arrived in {self.config.imap.folder} in {elapsed_ms:.0f} ms "
            f"(marked \\Seen, Message-ID <hl-doctor-{token}@…>)",
        )

    # -- config ---------------------------------------------------------------------------------

    def check_config(self) -> None:
        cfg = self.config
        secret = cfg.security.secret
        if not secret:
            self.add(
                "security.secret",
                "fail",
                "not set: reply keys are signed with an empty key, so anyone can forge a reply",
                "set security.secret (HL_EMAIL_SECURITY__SECRET) to a long random string, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`",
            )
        elif len(secret.encode()) < MIN_SECRET_BYTES or is_example_value(secret):
            self.add(
                "security.secret",
                "fail",
                f"shorter than {MIN_SECRET_BYTES} bytes or an example value: the gateway "
                "refuses to start with it",
                "use 32+ random bytes (`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)",
            )
        else:
            self.add("security.secret", "ok", "set")
        others = [p for p in credential_problems(cfg) if not p.startswith("security.secret")]
        if others:
            self.add("credentials", "fail", "; ".join(others), "the gateway refuses to start")
        if cfg.security.allowed_recipients:
            self.add(
                "security.allowed_recipients",
                "ok",
                f"calls may ask only {', '.join(cfg.security.allowed_recipients)}",
            )
        else:
            self.add(
                "security.allowed_recipients",
                "warn",
                "not set: an agent (or a prompt injection) may send an ask, and its reply key, "
                "to any address",
                'set [security] allowed_recipients = ["@yourcompany.com", …]',
            )
        if cfg.security.trusted_authserv_id:
            self.add(
                "security.trusted_authserv_id",
                "ok",
                f"{cfg.security.trusted_authserv_id}: replies need dmarc=pass from it",
            )
        else:
            self.add(
                "security.trusted_authserv_id",
                "warn",
                "not set: a reply's sender address is trusted without checking DMARC",
                "set it to your receiving server's authserv-id (the first word of the "
                'Authentication-Results headers it adds, e.g. "mx.google.com")',
            )
        for section in ("smtp", "imap"):
            sub = getattr(cfg, section)
            if not sub.validate_certs:
                self.add(
                    f"{section}.validate_certs",
                    "warn",
                    "false: the server's certificate is not checked, so anyone on the path can "
                    "read the password and the mail",
                    f"set {section}.validate_certs = true; for a private CA set {section}.ca_file",
                )
            if sub.security == "none" and not _is_loopback(sub.host):
                self.add(
                    f"{section}.security",
                    "warn",
                    f'"none" to {sub.host}: the password and mail cross the network unencrypted',
                    f'set {section}.security = "starttls" or "tls"',
                )

    async def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.smtp.quit(), 3)
        if self.imap is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.imap.logout(), 3)

    async def _oauth(self) -> Any:
        """Token providers for OAuth2 sections; the store when a refresh token lives there."""
        from .oauth import mail_token_providers

        cfg = self.config
        store = None
        needs_store = any(
            sub.auth != "password" and not (sub.oauth and sub.oauth.refresh_token)
            for sub in (cfg.smtp, cfg.imap)
        )
        if needs_store:
            from .store import open_store

            store = open_store(cfg.store.url, base_dir=cfg.base_dir)
            await store.open()
        self.imap_tokens, self.smtp_tokens = mail_token_providers(cfg, store)
        return store

    async def check_mailboxes(self) -> None:
        """The same checks for every [[mailboxes]] entry, each line prefixed with its name."""
        from .config import ImapConfig

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

    async def run(self, *, mailbox_only: bool = False) -> DoctorReport:
        store = None
        try:
            store = await self._oauth()
            await self.check_smtp()
            if mailbox_only and not self.config.imap.enabled:
                self.add("IMAP", "skip", "no imap account: replies arrive over LMTP")
            else:
                await self.check_imap()
            agent = self.config.agent.address
            if self.smtp_ready and self.imap_ready:
                await self.round_trip(
                    "Round trip",
                    agent,
                    f"check that mail for {agent} is delivered to the IMAP account "
                    f"{self.config.imap.username} (folder {self.config.imap.folder}); a spam "
                    "filter or a forwarding rule may be moving it",
                )
                if self.config.agent.plus_addressing:
                    local, _, domain = agent.rpartition("@")
                    sep = self.config.agent.plus_separator
                    plus = f"{local}{sep}doctor{secrets.token_hex(3)}@{domain}"
                    if self.report.get("Round trip").status == "ok":  # type: ignore[union-attr]
                        await self.round_trip(
                            "Plus addressing",
                            plus,
                            f"the server does not deliver {local}{sep}…@{domain} to {agent}: enable "
                            "subaddressing on the server, or set agent.plus_addressing = false",
                        )
                    else:
                        self.add("Plus addressing", "skip", "skipped: the plain round trip failed")
            else:
                self.add("Round trip", "skip", "skipped: needs working SMTP and IMAP (see above)")
            if not mailbox_only:
                await self.check_mailboxes()
                self.check_config()
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
