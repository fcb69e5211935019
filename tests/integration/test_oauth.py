"""OAuth2 end to end: XOAUTH2 / OAUTHBEARER against Dovecot's oauth2 passdb (IMAP directly, SMTP
through Postfix's Dovecot SASL), tokens from a local token endpoint, a token expiring and one
revoked mid-run, and `hl-email oauth login` storing the refresh token encrypted."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path

import pytest
from conftest import tls_sections
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel
from mailclient import MailClient
from oauthserver import start_oauth_server

from hl_email.config import load_config
from hl_email.doctor import run_doctor

AGENT = "agent@example.test"
ALICE = "alice@corp.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))


@pytest.fixture
async def oauth_stack():
    from tlsstack import postfix_binary, start_tls_stack

    if postfix_binary() is None or os.geteuid() != 0:
        pytest.skip("needs postfix and root (as .ci/run provides)")
    server = start_oauth_server(AGENT, lifetime=3600)
    stack = await start_tls_stack(oauth_introspection_url=server.introspection_url)
    try:
        yield stack, server
    finally:
        await stack.stop()
        server.stop()


def _config(stack, server, tmp_path: Path, auth: str, *, refresh_token: str | None = None):
    oauth = {
        "provider": "microsoft",
        "token_url": server.token_url,
        "client_id": server.client_id,
        "refresh_token": server.refresh_token if refresh_token is None else refresh_token,
    }
    return load_config(
        None,
        **tls_sections(
            stack,
            "starttls",
            "tls",
            imap={"auth": auth, "password": None, "oauth": oauth},
            smtp={"auth": auth, "password": None, "oauth": oauth},
            store={"url": f"sqlite:///{tmp_path / 'hl.db'}"},
            replies={"send_confirmations": False},  # each new message is the next ask
        ),
    )


async def _approve(hl, alice: MailClient, order: str) -> None:
    async def refund(order: str) -> str:
        return f"refunded {order}"

    call = asyncio.create_task(hl.require_approval(contact_channel=CHANNEL)(refund)(order=order))
    ask = await alice.wait_for_message(timeout=30)
    assert order in ask.text()
    await alice.reply(ask, "Approved.", style="gmail")
    assert await asyncio.wait_for(call, 30) == f"refunded {order}"


async def _force_reconnect(gateway) -> None:
    """New SMTP and IMAP connections, so each authenticates again."""
    for sender in gateway.smtp.senders:
        await sender.close()
    client = gateway.watcher._client  # noqa: SLF001
    # Dropped, as a network drop does: close() on a TLS transport would first wait (up to
    # 30 s) for the server's close_notify before the watcher even learns of it.
    client.protocol.transport.abort()
    deadline = time.monotonic() + 30
    while gateway.watcher._client is client or not gateway.watcher.connected:  # noqa: SLF001
        assert time.monotonic() < deadline, gateway.watcher.last_error
        await asyncio.sleep(0.05)


async def test_xoauth2_end_to_end_with_a_token_expiring_and_one_revoked_mid_run(
    oauth_stack, tmp_path: Path
):
    stack, server = oauth_stack
    server.lifetime = 4.0  # seconds: expires during the test
    alice = MailClient(stack, ALICE)
    async with AsyncHumanLayer.local(config=_config(stack, server, tmp_path, "xoauth2")) as hl:
        gateway = hl._local_gateway()  # noqa: SLF001
        assert gateway.imap_tokens is gateway.smtp_tokens  # one account, one token
        await _approve(hl, alice, "O-1")
        first = len(server.grants)
        assert first >= 1 and set(server.grants) == {"refresh_token"}
        deadline = time.monotonic() + 30
        while not server.all_expired():  # wait until the token has expired on the server
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        await _force_reconnect(gateway)
        await _approve(hl, alice, "O-2")
        assert len(server.grants) > first  # refreshed before use, not sent expired
        # Revoked behind our back: the server refuses the cached token, we refresh and retry.
        server.lifetime = 3600.0
        await _force_reconnect(gateway)  # fresh long-lived token in the cache
        server.revoke_access_tokens()
        before = len(server.grants)
        await _force_reconnect(gateway)
        await _approve(hl, alice, "O-3")
        assert len(server.grants) > before
        assert any(not active for _, active in server.introspected)  # a refusal happened
    log = stack.log() + stack.postfix_log()
    assert "method=XOAUTH2" in log and "sasl_method=XOAUTH2" in log
    assert "at-" not in "\n".join(  # tokens never in our logs (the gateway logs nothing of them)
        line for line in log.splitlines() if "hl_email" in line
    )


async def test_oauthbearer_end_to_end(oauth_stack, tmp_path: Path):
    stack, server = oauth_stack
    alice = MailClient(stack, ALICE)
    async with AsyncHumanLayer.local(config=_config(stack, server, tmp_path, "oauthbearer")) as hl:
        await _approve(hl, alice, "B-1")
    log = stack.log() + stack.postfix_log()
    assert "method=OAUTHBEARER" in log and "sasl_method=OAUTHBEARER" in log


async def test_oauth_login_stores_the_refresh_token_encrypted_and_doctor_uses_it(
    oauth_stack, tmp_path: Path
):
    from hl_email.oauth import refresh_token_key, run_login
    from hl_email.store import open_store

    stack, server = oauth_stack
    config = _config(stack, server, tmp_path, "xoauth2", refresh_token="")
    said: list[str] = []
    assert await run_login(config, provider="microsoft", say=said.append) == 0, said
    assert any("HLTEST" in line for line in said)  # the device code shown to the user
    store = open_store(config.store.url, base_dir=config.base_dir)
    await store.open()
    try:
        sealed = await store.get_secret(refresh_token_key(config.imap.oauth, AGENT))
    finally:
        await store.close()
    assert sealed is not None and server.refresh_token.encode() not in sealed
    out = io.StringIO()
    assert await run_doctor(config, wait_seconds=20, out=out) == 0, out.getvalue()
    assert "✓ IMAP login: logged in as agent@example.test (XOAUTH2)" in out.getvalue()
    assert "✓ SMTP AUTH: logged in as agent@example.test (XOAUTH2)" in out.getvalue()
