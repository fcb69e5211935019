"""Secrets (issue 10, item 4): a gateway refuses to start with an empty, short or documented
example secret (reply keys, webhooks) or API key; webhook signatures carry a timestamp and the
receiver example in docs/webhooks.md (run here as written) refuses old ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hl_email.config import ConfigError, load_config
from hl_email.credentials import EXAMPLE_VALUES, credential_problems
from hl_email.gateway import Gateway
from hl_email.webhooks import sign, verify

REPO = Path(__file__).resolve().parents[2]
GOOD = "unit-test-secret-0123456789-abcdefgh"


def _config(tmp_path, **sections):
    base = {
        "imap": {"enabled": False},
        "store": {"url": f"sqlite:///{tmp_path / 'x.db'}"},
        "security": {"secret": GOOD},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return load_config(None, **base)


def _documented_values() -> set[str]:
    """`secret = "…"` / `api_keys = ["…"]` values in README.md, docs/ and examples/."""
    found: set[str] = set()
    files = [
        REPO / "README.md",
        *sorted((REPO / "docs").glob("*.md")),
        *(REPO / "examples").iterdir(),
    ]
    for path in files:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for match in re.finditer(
                r'(?:secret|api_keys|approver_keys|admin_keys)\s*=\s*\[?"([^"]*)"', text
            ):
                found.add(match.group(1))
    return found


def test_every_documented_example_value_is_known():
    documented = _documented_values()
    assert documented, "the docs show example secrets"
    assert {v.lower() for v in documented} <= EXAMPLE_VALUES, documented - EXAMPLE_VALUES


@pytest.mark.parametrize(
    "secret", ["", "short-secret", "change-me-to-a-long-random-string", "…", "x" * 31]
)
async def test_gateway_refuses_to_start_with_a_weak_secret(tmp_path, secret):
    gateway = Gateway(_config(tmp_path, security={"secret": secret}))
    with pytest.raises(ConfigError, match="security.secret"):
        await gateway.start(inbound=False, outbox=False, timers=False)


@pytest.mark.parametrize("value", sorted(_documented_values()) + ["", "s", "whsec-test"])
def test_weak_webhook_secrets_and_example_api_keys_are_refused(tmp_path, value):
    hooks = [{"url": "https://example.test/h", "secret": value}]
    problems = credential_problems(_config(tmp_path, webhooks=hooks))
    assert any(p.startswith("webhooks[0].secret") for p in problems)
    if value in ("s", "whsec-test"):
        return  # fine API keys (no length rule), but too short for a webhook secret
    problems = credential_problems(_config(tmp_path, api={"api_keys": ["a-real-key", value]}))
    assert any(p.startswith("api.api_keys[1]") for p in problems), problems


def test_good_values_pass(tmp_path):
    hooks = [{"url": "https://example.test/h", "secret": GOOD + "-hook"}]
    config = _config(tmp_path, webhooks=hooks, api={"api_keys": ["k1"], "approver_keys": ["k2"]})
    assert credential_problems(config) == []


def test_cli_serve_refuses_a_weak_secret(tmp_path, capsys):
    from hl_email.cli import main

    toml = tmp_path / "hl-email.toml"
    toml.write_text(
        '[security]\nsecret = "change-me-to-a-long-random-string"\n[imap]\nenabled = false\n'
    )
    assert main(["serve", "--config", str(toml)]) == 2
    assert "refusing to start" in capsys.readouterr().err


def _docs_verifier():
    text = (REPO / "docs" / "webhooks.md").read_text(encoding="utf-8")
    block = text.split("## Verifying a delivery", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(block, "docs/webhooks.md", "exec"), namespace)
    return namespace["verify_hl_email"]


@pytest.mark.parametrize("check", ["docs", "library"])
def test_signature_has_a_timestamp_and_old_ones_are_refused(check):
    docs = _docs_verifier()

    def ok(secret: str, header: str, body: bytes, now: float) -> bool:
        return (
            docs(secret, header, body, now)
            if check == "docs"
            else verify(secret, header, body, now)
        )

    secret, body, t = GOOD, b'{"type":"function_call.completed"}', 1_800_000_000
    header = sign(secret, body, t)
    assert re.fullmatch(r"t=1800000000,v1=[0-9a-f]{64}", header)
    assert ok(secret, header, body, t + 10)
    assert not ok(secret, header, body, t + 301)  # replayed later
    assert not ok(secret, header, body, t - 301)
    assert not ok(secret, header, body + b" ", t)  # body changed
    assert not ok("another-secret-0123456789-abcdefgh", header, body, t)
    forged = header.replace("t=1800000000", "t=1800000900")  # fresh timestamp, old MAC
    assert not ok(secret, forged, body, t + 900)
    assert not ok(secret, "sha256=" + header.split("v1=")[1], body, t)  # the old format


async def test_doctor_flags_weak_credentials_and_recommends_allowed_recipients(tmp_path):
    from hl_email.doctor import CheckResult
    from hl_email.doctor.config_checks import check_config

    def add(*args):
        results.append(CheckResult(*args))

    hooks = [{"url": "https://example.test/h", "secret": "short"}]
    config = _config(tmp_path, security={"secret": "x" * 20}, webhooks=hooks)
    results = []
    check_config(config, add)
    by_name = {r.name: r for r in results}
    assert by_name["security.secret"].status == "fail"
    assert (
        by_name["credentials"].status == "fail"
        and "webhooks[0].secret" in by_name["credentials"].detail
    )
    assert by_name["security.allowed_recipients"].status == "warn"
    results.clear()
    check_config(_config(tmp_path, security={"allowed_recipients": ["@corp.test"]}), add)
    assert {r.name: r.status for r in results}["security.allowed_recipients"] == "ok"
