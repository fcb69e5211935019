"""Reply keys: one HMAC-signed key per (request, recipient), carried in Message-IDs and plus-addresses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

__all__ = [
    "APPROVAL_CODE_ALPHABET",
    "ReplyKey",
    "approval_code",
    "find_reply_keys",
    "make_message_id",
    "mint_reply_key",
    "plus_address",
    "verify_reply_key",
]

# Lowercase letters and digits only: survives mail servers that lowercase local parts,
# and never needs quoting inside a Message-ID or an address.
_KEY_RE = re.compile(r"hl1[.\-]([a-z0-9]{6,40})[.\-]([0-9]{1,6})[.\-]([a-z2-7]{20})", re.IGNORECASE)


@dataclass(frozen=True)
class ReplyKey:
    request_id: str
    recipient_seq: int
    mac: str

    def __str__(self) -> str:
        return f"hl1-{self.request_id}-{self.recipient_seq}-{self.mac}"


def _mac(secret: str, request_id: str, recipient_seq: int, address: str) -> str:
    message = f"hl1|{request_id}|{recipient_seq}|{address.strip().lower()}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:20]  # 100 bits


def mint_reply_key(secret: str, request_id: str, recipient_seq: int, address: str) -> ReplyKey:
    """The key bound to one recipient of one request; only that address can use it."""
    if not re.fullmatch(r"[a-z0-9]{6,40}", request_id):
        raise ValueError(f"request id {request_id!r} must be 6-40 lowercase letters or digits")
    return ReplyKey(request_id, recipient_seq, _mac(secret, request_id, recipient_seq, address))


def verify_reply_key(secret: str, key: ReplyKey, address: str) -> bool:
    """True when `key` was minted with `secret` for this request, recipient slot and address."""
    expected = _mac(secret, key.request_id, key.recipient_seq, address)
    return hmac.compare_digest(expected, key.mac.lower())


def find_reply_keys(*values: str | None) -> list[ReplyKey]:
    """Every reply key in header values (In-Reply-To, References, To…), newest reference last.

    Values are split on whitespace and commas, as clients write References either way.
    """
    keys: list[ReplyKey] = []
    for value in values:
        if not value:
            continue
        for part in re.split(r"[\s,]+", str(value)):
            for match in _KEY_RE.finditer(part):
                key = ReplyKey(match.group(1).lower(), int(match.group(2)), match.group(3).lower())
                if key not in keys:
                    keys.append(key)
    return keys


def make_message_id(key: ReplyKey, sequence: int, domain: str) -> str:
    """A Message-ID for the `sequence`-th message sent to this recipient about this request."""
    return f"<{key}.{sequence}@{domain}>"


def plus_address(agent_address: str, key: ReplyKey, separator: str = "+") -> str:
    local, _, domain = agent_address.rpartition("@")
    return f"{local}{separator}{key}@{domain}"


# A-Z and 2-9 without the look-alikes I, L, O (0 and 1 are not in 2-9): read aloud or typed
# from a phone screen, no character can be mistaken for another.
APPROVAL_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def approval_code(secret: str, request_id: str, recipient_seq: int, address: str) -> str:
    """The 6-character approval code shown to one recipient of one request (``[replies]
    approval = "code"``): an HMAC of the request and recipient, so only their email shows it."""
    message = f"hl1-code|{request_id}|{recipient_seq}|{address.strip().lower()}".encode()
    number = int.from_bytes(hmac.new(secret.encode(), message, hashlib.sha256).digest()[:8], "big")
    letters = []
    for _ in range(6):
        number, index = divmod(number, len(APPROVAL_CODE_ALPHABET))
        letters.append(APPROVAL_CODE_ALPHABET[index])
    return "".join(letters)
