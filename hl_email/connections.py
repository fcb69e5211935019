"""Opening IMAP and SMTP connections: one place for TLS, STARTTLS, login and what a failure means.

The watcher, the outbox and doctor all connect through here, so they trust the same CAs, speak
the same STARTTLS and authenticate the same way. A failure that retrying cannot fix (a
certificate the client does not trust, a refused login, TLS spoken to a plaintext port) is a
`MailConfigError`; everything else (refused connection, timeout, 4xx) is worth retrying.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aioimaplib
import aiosmtplib

from .errors import ImapAuthError as ImapAuthError
from .errors import MailAuthError as MailAuthError
from .errors import MailCertificateError as MailCertificateError
from .errors import MailConfigError as MailConfigError
from .errors import MailTlsMismatchError as MailTlsMismatchError
from .errors import Problem as Problem

__all__ = [
    "ImapAuthError",
    "MailAuthError",
    "MailCertificateError",
    "MailConfigError",
    "MailTlsMismatchError",
    "TokenSource",
    "config_error",
    "decode_mailbox_name",
    "encode_mailbox_name",
    "imap_authenticate",
    "imap_connect",
    "imap_mailbox",
    "imap_open",
    "imap_starttls",
    "oauthbearer_message",
    "smtp_authenticate",
    "smtp_client",
    "smtp_open",
    "tls_context",
    "xoauth2_message",
]


class TokenSource(Protocol):
    """Gives OAuth2 access tokens (hl_email.oauth.TokenProvider is one)."""

    async def access_token(self, *, refresh: bool = False) -> str: ...


class _Endpoint(Protocol):  # the part of ImapConfig / SmtpConfig used here
    host: str
    port: int
    username: str | None
    password: str | None
    security: str
    timeout: float
    validate_certs: bool
    ca_file: str
    auth: str


# -- TLS --------------------------------------------------------------------------------------


def tls_context(cfg: _Endpoint) -> ssl.SSLContext:
    """The system CA bundle, plus `ca_file` when set (added, never replacing the system one)."""
    ctx = ssl.create_default_context()
    if cfg.ca_file:
        try:
            ctx.load_verify_locations(cafile=cfg.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise MailCertificateError(
                f"cannot read ca_file {cfg.ca_file!r}: {exc}",
                fix="set ca_file to a readable PEM file with the CA certificate(s)",
            ) from None
    if not cfg.validate_certs:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


_MISMATCH = (
    "WRONG_VERSION_NUMBER",
    "record layer failure",
    "packet length too long",
    "UNKNOWN_PROTOCOL",
    "http request",
)


def config_error(exc: BaseException, section: str, security: str) -> MailConfigError | None:
    """The MailConfigError `exc` amounts to, or None when retrying may help."""
    for link in _chain(exc):
        if isinstance(link, MailConfigError):
            return link
        if isinstance(link, ssl.SSLCertVerificationError):
            reason = link.verify_message or str(link)
            return MailCertificateError(
                f"the server's certificate is not trusted: {reason}",
                fix=(
                    f"if the server uses a private CA, set {section}.ca_file to its PEM file; "
                    f"check that {section}.host is the name on the certificate"
                ),
            )
        if isinstance(link, ssl.SSLError) and any(m in str(link) for m in _MISMATCH):
            other = "starttls" if security == "tls" else "tls"
            return MailTlsMismatchError(
                f"the port does not speak TLS right away ({getattr(link, 'reason', None) or link})",
                fix=f'{section}.security = "{other}" for this port, or the port for {security!r}',
            )
        if isinstance(link, aiosmtplib.SMTPAuthenticationError):
            return MailAuthError(
                f"login refused: {link.code} {link.message}",
                fix=f"check {section}.username and the password or OAuth2 credentials",
            )
        if isinstance(link, aiosmtplib.SMTPException) and "STARTTLS extension not supported" in str(
            link
        ):
            return MailTlsMismatchError(
                "the server does not offer STARTTLS",
                fix=f'{section}.security = "tls" for an implicit-TLS port, or the submission port',
            )
    return None


# -- IMAP ---------------------------------------------------------------------------------------


def encode_mailbox_name(name: str) -> str:
    """RFC 3501 5.1.3 modified UTF-7: "&" becomes "&-", non-ASCII runs base64 of UTF-16BE."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append(
                "&" + base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",") + "-"
            )
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def decode_mailbox_name(name: str) -> str:
    """The inverse of encode_mailbox_name (for folder lists the server sends)."""
    out: list[str] = []
    i = 0
    while i < len(name):
        if name[i] == "&":
            end = name.find("-", i)
            if end == -1:
                out.append(name[i:])
                break
            chunk = name[i + 1 : end]
            if not chunk:
                out.append("&")
            else:
                b64 = chunk.replace(",", "/")
                b64 += "=" * (-len(b64) % 4)
                try:
                    out.append(base64.b64decode(b64).decode("utf-16-be"))
                except (ValueError, UnicodeDecodeError):
                    out.append(name[i : end + 1])
            i = end + 1
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


