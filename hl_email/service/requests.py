"""Requests: create (route, compose, store in one transaction), read, answer and cancel."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from typing import Any

from ..config import GatewayConfig, normalize_address
from ..core.durations import schedule
from ..core.records import Kind, iso
from ..core.wording import t
from ..errors import NotFoundError, RequestInvalidError
from ..header_values import header_problem
from ..models import (
    EmailContactChannel,
    FunctionCall,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContact,
    HumanContactSpec,
    HumanContactStatus,
)
from ..outbound.compose import Composer
from ..routing import RouteError, Router, may_answer
from ..store import (
    DuplicateCallError,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    Store,
    TimerRow,
)
from .timers import Note

__all__ = [
    "Requests",
    "as_model",
    "check_allowed_recipient",
    "check_header_free",
    "function_call",
    "human_contact",
]


def check_header_free(field: str, value: str, *, allow_newlines: bool = False) -> None:
    if "\0" in value or (not allow_newlines and ("\r" in value or "\n" in value)):
        raise RequestInvalidError(f"{field} must not contain line breaks or NUL")
    if not allow_newlines and header_problem(value) is not None:
        # Decoded too: an RFC 2047 word hiding a CR/LF is a line break once in a header.
        raise RequestInvalidError(
            f"{field} must not contain control characters (also not inside an RFC 2047 "
            "encoded word)"
        )


def check_allowed_recipient(config: GatewayConfig, address: str, where: str) -> None:
    """`[security] allowed_recipients`: an address the agent supplies must be on the list (an
    LLM told to "also ask mallory@evil.test" must not get the reply key to an accomplice)."""
    allowed = config.security.allowed_recipients
    if allowed and not may_answer(allowed, [], address):
        raise RequestInvalidError(
            f"{where}: {address} is not allowed by [security] allowed_recipients"
        )


def new_request_id() -> str:
    # 60 random bits as 12 lowercase base32 characters (letters and 2-7).
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()[:12]


def function_call(row: RequestRow) -> FunctionCall:
    return FunctionCall(
        run_id=row.run_id,
        call_id=row.call_id,
        spec=FunctionCallSpec.model_validate(row.spec),
        status=FunctionCallStatus.model_validate(row.status),
    )


def human_contact(row: RequestRow) -> HumanContact:
    return HumanContact(
        run_id=row.run_id,
        call_id=row.call_id,
        spec=HumanContactSpec.model_validate(row.spec),
        status=HumanContactStatus.model_validate(row.status),
    )


def as_model(row: RequestRow) -> FunctionCall | HumanContact:
    return function_call(row) if row.kind == "function_call" else human_contact(row)


def _recipients(request_id: str, route: dict[str, Any]) -> list[RecipientRow]:
    recipients: list[RecipientRow] = []
    for field in ("to", "cc", "bcc"):
        for address in route[field]:
            if address not in {r.address for r in recipients}:
                recipients.append(RecipientRow(request_id, len(recipients), address, field=field))
    return recipients


class Requests:
    """The life of a request through the API: create, read, answer, cancel."""

    def __init__(
        self,
        store: Store,
        config: GatewayConfig,
        *,
        router: Router,
        composer: Composer,
        clock: Callable[[], float],
        lock_for: Callable[[str], asyncio.Lock],
        note: Note,
        notify: Callable[[str, str], None],
        wake_outbox: Callable[[], None],
        wake_timers: Callable[[], None],
        offer_outbox: Callable[[list[OutboxRow]], None] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.router = router
        self._composer = composer
        self.clock = clock
        self._lock_for = lock_for
        self._note = note
        self._notify = notify
        self._wake_outbox = wake_outbox
        self._wake_timers = wake_timers
        # New asks go to the outbox as they are (sent without a claim where it can).
        self._offer_outbox = offer_outbox or (lambda _rows: wake_outbox())

    # -- creating -------------------------------------------------------------------------------

    async def create(
        self, kind: Kind, call_id: str, run_id: str, spec: FunctionCallSpec | HumanContactSpec
    ) -> RequestRow:
        """Store the request and its emails in one transaction, then let the outbox send them."""
        if not call_id or len(call_id) > 200:
            raise RequestInvalidError("call_id must be 1-200 characters")
        channel = spec.channel.email if spec.channel is not None else None
        if spec.channel is not None and channel is None:
            raise RequestInvalidError(
                "spec.channel: this gateway delivers email only; set channel.email "
                "(EmailContactChannel(address=...))"
            )
        route = self.route(kind, run_id, spec, channel)
        now = self.clock()
        request_id = new_request_id()
        recipients = _recipients(request_id, route)
        if not recipients:
            raise RequestInvalidError("no recipients: the route or channel names no address")
        row = RequestRow(
            id=request_id,
            call_id=call_id,
            run_id=run_id,
            kind=kind,
            spec=spec.model_dump(mode="json"),
            status={"requested_at": iso(now)},
            created_at=now,
            route=route,
        )
        outbox, row.subject = self._composer.asks(
            row, recipients, now=now, channel=channel, purpose="ask"
        )
        timers = [TimerRow(request_id, *timer) for timer in schedule(route, now)]
        try:
            await self.store.create_request(row, recipients, outbox, timers)
        except DuplicateCallError:
            existing = await self.store.get_request(call_id=call_id)
            if existing is None or existing.kind != kind or existing.spec != row.spec:
                raise RequestInvalidError(
                    f"call_id {call_id!r} already exists with a different request"
                ) from None
            return existing  # idempotent: the same call re-submitted after a restart
        self._offer_outbox(outbox)
        if timers:
            self._wake_timers()
        # The store call above may not suspend (a small SQLite commit runs inline): yield once,
        # so that a caller creating many requests in a row lets the outbox start sending the
        # first while it creates the next, instead of after the last.
        await asyncio.sleep(0)
        return row

    def _channel_addresses(self, channel: EmailContactChannel | None) -> list[tuple[str, str]]:
        """The channel's (address, field) pairs, validated and checked against the allow-list."""
        if channel is None:
            return []
        pairs = [(channel.address, "to", "spec.channel.email.address")]
        for i, extra in enumerate(channel.additional_recipients or []):
            pairs.append(
                (extra.address, extra.field or "to", f"additional_recipients[{i}].address")
            )
        addresses: list[tuple[str, str]] = []
        for address, field, where in pairs:
            try:
                normalized = normalize_address(address, field=where)
            except ValueError as exc:
                raise RequestInvalidError(str(exc)) from None
            check_allowed_recipient(self.config, normalized, where)
            addresses.append((normalized, field))
        return addresses

    def route(
        self,
        kind: Kind,
        run_id: str,
        spec: FunctionCallSpec | HumanContactSpec,
        channel: EmailContactChannel | None,
    ) -> dict[str, Any]:
        """Who is asked and under which policy, as a JSON-able dict stored with the request."""
        channel_addresses = self._channel_addresses(channel)
        try:
            decision = self.router.resolve(
                kind="approval" if kind == "function_call" else "question",
                fn=spec.fn if isinstance(spec, FunctionCallSpec) else None,
                kwargs=spec.kwargs if isinstance(spec, FunctionCallSpec) else {},
                run_id=run_id,
                agent=self.config.agent.name,
                channel_addresses=channel_addresses,
            )
        except RouteError as exc:
            raise RequestInvalidError(str(exc)) from None
        return {
            "source": decision.source,
            "rule": decision.rule,
            "to": list(decision.to),
            "cc": list(decision.cc),
            "bcc": list(decision.bcc),
            "responders": list(decision.responders),
            "policy": decision.policy if kind == "function_call" else "any",
            "quorum": decision.quorum,
            "timeout": decision.timeout,
            "reminders": list(decision.reminders),
            "escalations": [
                step.model_dump() if hasattr(step, "model_dump") else dict(step)
                for step in decision.escalations
            ],
            "delegates": dict(decision.delegates),
            "why": list(decision.why),
            "language": getattr(decision, "language", None),
            "template_set": getattr(decision, "template_set", None),
            "mailbox": self._mailbox_name(channel, decision),
            "approval": getattr(decision, "approval", None),
            "working_hours": getattr(decision, "working_hours", None),
            "tz": getattr(decision, "tz", None),
        }

    def _mailbox_name(self, channel: EmailContactChannel | None, decision: Any) -> str | None:
        name = (channel.mailbox if channel is not None else None) or getattr(
            decision, "mailbox", None
        )
        if name is None:
            return None
        try:
            self.config.mailbox(name)
        except KeyError:
            known = ", ".join(m.name for m in self.config.mailboxes) or "none configured"
            raise RequestInvalidError(
                f"mailbox {name!r} is not configured in [[mailboxes]] (known: {known})"
            ) from None
        return name

    async def retry_window(self, row: OutboxRow) -> float | None:
        """How long the outbox retries a transient failure: the request's own timeout."""
        request = await self.store.get_request(id=row.request_id)
        timeout = request.route.get("timeout") if request is not None else None
        return float(timeout) if timeout else None

    # -- reading --------------------------------------------------------------------------------

    async def row(self, call_id: str, kind: Kind) -> RequestRow:
        row = await self.store.get_request(call_id=call_id)
        if row is None or row.kind != kind:
            label = "function call" if kind == "function_call" else "human contact"
            raise NotFoundError(f"no {label} with call_id {call_id!r}")
        return row

    async def get(self, call_id: str) -> RequestRow:
        row = await self.store.get_request(call_id=call_id)
        if row is None:
            raise NotFoundError(f"no request with call_id {call_id!r}")
        return row

    # -- answering through the API (HumanLayer's respond endpoints) --------------------------------

    async def respond(self, call_id: str, kind: Kind, fields: dict[str, Any]) -> None:
        """An answer given through the API instead of by email; the first answer still wins."""
        async with self._lock_for((await self.row(call_id, kind)).id):
            for _ in range(5):  # CONFLICT: changed meanwhile (a vote, a reminder): read again
                row = await self.row(call_id, kind)
                if row.state != "pending":
                    raise RequestInvalidError(f"{call_id} is already {row.state}")
                now = self.clock()
                status = {
                    **row.status,
                    **fields,
                    "responded_at": iso(now),
                    "user_info": {"via": "api"},
                }
                ok = await self.store.commit(
                    request=RequestUpdate(
                        row.id,
                        status=status,
                        state="done",
                        resolved_at=now,
                        expect_version=row.version,
                    )
                )
                if ok:
                    break
        if not ok:
            raise RequestInvalidError(f"{call_id} was answered meanwhile")
        self._notify(call_id, "done")

    # -- cancelling (an agent-scope action: the agent withdraws its own request) -------------------

    async def cancel(
        self, call_id: str, reason: str = "", *, kind: Kind | None = None, by: str = "the agent"
    ) -> RequestRow:
        """Withdraw a pending request: it fails closed (a function call reads as denied to an
        SDK that knows no cancel), its timers stop, and everyone still asked is told in the
        thread that it is no longer needed. Cancelling a cancelled request is a no-op; a
        decided one cannot be cancelled. Only an explicit call cancels: a waiter that goes away
        (a dropped long-poll, a killed agent) leaves the request open."""
        check_header_free("reason", reason, allow_newlines=True)
        reason = reason.strip()[:500]
        found = await self.store.get_request(call_id=call_id)
        async with self._lock_for(found.id if found is not None else call_id):
            for _ in range(5):
                row = await self.store.get_request(call_id=call_id)
                if row is None or (kind is not None and row.kind != kind):
                    label = {"function_call": "function call", "human_contact": "human contact"}
                    raise NotFoundError(
                        f"no {label.get(kind or '', 'request')} with call_id {call_id!r}"
                    )
                if row.status.get("cancelled"):
                    return row
                if row.state != "pending":
                    raise RequestInvalidError(
                        f"{call_id} is already {row.state}; nothing to cancel"
                    )
                if await self._cancel_once(
                    row, f"cancelled by {by}" + (f": {reason}" if reason else "")
                ):
                    break
                # CONFLICT: changed meanwhile (a reminder, a vote, a decision): read it again.
            else:
                raise RequestInvalidError(f"{call_id} kept changing; nothing cancelled, try again")
            await self.store.cancel_timers(row.id)
        self._wake_outbox()
        self._notify(call_id, "failed")
        return await self.store.get_request(call_id=call_id) or row

    async def _cancel_once(self, row: RequestRow, text: str) -> bool:
        """One try: fail the request closed and tell everyone still asked, at the version read."""
        now = self.clock()
        status = {**row.status, "responded_at": iso(now), "cancelled": True, "error": text}
        if row.kind == "function_call":
            status.update(approved=False, comment=text)
        recipients = await self.store.get_recipients(row.id)
        waiting = [r for r in recipients if r.state in ("pending", "sent")]
        notes = [self._note(row, r, t("cancelled_note", row)) for r in waiting]
        return bool(
            await self.store.commit(
                request=RequestUpdate(
                    row.id,
                    status=status,
                    state="failed",
                    resolved_at=now,
                    expect_version=row.version,  # no vote or answer landed meanwhile
                ),
                recipients=waiting,
                outbox=[n for n in notes if n is not None],
            )
        )
