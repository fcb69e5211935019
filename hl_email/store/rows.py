"""Rows as the databases return them (any mapping by column name) → the store's dataclasses.

Shared by the SQLite and PostgreSQL stores: both keep JSON as text and raw mail as bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .base import InboundRecord, OutboxRow, RecipientRow, RequestRow, TimerRow, WebhookRow

__all__ = [
    "inbound_from_row",
    "outbox_from_row",
    "recipient_from_row",
    "request_from_row",
    "timer_from_row",
    "webhook_from_row",
]


def request_from_row(row: Mapping[str, Any]) -> RequestRow:
    return RequestRow(
        id=row["id"],
        call_id=row["call_id"],
        run_id=row["run_id"],
        kind=row["kind"],
        spec=json.loads(row["spec"]),
        status=json.loads(row["status"]),
        state=row["state"],
        subject=row["subject"],
        created_at=row["created_at"],
        resolved_at=row["resolved_at"],
        clarifications=row["clarifications"],
        route=json.loads(row["route"] or "{}"),
        version=row["version"],
    )


def recipient_from_row(row: Mapping[str, Any]) -> RecipientRow:
    return RecipientRow(
        request_id=row["request_id"],
        seq=row["seq"],
        address=row["address"],
        field=row["field"],
        state=row["state"],
        reply_key=row["reply_key"],
        message_count=row["message_count"],
        thread=json.loads(row["thread"]),
        error=row["error"],
        auto_replied=bool(row["auto_replied"]),
    )


def outbox_from_row(row: Mapping[str, Any]) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        request_id=row["request_id"],
        recipient_seq=row["recipient_seq"],
        purpose=row["purpose"],
        mail_from=row["mail_from"],
        rcpt_to=json.loads(row["rcpt_to"]),
        message=bytes(row["message"]),
        message_id=row["message_id"],
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )


def inbound_from_row(row: Mapping[str, Any]) -> InboundRecord:
    return InboundRecord(
        dedupe_key=row["dedupe_key"],
        message_id=row["message_id"],
        received_at=row["received_at"],
        from_address=row["from_address"],
        subject=row["subject"],
        outcome=row["outcome"],
        detail=row["detail"],
        request_id=row["request_id"],
        recipient_seq=row["recipient_seq"],
        raw=bytes(row["raw"]) if row["raw"] is not None else None,
    )


def timer_from_row(row: Mapping[str, Any]) -> TimerRow:
    return TimerRow(
        id=row["id"],
        request_id=row["request_id"],
        kind=row["kind"],
        due_at=row["due_at"],
        payload=json.loads(row["payload"]),
        state=row["state"],
    )


def webhook_from_row(row: Mapping[str, Any]) -> WebhookRow:
    return WebhookRow(
        id=row["id"],
        hook_url=row["hook_url"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        call_id=row["call_id"],
        body=bytes(row["body"]),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
    )
