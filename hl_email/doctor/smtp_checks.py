"""Doctor's SMTP lines: connect, EHLO, TLS, AUTH, each step taken by connections.SmtpSteps."""

from __future__ import annotations

import aiosmtplib

from ..config import SmtpConfig
from ..connections import OpenStepError, SmtpSteps, TokenSource
from .report import Add, error_text, tls_fix, tls_problem

_UNREACHABLE_FIX = (
    "check smtp.host and smtp.port (HL_EMAIL_SMTP__HOST / __PORT) and that the "
    "server is reachable from this machine"
)
_NO_AUTH_FIX = (
    'most servers offer AUTH only after TLS: set smtp.security = "starttls" or '
    '"tls"; or leave smtp.username empty if this relay needs no login'
)
_REFUSED_FIX = (
    "check smtp.username and smtp.password (HL_EMAIL_SMTP__PASSWORD); with Gmail "
    'or Microsoft 365 use an app password or smtp.auth = "xoauth2"'
)


def _connect_failure(exc: OpenStepError, where: str) -> tuple[str, str]:
    """(detail, fix) for a failed connect."""
    cause = exc.cause
    assert cause is not None
    if exc.failure == "config":
        return str(cause), getattr(cause, "fix", "")
    if exc.failure == "tls_handshake":
        detail, fix = tls_problem(cause, "smtp", "tls")
        return f"TLS handshake with {where} failed: {detail}", fix
    if exc.failure == "tls_silent":
        return f"no TLS answer from {where}: {error_text(cause)}", tls_fix("smtp", "tls")
    if exc.failure == "no_greeting":  # never with implicit TLS (that is "tls_silent")
        return (
            f"{where} sent no SMTP greeting: {error_text(cause)}",
            'an implicit-TLS port (465) waits for TLS first: set smtp.security = "tls"',
        )
    return f"cannot connect to {where}: {error_text(cause)}", _UNREACHABLE_FIX


def _auth_failure(exc: OpenStepError, cfg: SmtpConfig, where: str) -> tuple[str, str]:
    """(detail, fix) for a failed AUTH."""
    cause = exc.cause
    if exc.failure == "not_offered":
        before_tls = " before TLS" if cfg.security == "none" else ""
        return f"{where} offers no AUTH{before_tls}", _NO_AUTH_FIX
    if isinstance(cause, aiosmtplib.SMTPAuthenticationError):
        message = error_text(Exception(cause.message))
        return f"login as {cfg.username} refused: {cause.code} {message}", _REFUSED_FIX
    assert cause is not None
    if exc.failure == "config":
        return str(cause), getattr(cause, "fix", "")
    return (
        f"login as {cfg.username} failed: {error_text(cause)}",
        "check smtp.username and smtp.password (or the OAuth2 settings)",
    )


async def _secure(steps: SmtpSteps, cfg: SmtpConfig, where: str, add: Add) -> bool:
    """The SMTP TLS line (none for security "none"); False when STARTTLS failed."""
    if cfg.security == "tls":
        add("SMTP TLS", "ok", 'implicit TLS (smtp.security = "tls")')
    elif cfg.security == "starttls":
        try:
            await steps.starttls()
        except OpenStepError as exc:
            if exc.cause is None:  # not offered
                add(
                    "SMTP TLS",
                    "fail",
                    f"{where} does not offer STARTTLS",
                    tls_fix("smtp", "starttls"),
                )
            else:
                detail, fix = tls_problem(exc.cause, "smtp", "starttls")
                add("SMTP TLS", "fail", f"STARTTLS failed: {detail}", fix)
            return False
        add("SMTP TLS", "ok", "STARTTLS negotiated")
    return True


async def check_smtp(
    cfg: SmtpConfig, *, timeout: float, tokens: TokenSource | None, add: Add
) -> tuple[aiosmtplib.SMTP | None, bool]:
    """(the client to send the test message with and to close, whether every step passed)."""
    where = f"{cfg.host}:{cfg.port}"
    steps = SmtpSteps(cfg, tokens=tokens, timeout=min(cfg.timeout, timeout))
    try:
        response = await steps.connect()
    except OpenStepError as exc:
        add("SMTP connect", "fail", *_connect_failure(exc, where))
        return None, False
    banner = error_text(Exception(response.message)) if response.message else ""
    add("SMTP connect", "ok", f"{where} answered {response.code} {banner}".rstrip())
    try:
        await steps.ehlo()
    except OpenStepError as exc:
        assert exc.cause is not None
        add(
            "SMTP EHLO",
            "fail",
            f"{where} refused EHLO: {error_text(exc.cause)}",
            "is this an SMTP port?",
        )
        return steps.client, False
    if not await _secure(steps, cfg, where, add):
        return steps.client, False
    if not cfg.username:
        add("SMTP AUTH", "skip", "no smtp.username set: sending without login")
        return steps.client, True
    try:
        await steps.authenticate()
    except OpenStepError as exc:
        add("SMTP AUTH", "fail", *_auth_failure(exc, cfg, where))
        return steps.client, False
    how = "" if cfg.auth == "password" else f" ({cfg.auth.upper()})"
    add("SMTP AUTH", "ok", f"logged in as {cfg.username}{how}")
    return steps.client, True
