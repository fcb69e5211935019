"""API key scopes: which key may do what through the HTTP API.

* `[api] api_keys`: agents. Create, read, wait, escalate, cancel; never respond, so the agent
  cannot approve its own call.
* `[api] approver_keys`: may answer (`…/respond`) on a human's behalf (e.g. your own approval
  UI). Empty by default: then only email answers decide.
* `[api] admin_keys`: the operator console: read and cancel.

A presented key is compared against every configured key with a timing-safe compare, so the
timing does not tell which key (or which list) matched. Pure: no I/O.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from enum import StrEnum

__all__ = ["ACTION_SCOPES", "Action", "KeyRing", "Scope", "refusal"]


class Scope(StrEnum):
    AGENT = "agent"
    APPROVER = "approver"
    ADMIN = "admin"


class Action(StrEnum):
    CREATE = "create"
    READ = "read"  # get, long-poll wait, events
    ESCALATE = "escalate"
    CANCEL = "cancel"
    RESPOND = "respond"


ACTION_SCOPES: dict[Action, frozenset[Scope]] = {
    Action.CREATE: frozenset({Scope.AGENT}),
    Action.READ: frozenset({Scope.AGENT, Scope.APPROVER, Scope.ADMIN}),
    Action.ESCALATE: frozenset({Scope.AGENT}),
    Action.CANCEL: frozenset({Scope.AGENT, Scope.ADMIN}),
    Action.RESPOND: frozenset({Scope.APPROVER}),
}

_LISTS = {Scope.AGENT: "api_keys", Scope.APPROVER: "approver_keys", Scope.ADMIN: "admin_keys"}


class KeyRing:
    """The configured keys by scope."""

    def __init__(
        self,
        agent: Iterable[str] = (),
        approver: Iterable[str] = (),
        admin: Iterable[str] = (),
    ) -> None:
        self._keys: list[tuple[bytes, Scope]] = [
            (key.encode(), scope)
            for scope, keys in (
                (Scope.AGENT, agent),
                (Scope.APPROVER, approver),
                (Scope.ADMIN, admin),
            )
            for key in keys
            if key
        ]

    def __bool__(self) -> bool:
        return bool(self._keys)

    def scopes(self, presented: bytes) -> frozenset[Scope]:
        """The scopes of `presented` (empty: not a key of ours). Every key is compared."""
        found: set[Scope] = set()
        for key, scope in self._keys:
            if hmac.compare_digest(presented, key):
                found.add(scope)
        return frozenset(found)


def refusal(action: Action, scopes: frozenset[Scope]) -> str | None:
    """None when `scopes` allow `action`; else the reason, for a 403."""
    allowed = ACTION_SCOPES[action]
    if scopes & allowed:
        return None
    held = ", ".join(f"[api] {_LISTS[s]}" for s in sorted(scopes)) or "no scope"
    wanted = " or ".join(f"[api] {_LISTS[s]}" for s in sorted(allowed))
    if action is Action.RESPOND:
        return (
            f"this API key ({held}) may not answer requests: an agent cannot approve or answer "
            "its own calls. The human answers by email; a trusted approval UI needs a key from "
            "[api] approver_keys"
        )
    return f"this API key ({held}) may not {action.value}; that needs a key from {wanted}"
