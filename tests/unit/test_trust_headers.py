"""Header injection through RFC 2047 encoded words (issue 10, item 1).

`=?utf-8?q?x=0D=0AReply-To:_mallory@evil.test?=` has no raw CR/LF, but the stdlib's folder
decodes it and would write a real `Reply-To:` header. Every header-bearing field is checked on
its decoded value: refused with an error naming the field, or (a question's first line, which
only feeds the derived subject) neutralised.
"""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest

from hl_email.config import ConfigError, load_config, normalize_address
from hl_email.errors import RequestInvalidError
from hl_email.gateway import Gateway
from hl_email.header_values import (
    HeaderInjectionError,
    check_header_value,
    decode_encoded_words,
    neutralise_encoded_words,
)
from hl_email.models import (
    ContactChannel,
    EmailContactChannel,
    EmailRecipient,
    Escalation,
    FunctionCall,
    FunctionCallSpec,
    HumanContact,
    HumanContactSpec,
)

AGENT = "agent@example.test"
ALICE = "alice@corp.test"
SECRET = "unit-test-secret-0123456789-abcdefgh"
INJECT_Q = "=?utf-8?q?x=0D=0AReply-To:_mallory@evil.test?="
INJECT_B = "=?utf-8?b?eA0KQmNjOiBtYWxsb3J5QGV2aWwudGVzdA==?="  # "x\r\nBcc: mallory@evil.test"
INJECTIONS = [INJECT_Q, INJECT_B, "Refund =?iso-8859-1?Q?x=0ABcc:_m@evil.test?= now"]


async def _no_send(mail_from: str, rcpt_to: list[str], data: bytes) -> None:
    return None


@pytest.fixture
async def gateway(tmp_path):
    config = load_config(
        None,
        agent={"address": AGENT},
        imap={"enabled": False},
        store={"url": f"sqlite:///{tmp_path / 'x.db'}"},
        security={"secret": SECRET},
    )
    gw = Gateway(config, send=_no_send)
    await gw.start(inbound=False, outbox=False, timers=False)
    yield gw
    await gw.stop()


def _headers(raw: bytes) -> dict[str, list[str]]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out: dict[str, list[str]] = {}
    for name, value in msg.items():
        out.setdefault(name.lower(), []).append(str(value))
    return out


async def _asks(gw: Gateway, call_id: str) -> list[bytes]:
    row = await gw.store.get_request(call_id=call_id)
    assert row is not None
    return [o.message for o in await gw.store.outbox_for_request(row.id)]


def test_decoding_sees_what_the_stdlib_would_write():
    assert decode_encoded_words(INJECT_Q) == "x\r\nReply-To: mallory@evil.test"
    assert decode_encoded_words(INJECT_B) == "x\r\nBcc: mallory@evil.test"
    assert decode_encoded_words("=?utf-8?q?caf=C3=A9?=") == "café"
    for value in INJECTIONS:
        with pytest.raises(HeaderInjectionError) as err:
            check_header_value("subject", value)
        assert "'subject'" in str(err.value) and "encoded word" in str(err.value)
    # Harmless encoded words pass unchanged.
    assert check_header_value("subject", "=?utf-8?q?caf=C3=A9?=") == "=?utf-8?q?caf=C3=A9?="


def test_neutralised_text_decodes_to_no_control_character():
    for value in INJECTIONS:
        safe = neutralise_encoded_words(value)
        check_header_value("subject", safe)  # no raise
        assert "\r" not in decode_encoded_words(safe) and "\n" not in decode_encoded_words(safe)
    # Nested: the decoded text is itself an encoded word hiding a line break.
    nested = "=?utf-8?q?=3D=3Futf-8=3Fq=3Fx=3D0A=3F=3D=0A?="
    check_header_value("subject", neutralise_encoded_words(nested))


