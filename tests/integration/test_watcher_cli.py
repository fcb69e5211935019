"""The IMAP watcher's fallbacks (polling, reconnect), the requests CLI, the agent_email webhook."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hl_email.api import ApiServer
from hl_email.config import GatewayConfig

ALICE = "alice@corp.test"
AGENT = "agent@example.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))


async def test_polling_fallback_without_idle(gateway_config, mail_client):
    cfg = gateway_config(imap={"idle": False, "poll_interval": 0.2})
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=cfg) as hl:
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        watcher = hl.transport.gateway.watcher
        for _ in range(1200):  # it connects in the background
            if watcher.connected:
                break
            await asyncio.sleep(0.05)
        assert watcher.connected and watcher.idle_supported is False
        await alice.reply(ask, "approve")
        assert (await asyncio.wait_for(task, 60)).call.status.approved is True


async def test_watcher_reconnects_after_the_connection_drops(gateway_config, mail_client):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=gateway_config()) as hl:
        watcher = hl.transport.gateway.watcher
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        for _ in range(1200):
            if watcher.connected:
                break
            await asyncio.sleep(0.05)
        first = watcher._client
        first.protocol.transport.close()  # the server or the network drops us
        await alice.reply(ask, "approved")
        assert (await asyncio.wait_for(task, 60)).call.status.approved is True
        assert watcher._client is not first


async def test_requests_cli_lists_and_shows(gateway_config, mail_client, tmp_path):
    cfg = gateway_config()
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=cfg) as hl:
        call = await hl.create_function_call(
            FunctionCallSpec(fn="send_refund", kwargs={"amount": 120}, channel=CHANNEL),
            call_id="cli-1",
        )
        ask = await alice.wait_for_message()
        await alice.reply(ask, "no, too much")
        await hl.wait_for_approval(call.call_id, timeout=20)
    toml = tmp_path / "cli.toml"
    toml.write_text(f'[store]\nurl = "sqlite:///{cfg.sqlite_path}"\n')

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hl_email.cli", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = run("requests", "list", "--config", str(toml))
    assert listed.returncode == 0, listed.stderr
    assert "cli-1" in listed.stdout and "rejected: too much" in listed.stdout
    readable = run("requests", "show", "cli-1", "--config", str(toml))
    assert readable.returncode == 0, readable.stderr
    assert "rejected: too much" in readable.stdout and "send_refund(amount=120)" in readable.stdout
    shown = run("requests", "show", "cli-1", "--config", str(toml), "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["status"]["approved"] is False
    assert data["recipients"][0]["address"] == ALICE
    assert [o["purpose"] for o in data["outbox"]] == ["ask", "confirm"]
    assert [i["outcome"] for i in data["inbound"]] == ["applied"]
    missing = run("requests", "show", "nope", "--config", str(toml))
    assert missing.returncode == 1 and "nope" in missing.stderr
    assert run("requests", "--help").returncode == 0


async def test_agent_email_webhook(gateway_config, mail_client):
    received: list[dict] = []

    async def hook(request: Request):
        received.append(json.loads(await request.body()))
        return PlainTextResponse("ok")

    receiver = ApiServer(
        None,
        GatewayConfig(api={"host": "127.0.0.1", "port": 0}),
        app=Starlette(routes=[Route("/h", hook, methods=["POST"])]),
        webhooks=False,
    )
    await receiver.start()
    cfg = gateway_config(
        api={"host": "127.0.0.1", "port": 0, "api_keys": ["k"]},
        agent_inbox={"allowed_senders": [ALICE]},
        webhooks=[
            {
                "url": f"{receiver.base_url}/h",
                "secret": "whsec-agent-email-0123456789-abcdefgh",
                "events": ["agent_email.received"],
            }
        ],
    )
    from hl_email.gateway import Gateway

    gateway = Gateway(cfg)
    await gateway.start()
    server = ApiServer(gateway, cfg)
    await server.start()
    try:
        msg = EmailMessage()
        msg["From"] = ALICE
        msg["To"] = AGENT
        msg["Subject"] = "New task"
        msg["Message-ID"] = make_msgid(domain="corp.test")
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg.set_content("Please look at ticket 42.\n\n-- \nAlice\n")
        await mail_client(ALICE).send(msg)
        for _ in range(1200):
            if received:
                break
            await asyncio.sleep(0.05)
        assert received and received[0]["type"] == "agent_email.received"
        event = received[0]["event"]
        assert event["from_address"] == ALICE and event["subject"] == "New task"
        assert event["body"].startswith("Please look at ticket 42.")
        assert event["message_id"] == msg["Message-ID"]
    finally:
        await server.stop()
        await gateway.stop()
        await receiver.stop()


async def test_idle_is_reissued_and_mail_still_arrives(gateway_config, mail_client):
    # idle_timeout is how long one IDLE lasts before DONE + a fresh IDLE (RFC 2177: < 29 min).
    cfg = gateway_config(imap={"idle_timeout": 0.5})
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=cfg) as hl:
        task = asyncio.create_task(
            hl.fetch_approval(FunctionCallSpec(fn="deploy", kwargs={}, channel=CHANNEL))
        )
        ask = await alice.wait_for_message()
        await asyncio.sleep(2.0)  # several IDLE cycles go by
        assert hl.transport.gateway.watcher.connected
        await alice.reply(ask, "approve")
        assert (await asyncio.wait_for(task, 60)).call.status.approved is True


async def test_agent_inbox_async_iterator(gateway_config, mail_client):
    cfg = gateway_config(agent_inbox={"allowed_senders": ["@corp.test"]})
    async with AsyncHumanLayer.local(config=cfg) as hl:
        stream = hl.emails()
        first = asyncio.create_task(stream.__anext__())
        await asyncio.sleep(0)
        msg = EmailMessage()
        msg["From"] = ALICE
        msg["To"] = AGENT
        msg["Subject"] = "Hello agent"
        msg["Message-ID"] = make_msgid(domain="corp.test")
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg.set_content("Are you there?\n")
        await mail_client(ALICE).send(msg)
        payload = await asyncio.wait_for(first, 60)
        assert payload.subject == "Hello agent" and payload.body == "Are you there?"
        await stream.aclose()
