"""OAuth2 access tokens for IMAP/SMTP (XOAUTH2, OAUTHBEARER): refresh-token grant, presets for
Google and Microsoft, refresh tokens kept in the store encrypted with a key from security.secret,
and the `hl-email oauth login` flows (loopback redirect for Google, device code for Microsoft).

Tokens are never logged: TokenProvider's repr hides them, and errors quote only the endpoint's
`error` / `error_description` fields.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .config import OAuthConfig
from .connections import MailAuthError

if TYPE_CHECKING:  # httpx (40 ms to import) loads when a token is first fetched
    import httpx

__all__ = [
    "PRESETS",
    "OAuthError",
    "Preset",
    "TokenProvider",
    "device_code_login",
    "loopback_login",
    "mail_token_providers",
    "open_sealed",
    "refresh_token_key",
    "seal",
    "token_provider",
]

log = logging.getLogger("hl_email.oauth")


@dataclass(frozen=True)
class Preset:
    token_url: str
    authorize_url: str
    device_url: str
    scope: str


PRESETS: dict[str, Preset] = {
    "google": Preset(
        token_url="https://oauth2.googleapis.com/token",
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        device_url="https://oauth2.googleapis.com/device/code",
        scope="https://mail.google.com/",
    ),
    "microsoft": Preset(
        token_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        authorize_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        device_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
        scope=(
            "https://outlook.office.com/IMAP.AccessAsUser.All "
            "https://outlook.office.com/SMTP.Send offline_access"
        ),
    ),
}


class OAuthError(MailAuthError):
    """The token endpoint refused (invalid_grant, invalid_client…): only new credentials help."""


def endpoints(cfg: OAuthConfig) -> tuple[str, str, str, str]:
    """(token_url, authorize_url, device_url, scope) with the preset's values filled in."""
    preset = PRESETS.get(cfg.provider)
    tenant = cfg.tenant or "common"
    token_url = cfg.token_url or (preset.token_url.format(tenant=tenant) if preset else "")
    if not token_url:
        raise OAuthError(
            "oauth.token_url is not set",
            fix='set oauth.token_url, or provider = "google" | "microsoft"',
        )
    if preset is not None:
        authorize = preset.authorize_url.format(tenant=tenant)
        device = preset.device_url.format(tenant=tenant)
    else:
        authorize, device = "", ""
    if cfg.token_url:  # an overridden endpoint (tests, a proxy): the others sit beside it
        base = cfg.token_url.rsplit("/", 1)[0]
        authorize = f"{base}/authorize"
        device = f"{base}/devicecode"
    scope = cfg.scope or (preset.scope if preset else "")
    return token_url, authorize, device, scope


# -- sealed refresh tokens ----------------------------------------------------------------------


def _key(secret: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    if not secret:
        raise OAuthError(
            "security.secret is empty: refresh tokens cannot be stored encrypted",
            fix="set security.secret (HL_EMAIL_SECURITY__SECRET) to a long random string",
        )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"hl-email", info=b"oauth refresh token v1"
    ).derive(secret.encode())