def _fc(call_id: str, *, fn: str = "refund", **channel: Any) -> FunctionCall:
    channel.setdefault("address", ALICE)
    return FunctionCall(
        run_id="r",
        call_id=call_id,
        spec=FunctionCallSpec(
            fn=fn,
            kwargs={"amount": 1},
            channel=ContactChannel(email=EmailContactChannel(**channel)),
        ),
    )


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize(
    ("what", "build", "field"),
    [
        ("fn", lambda p: _fc("c", fn=p), "fn"),
        ("channel subject", lambda p: _fc("c", subject=p), "subject"),
        ("experimental subject", lambda p: _fc("c", experimental_subject_line=p), "subject"),
        ("in_reply_to", lambda p: _fc("c", in_reply_to_message_id=p), "in_reply_to"),
        ("references", lambda p: _fc("c", references_message_id=p), "references"),
        ("call_id", lambda p: _fc("c" + p.replace(" ", "")), "call_id"),
    ],
)
async def test_every_header_field_refuses_an_encoded_line_break(
    gateway, payload, what, build, field
):
    call = build(payload)
    with pytest.raises(RequestInvalidError) as err:
        await gateway.create_function_call(call)
    assert repr(field) in str(err.value), str(err.value)
    assert await gateway.store.get_request(call_id=call.call_id) is None  # nothing stored


@pytest.mark.parametrize(
    "address",
    [
        "=?utf-8?q?x=0D=0ABcc=3A=20m=40evil.test?=@corp.test",
        "=?utf-8?b?eA0KQmNjOiBt?=@corp.test",
    ],
)
async def test_addresses_refuse_an_encoded_line_break(gateway, address):
    with pytest.raises(ValueError, match="encoded word"):
        normalize_address(address, field="spec.channel.email.address")
    with pytest.raises(RequestInvalidError, match="spec.channel.email.address"):
        await gateway.create_function_call(_fc("a1", address=address))
    extra = [EmailRecipient(address=address)]
    with pytest.raises(RequestInvalidError, match=r"additional_recipients\[0\]"):
        await gateway.create_function_call(_fc("a2", additional_recipients=extra))


async def test_escalation_recipients_refuse_an_encoded_line_break(gateway):
    await gateway.create_function_call(_fc("e1"))
    bad = Escalation(
        escalation_msg="please look",
        additional_recipients=[EmailRecipient(address="=?utf-8?q?a=0Ab?=@corp.test")],
    )
    with pytest.raises(RequestInvalidError, match="encoded word"):
        await gateway.escalate_email("e1", bad)


@pytest.mark.parametrize("payload", INJECTIONS)
async def test_question_first_line_is_neutralised_into_a_plain_subject(gateway, payload):
    contact = HumanContact(
        run_id="r",
        call_id="q1",
        spec=HumanContactSpec(
            msg=f"{payload}\nSecond line",
            channel=ContactChannel(email=EmailContactChannel(address=ALICE)),
        ),
    )
    await gateway.create_human_contact(contact)
    [raw] = await _asks(gateway, "q1")
    headers = _headers(raw)
    assert "reply-to" not in headers and "bcc" not in headers
    assert len(headers["subject"]) == 1
    assert "mallory" in headers["subject"][0] or "m@evil" in headers["subject"][0]
    assert "\n" not in headers["subject"][0] and "\r" not in headers["subject"][0]
    # The To header is exactly the bound recipient.
    assert headers["to"] == [ALICE]


@pytest.mark.parametrize("payload", INJECTIONS)
async def test_human_contact_subject_is_refused(gateway, payload):
    contact = HumanContact(
        run_id="r",
        call_id="q2",
        spec=HumanContactSpec(
            msg="Which plan?",
            subject=payload,
            channel=ContactChannel(email=EmailContactChannel(address=ALICE)),
        ),
    )
    with pytest.raises(RequestInvalidError, match="'subject'"):
        await gateway.create_human_contact(contact)


@pytest.mark.parametrize("payload", INJECTIONS)
def test_agent_name_with_an_encoded_line_break_is_a_config_error(payload):
    with pytest.raises(ConfigError, match="agent.name"):
        load_config(None, agent={"address": AGENT, "name": payload})


async def test_a_harmless_encoded_subject_still_renders(gateway):
    await gateway.create_function_call(_fc("ok1", subject="=?utf-8?q?Caf=C3=A9_refund?="))
    [raw] = await _asks(gateway, "ok1")
    headers = _headers(raw)
    assert headers["subject"] == ["Café refund"]
    assert "reply-to" not in headers
