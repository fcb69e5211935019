"""What the inbound path can store for one message: the outcome record and the retry signal."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["InboundOutcome", "Retry"]


@dataclass(frozen=True)
class InboundOutcome:
    """What happened to one inbound message; stored for audit, never a silent drop."""

    outcome: str
    detail: str = ""
    call_id: str | None = None
    verdict: str | None = None


class Retry(Exception):
    """The request changed under us (another writer); process the message again."""
