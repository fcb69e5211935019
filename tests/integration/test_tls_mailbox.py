"""The gateway against Postfix + Dovecot with TLS (tests/integration/tlsstack.py): every SMTP ×
IMAP TLS combination end to end, doctor on each, doctor's clear failures, and the outbox pausing
on a certificate problem until the configuration is fixed."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import pytest
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel
from mailclient import MailClient

from hl_email.doctor import run_doctor
from hl_email.gateway import Gateway
from hl_email.models import FunctionCall, FunctionCallSpec

ALICE = "alice@corp.test"
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))
COMBOS = [("starttls", "starttls"), ("starttls", "tls"), ("tls", "starttls"), ("tls", "tls")]


async def refund(order: str, amount: int) -> str:
    return f"refunded {amount} on {order}"


@pytest.mark.parametrize(("smtp", "imap"), COMBOS)
async def test_approval_end_to_end_over_tls(tls_stack, tls_gateway_config, smtp, imap):
    alice = MailClient(tls_stack, ALICE)
    config = tls_gateway_config(smtp, imap)
    async with AsyncHumanLayer.local(config=config, run_id="tls") as hl:
        send_refund = hl.require_approval(contact_channel=CHANNEL)(refund)
        call = asyncio.create_task(send_refund(order="T-1", amount=5))
        ask = await alice.wait_for_message(timeout=30)
        assert "T-1" in ask.text()
        await alice.reply(ask, "Approved.", style="gmail")
        assert await asyncio.wait_for(call, 30) == "refunded 5 on T-1"
    log = tls_stack.postfix_log()
    # The ask went through the TLS submission service with SASL (via Dovecot's auth socket).
    service = "postfix/submission" if smtp == "starttls" else "postfix/smtps"
    assert f"{service}/smtpd" in log and "sasl_username=agent@example.test" in log


@pytest.mark.parametrize(("smtp", "imap"), COMBOS)
async def test_doctor_passes_on_each_tls_combination(tls_gateway_config, smtp, imap):
    out = io.StringIO()
    code = await run_doctor(tls_gateway_config(smtp, imap), wait_seconds=20, out=out)
    text = out.getvalue()
    assert code == 0, text
    for name in ("SMTP TLS", "SMTP AUTH", "IMAP TLS", "IMAP login", "Round trip", "IMAP push"):
        assert f"✓ {name}: " in text, text
    assert "validate_certs" not in text


def _doctor_case(stack, case: str) -> tuple[dict, str, str]:
    """(config overrides, the failing check, a phrase its line must contain)."""
    sub, smtps, imap, imaps = (
        stack.submission_port,
        stack.smtps_port,
        stack.imap_port,
        stack.imaps_port,
    )
    return {
        "smtp-wrong-ca": ({"smtp": {"ca_file": stack.wrong_ca_file}}, "SMTP TLS", "not trusted"),
        "imap-wrong-ca": ({"imap": {"ca_file": stack.wrong_ca_file}}, "IMAP TLS", "not trusted"),
        "imaps-wrong-ca": (
            {"imap": {"ca_file": stack.wrong_ca_file, "security": "tls", "port": imaps}},
            "IMAP connect",
            "not trusted",
        ),
        "smtp-wrong-host": ({"smtp": {"host": "localhost"}}, "SMTP TLS", "Hostname mismatch"),
        "imaps-wrong-host": (
            {"imap": {"host": "localhost", "security": "tls", "port": imaps}},
            "IMAP connect",
            "Hostname mismatch",
        ),
        "smtp-wrong-password": ({"smtp": {"password": "nope"}}, "SMTP AUTH", "refused: 535"),
        "imap-wrong-password": ({"imap": {"password": "nope"}}, "IMAP login", "refused: NO"),
        "smtp-closed-port": ({"smtp": {"port": _closed_port()}}, "SMTP connect", "cannot connect"),
        "imap-closed-port": ({"imap": {"port": _closed_port()}}, "IMAP connect", "cannot connect"),
        "smtp-tls-on-starttls-port": (
            {"smtp": {"security": "tls", "port": sub}},
            "SMTP connect",
            "TLS",
        ),
        "smtp-starttls-on-tls-port": (
            {"smtp": {"security": "starttls", "port": smtps, "timeout": 3}},
            "SMTP connect",
            "greeting",
        ),
        "imap-tls-on-starttls-port": (
            {"imap": {"security": "tls", "port": imap}},
            "IMAP connect",
            "TLS",
        ),
        "imap-starttls-on-tls-port": (
            {"imap": {"security": "starttls", "port": imaps, "timeout": 3}},
            "IMAP connect",
            "greeting",
        ),
    }[case]


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nobody listens


@pytest.mark.parametrize(
    "case",
    [
        "smtp-wrong-ca",
        "imap-wrong-ca",
        "imaps-wrong-ca",
        "smtp-wrong-host",
        "imaps-wrong-host",
        "smtp-wrong-password",
        "imap-wrong-password",
        "smtp-closed-port",
        "imap-closed-port",
        "smtp-tls-on-starttls-port",
        "smtp-starttls-on-tls-port",
        "imap-tls-on-starttls-port",
        "imap-starttls-on-tls-port",
    ],
)
async def test_doctor_fails_clearly(tls_stack, tls_gateway_config, case):
    overrides, check, phrase = _doctor_case(tls_stack, case)
    out = io.StringIO()
    assert await run_doctor(tls_gateway_config(**overrides), wait_seconds=10, out=out) == 1
    lines = out.getvalue().splitlines()
    failing = [line for line in lines if line.startswith(f"✗ {check}: ")]
    assert failing, out.getvalue()
    assert phrase in failing[0], out.getvalue()
    fix = lines[lines.index(failing[0]) + 1]
    assert fix.strip().startswith("fix: "), out.getvalue()
    assert "validate_certs = false" not in out.getvalue()  # never advised
    if "wrong-ca" in case or "wrong-host" in case:
        assert "ca_file" in fix


async def test_doctor_warns_when_certificates_are_not_checked(tls_gateway_config):
    out = io.StringIO()
    config = tls_gateway_config(smtp={"validate_certs": False, "ca_file": ""})
    assert await run_doctor(config, wait_seconds=20, out=out) == 0, out.getvalue()
    assert "⚠ smtp.validate_certs: false" in out.getvalue()


async def test_outbox_pauses_on_an_untrusted_certificate_and_resumes_when_ca_file_is_fixed(
    tls_stack, tls_gateway_config, tmp_path: Path
):
    ca = tmp_path / "ca.pem"
    shutil.copy(tls_stack.wrong_ca_file, ca)
    config = tls_gateway_config(imap_mode="tls", smtp={"ca_file": str(ca), "pause_retry": 3600})
    alice = MailClient(tls_stack, ALICE)
    gateway = Gateway(config)
    await gateway.start(inbound=False)
    try:
        spec = FunctionCallSpec(fn="refund", kwargs={"order": "P-1"}, channel=CHANNEL)
        call = await gateway.create_function_call(
            FunctionCall(run_id="t", call_id="p-1", spec=spec)
        )
        deadline = asyncio.get_running_loop().time() + 20
        while gateway.outbox.paused is None:
            assert asyncio.get_running_loop().time() < deadline, gateway.outbox.last_error
            await asyncio.sleep(0.05)
        ready = await gateway.readiness()
        assert ready["smtp_paused"] is True
        assert "certificate is not trusted" in ready["smtp_last_error"]
        assert "smtp.ca_file" in ready["smtp_last_error"]
        rows = await gateway.store.outbox_for_request(
            (await gateway.store.get_request(call_id=call.call_id)).id
        )
        assert [r.state for r in rows] == ["pending"] and rows[0].attempts == 0  # not a failure
        shutil.copy(tls_stack.ca_file, ca)  # the operator fixes the CA file
        ask = await alice.wait_for_message(timeout=30)
        assert "P-1" in ask.text()
        assert gateway.outbox.paused is None
    finally:
        await gateway.stop()


async def test_outbox_pauses_on_a_refused_login_and_resumes_when_told(
    tls_stack, tls_gateway_config
):
    config = tls_gateway_config(smtp={"password": "wrong", "pause_retry": 3600})
    alice = MailClient(tls_stack, ALICE)
    gateway = Gateway(config)
    await gateway.start(inbound=False)
    try:
        spec = FunctionCallSpec(fn="refund", kwargs={"order": "P-2"}, channel=CHANNEL)
        await gateway.create_function_call(FunctionCall(run_id="t", call_id="p-2", spec=spec))
        deadline = asyncio.get_running_loop().time() + 20
        while gateway.outbox.paused is None:
            assert asyncio.get_running_loop().time() < deadline, gateway.outbox.last_error
            await asyncio.sleep(0.05)
        assert "login refused: 535" in (await gateway.readiness())["smtp_last_error"]
        gateway.config.smtp.password = tls_stack.password  # the operator fixes the password
        gateway.outbox.resume()
        ask = await alice.wait_for_message(timeout=30)
        assert "P-2" in ask.text()
    finally:
        await gateway.stop()
