"""`GET /metrics` over the real mail stack: requests by state, outcomes by kind, outbox depth
and age, IMAP connected, decision latency; parsed with prometheus-client's own parser."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec

from hl_email.api import ApiServer
from hl_email.gateway import Gateway

parser = pytest.importorskip("prometheus_client.parser")

ALICE = "alice@corp.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in parser.text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_reflect_the_store_and_the_watcher(gateway_config, mail_client):
    cfg = gateway_config(api={"host": "127.0.0.1", "port": 0, "api_keys": ["k"]})
    gateway = Gateway(cfg)
    await gateway.start()
    server = ApiServer(gateway, cfg)
    await server.start()
    alice = mail_client(ALICE)
    try:
        async with AsyncHumanLayer.local(gateway=gateway) as hl:
            decided = await hl.create_function_call(
                FunctionCallSpec(fn="deploy", kwargs={"n": 1}, channel=CHANNEL)
            )
            await hl.create_function_call(
                FunctionCallSpec(fn="deploy", kwargs={"n": 2}, channel=CHANNEL)
            )
            ask = await alice.wait_for_message(lambda m: "deploy(n=1)" in str(m["Subject"]))
            await alice.reply(ask, "Hmm?")  # unclear: asked again
            clarify = await alice.wait_for_message(
                lambda m: (
                    str(m["Subject"]).lower().startswith("re:")
                    and "deploy(n=1)" in str(m["Subject"])
                )
            )
            await alice.reply(clarify, "approve")
            await asyncio.wait_for(
                asyncio.shield(hl.wait_for_approval(decided.call_id, timeout=30)), 40
            )
            for _ in range(400):  # the watcher connects in the background
                if gateway.watcher.connected:
                    break
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"{server.base_url}/metrics")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain")
        got = samples(resp.text)
        fc = ("kind", "function_call")
        assert got[("hl_email_requests", (fc, ("state", "done")))] == 1
        assert got[("hl_email_requests", (fc, ("state", "pending")))] == 1
        assert got[("hl_email_inbound_messages_total", (("outcome", "applied"),))] == 1
        assert got[("hl_email_inbound_messages_total", (("outcome", "unclear_asked_again"),))] == 1
        sent = got[("hl_email_outbox_messages", (("state", "sent"),))]
        pending = got[("hl_email_outbox_messages", (("state", "pending"),))]
        assert sent + pending >= 4  # two asks, a clarification, a confirmation
        assert got[("hl_email_outbox_oldest_pending_age_seconds", ())] >= 0
        assert got[("hl_email_decision_latency_seconds_count", ())] == 1
        assert got[("hl_email_decision_latency_seconds_bucket", (("le", "+Inf"),))] == 1
        assert got[("hl_email_decision_latency_seconds_sum", ())] >= 0
        assert got[("hl_email_imap_connected", ())] == 1.0
        assert got[("hl_email_inbound_last_processed_age_seconds", ())] >= 0
    finally:
        await server.stop()
        await gateway.stop()
