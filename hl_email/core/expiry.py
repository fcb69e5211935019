"""How a request ends without a decision: its timeout, or nobody left who can answer. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .policy import Vote, tally
from .records import Kind, iso
from .wording import duration_text, join_comments

__all__ = ["Reachable", "timed_out", "undeliverable"]


class Reachable(Protocol):
    """What the delivery-failure rule reads of a recipient (a store RecipientRow has it)."""

    address: str
    state: str
    error: str | None


def timed_out(
    kind: Kind, status: dict[str, Any], timeout: float, now: float
) -> tuple[dict[str, Any], str]:
    """The (status, state) of a request whose timeout ran out: it fails closed (a function call
    reads as denied)."""
    reason = f"no decision within {duration_text(timeout)}: timed out (fail closed)"
    status = {**status, "responded_at": iso(now), "timed_out": True}
    if kind == "function_call":
        status.update(approved=False, comment=reason)
        return status, "done"
    status["error"] = reason
    return status, "failed"


def undeliverable(
    kind: Kind,
    state: str,
    status: dict[str, Any],
    route: dict[str, Any],
    recipients: Sequence[Reachable],
    now: float,
) -> tuple[dict[str, Any], str] | None:
    """After a recipient was marked failed: the request's new (status, state) when the votes so
    far reject it or nobody left can decide it; None when it stays open."""
    votes = [
        Vote(v["address"], "reject" if v["verdict"] == "reject" else "approve")
        for v in status.get("responders") or []
    ]
    reachable = sum(1 for r in recipients if r.state not in ("failed", "handed_over"))
    approval = kind == "function_call"
    result = tally(
        route.get("policy", "any") if approval else "any",
        int(route.get("quorum") or 1),
        votes,
        max(reachable, len(votes)),
    )
    if state != "pending" or result.outcome not in ("unreachable", "reject"):
        return None
    detail = "; ".join(f"{r.address}: {r.error}" for r in recipients if r.state == "failed")
    status = {**status, "responded_at": iso(now)}
    if result.outcome == "reject" and approval:
        status.update(
            approved=False,
            comment=(join_comments(status, "reject") or "rejected")
            + f" (and email delivery failed: {detail})",
        )
        return status, "done"
    status["error"] = f"email delivery failed, nobody left who can answer: {detail}"
    return status, "failed"
