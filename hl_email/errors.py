"""Errors a caller of the gateway can see; each says what went wrong and what to do."""

from __future__ import annotations

__all__ = [
    "CallFailedError",
    "GatewayError",
    "NotFoundError",
    "RequestInvalidError",
]


class GatewayError(Exception):
    """Base class for gateway errors."""


class RequestInvalidError(GatewayError, ValueError):
    """The request cannot be sent as given (no email channel, a bad address, a bad template…)."""


class NotFoundError(GatewayError, KeyError):
    """No request with that call_id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class CallFailedError(GatewayError):
    """The request ended without a human answer (delivery failed, or it was cancelled)."""
