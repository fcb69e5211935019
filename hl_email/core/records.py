"""The request records every layer shares: the kind of a request and how times are written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

__all__ = ["Kind", "iso"]

Kind = Literal["function_call", "human_contact"]


def iso(ts: float) -> str:
    """A Unix time as the ISO 8601 UTC text the API and the stored status use."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()