def seal(secret: str, name: str, plaintext: str) -> bytes:
    """AES-256-GCM with a key derived from security.secret; `name` is bound as associated data."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return b"v1" + nonce + AESGCM(_key(secret)).encrypt(nonce, plaintext.encode(), name.encode())


def open_sealed(secret: str, name: str, sealed: bytes) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not sealed.startswith(b"v1") or len(sealed) < 2 + 12 + 16:
        raise OAuthError(
            "the stored refresh token is damaged", fix="run `hl-email oauth login` again"
        )
    nonce, body = sealed[2:14], sealed[14:]
    try:
        return AESGCM(_key(secret)).decrypt(nonce, body, name.encode()).decode()
    except InvalidTag:
        raise OAuthError(
            "the stored refresh token cannot be decrypted (security.secret changed?)",
            fix="run `hl-email oauth login` again",
        ) from None


def refresh_token_key(cfg: OAuthConfig, username: str) -> str:
    return f"oauth-refresh:{cfg.provider}:{cfg.client_id}:{username.lower()}"


class SecretStore(Protocol):
    async def get_secret(self, name: str) -> bytes | None: ...
    async def set_secret(self, name: str, value: bytes) -> None: ...


# -- access tokens ------------------------------------------------------------------------------


def _describe(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    parts = [str(body.get("error") or f"HTTP {response.status_code}")]
    if body.get("error_description"):
        parts.append(str(body["error_description"])[:200])
    return ": ".join(parts)


class TokenProvider:
    """Access tokens from a refresh-token grant, cached until shortly before they expire.

    `access_token(refresh=True)` forces a new one (the server refused the cached token). A
    rotated refresh token in the answer is kept (and stored again, sealed, when a store is set).
    """

    def __init__(
        self,
        cfg: OAuthConfig,
        *,
        username: str,
        secret: str = "",
        store: SecretStore | None = None,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.cfg = cfg
        self.username = username
        self.secret = secret
        self.store = store
        self.clock = clock
        self.transport = transport
        self.token_url = endpoints(cfg)[0]
        self.scope = endpoints(cfg)[3]
        self._refresh_token: str = cfg.refresh_token
        self._access: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.grants = 0  # how many times the token endpoint was asked (for tests and doctor)

    def __repr__(self) -> str:  # never show a token
        return f"TokenProvider({self.token_url!r}, user={self.username!r})"

    def _fresh(self) -> bool:
        if self._access is None:
            return False
        # Refresh when 10% of the lifetime (at most a minute) is left, so a token never
        # expires between handing it out and the server checking it.
        return self.clock() < self._expires_at

    async def _load_refresh_token(self) -> str:
        if self._refresh_token:
            return self._refresh_token
        if self.store is not None:
            sealed = await self.store.get_secret(refresh_token_key(self.cfg, self.username))
            if sealed is not None:
                self._refresh_token = open_sealed(
                    self.secret, refresh_token_key(self.cfg, self.username), sealed
                )
                return self._refresh_token
        raise OAuthError(
            f"no OAuth2 refresh token for {self.username}",
            fix="run `hl-email oauth login --config FILE --provider google|microsoft`, or set "
            "oauth.refresh_token",
        )

    async def access_token(self, *, refresh: bool = False) -> str:
        async with self._lock:
            if not refresh and self._fresh():
                assert self._access is not None
                return self._access
            return await self._grant()

    async def _grant(self) -> str:
        import httpx

        refresh_token = await self._load_refresh_token()
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.cfg.client_id,
        }
        if self.cfg.client_secret:
            form["client_secret"] = self.cfg.client_secret
        if self.scope and self.cfg.provider == "microsoft":
            form["scope"] = self.scope
        self.grants += 1
        started = self.clock()
        async with httpx.AsyncClient(timeout=20, transport=self.transport) as http:
            try:
                response = await http.post(self.token_url, data=form)
            except httpx.HTTPError as exc:
                # Transient: the outbox and watcher retry as for any connection problem.
                raise ConnectionError(f"OAuth2 token endpoint unreachable: {exc}") from None
        if response.status_code >= 500:
            raise ConnectionError(f"OAuth2 token endpoint failed: {_describe(response)}")
        if response.status_code != 200:
            raise OAuthError(
                f"the OAuth2 token endpoint refused the refresh token: {_describe(response)}",
                fix="run `hl-email oauth login` again (the grant was revoked or expired)",
            )
        body = response.json()
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise ConnectionError("OAuth2 token endpoint answered without an access_token")
        lifetime = float(body.get("expires_in") or 3600)
        self._access = access
        self._expires_at = started + lifetime - min(60.0, lifetime / 10)
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != refresh_token:
            self._refresh_token = rotated
            if self.store is not None and self.secret:
                key = refresh_token_key(self.cfg, self.username)
                await self.store.set_secret(key, seal(self.secret, key, rotated))
        log.info("OAuth2 access token for %s refreshed (valid %.0fs)", self.username, lifetime)
        return access


def token_provider(section: Any, *, secret: str, store: SecretStore | None) -> TokenProvider | None:
    """The provider an [imap]/[smtp] section needs (None for password auth)."""
    if section.auth == "password":
        return None
    cfg = section.oauth or OAuthConfig()
    return TokenProvider(cfg, username=section.username or "", secret=secret, store=store)


def mail_token_providers(
    config: Any, store: SecretStore | None
) -> tuple[TokenProvider | None, TokenProvider | None]:
    """(IMAP, SMTP) providers; one shared provider when both use the same account and client."""
    imap = token_provider(config.imap, secret=config.security.secret, store=store)
    smtp_cfg = config.smtp
    if (
        imap is not None
        and smtp_cfg.auth != "password"
        and (smtp_cfg.oauth or OAuthConfig()) == (config.imap.oauth or OAuthConfig())
        and (smtp_cfg.username or "") == (config.imap.username or "")
    ):
        return imap, imap
    return imap, token_provider(smtp_cfg, secret=config.security.secret, store=store)


# -- `hl-email oauth login` ---------------------------------------------------------------------


async def _code_for_tokens(
    token_url: str, form: dict[str, str], transport: httpx.AsyncBaseTransport | None
) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(timeout=20, transport=transport) as http:
        response = await http.post(token_url, data=form)
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    if response.status_code != 200:
        raise OAuthError(f"token endpoint refused: {_describe(response)}")
    return body


async def device_code_login(
    cfg: OAuthConfig,
    *,
    say: Callable[[str], None],
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> str:
    """RFC 8628 device authorization: print the code, poll until the user approved; returns
    the refresh token."""
    import httpx

    token_url, _, device_url, scope = endpoints(cfg)
    async with httpx.AsyncClient(timeout=20, transport=transport) as http:
        response = await http.post(device_url, data={"client_id": cfg.client_id, "scope": scope})
    if response.status_code != 200:
        raise OAuthError(f"device authorization refused: {_describe(response)}")
    start = response.json()
    say(
        start.get("message")
        or f"Open {start.get('verification_uri') or start.get('verification_url')} and enter "
        f"the code {start['user_code']}"
    )
    interval = float(start.get("interval") or 5)
    deadline = time.monotonic() + float(start.get("expires_in") or 900)
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": start["device_code"],
        "client_id": cfg.client_id,
    }
    if cfg.client_secret:
        form["client_secret"] = cfg.client_secret
    while time.monotonic() < deadline:
        await sleep(interval)
        async with httpx.AsyncClient(timeout=20, transport=transport) as http:
            response = await http.post(token_url, data=form)
        if response.status_code == 200:
            refresh = response.json().get("refresh_token")
            if not refresh:
                raise OAuthError("the token endpoint gave no refresh token (offline_access scope?)")
            return str(refresh)
        error = _describe(response)
        if error.startswith("authorization_pending"):
            continue
        if error.startswith("slow_down"):
            interval += 5
            continue
        raise OAuthError(f"device login failed: {error}")
    raise OAuthError("device login timed out: the code was not entered in time")


async def loopback_login(
    cfg: OAuthConfig,
    *,
    say: Callable[[str], None],
    transport: httpx.AsyncBaseTransport | None = None,
    port: int = 0,
    timeout: float = 300.0,
) -> str:
    """Authorization code + PKCE with a loopback redirect (RFC 8252); returns the refresh token."""
    token_url, authorize_url, _, scope = endpoints(cfg)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    state = secrets.token_urlsafe(16)
    got: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def on_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode("latin-1")
        target = line.split(" ")[1] if line.count(" ") >= 2 else "/"
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query))
        ok = query.get("state") == state and ("code" in query or "error" in query)
        text = (
            "hl-email: signed in, you can close this tab."
            if "code" in query
            else "hl-email: sign-in failed."
        )
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
            + text.encode()
        )
        await writer.drain()
        writer.close()
        if ok and not got.done():
            got.set_result(query)

    server = await asyncio.start_server(on_request, "127.0.0.1", port)
    redirect = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    params = {
        "client_id": cfg.client_id,
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": scope,
        "state": state,
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
        "access_type": "offline",  # Google: give a refresh token
        "prompt": "consent",
    }
    say(
        f"Open this URL in a browser on this machine and sign in:\n{authorize_url}?{urllib.parse.urlencode(params)}"
    )
    try:
        query = await asyncio.wait_for(got, timeout)
    finally:
        server.close()
    if "error" in query:
        raise OAuthError(f"sign-in refused: {query['error']}")
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": redirect,
        "client_id": cfg.client_id,
        "code_verifier": verifier,
    }
    if cfg.client_secret:
        form["client_secret"] = cfg.client_secret
    body = await _code_for_tokens(token_url, form, transport)
    refresh = body.get("refresh_token")
    if not refresh:
        raise OAuthError("the token endpoint gave no refresh token")
    return str(refresh)


async def run_login(
    config: Any,
    *,
    provider: str,
    flow: str | None = None,
    say: Callable[[str], None] = print,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """`hl-email oauth login`: get a refresh token and store it sealed for every section that
    uses OAuth2 (or [imap] when none does yet). Returns the exit status."""
    import httpx

    from .store import open_store

    sections = [s for s in (config.imap, config.smtp) if s.auth != "password"] or [config.imap]
    base = sections[0].oauth or OAuthConfig()
    cfg = base.model_copy(update={"provider": provider})
    if not cfg.client_id:
        say("oauth login: set oauth.client_id in [imap.oauth] (your OAuth app's client id)")
        return 2
    username = sections[0].username or ""
    if not username:
        say("oauth login: set imap.username (the mailbox to sign in as)")
        return 2
    flow = flow or ("device" if provider == "microsoft" else "loopback")
    try:
        if flow == "device":
            refresh = await device_code_login(cfg, say=say, transport=transport)
        else:
            refresh = await loopback_login(cfg, say=say, transport=transport)
    except (OAuthError, httpx.HTTPError, TimeoutError) as exc:
        say(f"oauth login failed: {exc}")
        return 1
    store = open_store(config.store.url, base_dir=config.base_dir)
    await store.open()
    try:
        names = set()
        for section in sections:
            section_cfg = (section.oauth or OAuthConfig()).model_copy(update={"provider": provider})
            key = refresh_token_key(section_cfg, section.username or username)
            if key not in names:
                await store.set_secret(key, seal(config.security.secret, key, refresh))
                names.add(key)
    finally:
        await store.close()
    say(f"oauth login: refresh token for {username} stored (encrypted) in the store")
    return 0