def imap_mailbox(name: str) -> str:
    """A folder name as an IMAP command argument: modified UTF-7, then a quoted string."""
    encoded = encode_mailbox_name(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_text(lines: list[Any]) -> str:
    return " ".join(
        bytes(line).decode("utf-8", "replace")
        if isinstance(line, (bytes, bytearray))
        else str(line)
        for line in lines
    )[:300]


async def imap_connect(
    cfg: _Endpoint,
    *,
    conn_lost_cb: Callable[[Exception | None], None] | None = None,
    timeout: float | None = None,
) -> aioimaplib.IMAP4:
    """TCP (and implicit TLS) up to the server's greeting. Always `aioimaplib.IMAP4` with an
    `ssl_context`, never IMAP4_SSL, which cannot report a lost connection."""
    ctx = tls_context(cfg) if cfg.security == "tls" else None
    client = aioimaplib.IMAP4(
        host=cfg.host,
        port=cfg.port,
        timeout=timeout or cfg.timeout,
        conn_lost_cb=conn_lost_cb,
        ssl_context=ctx,
    )
    try:
        await client.wait_hello_from_server()
    except Exception as exc:
        # aioimaplib keeps the connect error in its client task; surface that one.
        task = getattr(client, "_client_task", None)
        if task is not None and task.done() and not task.cancelled() and task.exception():
            raise task.exception() from exc  # type: ignore[misc]
        raise
    return client


async def imap_starttls(client: aioimaplib.IMAP4, cfg: _Endpoint) -> None:
    # aioimaplib has no STARTTLS helper: issue the command, then upgrade the transport.
    protocol = client.protocol
    response = await protocol.execute(
        aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=asyncio.get_running_loop())
    )
    if response.result != "OK":
        raise MailTlsMismatchError(
            f"STARTTLS refused: {response.result} {_imap_text(response.lines)}",
            fix='imap.security = "tls" for an implicit-TLS port (993)',
        )
    ctx = tls_context(cfg)
    loop = asyncio.get_running_loop()
    transport = await asyncio.wait_for(
        loop.start_tls(protocol.transport, protocol, ctx, server_hostname=cfg.host), cfg.timeout
    )
    protocol.transport = transport
    await protocol.capability()  # capabilities before TLS must not be trusted (RFC 3501 6.2.1)


