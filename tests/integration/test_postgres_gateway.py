"""The core loop with the PostgreSQL store: ask by email over real Dovecot + SMTP, the human
approves, the call resolves; then the HTTP API serves the same gateway. Each test gets its own
schema (`?schema=` in store.url), dropped afterwards. Skipped only when PostgreSQL (the server
named by HL_EMAIL_TEST_POSTGRES, default postgresql://postgres@127.0.0.1:5432/test) is
unreachable."""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import pytest
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel

from hl_email.api import API_PREFIX, ApiServer, create_app
from hl_email.gateway import Gateway
from hl_email.store.postgres import PostgresStore

PG_URL = os.environ.get("HL_EMAIL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ALICE = "alice@corp.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))
KEY = "test-api-key-123"


@pytest.fixture
async def pg_store_url():
    asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed")
    try:
        admin = await asyncpg.connect(PG_URL, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL is unreachable at {PG_URL}: {exc!r}")
    schema = f"hl_it_{uuid.uuid4().hex[:16]}"
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}schema={schema}"
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


async def refund(order: str, amount: int) -> str:
    return f"refunded {amount} on {order}"


async def test_approve_by_email_with_postgres_store(gateway_config, mail_client, pg_store_url):
    alice = mail_client(ALICE)
    config = gateway_config(store={"url": pg_store_url})
    async with AsyncHumanLayer.local(config=config, run_id="refund-agent") as hl:
        send_refund = hl.require_approval(contact_channel=CHANNEL)(refund)
        call = asyncio.create_task(send_refund(order="A-17", amount=120))
        ask = await alice.wait_for_message()
        assert "A-17" in ask.text() and "120" in ask.text()
        await alice.reply(ask, "Approve, go ahead.", style="gmail")
        assert await asyncio.wait_for(call, 60) == "refunded 120 on A-17"
        confirm = await alice.wait_for_message()
        assert ask.message_id in (confirm.msg["References"] or "")

    # Everything went through PostgreSQL: read it back with a fresh store on the same schema.
    store = PostgresStore(pg_store_url)
    await store.open()
    try:
        [row] = await store.list_requests()
        assert row.state == "done" and row.status.get("approved") is True
        assert row.version >= 1
        assert [r.state for r in await store.get_recipients(row.id)] == ["answered"]
        assert {o.state for o in await store.outbox_for_request(row.id)} == {"sent"}
        assert [r.outcome for r in await store.list_inbound(request_id=row.id)] == ["applied"]
        key = f"imap://{config.imap.username}@{config.imap.host}:{config.imap.port}/{config.imap.folder}"
        checkpoint = await store.get_checkpoint(key)
        assert checkpoint is not None and checkpoint.last_uid >= 1
    finally:
        await store.close()


async def test_api_starts_with_postgres_store_without_webhooks(gateway_config, pg_store_url):
    cfg = gateway_config(
        store={"url": pg_store_url},
        api={"host": "127.0.0.1", "port": 0, "api_keys": [KEY]},
    )
    assert cfg.webhooks == []
    gateway = Gateway(cfg)
    await gateway.start()
    server = ApiServer(gateway, cfg, app=create_app(gateway, cfg))
    try:
        await server.start()
        assert server.webhooks is None  # no [[webhooks]]: no SQLite-only dispatcher
        assert isinstance(gateway.store, PostgresStore)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            deadline = asyncio.get_running_loop().time() + 15
            while True:
                ready = await http.get("/readyz")
                if ready.status_code == 200 or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert ready.status_code == 200, ready.text
            missing = await http.get(
                f"{API_PREFIX}/function_calls/nope", headers={"Authorization": f"Bearer {KEY}"}
            )
            assert missing.status_code == 404
    finally:
        await server.stop()
        await gateway.stop()
