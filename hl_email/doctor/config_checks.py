"""Doctor's configuration lines: the reply-key secret, credentials, and security advice."""

from __future__ import annotations

import ipaddress

from ..config import GatewayConfig
from ..credentials import MIN_SECRET_BYTES, credential_problems, is_example_value
from .report import Add

_NEW_SECRET = "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


def _is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_secret(cfg: GatewayConfig, add: Add) -> None:
    secret = cfg.security.secret
    if not secret:
        add(
            "security.secret",
            "fail",
            "not set: reply keys are signed with an empty key, so anyone can forge a reply",
            "set security.secret (HL_EMAIL_SECURITY__SECRET) to a long random string, e.g. "
            + _NEW_SECRET,
        )
    elif len(secret.encode()) < MIN_SECRET_BYTES or is_example_value(secret):
        add(
            "security.secret",
            "fail",
            f"shorter than {MIN_SECRET_BYTES} bytes or an example value: the gateway "
            "refuses to start with it",
            f"use 32+ random bytes ({_NEW_SECRET})",
        )
    else:
        add("security.secret", "ok", "set")
    others = [p for p in credential_problems(cfg) if not p.startswith("security.secret")]
    if others:
        add("credentials", "fail", "; ".join(others), "the gateway refuses to start")


def _check_trust(cfg: GatewayConfig, add: Add) -> None:
    if cfg.security.allowed_recipients:
        add(
            "security.allowed_recipients",
            "ok",
            f"calls may ask only {', '.join(cfg.security.allowed_recipients)}",
        )
    else:
        add(
            "security.allowed_recipients",
            "warn",
            "not set: an agent (or a prompt injection) may send an ask, and its reply key, "
            "to any address",
            'set [security] allowed_recipients = ["@yourcompany.com", …]',
        )
    if cfg.security.trusted_authserv_id:
        add(
            "security.trusted_authserv_id",
            "ok",
            f"{cfg.security.trusted_authserv_id}: replies need dmarc=pass from it",
        )
    else:
        add(
            "security.trusted_authserv_id",
            "warn",
            "not set: a reply's sender address is trusted without checking DMARC",
            "set it to your receiving server's authserv-id (the first word of the "
            'Authentication-Results headers it adds, e.g. "mx.google.com")',
        )


def _check_transport(cfg: GatewayConfig, add: Add) -> None:
    for section in ("smtp", "imap"):
        sub = getattr(cfg, section)
        if not sub.validate_certs:
            add(
                f"{section}.validate_certs",
                "warn",
                "false: the server's certificate is not checked, so anyone on the path can "
                "read the password and the mail",
                f"set {section}.validate_certs = true; for a private CA set {section}.ca_file",
            )
        if sub.security == "none" and not _is_loopback(sub.host):
            add(
                f"{section}.security",
                "warn",
                f'"none" to {sub.host}: the password and mail cross the network unencrypted',
                f'set {section}.security = "starttls" or "tls"',
            )


def check_config(cfg: GatewayConfig, add: Add) -> None:
    _check_secret(cfg, add)
    _check_trust(cfg, add)
    _check_transport(cfg, add)
