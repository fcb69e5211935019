"""Exceptions the SDK raises; the decorators turn them into a message for the LLM instead."""

from __future__ import annotations

__all__ = [
    "DeliveryFailedError",
    "GatewayUnreachableError",
    "HumanLayerException",
    "HumanLayerTimeoutError",
    "RequestCancelledError",
]


class HumanLayerException(Exception):
    """Same name as the HumanLayer SDK's base exception, so `except HumanLayerException` ports."""


class HumanLayerTimeoutError(HumanLayerException, TimeoutError):
    """No answer in time. The gated function was NOT run (fail closed)."""


class DeliveryFailedError(HumanLayerException):
    """The email could not be delivered to anyone who may answer; nobody will answer."""


class RequestCancelledError(HumanLayerException):
    """The request was cancelled (by this agent's timeout, `cancel_*`, or an operator); the gated
    function was NOT run."""


class GatewayUnreachableError(HumanLayerException):
    """The gateway's URL could not be reached (connection refused, DNS, TLS, timeout); the
    message names the URL. Waits retry these until their timeout."""
