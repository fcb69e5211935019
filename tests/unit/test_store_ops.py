"""Operator SQL on both stores (SQLite and PostgreSQL): metrics snapshot, raw-mail retention,
audit export. Uses the store contract's fixture and row factories."""

from __future__ import annotations

from types import SimpleNamespace

from test_store_contract import inbound, mail, rcpt, req, store  # noqa: F401 - the fixture

from hl_email.api.metrics import LATENCY_BUCKETS, render_metrics, snapshot
from hl_email.retention import export_requests, purge_raw_mail
from hl_email.store import RequestUpdate


def _gateway(store):  # noqa: F811 - the fixture's name
    return SimpleNamespace(
        store=store, config=SimpleNamespace(imap=SimpleNamespace(enabled=False)), watcher=None
    )


async def _two_requests(store):  # noqa: F811
    await store.create_request(req(1), [rcpt("r1")], [mail("r1")])
    await store.create_request(req(2, created_at=1000.0), [rcpt("r2")], [mail("r2")])
    await store.outbox_sent(1, 1001.0)
    assert await store.commit(
        inbound=inbound("k1", "r1", at=1100.0),
        request=RequestUpdate("r1", status={"approved": True}, state="done", resolved_at=1301.0),
    )
    assert await store.commit(inbound=inbound("k2", None, at=9000.0, outcome="auto_reply"))


async def test_metrics_snapshot(store):  # noqa: F811
    await _two_requests(store)
    snap = await snapshot(_gateway(store), now=1500.0)
    assert snap.requests == {("function_call", "done"): 1, ("function_call", "pending"): 1}
    assert snap.outcomes == {"decided": 1, "auto_reply": 1}
    assert snap.outbox == {"sent": 1, "pending": 1}
    assert snap.outbox_oldest_pending_age == 500.0
    assert snap.latency_count == 1 and snap.latency_sum == 300.0  # 1301 - 1001
    assert snap.latency_buckets == [0 if b < 300 else 1 for b in LATENCY_BUCKETS]
    assert snap.imap_connected is None
    assert snap.last_inbound_age == 0.0  # the newest inbound (9000) is after "now" (1500)
    text, content_type = render_metrics(snap)
    assert content_type.startswith("text/plain")
    assert b'hl_email_decision_latency_seconds_bucket{le="300.0"} 1.0' in text
    assert b'hl_email_decision_latency_seconds_bucket{le="60.0"} 0.0' in text
    assert b'hl_email_inbound_messages_total{outcome="auto_reply"} 1.0' in text
    assert b"hl_email_imap_connected" not in text
    assert b"hl_email_inbound_last_processed_age_seconds 0.0" in text


async def test_purge_raw_mail_keeps_outcomes(store):  # noqa: F811
    await _two_requests(store)
    purged = await purge_raw_mail(store, older_than=5000.0, now=8000.0)  # cutoff 3000
    assert purged == (1, 1)  # k1's raw (k2 is newer), the one sent body
    rows = {r.dedupe_key: r for r in await store.list_inbound()}
    assert rows["k1"].raw is None and rows["k1"].outcome == "decided"
    assert rows["k2"].raw is not None
    bodies = {o.state: o.message for o in await store.outbox_for_request("r1")}
    assert bodies["sent"] == b""
    assert [o.message for o in await store.outbox_for_request("r2")][0] != b""  # pending stays
    assert await purge_raw_mail(store, older_than=5000.0, now=8000.0) == (0, 0)


async def test_export_has_every_request_without_raw_mail(store):  # noqa: F811
    await _two_requests(store)
    await purge_raw_mail(store, older_than=5000.0, now=8000.0)
    records = [r async for r in export_requests(store)]
    assert [r["call_id"] for r in records] == ["call-1", "call-2"]
    first = records[0]
    assert first["state"] == "done" and first["status"]["approved"] is True
    assert first["recipients"][0]["address"] == "human0@corp.test"
    assert first["emails"][0]["state"] == "sent" and "message" not in first["emails"][0]
    assert first["replies"] == [
        {
            "message_id": "<k1@corp.test>",
            "from": "human0@corp.test",
            "subject": "Re: Approve refund",
            "received_at": "1970-01-01T00:18:20+00:00",
            "outcome": "decided",
            "detail": "approve",
            "raw_kept": False,
        }
    ]
