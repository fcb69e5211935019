"""Start-up checks of the secrets a gateway runs with: the reply-key secret, webhook secrets,
API keys. A gateway refuses to start with an empty, short or documented example value.

`security.secret` signs every reply key (whoever knows it can forge answers), a webhook secret
signs what receivers act on; both need >= 32 bytes. API keys need no length rule but must be
set and must not be a value copied from our docs. Pure: config in, problems out.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXAMPLE_VALUES", "MIN_SECRET_BYTES", "credential_problems", "is_example_value"]

MIN_SECRET_BYTES = 32
# Values that appear in README.md, docs/ and examples/ (and their usual variants).
EXAMPLE_VALUES = frozenset(
    {
        "…",
        "...",
        "secret",
        "changeme",
        "change-me",
        "change-me-to-a-long-random-string",
        "change-me-api-key",
        "change-me-webhook-secret",
        "your-secret",
        "your-api-key",
        "dev",
    }
)
_HOW = "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


def is_example_value(value: str) -> bool:
    text = value.strip().lower()
    return text in EXAMPLE_VALUES or text.startswith(("change-me", "changeme", "<"))


def _secret_problem(name: str, value: str) -> str | None:
    if not value:
        return f"{name} is empty; {_HOW}"
    if is_example_value(value):
        return f"{name} is an example value from the documentation; {_HOW}"
    if len(value.encode("utf-8")) < MIN_SECRET_BYTES:
        return f"{name} is shorter than {MIN_SECRET_BYTES} bytes; {_HOW}"
    return None


def credential_problems(config: Any) -> list[str]:
    """Every problem with the configured secrets and keys, each naming its key."""
    problems = []
    problem = _secret_problem("security.secret", config.security.secret)
    if problem:
        problems.append(problem)
    for i, hook in enumerate(config.webhooks):
        problem = _secret_problem(f"webhooks[{i}].secret", hook.secret)
        if problem:
            problems.append(problem)
    for section in ("api_keys", "approver_keys", "admin_keys"):
        for i, key in enumerate(getattr(config.api, section)):
            if not key.strip():
                problems.append(f"api.{section}[{i}] is empty")
            elif is_example_value(key):
                problems.append(
                    f"api.{section}[{i}] is an example value from the documentation; {_HOW}"
                )
    return problems
