"""`hl-email routes test` as a user runs it: a real process, a TOML file, no mail server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """
[agent]
address = "agent@example.test"
name = "Refund agent"

[groups]
finance = ["alice@example.test", "bob@example.test", "carol@example.test"]

[[routes]]
name = "big-refunds"
fn = "send_refund"
when = ["amount >= 500", "customer.country in ['DE', 'FR']"]
to = ["alice@example.test", "bob@example.test", "carol@example.test"]
bcc = ["audit@example.test"]
responders = ["group:finance"]
policy = "quorum"
quorum = 2
timeout = "1d"
reminders = ["1h"]
escalations = [{ after = "4h", add = ["alice@example.test"], message = "still waiting" }]

[[routes]]
name = "nightly"
run_id = "nightly-*"
to = ["batch@example.test"]

[[routes]]
name = "questions"
kind = "question"
to = ["helpdesk@example.test"]
timeout = "30m"
"""


def hl_email(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("hl-email")
    command = [exe] if exe else [sys.executable, "-m", "hl_email.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HL_EMAIL_")}
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "hl-email.toml"
    path.write_text(CONFIG)
    return path


def routes_test(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return hl_email("routes", "test", "--config", str(config), *args, cwd=config.parent)


def test_matching_rule_is_explained(config_file):
    kwargs = json.dumps({"amount": 900, "customer": {"country": "DE"}})
    result = routes_test(config_file, "--fn", "send_refund", "--kwargs", kwargs)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "route:       rule 'big-refunds'" in out
    assert "to:          alice@example.test, bob@example.test, carol@example.test" in out
    assert "bcc:         audit@example.test" in out
    assert "may answer:  alice@example.test, bob@example.test, carol@example.test" in out
    assert "policy:      quorum (2 approvals needed)" in out
    assert "timeout:     1d" in out
    assert "reminders:   1h" in out
    assert "after 4h: add alice@example.test ('still waiting')" in out
    assert "rule 'big-refunds' (routes[0]) matched: fn 'send_refund' ~ 'send_refund'" in out
    assert "2 later rule(s) not checked" in out


def test_failed_condition_is_named_and_no_route_exits_1(config_file):
    kwargs = json.dumps({"amount": 900, "customer": {"country": "US"}})
    result = routes_test(config_file, "--fn", "send_refund", "--kwargs", kwargs)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "no route: no route for send_refund(...): no rule matched and no default route" in out
    assert (
        "rule 'big-refunds' (routes[0]) did not match: when[1] \"customer.country in ['DE', "
        "'FR']\" is false (customer.country = 'US')"
    ) in out
    assert "rule 'nightly' (routes[1]) did not match: run_id '' does not match 'nightly-*'" in out
    assert "rule 'questions' (routes[2]) did not match: kind is approval" in out


def test_numeric_strings_and_type_mismatches_are_shown(config_file):
    kwargs = json.dumps({"amount": "900", "customer": {"country": "DE"}})
    result = routes_test(config_file, "--fn", "send_refund", "--kwargs", kwargs)
    assert result.returncode == 0, result.stderr
    assert "route:       rule 'big-refunds'" in result.stdout
    assert "amount '900' is text, compared as the number it spells" in result.stdout
    kwargs = json.dumps({"amount": "900 EUR", "customer": {"country": "DE"}})
    result = routes_test(config_file, "--fn", "send_refund", "--kwargs", kwargs)
    assert result.returncode == 1
    assert (
        "type mismatch: amount is text ('900 EUR'), not a number; 'amount >= 500' is unknown"
        in result.stdout
    )


def test_run_id_kind_and_default_route(config_file, tmp_path):
    result = routes_test(config_file, "--fn", "anything", "--run-id", "nightly-7")
    assert result.returncode == 0, result.stderr
    assert "route:       rule 'nightly'" in result.stdout
    result = routes_test(config_file, "--kind", "question")
    assert result.returncode == 0, result.stderr
    assert "route:       rule 'questions'" in result.stdout
    assert "timeout:     30m" in result.stdout

    with_default = tmp_path / "default.toml"
    with_default.write_text(
        CONFIG + '\n[default_route]\nname = "on-call"\nto = ["oncall@x.test"]\n'
    )
    result = routes_test(with_default, "--fn", "delete_user")
    assert result.returncode == 0, result.stderr
    assert "route:       default route 'on-call'" in result.stdout
    assert "default route 'on-call' used: no rule matched" in result.stdout


def test_channel_wins_for_recipients(config_file):
    kwargs = json.dumps({"amount": 900, "customer": {"country": "FR"}})
    result = routes_test(
        config_file,
        "--fn",
        "send_refund",
        "--kwargs",
        kwargs,
        "--channel",
        "Dana@Example.test",
        "--channel",
        "cc:erin@example.test",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "route:       contact channel in the call (timers from 'big-refunds')" in out
    assert "to:          dana@example.test" in out
    assert "cc:          erin@example.test" in out
    assert "may answer:  any recipient" in out
    assert "policy:      any" in out
    assert "timeout:     1d" in out


def test_json_output(config_file):
    kwargs = json.dumps({"amount": 900, "customer": {"country": "DE"}})
    result = routes_test(config_file, "--fn", "send_refund", "--kwargs", kwargs, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == "rule" and data["rule"] == "big-refunds"
    assert data["quorum"] == 2 and data["timeout"] == 86400
    assert data["escalations"][0]["after"] == 14400


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fn", "f", "--kwargs", "{not json"], "--kwargs is not valid JSON"),
        (["--fn", "f", "--kwargs", "[1, 2]"], "--kwargs must be a JSON object"),
        (["--kwargs", "{}"], "--fn is required"),
        (["--fn", "f", "--channel", "not-an-address"], "--channel: 'not-an-address'"),
    ],
)
def test_bad_input_exits_2(config_file, args, message):
    result = routes_test(config_file, *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_bad_config_exits_2_naming_the_key(config_file):
    config_file.write_text(CONFIG.replace("amount >= 500", "amount >= "))
    result = routes_test(config_file, "--fn", "send_refund")
    assert result.returncode == 2
    assert "routes.0.when.0: expected a value after '>=' at position 10" in result.stderr
