"""OAuth2 token provider and sealed refresh tokens (httpx MockTransport, fake clock)."""

from __future__ import annotations

import asyncio
import urllib.parse

import httpx
import pytest

from hl_email.config import OAuthConfig
from hl_email.connections import MailAuthError
from hl_email.oauth import OAuthError, TokenProvider, endpoints, open_sealed, seal


def test_sealed_refresh_token_round_trips_and_detects_tampering_or_another_secret():
    sealed = seal("s" * 32, "oauth-refresh:x", "refresh-secret")
    assert b"refresh-secret" not in sealed
    assert open_sealed("s" * 32, "oauth-refresh:x", sealed) == "refresh-secret"
    with pytest.raises(OAuthError):
        open_sealed("t" * 32, "oauth-refresh:x", sealed)
    with pytest.raises(OAuthError):
        open_sealed("s" * 32, "oauth-refresh:other", sealed)  # bound to its name
    with pytest.raises(OAuthError):
        open_sealed("s" * 32, "oauth-refresh:x", sealed[:-1] + bytes([sealed[-1] ^ 1]))


def test_presets_and_overrides():
    google = endpoints(OAuthConfig(provider="google"))
    assert (
        google[0] == "https://oauth2.googleapis.com/token"
        and google[3] == "https://mail.google.com/"
    )
    ms = endpoints(OAuthConfig(provider="microsoft", tenant="contoso"))
    assert ms[0] == "https://login.microsoftonline.com/contoso/oauth2/v2.0/token"
    assert "offline_access" in ms[3]
    local = endpoints(OAuthConfig(provider="microsoft", token_url="http://127.0.0.1:9/o/token"))
    assert (
        local[0] == "http://127.0.0.1:9/o/token" and local[2] == "http://127.0.0.1:9/o/devicecode"
    )
    with pytest.raises(OAuthError):
        endpoints(OAuthConfig(provider="custom"))


class Endpoint:
    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.status = 200
        self.rotate = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(urllib.parse.parse_qsl(request.content.decode()))
        self.calls.append(form)
        if self.status != 200:
            return httpx.Response(self.status, json={"error": "invalid_grant"})
        body = {"access_token": f"at-{len(self.calls)}", "expires_in": 100}
        if self.rotate:
            body["refresh_token"] = f"rt-{len(self.calls)}"
        return httpx.Response(200, json=body)


class MemoryStore:
    def __init__(self) -> None:
        self.secrets: dict[str, bytes] = {}

    async def get_secret(self, name: str) -> bytes | None:
        return self.secrets.get(name)

    async def set_secret(self, name: str, value: bytes) -> None:
        self.secrets[name] = value


def test_tokens_are_cached_refreshed_before_expiry_forced_and_rotated():
    async def run() -> None:
        now = [0.0]
        endpoint = Endpoint()
        store = MemoryStore()
        cfg = OAuthConfig(token_url="http://t.test/token", client_id="c", refresh_token="rt-0")
        provider = TokenProvider(
            cfg,
            username="a@x.test",
            secret="s" * 32,
            store=store,
            clock=lambda: now[0],
            transport=httpx.MockTransport(endpoint),
        )
        assert await provider.access_token() == "at-1"
        now[0] = 50
        assert await provider.access_token() == "at-1"  # cached
        now[0] = 91  # 10% of the 100 s lifetime left: refreshed before it expires
        assert await provider.access_token() == "at-2"
        assert await provider.access_token(refresh=True) == "at-3"
        assert [c["refresh_token"] for c in endpoint.calls] == ["rt-0"] * 3
        assert "at-" not in repr(provider)
        endpoint.rotate = True
        await provider.access_token(refresh=True)
        assert store.secrets and endpoint.calls[-1]["refresh_token"] == "rt-0"
        await provider.access_token(refresh=True)
        assert endpoint.calls[-1]["refresh_token"] == "rt-4"  # the rotated one is used
        endpoint.status = 400
        with pytest.raises(MailAuthError):  # a config problem: the outbox pauses
            await provider.access_token(refresh=True)
        endpoint.status = 503
        with pytest.raises(ConnectionError):  # transient
            await provider.access_token(refresh=True)

    asyncio.run(run())
