"""Requests: create (route, compose, store in one transaction), read, answer and cancel."""

from __future__ import annotations

from ..config import GatewayConfig
from ..errors import RequestInvalidError
from ..header_values import header_problem
from ..routing import may_answer

__all__ = ["check_allowed_recipient", "check_header_free"]


def check_header_free(field: str, value: str, *, allow_newlines: bool = False) -> None:
    if "\0" in value or (not allow_newlines and ("\r" in value or "\n" in value)):
        raise RequestInvalidError(f"{field} must not contain line breaks or NUL")
    if not allow_newlines and header_problem(value) is not None:
        # Decoded too: an RFC 2047 word hiding a CR/LF is a line break once in a header.
        raise RequestInvalidError(
            f"{field} must not contain control characters (also not inside an RFC 2047 "
            "encoded word)"
        )


def check_allowed_recipient(config: GatewayConfig, address: str, where: str) -> None:
    """`[security] allowed_recipients`: an address the agent supplies must be on the list (an
    LLM told to "also ask mallory@evil.test" must not get the reply key to an accomplice)."""
    allowed = config.security.allowed_recipients
    if allowed and not may_answer(allowed, [], address):
        raise RequestInvalidError(
            f"{where}: {address} is not allowed by [security] allowed_recipients"
        )
