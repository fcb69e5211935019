"""Sentences of ours built from a request: its language, joined comments, durations (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..i18n import message

if TYPE_CHECKING:  # the record type only; core imports no I/O module
    from ..store import RequestRow

__all__ = ["duration_text", "first_option", "join_comments", "t"]


def t(key: str, request: RequestRow, **params: Any) -> str:
    """A sentence of ours in the language the request's route chose (English by default)."""
    return message(key, request.route.get("language"), **params)


def duration_text(seconds: float) -> str:
    """`3600` → "1 hour", `90` → "90 seconds": the largest whole unit."""
    seconds = float(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds:g} seconds"


def join_comments(status: dict[str, Any], verdict: str) -> str | None:
    """The comments of everyone who voted `verdict`, one comment alone without its author."""
    parts = [
        f"{v['address']}: {v['comment']}" if v.get("comment") else v["address"]
        for v in status.get("responders") or []
        if v.get("verdict") == verdict
    ]
    if len(parts) == 1 and ": " in parts[0]:
        return parts[0].split(": ", 1)[1]
    return "; ".join(parts) or None


def first_option(status: dict[str, Any]) -> str | None:
    """The option named by the first rejecting responder who picked one."""
    for v in status.get("responders") or []:
        if v.get("verdict") == "reject" and v.get("option"):
            return v["option"]
    return None
