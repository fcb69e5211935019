"""Prometheus `/metrics`: what the store says (requests, outcomes, outbox, decision latency),
read at scrape time so every instance sharing a store reports the same truth, plus this
instance's IMAP connection."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..store.sql import fetch

__all__ = ["LATENCY_BUCKETS", "MetricsSnapshot", "render_metrics", "snapshot"]

# Seconds from ask to decision: people answer in minutes to days.
LATENCY_BUCKETS = (
    60.0,
    300.0,
    900.0,
    1800.0,
    3600.0,
    4 * 3600.0,
    12 * 3600.0,
    86400.0,
    3 * 86400.0,
)


@dataclass
class MetricsSnapshot:
    requests: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, state) -> n
    outcomes: dict[str, int] = field(default_factory=dict)  # inbound outcome -> n
    outbox: dict[str, int] = field(default_factory=dict)  # outbox state -> n
    outbox_oldest_pending_age: float = 0.0
    latency_buckets: list[int] = field(default_factory=list)  # cumulative, per LATENCY_BUCKETS
    latency_count: int = 0
    latency_sum: float = 0.0
    imap_connected: bool | None = None
    last_inbound_age: float | None = None  # seconds since the newest stored inbound message


async def snapshot(gateway: Any, now: float | None = None) -> MetricsSnapshot:
    store = gateway.store
    now = time.time() if now is None else now
    snap = MetricsSnapshot()
    for kind, state, n in await fetch(
        store, "SELECT kind, state, COUNT(*) FROM requests GROUP BY kind, state"
    ):
        snap.requests[(str(kind), str(state))] = int(n)
    for outcome, n in await fetch(store, "SELECT outcome, COUNT(*) FROM inbound GROUP BY outcome"):
        snap.outcomes[str(outcome)] = int(n)
    for state, n in await fetch(store, "SELECT state, COUNT(*) FROM outbox GROUP BY state"):
        snap.outbox[str(state)] = int(n)
    (oldest,) = (await fetch(store, "SELECT MIN(created_at) FROM outbox WHERE state = 'pending'"))[
        0
    ]
    snap.outbox_oldest_pending_age = max(0.0, now - float(oldest)) if oldest is not None else 0.0
    cases = ", ".join(
        f"SUM(CASE WHEN resolved_at - created_at <= {bound!r} THEN 1 ELSE 0 END)"
        for bound in LATENCY_BUCKETS
    )
    row = (
        await fetch(
            store,
            f"SELECT COUNT(*), SUM(resolved_at - created_at), {cases} FROM requests "
            "WHERE state = 'done' AND resolved_at IS NOT NULL",
        )
    )[0]
    snap.latency_count = int(row[0] or 0)
    snap.latency_sum = float(row[1] or 0.0)
    snap.latency_buckets = [int(v or 0) for v in row[2:]]
    (newest,) = (await fetch(store, "SELECT MAX(received_at) FROM inbound"))[0]
    snap.last_inbound_age = max(0.0, now - float(newest)) if newest is not None else None
    if gateway.config.imap.enabled:
        snap.imap_connected = bool(gateway.watcher.connected)
    return snap


def render_metrics(snap: MetricsSnapshot) -> tuple[bytes, str]:
    """The Prometheus text exposition of a snapshot, and its content type."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    class _Collector:
        def collect(self) -> Any:
            requests = GaugeMetricFamily(
                "hl_email_requests",
                "Requests in the store by kind and state",
                labels=["kind", "state"],
            )
            for kind in ("function_call", "human_contact"):
                for state in ("pending", "done", "failed"):
                    requests.add_metric([kind, state], snap.requests.get((kind, state), 0))
            for (kind, state), n in snap.requests.items():
                if state not in ("pending", "done", "failed"):
                    requests.add_metric([kind, state], n)
            yield requests
            outcomes = CounterMetricFamily(
                "hl_email_inbound_messages",
                "Inbound messages by stored outcome (applied, unclear_asked_again, bounce, ...)",
                labels=["outcome"],
            )
            for outcome, n in sorted(snap.outcomes.items()):
                outcomes.add_metric([outcome], n)
            yield outcomes
            outbox = GaugeMetricFamily(
                "hl_email_outbox_messages", "Outbox rows by state", labels=["state"]
            )
            for state in ("pending", "sent", "failed"):
                outbox.add_metric([state], snap.outbox.get(state, 0))
            yield outbox
            yield GaugeMetricFamily(
                "hl_email_outbox_oldest_pending_age_seconds",
                "Age of the oldest email waiting to be sent (0 when none)",
                value=snap.outbox_oldest_pending_age,
            )
            buckets = [
                (repr(bound), n)
                for bound, n in zip(LATENCY_BUCKETS, snap.latency_buckets, strict=True)
            ]
            buckets.append(("+Inf", snap.latency_count))
            yield HistogramMetricFamily(
                "hl_email_decision_latency_seconds",
                "Seconds from the ask to the decision, for decided requests",
                buckets=buckets,
                sum_value=snap.latency_sum,
            )
            if snap.last_inbound_age is not None:
                yield GaugeMetricFamily(
                    "hl_email_inbound_last_processed_age_seconds",
                    "Seconds since the newest inbound message was stored (a silent mailbox "
                    "or a stuck watcher shows as a growing value)",
                    value=snap.last_inbound_age,
                )
            if snap.imap_connected is not None:
                yield GaugeMetricFamily(
                    "hl_email_imap_connected",
                    "1 when this instance's IMAP watcher is connected",
                    value=1.0 if snap.imap_connected else 0.0,
                )

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST
