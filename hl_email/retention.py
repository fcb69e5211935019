"""Retention and audit export: purge raw mail older than `[store] keep_raw_mail`, and write every
request with its emails and replies as JSON lines."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from .store.sql import execute

__all__ = ["export_requests", "purge_raw_mail"]


async def purge_raw_mail(store: Any, *, older_than: float, now: float) -> tuple[int, int]:
    """Drop raw inbound messages received before `now - older_than` and the bodies of emails
    sent before then; their outcomes, states and ids stay. Returns (inbound, outbox) counts."""
    cutoff = now - older_than
    inbound = await execute(
        store,
        "UPDATE inbound SET raw = NULL WHERE raw IS NOT NULL AND received_at < ?",
        cutoff,
    )
    outbox = await execute(
        store,
        "UPDATE outbox SET message = ? WHERE state IN ('sent', 'failed') AND created_at < ? "
        "AND LENGTH(message) > 0",
        b"",
        cutoff,
    )
    return inbound, outbox


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat()


async def export_requests(store: Any, *, limit: int = 1_000_000) -> AsyncIterator[dict[str, Any]]:
    """One audit record per request, newest first: the request, who was asked, every email
    sent (without bodies) and every reply's outcome (without raw mail)."""
    for row in await store.list_requests(limit=limit):
        recipients = await store.get_recipients(row.id)
        outbox = await store.outbox_for_request(row.id)
        inbound = await store.list_inbound(request_id=row.id, limit=10_000)
        yield {
            "call_id": row.call_id,
            "run_id": row.run_id,
            "kind": row.kind,
            "state": row.state,
            "subject": row.subject,
            "created_at": _iso(row.created_at),
            "resolved_at": _iso(row.resolved_at),
            "spec": row.spec,
            "status": row.status,
            "route": row.route,
            "recipients": [
                {"address": r.address, "field": r.field, "state": r.state, "error": r.error}
                for r in recipients
            ],
            "emails": [
                {
                    "purpose": o.purpose,
                    "to": o.rcpt_to,
                    "state": o.state,
                    "message_id": o.message_id,
                    "attempts": o.attempts,
                    "last_error": o.last_error,
                    "created_at": _iso(o.created_at),
                    "sent_at": _iso(o.sent_at),
                }
                for o in outbox
            ],
            "replies": [
                {
                    "message_id": i.message_id,
                    "from": i.from_address,
                    "subject": i.subject,
                    "received_at": _iso(i.received_at),
                    "outcome": i.outcome,
                    "detail": i.detail,
                    "raw_kept": i.raw is not None,
                }
                for i in inbound
            ],
        }


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
