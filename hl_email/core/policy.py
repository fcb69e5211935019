"""Answer policies for several people on one request (any / all / quorum); pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Tally", "Vote", "tally"]

Outcome = Literal["approve", "reject", "pending", "unreachable"]


@dataclass(frozen=True)
class Vote:
    address: str
    verdict: str  # "approve" | "reject" (answers to questions count as "approve" here)


@dataclass(frozen=True)
class Tally:
    outcome: Outcome
    approvals: int
    rejections: int
    needed: int
    reason: str


def tally(policy: str, quorum: int, votes: Sequence[Vote], reachable: int) -> Tally:
    """Where a request stands.

    `votes` holds one vote per responder (the first decisive answer of each person); `reachable`
    is how many people can still answer or already did (failed deliveries excluded). A request
    that can no longer reach its approvals is `reject` (some rejected) or `unreachable` (nobody
    left to ask): it never waits forever, and it never approves on fewer approvals than needed.
    """
    approvals = sum(1 for v in votes if v.verdict == "approve")
    rejections = sum(1 for v in votes if v.verdict == "reject")
    if policy == "all":
        needed = max(reachable, 1)
        if rejections:
            return Tally(
                "reject", approvals, rejections, needed, "a responder rejected (policy: all)"
            )
    elif policy == "quorum":
        needed = max(quorum, 1)
    else:
        needed = 1
        if votes:
            first = votes[0]
            outcome: Outcome = "approve" if first.verdict == "approve" else "reject"
            return Tally(outcome, approvals, rejections, 1, f"first answer, from {first.address}")
    if approvals >= needed and (policy != "all" or approvals >= reachable):
        return Tally("approve", approvals, rejections, needed, f"{approvals} of {needed} approvals")
    undecided = max(reachable - approvals - rejections, 0)
    if approvals + undecided < needed:
        if rejections:
            return Tally(
                "reject",
                approvals,
                rejections,
                needed,
                f"{rejections} rejection(s): {needed} approvals can no longer be reached",
            )
        return Tally(
            "unreachable",
            approvals,
            rejections,
            needed,
            f"only {approvals + undecided} people can still approve; {needed} needed",
        )
    return Tally(
        "pending", approvals, rejections, needed, f"{approvals} of {needed} approvals so far"
    )
