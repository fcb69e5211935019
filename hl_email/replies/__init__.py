"""Reply understanding: new-text extraction, message classification and decisions (pure).

Nothing in this package does I/O, reads a clock or mutates global state; malformed input
produces a safe value instead of an exception.

The names below load their module on first use (PEP 562): `decide` compiles its word tables
when imported (about 0.1 s), which a gateway pays with its first inbound message rather than
at start, and `from hl_email.replies.classify import …` does not load the decision engine.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .classify import MessageKind, bounce_original_message_ids, classify_message
    from .decide import SUPPORTED_LANGUAGES, Decision, decide
    from .extract import (
        REPLY_MARKER,
        decision_readings,
        extract_reply,
        extract_reply_from_html,
        extract_reply_from_message,
        strip_signoff,
    )
    from .parse import parse_message

_HOMES = {
    "MessageKind": "classify",
    "bounce_original_message_ids": "classify",
    "classify_message": "classify",
    "SUPPORTED_LANGUAGES": "decide",
    "Decision": "decide",
    "decide": "decide",
    "REPLY_MARKER": "extract",
    "decision_readings": "extract",
    "extract_reply": "extract",
    "extract_reply_from_html": "extract",
    "extract_reply_from_message": "extract",
    "strip_signoff": "extract",
    "parse_message": "parse",
}

__all__ = [
    "REPLY_MARKER",
    "SUPPORTED_LANGUAGES",
    "Decision",
    "MessageKind",
    "bounce_original_message_ids",
    "classify_message",
    "decide",
    "extract_reply",
    "extract_reply_from_html",
    "extract_reply_from_message",
    "decision_readings",
    "parse_message",
    "strip_signoff",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once loaded, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """`hl_email.replies.decide` is a module and a function of the same name. Importing the
    module binds it on the package (the import system does so after loading it); the public
    name stays the function, as it was with eager imports."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _HOMES.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
