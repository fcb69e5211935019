"""Inbound limits before parsing (issue 10, item 3): bombs get a stored outcome, the real reply
behind them is applied. Figures (check time per bomb) are printed, never asserted."""

from __future__ import annotations

import time

import pytest

from hl_email.config import load_config
from hl_email.gateway import Gateway
from hl_email.limits import InboundLimits, check_inbound
from hl_email.models import ContactChannel, EmailContactChannel, FunctionCall, FunctionCallSpec

AGENT = "agent@example.test"
ALICE = "alice@corp.test"
SECRET = "unit-test-secret-0123456789-abcdefgh"


def subject_bomb(size: int = 1_000_000) -> bytes:
    word = "=?utf-8?q?" + "a" * 40 + "?="
    subject = " ".join([word] * (size // (len(word) + 1)))
    return (
        f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: {subject}\r\nMessage-ID: <sb@corp.test>\r\n"
        "\r\nApprove\r\n"
    ).encode()


def parts_bomb(parts: int = 20_000) -> bytes:
    head = (
        f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: parts\r\nMessage-ID: <pb@corp.test>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
    ).encode()
    body = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(parts))
    return head + body + b"--B--\r\n"


def references_bomb(count: int = 5000, real: str = "") -> bytes:
    refs = " ".join(f"<hl1-{i:012d}-0-{'a' * 20}.1@example.test>" for i in range(count))
    return (
        f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: Re: refund\r\nMessage-ID: <rb@corp.test>\r\n"
        f"In-Reply-To: {real}\r\nReferences: {refs} {real}\r\n\r\nApprove\r\n"
    ).encode()


def nested_bomb(depth: int = 5000) -> bytes:
    rest = b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    rest += b"".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'.encode()
        for i in range(depth)
    )
    return (
        f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: nest\r\nMessage-ID: <nb@corp.test>\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode() + rest


def normal_reply() -> bytes:
    return (
        f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: Re: x\r\nMessage-ID: <ok@corp.test>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        '--outer\r\nContent-Type: multipart/alternative; boundary="inner"\r\n\r\n'
        "--inner\r\nContent-Type: text/plain\r\n\r\nApprove\r\n"
        "--inner\r\nContent-Type: text/html\r\n\r\n<p>Approve</p>\r\n--inner--\r\n"
        "--outer\r\nContent-Type: application/pdf\r\n\r\nJVBERi0=\r\n--outer--\r\n"
    ).encode()


BOMBS = {
    "1 MB encoded-word Subject": (subject_bomb, "too_large"),
    "20k MIME parts": (parts_bomb, "too_large"),
    "5,000 key-shaped References": (references_bomb, "too_large"),  # over max_header_bytes
    "5,000-deep multiparts": (nested_bomb, "too_large"),  # each multipart is a part
    "30-deep multiparts": (lambda: nested_bomb(30), "malformed"),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_bombs_are_refused_before_parsing(name):
    build, outcome = BOMBS[name]
    raw = build()
    started = time.perf_counter()
    refusal = check_inbound(raw, InboundLimits())
    elapsed = time.perf_counter() - started
    print(f"\n{name}: {len(raw) / 1024:.0f} KiB, refused in {elapsed * 1000:.2f} ms")
    assert refusal is not None and refusal.outcome == outcome, refusal
    assert "[inbound]" in refusal.detail


def test_many_references_within_the_header_limit_are_malformed():
    refusal = check_inbound(references_bomb(300), InboundLimits())
    assert refusal is not None and refusal.outcome == "malformed"
    assert "max_references" in refusal.detail


def test_ordinary_mail_is_within_the_limits():
    assert check_inbound(normal_reply(), InboundLimits()) is None
    assert check_inbound(parts_bomb(150), InboundLimits()) is None
    assert check_inbound(references_bomb(50), InboundLimits()) is None
    big = normal_reply().replace(b"JVBERi0=", b"QUJD\r\n" * 2_000_000)  # 12 MB attachment
    assert check_inbound(big, InboundLimits()) is None
    tight = InboundLimits(max_message_bytes=1_000_000)
    refusal = check_inbound(big, tight)
    assert refusal is not None and refusal.outcome == "too_large"
    assert "max_message_bytes" in refusal.detail
    # Lines in a body that look like delimiters of an undeclared boundary do not count.
    body = normal_reply().replace(b"Approve\r\n", b"Approve\r\n" + b"--not-a-boundary\r\n" * 10_000)
    assert check_inbound(body, InboundLimits(max_parts=5)) is None


async def _no_send(mail_from: str, rcpt_to: list[str], data: bytes) -> None:
    return None


async def test_bombs_in_front_of_a_real_reply(tmp_path):
    config = load_config(
        None,
        agent={"address": AGENT},
        imap={"enabled": False},
        store={"url": f"sqlite:///{tmp_path / 'x.db'}"},
        security={"secret": SECRET},
    )
    gateway = Gateway(config, send=_no_send)
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        channel = ContactChannel(email=EmailContactChannel(address=ALICE))
        spec = FunctionCallSpec(fn="refund", kwargs={"amount": 5}, channel=channel)
        await gateway.create_function_call(FunctionCall(run_id="r", call_id="c1", spec=spec))
        row = await gateway.store.get_request(call_id="c1")
        [ask] = await gateway.store.outbox_for_request(row.id)
        for raw, outcome in (
            (subject_bomb(), "too_large"),
            (parts_bomb(), "too_large"),
            (references_bomb(real=ask.message_id), "too_large"),
            (references_bomb(300, real=ask.message_id), "malformed"),
        ):
            result = await gateway.handle_inbound(raw)
            assert result.outcome == outcome, result
            assert (await gateway.handle_inbound(raw)).outcome == "duplicate"
        recorded = [r.outcome for r in await gateway.store.list_inbound()]
        assert sorted(recorded) == ["malformed", "too_large", "too_large", "too_large"]
        # a real reply continues our subject (issue 9: a keyed email on another subject that
        # quotes nothing of ours is not an answer)
        subject = next(
            line.split(b":", 1)[1].strip().decode()
            for line in ask.message.split(b"\r\n")
            if line.lower().startswith(b"subject:")
        )
        reply = (
            f"From: {ALICE}\r\nTo: {AGENT}\r\nSubject: Re: {subject}\r\n"
            f"Message-ID: <real@corp.test>\r\nIn-Reply-To: {ask.message_id}\r\n"
            f"References: {ask.message_id}\r\n\r\nApprove\r\n"
        ).encode()
        assert (await gateway.handle_inbound(reply)).outcome == "applied"
        assert (await gateway.store.get_request(call_id="c1")).status["approved"] is True
    finally:
        await gateway.stop()
