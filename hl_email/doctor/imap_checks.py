"""Doctor's IMAP lines: connect, TLS, login (steps taken by connections.ImapSteps), then the
folder and the extensions the gateway relies on (IDLE, UIDPLUS)."""

from __future__ import annotations

import contextlib
import re

import aioimaplib

from ..config import ImapConfig
from ..connections import ImapSteps, OpenStepError, TokenSource, decode_mailbox_name, imap_mailbox
from .report import Add, error_text, imap_text, tls_fix, tls_problem

_PASSWORD_FIX = (
    "check imap.username and imap.password (HL_EMAIL_IMAP__PASSWORD); with Gmail or "
    'Microsoft 365 use imap.auth = "xoauth2" (or an app password) and enable IMAP'
)


def _connect_failure(exc: OpenStepError, cfg: ImapConfig, timeout: float) -> tuple[str, str]:
    """(detail, fix) for a failed connect."""
    where = f"{cfg.host}:{cfg.port}"
    cause = exc.cause
    if exc.failure == "wrong_protocol" or cause is None:
        return f"{where} did not greet as an IMAP server", "is this an IMAP port?"
    if exc.failure == "config":
        return str(cause), getattr(cause, "fix", "")
    if exc.failure == "tls_handshake":
        detail, fix = tls_problem(cause, "imap", "tls")
        return f"TLS handshake with {where} failed: {detail}", fix
    if exc.failure == "no_greeting":
        return (
            f"{where} sent no IMAP greeting within {timeout:g} s",
            'an implicit-TLS port (993) waits for TLS first: set imap.security = "tls"'
            if cfg.security != "tls"
            else tls_fix("imap", "tls"),
        )
    return (
        f"cannot connect to {where}: {error_text(cause)}",
        "check imap.host and imap.port (HL_EMAIL_IMAP__HOST / __PORT) and that the "
        "server is reachable from this machine",
    )


async def _secure(steps: ImapSteps, cfg: ImapConfig, add: Add) -> bool:
    """The IMAP TLS line (none for security "none"); False when STARTTLS failed."""
    if cfg.security == "starttls":
        try:
            await steps.starttls()
        except OpenStepError as exc:
            if exc.cause is None:  # not offered
                where = f"{cfg.host}:{cfg.port}"
                add(
                    "IMAP TLS",
                    "fail",
                    f"{where} does not offer STARTTLS",
                    tls_fix("imap", "starttls"),
                )
            else:
                detail, fix = tls_problem(exc.cause, "imap", "starttls")
                add("IMAP TLS", "fail", f"STARTTLS failed: {detail}", fix)
            return False
        add("IMAP TLS", "ok", "STARTTLS negotiated")
    elif cfg.security == "tls":
        add("IMAP TLS", "ok", 'implicit TLS (imap.security = "tls")')
    return True


async def _login(steps: ImapSteps, cfg: ImapConfig, add: Add) -> bool:
    """The IMAP login line; False when there is no username or the login failed."""
    if not cfg.username:
        add(
            "IMAP login",
            "fail",
            "imap.username is not set",
            "set imap.username and imap.password for the agent's mailbox",
        )
        return False
    try:
        await steps.authenticate()
    except OpenStepError as exc:
        cause = exc.cause
        assert cause is not None
        if exc.failure == "config":
            fix = _PASSWORD_FIX if cfg.auth == "password" else getattr(cause, "fix", "")
            add("IMAP login", "fail", str(cause), fix)
        else:
            add(
                "IMAP login",
                "fail",
                f"login as {cfg.username} failed: {error_text(cause)}",
                "check imap.username and imap.password",
            )
        return False
    how = "" if cfg.auth == "password" else f" ({cfg.auth.upper()})"
    add("IMAP login", "ok", f"logged in as {cfg.username}{how}")
    return True


async def _folders(client: aioimaplib.IMAP4) -> list[str]:
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


async def _select(client: aioimaplib.IMAP4, cfg: ImapConfig, add: Add) -> bool:
    """The IMAP folder line: the folder is selected (for the round trip), or the fix lists the
    folders the account has."""
    response = await client.select(imap_mailbox(cfg.folder))
    if response.result != "OK":
        folders = await _folders(client)
        add(
            "IMAP folder",
            "fail",
            f"cannot select {cfg.folder!r}: {response.result} {imap_text(response.lines)}",
            "set imap.folder to an existing folder"
            + (f"; this account has: {', '.join(folders[:15])}" if folders else ""),
        )
        return False
    text = imap_text(response.lines)
    exists = re.search(r"(\d+) EXISTS", text)
    uidvalidity = re.search(r"UIDVALIDITY (\d+)", text)
    add(
        "IMAP folder",
        "ok",
        f"{cfg.folder} selected"
        + (f" ({exists.group(1)} messages" if exists else " (")
        + (f", UIDVALIDITY {uidvalidity.group(1)})" if uidvalidity else ")"),
    )
    return True


def _extensions(client: aioimaplib.IMAP4, cfg: ImapConfig, add: Add) -> None:
    caps = {c.upper() for c in client.protocol.capabilities}
    if "IDLE" in caps:
        add("IMAP IDLE", "ok", "supported: replies arrive by push")
    else:
        add(
            "IMAP IDLE",
            "warn",
            f"not supported: the gateway polls every {cfg.poll_interval:g} s instead of push",
            "use a server with IDLE (nearly all have it), or lower imap.poll_interval",
        )
    if "UIDPLUS" in caps:
        add("IMAP UIDPLUS", "ok", "supported")
    else:
        add(
            "IMAP UIDPLUS",
            "warn",
            "not supported (RFC 4315): the gateway works, but cannot target single messages by UID when moving them",
            "use a server with UIDPLUS if you can",
        )


async def check_imap(
    cfg: ImapConfig, *, timeout: float, tokens: TokenSource | None, add: Add
) -> tuple[aioimaplib.IMAP4 | None, bool]:
    """(the client, with the folder selected when every step passed, to watch for the test
    message and to close; whether every step passed)."""
    timeout = min(cfg.timeout, timeout)
    steps = ImapSteps(cfg, tokens=tokens, timeout=timeout)
    try:
        client = await steps.connect()
    except OpenStepError as exc:
        add("IMAP connect", "fail", *_connect_failure(exc, cfg, timeout))
        return None, False
    tls = " (TLS)" if cfg.security == "tls" else ""
    add("IMAP connect", "ok", f"{cfg.host}:{cfg.port}{tls}")
    if not await _secure(steps, cfg, add) or not await _login(steps, cfg, add):
        return client, False
    if not await _select(client, cfg, add):
        return client, False
    _extensions(client, cfg, add)
    return client, True
