"""Pure resolution logic of an answer: who is one person, how a decided request reads (no I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .wording import t

if TYPE_CHECKING:
    from ..store import RequestRow

__all__ = ["person", "verdict_text"]


def person(address: str) -> str:
    """One person, however they sub-address: alice+x@corp and alice@corp vote once."""
    local, at, domain = address.lower().rpartition("@")
    if not at:
        return address.lower()
    return f"{local.split('+', 1)[0]}@{domain}"


def verdict_text(request: RequestRow) -> str:
    """How a decided request ended, for the note to someone who answers it late."""
    status = request.status
    who = ", ".join(
        v["address"] for v in status.get("responders") or [] if v.get("verdict") != "unclear"
    )
    if status.get("cancelled"):
        return t("verdict_cancelled", request)
    if request.state == "failed":
        return t("verdict_closed", request)
    if request.kind == "function_call":
        if status.get("timed_out"):
            return t("verdict_timed_out", request)
        key = "verdict_approved" if status.get("approved") else "verdict_rejected"
    else:
        key = "verdict_answered"
    return t(key + "_by", request, who=who) if who else t(key, request)
