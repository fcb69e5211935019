"""`hl-email oauth login`: the loopback-redirect flow (Google style, PKCE) and the device-code
flow (Microsoft style) from the command line, against a local authorization server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.parse
from pathlib import Path

import httpx
import pytest
from oauthserver import start_oauth_server

from hl_email.config import load_config
from hl_email.oauth import open_sealed, refresh_token_key, run_login
from hl_email.store import open_store

AGENT = "agent@example.test"


@pytest.fixture
def oauth_server():
    server = start_oauth_server(AGENT, refresh_token="refresh-login")
    try:
        yield server
    finally:
        server.stop()


def _sections(server, tmp_path: Path, provider: str) -> dict:
    oauth = {"provider": provider, "token_url": server.token_url, "client_id": server.client_id}
    return {
        "agent": {"address": AGENT},
        "imap": {"username": AGENT, "auth": "xoauth2", "oauth": oauth},
        "smtp": {"username": AGENT, "auth": "xoauth2", "oauth": oauth},
        "store": {"url": f"sqlite:///{tmp_path / 'hl.db'}"},
        "security": {"secret": "test-secret-0123456789-for-integration"},
    }


async def _stored(config) -> str:
    store = open_store(config.store.url, base_dir=config.base_dir)
    await store.open()
    try:
        key = refresh_token_key(config.imap.oauth, AGENT)
        sealed = await store.get_secret(key)
    finally:
        await store.close()
    assert sealed is not None
    return open_sealed(config.security.secret, key, sealed)


async def test_loopback_login_with_pkce_stores_the_refresh_token(oauth_server, tmp_path: Path):
    config = load_config(None, **_sections(oauth_server, tmp_path, "google"))
    said: list[str] = []
    login = asyncio.create_task(run_login(config, provider="google", say=said.append))
    deadline = asyncio.get_running_loop().time() + 10
    while not said:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    url = said[0].split("\n")[-1]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["code_challenge_method"] == "S256" and query["client_id"] == oauth_server.client_id
    # The browser comes back to the loopback redirect with the code (and the state).
    async with httpx.AsyncClient() as http:
        page = await http.get(
            query["redirect_uri"], params={"code": "code-1", "state": query["state"]}
        )
    assert "signed in" in page.text
    assert await asyncio.wait_for(login, 20) == 0, said
    assert await _stored(config) == "refresh-login"
    assert "authorization_code" in oauth_server.grants


async def test_device_login_from_the_command_line(oauth_server, tmp_path: Path):
    toml = tmp_path / "hl-email.toml"
    toml.write_text(
        f"""[agent]
address = "{AGENT}"
[imap]
username = "{AGENT}"
auth = "xoauth2"
[imap.oauth]
provider = "microsoft"
token_url = "{oauth_server.token_url}"
client_id = "{oauth_server.client_id}"
[store]
url = "sqlite:///{tmp_path / "hl.db"}"
[security]
secret = "test-secret-0123456789-for-integration"
"""
    )
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "hl_email.cli",
            "oauth",
            "login",
            "-c",
            str(toml),
            "--provider",
            "microsoft",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "HLTEST" in result.stdout  # the code the user types at the verification URL
    assert "refresh-login" not in result.stdout + result.stderr  # never printed
    assert await _stored(load_config(toml)) == "refresh-login"
