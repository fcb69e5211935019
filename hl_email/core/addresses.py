"""Email addresses: syntax validation and the normalized form every part of the gateway compares."""

from __future__ import annotations

import functools

import idna
from email_validator import EmailNotValidError, validate_email

from ..header_values import header_problem

__all__ = ["ascii_domain", "normalize_address"]


@functools.lru_cache(maxsize=4096)
def _validated(value: str) -> tuple[str | None, str]:
    """(normalized address, "") or (None, why not); cached: the same few addresses recur."""
    try:
        result = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        return None, str(exc)
    # Domain part is case-insensitive; local parts are case-sensitive in theory but not in practice.
    return result.normalized.lower(), ""


def normalize_address(value: str, *, field: str = "") -> str:
    """Validate an email address (syntax only, no DNS) and return it normalized.

    Raises ValueError naming `field` (when given) and the problem.
    """
    prefix = f"{field}: " if field else ""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{prefix}an email address is required")
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError(f"{prefix}{value!r} contains a line break or NUL")
    if header_problem(value) is not None:
        raise ValueError(
            f"{prefix}{value!r} contains a control character (or an RFC 2047 encoded word "
            "that decodes to one)"
        )
    normalized, why = _validated(value.strip())
    if normalized is None:
        raise ValueError(f"{prefix}{value!r} is not a valid email address ({why})")
    written = value.strip().rpartition("@")[2]
    # email-validator maps full-width letters and the ideographic/full-width dots (。．｡) to
    # ASCII; we do not: "alice@corp。test" is not the person alice@corp.test.
    exact = ascii_domain(written)
    if exact is None or exact != ascii_domain(normalized.rpartition("@")[2]):
        raise ValueError(
            f"{prefix}{value!r} writes its domain with look-alike characters (full-width "
            "letters or dots, ideographic dots); write it in ASCII or plain IDNA"
        )
    return normalized


_LOOKALIKE_DOTS = ("\u3002", "\uff0e", "\uff61")


def ascii_domain(domain: str) -> str | None:
    """The exact ASCII form of a domain: ASCII labels lowercased, other labels IDNA-encoded
    (IDNA 2008, no UTS 46 mapping), split on the ASCII dot only; None when not encodable."""
    if any(dot in domain for dot in _LOOKALIKE_DOTS):
        return None  # the idna package itself splits labels on these
    labels = []
    for label in domain.strip().split("."):
        if label.isascii():
            labels.append(label.lower())
            continue
        try:
            labels.append(idna.encode(label.lower(), uts46=False).decode("ascii"))
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    return ".".join(labels)
