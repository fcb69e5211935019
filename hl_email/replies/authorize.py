"""Whether a reply's sender may answer: the single From address, and DMARC from a trusted
Authentication-Results header (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import getaddresses

from ..core.addresses import ascii_domain, normalize_address
from .parse import HeaderSource, header_strings

__all__ = ["AuthResult", "dmarc_verdict", "sender_address"]


_TOLERATED_DEFECTS = {"UndecodableBytesDefect", "NonASCIILocalPartDefect"}
_ADDRESS_IN_TEXT = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+")


def sender_address(msg: HeaderSource) -> tuple[str | None, str]:
    """The single From address, normalized, or None and the reason it is unusable.

    Refuses anything a human or a DMARC verifier could read differently from us: several From
    headers or addresses, a header with parse defects, or a display name that names another
    address ("alice@corp.test <eve@evil.test>").
    """
    try:
        headers = msg.get_all("From") or []
    except Exception:  # a header the parser could not make sense of
        return None, "From header cannot be parsed"
    if not headers:
        return None, "no From header"
    if len(headers) > 1:
        return None, "more than one From header"
    header = headers[0]
    text = str(header)
    addresses = [addr for _, addr in getaddresses([text]) if addr]
    if len(addresses) != 1:
        return None, f"From must name exactly one address, got {text[:200]!r}"
    structured = getattr(header, "addresses", None)
    if structured is not None:
        defects = {type(d).__name__ for d in getattr(header, "defects", ())}
        # Raw 8-bit bytes (UTF-8 addresses, a mis-encoded name) are tolerable; a header the
        # parser had to guess its way through is not.
        if defects - _TOLERATED_DEFECTS:
            return None, f"From header is malformed: {text[:200]!r}"
        if len(structured) != 1 or (
            "UndecodableBytesDefect" not in defects
            and structured[0].addr_spec.lower() != addresses[0].lower()
        ):
            return None, f"From header is ambiguous: {text[:200]!r}"
        display = structured[0].display_name or ""
        named = [a.lower() for a in _ADDRESS_IN_TEXT.findall(display)]
        if any(a != addresses[0].lower() for a in named):
            return None, f"From display name names another address: {text[:200]!r}"
    try:
        return normalize_address(addresses[0]), ""
    except ValueError as exc:
        return None, f"From address is invalid: {exc}"


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    reason: str


_COMMENT = re.compile(r"\([^()]*\)")


def _parse_authentication_results(value: str) -> tuple[str, list[tuple[str, str, dict[str, str]]]]:
    # Comments may nest a level or two; strip innermost first.
    for _ in range(3):
        value = _COMMENT.sub(" ", value)
    parts = [p.strip() for p in value.split(";")]
    authserv = parts[0].split()[0].lower() if parts and parts[0].split() else ""
    results: list[tuple[str, str, dict[str, str]]] = []
    for part in parts[1:]:
        tokens = part.split()
        if not tokens or "=" not in tokens[0]:
            continue
        method, _, result = tokens[0].partition("=")
        props = {}
        for token in tokens[1:]:
            key, eq, val = token.partition("=")
            if eq:
                props[key.lower()] = val.strip('"').lower()
        results.append((method.lower(), result.lower(), props))
    return authserv, results


def dmarc_verdict(msg: HeaderSource, trusted_authserv_id: str, sender: str) -> AuthResult:
    """Require dmarc=pass for the From domain in an Authentication-Results header that the
    trusted server (`trusted_authserv_id`) added. Any non-pass DMARC result from it refuses.

    The trusted server must strip incoming Authentication-Results headers claiming its own id
    (RFC 8601 §5); that is what makes this header trustworthy.
    """
    trusted = trusted_authserv_id.strip().lower()
    sender_domain = sender.rpartition("@")[2].lower()
    passed = False
    for value in header_strings(msg, "Authentication-Results"):
        authserv, results = _parse_authentication_results(value)
        if authserv != trusted:
            continue
        for method, result, props in results:
            if method != "dmarc":
                continue
            header_from = props.get("header.from")
            if not header_from:
                # Without header.from we cannot tell which domain passed.
                return AuthResult(False, f"dmarc result from {trusted} names no header.from")
            # Compared on the exact ASCII/IDNA form: "corp。test" is not "corp.test".
            exact = ascii_domain(header_from)
            if exact is None or exact != ascii_domain(sender_domain):
                return AuthResult(False, f"dmarc result is for {header_from}, not {sender_domain}")
            if result != "pass":
                return AuthResult(False, f"dmarc={result} from {trusted}")
            passed = True
    if not passed:
        return AuthResult(
            False, f"no dmarc=pass in an Authentication-Results header from {trusted}"
        )
    return AuthResult(True, "dmarc=pass")
