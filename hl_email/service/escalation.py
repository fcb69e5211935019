"""Escalation (more recipients, or a handover, asked in the thread) and delivery failures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..config import GatewayConfig, normalize_address
from ..core.expiry import undeliverable
from ..errors import NotFoundError, RequestInvalidError
from ..models import Escalation
from ..outbound.compose import Composer
from ..store import (
    CommitResult,
    InboundRecord,
    OutboxRow,
    RecipientRow,
    RequestRow,
    RequestUpdate,
    Store,
)
from .requests import check_allowed_recipient, check_header_free

__all__ = ["Escalations"]


class Escalations:
    """Adds recipients to a pending request, and fails the recipients mail cannot reach."""

    def __init__(
        self,
        store: Store,
        config: GatewayConfig,
        *,
        clock: Callable[[], float],
        composer: Composer,
        lock_for: Callable[[str], asyncio.Lock],
        notify: Callable[[str, str], None],
        wake_outbox: Callable[[], None],
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self._composer = composer
        self._lock_for = lock_for
        self._notify = notify
        self._wake_outbox = wake_outbox

    def _additions(self, escalation: Escalation) -> list[tuple[str, str]]:
        """The (address, field) pairs an escalation adds, checked like a call's recipients."""
        additions: list[tuple[str, str]] = []
        extra: list[Any] = []
        if escalation.channel is not None and escalation.channel.email is not None:
            extra.append(escalation.channel.email)
            extra.extend(escalation.channel.email.additional_recipients or [])
        extra.extend(escalation.additional_recipients or [])
        for i, recipient in enumerate(extra):
            where = f"additional_recipients[{i}].address"
            try:
                address = normalize_address(recipient.address, field=where)
            except ValueError as exc:
                raise RequestInvalidError(str(exc)) from None
            check_allowed_recipient(self.config, address, where)
            additions.append((address, getattr(recipient, "field", None) or "to"))
        return additions

    async def escalate_email(self, call_id: str, escalation: Escalation) -> None:
        """HumanLayer's escalate_email: re-ask in the same thread, adding recipients or a channel."""
        check_header_free("escalation_msg", escalation.escalation_msg, allow_newlines=True)
        additions = self._additions(escalation)
        row = await self.store.get_request(call_id=call_id)
        if row is None:
            raise NotFoundError(f"no request with call_id {call_id!r}")
        async with self._lock_for(row.id):
            row = await self.store.get_request(call_id=call_id)
            assert row is not None  # requests are never deleted
            if row.state != "pending":
                raise RequestInvalidError(f"{call_id} is already {row.state}; nothing to escalate")
            for _ in range(5):  # CONFLICT: another gateway changed the request; read it again
                if await self.escalate(row, add=additions, message=escalation.escalation_msg):
                    break
                row = await self.store.get_request(call_id=call_id)
                if row is None or row.state != "pending":
                    raise RequestInvalidError(
                        f"{call_id} was decided meanwhile; nothing to escalate"
                    )
            else:
                raise RequestInvalidError(f"{call_id} kept changing; escalate again")

    async def escalate(
        self,
        request: RequestRow,
        *,
        add: list[tuple[str, str]],
        message: str | None,
        handover: bool = False,
        timer_done: int | None = None,
        inbound: InboundRecord | None = None,
        only_new: bool = False,
    ) -> CommitResult:
        """Add recipients (or hand over to them) and ask in the thread; one transaction, which
        lands only while the request is still at the version read (CONFLICT otherwise)."""
        existing = await self.store.get_recipients(request.id)
        known = {r.address for r in existing}
        new: list[RecipientRow] = []
        for address, field in add:
            if address not in known:
                known.add(address)
                new.append(RecipientRow(request.id, len(existing) + len(new), address, field=field))
        changed: list[RecipientRow] = []
        if handover:
            for r in existing:
                if r.state in ("pending", "sent"):
                    r.state = "handed_over"
                    changed.append(r)
            targets = new
        elif only_new:
            targets = new
        else:
            targets = [r for r in existing if r.state in ("pending", "sent")] + new
        outbox = self._composer.asks(
            request, targets, now=self.clock(), escalation_msg=message, purpose="escalation"
        ).outbox
        ok = await self.store.commit(
            inbound=inbound,
            request=RequestUpdate(request.id, expect_version=request.version),
            recipients=changed + targets,
            outbox=[o for o in outbox if o is not None],
            timer_done=timer_done,
        )
        if ok:
            self._wake_outbox()
        return ok

    async def outbox_failed(self, row: OutboxRow, reason: str) -> None:
        """The outbox gave up on an email (a permanent failure, or retries ran out)."""
        assert row.id is not None
        async with self._lock_for(row.request_id):
            for _ in range(5):  # CONFLICT: another gateway changed the request; read it again
                result = await self.fail_recipient(
                    row.request_id,
                    row.recipient_seq,
                    reason,
                    outbox_failed=(row.id, reason),
                    count_as_delivery=row.purpose in ("ask", "escalation"),
                )
                if result is not CommitResult.CONFLICT:
                    break

    async def fail_recipient(
        self,
        request_id: str,
        seq: int,
        reason: str,
        *,
        outbox_failed: tuple[int, str] | None = None,
        inbound: InboundRecord | None = None,
        count_as_delivery: bool = True,
    ) -> CommitResult:
        """Mark one recipient undeliverable; when nobody is left to answer, the call fails."""
        request = await self.store.get_request(id=request_id)
        recipients = await self.store.get_recipients(request_id)
        target = next((r for r in recipients if r.seq == seq), None)
        update = None
        if request is not None and target is not None and count_as_delivery:
            target.state = "failed"
            target.error = reason
            now = self.clock()
            effect = undeliverable(
                request.kind, request.state, request.status, request.route, recipients, now
            )
            if effect is not None:
                status, state = effect
                update = RequestUpdate(request_id, status=status, state=state, resolved_at=now)
        if request is not None and count_as_delivery:
            if update is None:
                # Only while the request is as read (any state): the recipient's failure must
                # not overwrite what another writer decided meanwhile.
                update = RequestUpdate(
                    request.id, expect_state=None, expect_version=request.version
                )
            else:
                update.expect_version = request.version
        ok = await self.store.commit(
            inbound=inbound,
            request=update,
            recipients=[target] if target is not None and count_as_delivery else None,
            outbox_failed=outbox_failed,
        )
        if ok and update is not None and request is not None:
            self._notify(request.call_id, update.state or "failed")
        return ok
