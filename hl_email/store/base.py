"""The store interface: rows the gateway keeps, and the operations it needs, each one transaction."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Collection
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Protocol

from ..errors import DuplicateCallError as DuplicateCallError

__all__ = [
    "Checkpoint",
    "CommitResult",
    "DuplicateCallError",
    "ChangeListener",
    "InboundRecord",
    "Leadership",
    "OutboxRow",
    "RecipientRow",
    "RequestRow",
    "RequestUpdate",
    "Store",
    "TimerRow",
    "WebhookRow",
]


@dataclass
class RequestRow:
    id: str  # internal id, lowercase alphanumeric, part of every reply key
    call_id: str
    run_id: str
    kind: str  # "function_call" | "human_contact"
    spec: dict[str, Any]
    status: dict[str, Any]
    state: str = "pending"  # pending | done | failed
    subject: str = ""
    created_at: float = 0.0
    resolved_at: float | None = None
    clarifications: int = 0
    route: dict[str, Any] = dc_field(default_factory=dict)
    version: int = 0  # bumped by every update; lets two writers detect each other


@dataclass
class TimerRow:
    """A durable timer: a reminder, an escalation step or the timeout of one request."""

    request_id: str
    kind: str  # reminder | escalation | timeout
    due_at: float
    payload: dict[str, Any] = dc_field(default_factory=dict)
    id: int | None = None
    state: str = "pending"  # pending | done | cancelled


@dataclass
class RecipientRow:
    request_id: str
    seq: int
    address: str
    field: str = "to"  # to | cc | bcc
    state: str = "pending"  # pending | sent | failed | answered
    reply_key: str = ""
    message_count: int = 0  # how many messages we sent this recipient about the request
    thread: list[str] = dc_field(default_factory=list)  # Message-IDs in this recipient's thread
    error: str | None = None
    auto_replied: bool = False


@dataclass
class OutboxRow:
    request_id: str
    recipient_seq: int
    purpose: str  # ask | clarify | confirm | already_decided | note | reminder
    mail_from: str
    rcpt_to: list[str]
    message: bytes
    message_id: str = ""
    id: int | None = None
    state: str = "pending"  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str | None = None
    created_at: float = 0.0
    sent_at: float | None = None


@dataclass
class InboundRecord:
    dedupe_key: str
    message_id: str | None
    received_at: float
    from_address: str | None
    subject: str | None
    outcome: str
    detail: str = ""
    request_id: str | None = None
    recipient_seq: int | None = None
    raw: bytes | None = None


@dataclass
class Checkpoint:
    mailbox: str
    uidvalidity: int
    last_uid: int
    # While > 0 the first catch-up is not finished: unread mail at or below this UID is still
    # to be processed. Stored before anything else, so a restart neither replays old mail
    # (everything up to `last_uid` counts as seen) nor skips the unread mail it had not reached.
    catchup_floor: int = 0


@dataclass
class WebhookRow:
    """One delivery of one event to one configured hook."""

    hook_url: str
    event_id: str
    event_type: str
    call_id: str
    body: bytes
    id: int | None = None
    state: str = "pending"  # pending | delivered | dead | orphaned
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str | None = None
    created_at: float = 0.0
    delivered_at: float | None = None


@dataclass
class RequestUpdate:
    """A change to one request, applied only while the request is in `expect_state`."""

    request_id: str
    status: dict[str, Any] | None = None
    state: str | None = None
    resolved_at: float | None = None
    clarifications: int | None = None
    expect_state: str | None = "pending"
    # When set, the request must still be at this version. An update with nothing else to set
    # then still bumps the version: effects that change the request's recipients or thread
    # (a reminder, an escalation) use it so they never overwrite another writer's decision.
    expect_version: int | None = None


class CommitResult(enum.Enum):
    """What `Store.commit` did. Truthy only when it applied everything."""

    OK = "ok"
    DUPLICATE = "duplicate"  # the inbound message was already recorded: nothing applied
    CONFLICT = "conflict"  # the request changed meanwhile (another writer): nothing applied

    def __bool__(self) -> bool:
        return self is CommitResult.OK


ChangeListener = Callable[[str, str], None]
"""`listener(call_id, state)`; call_id "*" means "changes may have been missed: re-check all"."""


class Leadership(Protocol):
    """Leadership of one named job (a mailbox) among the gateways sharing a store."""

    lost: asyncio.Event  # set when leadership ends (connection lost); acquire() again

    async def acquire(self) -> None:
        """Wait until this gateway leads; returns at once with a single-process store."""
        ...

    async def release(self) -> None: ...


class Store(Protocol):
    # True when one gateway only uses the store (SQLite): rows it stores are its own to send,
    # with no claim. False when gateways share it (PostgreSQL): rows are claimed with leases.
    single_gateway: bool

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...

    async def create_request(
        self,
        request: RequestRow,
        recipients: list[RecipientRow],
        outbox: list[OutboxRow],
        timers: list[TimerRow] | None = None,
    ) -> None: ...
    async def get_request(
        self, *, call_id: str | None = None, id: str | None = None
    ) -> RequestRow | None: ...
    async def list_requests(
        self, *, state: str | None = None, limit: int = 50
    ) -> list[RequestRow]: ...
    async def get_recipients(self, request_id: str) -> list[RecipientRow]: ...

    async def due_outbox(self, now: float, limit: int = 50) -> list[OutboxRow]: ...
    async def claim_outbox(
        self,
        now: float,
        *,
        owner: str,
        lease: float,
        limit: int = 50,
        exclude: Collection[int] = (),
    ) -> list[OutboxRow]:
        """Due rows this gateway may send, leased to `owner` until now + lease: no other
        gateway claims them meanwhile, and an expired lease is taken over. Rows in `exclude`
        (the caller's rows still in flight) are left out."""
        ...

    async def renew_outbox(self, ids: list[int], *, owner: str, until: float) -> None: ...
    async def next_outbox_due(self, exclude: Collection[int] = ()) -> float | None:
        """When the next pending row not in `exclude` is due (None: no such row)."""
        ...

    async def outbox_for_request(self, request_id: str) -> list[OutboxRow]: ...
    async def outbox_sent(self, outbox_id: int, now: float) -> None: ...
    async def outbox_sent_many(self, sent: list[tuple[int, float]]) -> None: ...
    async def outbox_retry(
        self, outbox_id: int, attempts: int, next_at: float, error: str
    ) -> None: ...

    async def commit(
        self,
        *,
        inbound: InboundRecord | None = None,
        request: RequestUpdate | None = None,
        recipients: list[RecipientRow] | None = None,
        outbox: list[OutboxRow] | None = None,
        outbox_failed: tuple[int, str] | None = None,
        timers: list[TimerRow] | None = None,
        timer_done: int | None = None,
    ) -> CommitResult: ...
    async def due_timers(self, now: float, limit: int = 100) -> list[TimerRow]: ...
    async def claim_timers(
        self, now: float, *, owner: str, lease: float, limit: int = 100
    ) -> list[TimerRow]:
        """Due timers leased to `owner`, as claim_outbox does for outbox rows."""
        ...

    async def next_timer_due(self) -> float | None: ...
    async def cancel_timers(self, request_id: str) -> None: ...
    async def inbound_seen(self, dedupe_key: str) -> bool: ...
    async def inbound_seen_keys(self, dedupe_keys: list[str]) -> set[str]:
        """Which of these inbound de-duplication keys are recorded (one query per batch; the
        IMAP catch-up skips messages it already processed)."""
        ...

    async def list_inbound(
        self, *, request_id: str | None = None, limit: int = 50
    ) -> list[InboundRecord]: ...

    async def thread_messages(self, message_ids: list[str]) -> list[tuple[float, bytes]]:
        """(time, raw) of the stored messages (received, or sent by us) with these
        Message-IDs, oldest first: the thread an agent email belongs to."""
        ...

    async def get_checkpoint(self, mailbox: str) -> Checkpoint | None: ...
    async def set_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    async def outbox_retry_now(self, now: float) -> int:
        """ "SMTP is back": every pending row waiting for a retry becomes due at `now`; returns
        how many."""
        ...

    # Small named secrets (an OAuth2 refresh token, sealed by hl_email.oauth): opaque bytes.
    async def get_secret(self, name: str) -> bytes | None: ...
    async def set_secret(self, name: str, value: bytes) -> None: ...
    async def swap_checkpoint(self, expected: Checkpoint | None, new: Checkpoint) -> bool:
        """Compare-and-set: store `new` only while the stored checkpoint equals `expected`
        (None: there is none yet). False when another watcher moved it."""
        ...

    # -- coordination between gateways sharing the store ----------------------------------------

    def leadership(self, name: str) -> Leadership: ...
    async def publish_change(self, call_id: str, state: str) -> None:
        """Tell the other gateways on this store that a request changed (no-op alone)."""
        ...

    async def listen_changes(self, listener: ChangeListener) -> None:
        """Call `listener` for changes published by other gateways, until close()."""
        ...

    # -- webhook queue ----------------------------------------------------------------------------

    async def enqueue_webhooks(
        self, rows: list[WebhookRow], *, high_water: float | None = None
    ) -> int:
        """Queue deliveries (one per (hook, event); already queued ones are skipped) and raise
        the resolved-at high-water mark; returns how many were added."""
        ...

    async def webhook_high_water(self, initial: float) -> float | None:
        """The high-water mark, or None after storing `initial` when there was none."""
        ...

    async def resolved_since(self, since: float) -> list[str]:
        """call_ids of the requests resolved at or after `since`, oldest first."""
        ...

    async def claim_webhooks(
        self, now: float, *, owner: str, lease: float, limit: int = 50
    ) -> list[WebhookRow]: ...
    async def next_webhook_due(self) -> float | None: ...
    async def webhook_attempted(
        self,
        webhook_id: int,
        *,
        state: str,
        attempts: int,
        next_at: float,
        error: str | None,
        delivered_at: float | None = None,
    ) -> None: ...
    async def list_webhooks(self) -> list[WebhookRow]: ...
