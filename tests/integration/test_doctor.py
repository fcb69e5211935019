"""`hl-email doctor` against the real test stack (Dovecot IMAP + aiosmtpd SMTP)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import subprocess
import sys

from hl_email.doctor import DOCTOR_HEADER, diagnose, run_doctor
from hl_email.gateway import Gateway

AGENT = "agent@example.test"


async def test_doctor_passes_against_the_stack_and_leaves_a_seen_test_message(
    mail_stack, gateway_config
):
    config = gateway_config(agent={"plus_addressing": True})
    out = io.StringIO()
    assert await run_doctor(config, wait_seconds=20, out=out) == 0, out.getvalue()
    text = out.getvalue()
    for name in (
        "SMTP connect",
        "SMTP AUTH",
        "IMAP connect",
        "IMAP login",
        "IMAP folder",
        "IMAP IDLE",
        "IMAP UIDPLUS",
        "Round trip",
        "Plus addressing",
        "security.secret",
    ):
        assert f"✓ {name}: " in text, f"{name} missing or not passing:\n{text}"
    assert "✗" not in text
    assert "⚠ security.trusted_authserv_id: not set" in text  # advice, not a failure
    assert "⚠ security.allowed_recipients: not set" in text  # recommended (issue 10)
    assert "All checks passed" in text
    assert "arrived in INBOX in " in text and " ms " in text
    # Both test messages (plain and plus-addressed) are there, marked \Seen, not deleted.
    messages = await mail_stack.fetch_all(AGENT)
    assert len(messages) == 2
    for _, raw, flags in messages:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg[DOCTOR_HEADER] == "1" and msg["Auto-Submitted"] == "auto-generated"
        assert msg["Message-ID"].startswith("<hl-doctor-")
        assert "\\Seen" in flags


async def test_gateway_ignores_the_doctor_message(mail_stack, gateway_config):
    config = gateway_config()
    report = await diagnose(config, wait_seconds=20)
    assert report.ok, [r.line() for r in report.results]
    ((_, raw, _),) = await mail_stack.fetch_all(AGENT)
    gateway = Gateway(config)
    await gateway.start(inbound=False, outbox=False)
    try:
        outcome = await gateway.handle_inbound(raw)
    finally:
        await gateway.stop()
    assert outcome.outcome not in ("applied", "unclear_asked_again")
    assert outcome.call_id is None


async def test_doctor_fails_with_a_clear_line_on_a_wrong_imap_password(mail_stack, gateway_config):
    config = gateway_config(imap={"password": "not-the-password"})
    out = io.StringIO()
    assert await run_doctor(config, wait_seconds=20, out=out) == 1
    lines = out.getvalue().splitlines()
    login = next(line for line in lines if "IMAP login" in line)
    assert login.startswith("✗ IMAP login: login as agent@example.test refused: NO")
    assert "AUTHENTICATIONFAILED" in login or "Authentication failed" in login
    fix = lines[lines.index(login) + 1]
    assert fix.strip().startswith("fix: check imap.username and imap.password")
    assert "- Round trip: skipped" in out.getvalue()
    assert "1 check(s) failed: IMAP login" in out.getvalue()
    assert await mail_stack.fetch_all(AGENT) == []  # nothing sent when it cannot be verified


async def test_doctor_fails_on_an_unreachable_smtp_port_and_empty_secret(gateway_config):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = gateway_config(smtp={"port": port}, security={"secret": ""})
    report = await diagnose(config, wait_seconds=5)
    assert not report.ok
    smtp = report.get("SMTP connect")
    assert smtp is not None and smtp.status == "fail" and f"127.0.0.1:{port}" in smtp.detail
    assert "smtp.host and smtp.port" in smtp.fix
    secret = report.get("security.secret")
    assert secret is not None and secret.status == "fail" and "forge" in secret.detail


async def test_cli_doctor_exit_status(mail_stack, gateway_config, tmp_path):
    config = gateway_config()
    toml = tmp_path / "hl-email.toml"
    toml.write_text(
        f"""
[agent]
address = "{AGENT}"
[smtp]
host = "{mail_stack.host}"
port = {mail_stack.smtp_port}
username = "{AGENT}"
password = "{mail_stack.password}"
[imap]
host = "{mail_stack.host}"
port = {mail_stack.imap_port}
username = "{AGENT}"
password = "{{password}}"
[store]
url = "sqlite:///{tmp_path / "db.sqlite"}"
[security]
secret = "{config.security.secret}"
"""
    )
    template = toml.read_text()

    def run(password: str) -> subprocess.CompletedProcess[str]:
        toml.write_text(template.replace("{password}", password))
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "hl_email.cli",
                "doctor",
                "--config",
                str(toml),
                "--timeout",
                "20",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

    good = await asyncio.to_thread(run, mail_stack.password)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "✓ Round trip: test message to agent@example.test arrived in INBOX" in good.stdout
    bad = await asyncio.to_thread(run, "wrong")
    assert bad.returncode == 1
    assert "✗ IMAP login: login as agent@example.test refused" in bad.stdout