def xoauth2_message(user: str, token: str) -> bytes:
    """The XOAUTH2 initial client response (Google / Microsoft), before base64."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer_message(user: str, token: str, host: str = "", port: int = 0) -> bytes:
    """RFC 7628 OAUTHBEARER initial client response (gs2 header, host, port, auth), before base64."""
    authzid = "a=" + user.replace("=", "=3D").replace(",", "=2C")
    parts = [f"n,{authzid},"]
    if host:
        parts.append(f"host={host}")
    if port:
        parts.append(f"port={port}")
    parts.append(f"auth=Bearer {token}")
    return ("\x01".join(parts) + "\x01\x01").encode()


def _sasl_message(mechanism: str, cfg: _Endpoint, token: str) -> bytes:
    user = cfg.username or ""
    if mechanism == "XOAUTH2":
        return xoauth2_message(user, token)
    return oauthbearer_message(user, token, cfg.host, cfg.port)


async def _imap_sasl(client: aioimaplib.IMAP4, mechanism: str, initial: bytes) -> Any:
    """AUTHENTICATE with an initial response; a failure challenge gets the empty answer SASL
    expects, so the server ends with a tagged NO instead of waiting (RFC 7628 3.2.3)."""
    protocol = client.protocol
    command = aioimaplib.Command(
        "AUTHENTICATE",
        protocol.new_tag(),
        mechanism,
        base64.b64encode(initial).decode("ascii"),
        loop=asyncio.get_running_loop(),
    )
    original = protocol._continuation  # TODO(3): aioimaplib has no hook for SASL challenges

    def continuation(line: bytes) -> None:
        if protocol.pending_sync_command is command:
            protocol.transport.write(b"\r\n")
        else:
            original(line)

    protocol._continuation = continuation
    try:
        response = await asyncio.wait_for(
            protocol.execute(command, scrub=command.args[-1]), client.timeout
        )
    finally:
        protocol._continuation = original
    if response.result == "OK":
        protocol.state = "AUTH"
    return response


async def imap_authenticate(
    client: aioimaplib.IMAP4, cfg: _Endpoint, tokens: TokenSource | None = None
) -> None:
    """LOGIN with the password, or AUTHENTICATE XOAUTH2 / OAUTHBEARER with a fresh token (one
    retry with a force-refreshed token when the server refuses the cached one)."""
    if cfg.auth == "password":
        response = await client.login(cfg.username or "", cfg.password or "")
    else:
        if tokens is None:
            raise MailAuthError(
                f"imap.auth = {cfg.auth!r} but no OAuth2 credentials are configured",
                fix="set imap.oauth (token_url, client_id, refresh_token) or run `hl-email oauth login`",
            )
        mechanism = "XOAUTH2" if cfg.auth == "xoauth2" else "OAUTHBEARER"
        response = None
        for refresh in (False, True):
            token = await tokens.access_token(refresh=refresh)
            response = await _imap_sasl(client, mechanism, _sasl_message(mechanism, cfg, token))
            if response.result == "OK":
                break
    if response.result != "OK":
        raise ImapAuthError(
            f"login as {cfg.username} refused: {response.result} {_imap_text(response.lines)}",
            fix="check imap.username and imap.password (or the OAuth2 credentials)",
        )


async def imap_open(
    cfg: _Endpoint,
    *,
    tokens: TokenSource | None = None,
    conn_lost_cb: Callable[[Exception | None], None] | None = None,
) -> aioimaplib.IMAP4:
    """Connected, TLS as configured, logged in (when a username is set)."""
    client = await imap_connect(cfg, conn_lost_cb=conn_lost_cb)
    try:
        if cfg.security == "starttls":
            await imap_starttls(client, cfg)
        if cfg.username:
            await imap_authenticate(client, cfg, tokens)
    except BaseException:
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()
        raise
    return client


# -- SMTP ---------------------------------------------------------------------------------------


def smtp_client(
    cfg: _Endpoint, *, timeout: float | None = None, start_tls: bool | None = None
) -> aiosmtplib.SMTP:
    """A not yet connected client. With `start_tls=None` it follows `cfg.security` (aiosmtplib
    then re-sends EHLO after STARTTLS); doctor passes False to take each step itself."""
    if start_tls is None:
        start_tls = cfg.security == "starttls"
    return aiosmtplib.SMTP(
        hostname=cfg.host,
        port=cfg.port,
        use_tls=cfg.security == "tls",
        start_tls=start_tls,
        validate_certs=cfg.validate_certs,
        tls_context=tls_context(cfg) if cfg.security != "none" else None,
        timeout=timeout or cfg.timeout,
    )


async def smtp_authenticate(
    client: aiosmtplib.SMTP, cfg: _Endpoint, tokens: TokenSource | None = None
) -> None:
    if cfg.auth == "password":
        await client.login(cfg.username or "", cfg.password or "")
        return
    if tokens is None:
        raise MailAuthError(
            f"smtp.auth = {cfg.auth!r} but no OAuth2 credentials are configured",
            fix="set smtp.oauth (token_url, client_id, refresh_token) or run `hl-email oauth login`",
        )
    mechanism = "XOAUTH2" if cfg.auth == "xoauth2" else "OAUTHBEARER"
    last: aiosmtplib.SMTPResponse | None = None
    for refresh in (False, True):
        token = await tokens.access_token(refresh=refresh)
        initial = base64.b64encode(_sasl_message(mechanism, cfg, token))
        response = await client.execute_command(b"AUTH", mechanism.encode(), initial)
        if response.code == 334:  # the error challenge: answer empty to get the final reply
            response = await client.execute_command(b"")
        if response.code == 235:
            return
        last = response
    assert last is not None
    raise aiosmtplib.SMTPAuthenticationError(last.code, last.message)


async def smtp_open(cfg: _Endpoint, *, tokens: TokenSource | None = None) -> aiosmtplib.SMTP:
    """Connected (TLS as configured, EHLO again after STARTTLS) and authenticated."""
    client = smtp_client(cfg)
    await client.connect()
    try:
        if cfg.username:
            await smtp_authenticate(client, cfg, tokens)
    except BaseException:
        client.close()
        raise
    return client


Connector = Callable[[], Awaitable[aiosmtplib.SMTP]]
