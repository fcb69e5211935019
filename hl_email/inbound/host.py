"""What the inbound path needs from the gateway it runs in (a Protocol the Gateway satisfies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..core.outcomes import Retry
from ..store import CommitResult, RecipientRow, RequestRow, RequestUpdate, Store

if TYPE_CHECKING:
    from ..config import GatewayConfig
    from ..core.tokens import ReplyKey
    from ..outbound.compose import Composer
    from ..outbound.outbox import OutboxWorker
    from ..outbound.render import Renderer
    from ..replies import Decision

__all__ = ["InboundHost", "commit", "lookup_key", "unchanged"]


class InboundHost(Protocol):
    """The gateway's collaborators, read at call time (tests swap some of them after start)."""

    config: GatewayConfig
    store: Store
    renderer: Renderer
    outbox: OutboxWorker
    clock: Callable[[], float]
    classifier: Callable[[str], Decision | None] | None
    composer: Composer

    def _identity(self, request: RequestRow) -> Any: ...
    def _reply_address(self, key: ReplyKey, address: str | None = None) -> str: ...
    def _notify(self, call_id: str, state: str) -> None: ...
    async def _escalate(self, request: RequestRow, **kw: Any) -> Any: ...
    async def _fail_recipient(self, request_id: str, seq: int, reason: str, **kw: Any) -> Any: ...


async def commit(store: Store, **kw: Any) -> CommitResult:
    """store.commit for the inbound path: a conflict means process the message again."""
    result = await store.commit(**kw)
    if result is CommitResult.CONFLICT:
        raise Retry()
    return result


def unchanged(request: RequestRow) -> RequestUpdate:
    """Commit only while the request is as read (any state): for effects on its recipients,
    which must not overwrite what another writer decided meanwhile."""
    return RequestUpdate(request.id, expect_state=None, expect_version=request.version)


async def lookup_key(
    store: Store, keys: list[ReplyKey]
) -> tuple[RequestRow, RecipientRow, list[RecipientRow]] | None:
    """The request and recipient the first known key names, with all the request's
    recipients (read once here, so the inbound path does not read them again)."""
    for key in keys:
        request = await store.get_request(id=key.request_id)
        if request is None:
            continue
        recipients = await store.get_recipients(request.id)
        recipient = next((r for r in recipients if r.seq == key.recipient_seq), None)
        if recipient is not None:
            return request, recipient, recipients
    return None
