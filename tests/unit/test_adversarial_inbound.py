"""Adversarial inbound mail: header tricks, reply keys, DMARC, MIME, wording, loops, races.

Every test drives `Gateway.handle_inbound(raw_bytes)` directly (no sockets). A test marked
`xfail(strict=True, reason="BUG: …")` demonstrates a real defect; it turns into an XPASS (and
fails the suite) once the defect is fixed, so the mark must then be removed.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import EmailMessage
from typing import Any

import pytest

from hl_email.config import load_config
from hl_email.core.tokens import ReplyKey, find_reply_keys
from hl_email.gateway import Gateway
from hl_email.models import (
    ContactChannel,
    EmailContactChannel,
    FunctionCall,
    FunctionCallSpec,
)
from hl_email.store import OutboxRow

ALICE = "alice@corp.test"
BOB = "bob@corp.test"
CAROL = "carol@corp.test"
EVE = "eve@evil.test"
AGENT = "agent@example.test"
TRUSTED = {"trusted_authserv_id": "mx.corp.test"}


async def _no_send(mail_from: str, rcpt_to: list[str], data: bytes) -> None:
    return None


MakeGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def make_gateway(tmp_path) -> AsyncIterator[MakeGateway]:
    gateways: list[Gateway] = []

    async def make(
        *,
        routes: list[dict[str, Any]] | None = None,
        db: str = "x.db",
        replies: dict[str, Any] | None = None,
        classifier: Any = None,
        **security: Any,
    ) -> Gateway:
        config = load_config(
            None,
            agent={"address": AGENT},
            imap={"enabled": False},
            store={"url": f"sqlite:///{tmp_path / db}"},
            security={"secret": "adversarial-secret-0123456789-abcdef", **security},
            **({"routes": routes} if routes else {}),
            **({"replies": replies} if replies else {}),
        )
        gateway = Gateway(config, send=_no_send, classifier=classifier)
        await gateway.start(inbound=False, outbox=False, timers=False)
        gateways.append(gateway)
        return gateway

    yield make
    for gateway in gateways:
        await gateway.stop()


async def ask(
    gateway: Gateway,
    *,
    call_id: str = "c1",
    to: str | None = ALICE,
    fn: str = "refund",
    kwargs: dict[str, Any] | None = None,
    subject: str | None = None,
) -> list[OutboxRow]:
    """Create an approval request; return its asks (one per recipient, in recipient order)."""
    channel = ContactChannel(email=EmailContactChannel(address=to, subject=subject)) if to else None
    spec = FunctionCallSpec(fn=fn, kwargs=kwargs or {"amount": 10}, channel=channel)
    await gateway.create_function_call(FunctionCall(run_id="r", call_id=call_id, spec=spec))
    row = await gateway.store.get_request(call_id=call_id)
    assert row is not None
    return [o for o in await gateway.store.outbox_for_request(row.id) if o.purpose == "ask"]


def reply(
    parent: OutboxRow,
    body: str = "Approve",
    *,
    sender: str = ALICE,
    message_id: str = "<r1@corp.test>",
    subject: str | None = None,
    headers: dict[str, str] | None = None,
    quote_parent: bool = False,
) -> bytes:
    """A reply the way a mail client writes it: threading headers, `Re:` subject."""
    original = email.message_from_bytes(parent.message, policy=email.policy.default)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = AGENT
    msg["Subject"] = subject if subject is not None else "Re: " + str(original["Subject"])
    msg["Message-ID"] = message_id
    msg["In-Reply-To"] = parent.message_id
    msg["References"] = parent.message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    if quote_parent:
        part = original.get_body(preferencelist=("plain",))
        quoted = "\n".join("> " + line for line in part.get_content().splitlines())
        body += f"\n\nOn Mon, 1 Jan 2024 at 10:00, Agent <{AGENT}> wrote:\n{quoted}\n"
    msg.set_content(body)
    return msg.as_bytes()


def raw_reply(parent: OutboxRow, rest: bytes, *, sender: bytes = ALICE.encode()) -> bytes:
    """A reply with hand-written headers after the threading ones, and `rest` (more headers,
    a blank line, the body) verbatim. The subject continues the ask's, as a client's does."""
    subject = str(email.message_from_bytes(parent.message, policy=email.policy.default)["Subject"])
    return (
        b"From: " + sender + b"\r\n"
        b"To: " + AGENT.encode() + b"\r\n"
        b"Subject: Re: " + subject.encode() + b"\r\n"
        b"Message-ID: <raw1@corp.test>\r\n"
        b"In-Reply-To: " + parent.message_id.encode() + b"\r\n"
        b"References: " + parent.message_id.encode() + b"\r\n"
        b"MIME-Version: 1.0\r\n" + rest
    )


def with_from(raw: bytes, from_value: bytes) -> bytes:
    """Replace the From header of a reply built by `reply()` with exact bytes."""
    head, sep, body = raw.partition(b"\n\n")
    lines = [
        b"From: " + from_value if line.startswith(b"From:") else line for line in head.split(b"\n")
    ]
    return b"\n".join(lines) + sep + body


async def state(gateway: Gateway, call_id: str = "c1") -> tuple[str, bool | None]:
    row = await gateway.store.get_request(call_id=call_id)
    assert row is not None
    return row.state, row.status.get("approved")


async def outbox_count(gateway: Gateway, call_id: str = "c1") -> int:
    row = await gateway.store.get_request(call_id=call_id)
    assert row is not None
    return len(await gateway.store.outbox_for_request(row.id))


def never_approved(result_state: tuple[str, bool | None]) -> bool:
    return result_state[1] is not True


# ------------------------------------------------------------------------------------------------
# Sender identity: From header tricks
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "from_value",
    [
        b"=?utf-8?q?alice@corp.test?= <eve@evil.test>",
        b'"alice@corp.test" <eve@evil.test>',
        b"eve@evil.test (alice@corp.test)",
        b'"Alice <alice@corp.test>" <eve@evil.test>',
        b"=?utf-8?b?YWxpY2VAY29ycC50ZXN0?= <eve@evil.test>",
        b"\xd0\xb0lice@corp.test",  # Cyrillic a: a confusable, another mailbox
        b"alice@corp.test.evil.test",
        b"alice@corp.test@evil.test",
    ],
)
async def test_from_display_name_and_confusable_tricks_never_approve(make_gateway, from_value):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    outcome = await gateway.handle_inbound(with_from(reply(parent, "Approve"), from_value))
    assert outcome.outcome in ("sender_mismatch", "sender_invalid")
    assert await state(gateway) == ("pending", None)


async def test_multiple_from_headers_refused(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve", sender=EVE).replace(
        b"From: eve@evil.test", b"From: eve@evil.test\nFrom: alice@corp.test"
    )
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome == "sender_invalid"
    assert await state(gateway) == ("pending", None)


@pytest.mark.parametrize(
    "from_value",
    [b"alice@corp.test, eve@evil.test", b"Team: alice@corp.test, eve@evil.test;", b"", b"<>"],
)
async def test_from_with_zero_or_two_addresses_refused(make_gateway, from_value):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    outcome = await gateway.handle_inbound(with_from(reply(parent, "Approve"), from_value))
    assert outcome.outcome == "sender_invalid"
    assert await state(gateway) == ("pending", None)


async def test_sender_and_reply_to_headers_do_not_stand_in_for_from(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve", sender=EVE, headers={"Sender": ALICE, "Reply-To": ALICE})
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome == "sender_mismatch"
    assert await state(gateway) == ("pending", None)


@pytest.mark.parametrize(
    "from_value",
    [b"ALICE@CORP.TEST", b"Alice Example <Alice@Corp.Test>", b"alice@corp.test (Alice)"],
)
async def test_case_and_comments_in_the_real_address_still_match(make_gateway, from_value):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    outcome = await gateway.handle_inbound(with_from(reply(parent, "Approve"), from_value))
    assert outcome.outcome == "applied"
    assert await state(gateway) == ("done", True)


@pytest.mark.parametrize(
    ("asked", "replied"),
    [
        ("alice@bücher.test", "alice@xn--bcher-kva.test"),
        ("alice@xn--bcher-kva.test", "alice@bücher.test"),
    ],
)
async def test_idn_domain_in_unicode_or_punycode_is_the_same_person(make_gateway, asked, replied):
    gateway = await make_gateway()
    [parent] = await ask(gateway, to=asked)
    if replied.isascii():
        raw = reply(parent, "Approve", sender=replied)
    else:
        # As an SMTPUTF8 client writes it: raw UTF-8. (The stdlib's EmailMessage would put an
        # RFC 2047 encoded-word inside the domain, which RFC 2047 forbids and we refuse.)
        raw = raw_reply(
            parent, b"Content-Type: text/plain\r\n\r\nApprove\r\n", sender=replied.encode()
        )
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome == "applied"


async def test_invalid_utf8_in_headers_does_not_crash(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    raw = raw_reply(
        parent,
        b"X-Junk: \xff\xfe\xfd\r\nContent-Type: text/plain\r\n\r\nApprove\r\n",
        sender=b"\xff\xfe <alice@corp.test>",
    ).replace(b"Subject: Re: ", b"Subject: Re: \xff\xfe ")
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome == "applied"


# ------------------------------------------------------------------------------------------------
# Reply keys
# ------------------------------------------------------------------------------------------------


def _key_of(parent: OutboxRow) -> ReplyKey:
    [key] = find_reply_keys(parent.message_id)
    return key


def _rethread(raw: bytes, parent: OutboxRow, message_id: str) -> bytes:
    return raw.replace(parent.message_id.encode(), message_id.encode())


@pytest.mark.parametrize(
    "mutate",
    [
        lambda k: ReplyKey(
            k.request_id, k.recipient_seq, k.mac[:-1] + ("a" if k.mac[-1] != "a" else "b")
        ),
        lambda k: ReplyKey(k.request_id, k.recipient_seq + 1, k.mac),
        lambda k: ReplyKey(k.request_id, k.recipient_seq, "a" * 20),
    ],
    ids=["flipped-mac", "other-slot", "zero-mac"],
)
async def test_forged_or_modified_reply_key_never_approves(make_gateway, mutate):
    gateway = await make_gateway(routes=[{"name": "r", "fn": "*", "to": [ALICE, BOB]}])
    parents = await ask(gateway, to=None)
    forged = mutate(_key_of(parents[0]))
    raw = _rethread(reply(parents[0], "Approve"), parents[0], f"<{forged}.1@example.test>")
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome in ("bad_key", "unknown_key")
    assert await state(gateway) == ("pending", None)


async def test_truncated_mac_matches_nothing(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    key = _key_of(parent)
    truncated = f"<hl1-{key.request_id}-{key.recipient_seq}-{key.mac[:12]}.1@example.test>"
    outcome = await gateway.handle_inbound(_rethread(reply(parent, "Approve"), parent, truncated))
    assert outcome.outcome != "applied"
    assert await state(gateway) == ("pending", None)


async def test_key_of_one_request_cannot_answer_another(make_gateway):
    gateway = await make_gateway()
    [parent_a] = await ask(gateway, call_id="a")
    [parent_b] = await ask(gateway, call_id="b")
    key_a, key_b = _key_of(parent_a), _key_of(parent_b)
    # request id of B with the MAC of A
    spliced = f"<hl1-{key_b.request_id}-0-{key_a.mac}.1@example.test>"
    outcome = await gateway.handle_inbound(_rethread(reply(parent_a, "Approve"), parent_a, spliced))
    assert outcome.outcome == "bad_key"
    assert await state(gateway, "a") == ("pending", None)
    assert await state(gateway, "b") == ("pending", None)


async def test_key_of_recipient_0_with_from_of_recipient_1_is_refused(make_gateway):
    gateway = await make_gateway(routes=[{"name": "r", "fn": "*", "to": [ALICE, BOB]}])
    alice_ask, _bob_ask = await ask(gateway, to=None)
    outcome = await gateway.handle_inbound(reply(alice_ask, "Approve", sender=BOB))
    assert outcome.outcome == "sender_mismatch"
    assert await state(gateway) == ("pending", None)


async def test_newest_reference_wins_over_older_thread(make_gateway):
    gateway = await make_gateway()
    [parent_a] = await ask(gateway, call_id="a")
    [parent_b] = await ask(gateway, call_id="b")
    raw = reply(parent_b, "Approve")
    raw = raw.replace(
        b"References: " + parent_b.message_id.encode(),
        b"References: " + parent_a.message_id.encode() + b" " + parent_b.message_id.encode(),
    )
    raw = raw.replace(b"In-Reply-To: " + parent_b.message_id.encode(), b"In-Reply-To: <x@y>")
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome == "applied"
    assert await state(gateway, "a") == ("pending", None)
    assert await state(gateway, "b") == ("done", True)


async def test_body_ref_key_from_the_wrong_sender_is_refused(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    key = _key_of(parent)
    msg = EmailMessage()
    msg["From"] = EVE
    msg["To"] = AGENT
    msg["Subject"] = "approve"
    msg["Message-ID"] = "<eve1@evil.test>"
    msg.set_content(f"Approve\n\n> Ref: {key}\n")
    outcome = await gateway.handle_inbound(msg.as_bytes())
    assert outcome.outcome == "sender_mismatch"
    assert await state(gateway) == ("pending", None)


async def test_body_ref_line_is_not_read_as_the_answer(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    key = _key_of(parent)
    msg = EmailMessage()
    msg["From"] = ALICE
    msg["To"] = AGENT
    msg["Subject"] = "Re: refund"
    msg["Message-ID"] = "<mailto1@corp.test>"
    msg.set_content(f"Ref: {key}\n")
    outcome = await gateway.handle_inbound(msg.as_bytes())
    assert outcome.outcome == "unclear_asked_again"
    assert await state(gateway) == ("pending", None)


# ------------------------------------------------------------------------------------------------
# Authentication-Results (DMARC) with a trusted authserv-id
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "results",
    [
        ["mx.corp.test; dmarc=fail (dmarc=pass) header.from=corp.test"],
        ["mx.corp.test; spf=pass (dmarc=pass header.from=corp.test)"],
        ["evil.test; dmarc=pass header.from=corp.test"],
        ["mx.corp.test.evil.test; dmarc=pass header.from=corp.test"],
        ["mx.corp.test; dmarc=pass header.from=corp.test", "mx.corp.test; dmarc=fail"],
        ["mx.corp.test; dmarc=pass header.from=corp.test; dmarc=fail header.from=corp.test"],
        ["mx.corp.test; dmarc=pass header.from=evil.test"],
        ["mx.corp.test; dmarc=none header.from=corp.test"],
        [],
    ],
)
async def test_dmarc_tricks_never_approve(make_gateway, results):
    gateway = await make_gateway(**TRUSTED)
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve")
    for value in results:
        raw = raw.replace(b"From: ", b"Authentication-Results: " + value.encode() + b"\nFrom: ", 1)
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome == "dmarc_failed"
    assert await state(gateway) == ("pending", None)


@pytest.mark.parametrize(
    "value",
    [
        "mx.corp.test; dmarc=pass header.from=corp.test",
        "MX.CORP.TEST;   DMARC=PASS  (p=reject) header.from=CORP.TEST",
        "mx.corp.test 1; spf=pass smtp.mailfrom=corp.test; dmarc=pass header.from=corp.test",
    ],
)
async def test_dmarc_pass_from_trusted_server_is_accepted(make_gateway, value):
    gateway = await make_gateway(**TRUSTED)
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve", headers={"Authentication-Results": value})
    assert (await gateway.handle_inbound(raw)).outcome == "applied"


@pytest.mark.parametrize(
    "from_value", [b"alice@corp.test <eve@evil.test>", b"<alice@corp.test>@evil.test"]
)
async def test_ambiguous_from_with_dmarc_pass_lacking_header_from(make_gateway, from_value):
    gateway = await make_gateway(**TRUSTED)
    [parent] = await ask(gateway)  # Eve holds Alice's key (say Alice forwarded the ask)
    raw = with_from(
        reply(parent, "Approve", headers={"Authentication-Results": "mx.corp.test; dmarc=pass"}),
        from_value,
    )
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome != "applied"
    assert never_approved(await state(gateway))


# ------------------------------------------------------------------------------------------------
# MIME tricks: which text is read
# ------------------------------------------------------------------------------------------------

B = b"BOUNDARY"


async def test_plain_part_wins_over_html_part(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    rest = (
        b'Content-Type: multipart/alternative; boundary="BOUNDARY"\r\n\r\n'
        b"--BOUNDARY\r\nContent-Type: text/html\r\n\r\n<p>Approve</p>\r\n"
        b"--BOUNDARY\r\nContent-Type: text/plain\r\n\r\nReject, too much\r\n--BOUNDARY--\r\n"
    )
    outcome = await gateway.handle_inbound(raw_reply(parent, rest))
    assert outcome.verdict == "reject"
    assert await state(gateway) == ("done", False)


@pytest.mark.parametrize(
    "rest",
    [
        # an attached .eml that says APPROVE
        b'Content-Type: multipart/mixed; boundary="BOUNDARY"\r\n\r\n'
        b"--BOUNDARY\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--BOUNDARY\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: alice@corp.test\r\nSubject: x\r\n\r\nAPPROVE\r\n--BOUNDARY--\r\n",
        # the same, inline disposition and an empty text part
        b'Content-Type: multipart/mixed; boundary="BOUNDARY"\r\n\r\n'
        b"--BOUNDARY\r\nContent-Type: text/plain\r\n\r\n\r\n"
        b"--BOUNDARY\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
        b"From: alice@corp.test\r\nSubject: x\r\n\r\nAPPROVE\r\n--BOUNDARY--\r\n",
        # a text attachment that says APPROVE
        b'Content-Type: multipart/mixed; boundary="BOUNDARY"\r\n\r\n'
        b"--BOUNDARY\r\nContent-Type: text/plain\r\n"
        b"Content-Disposition: attachment; filename=a.txt\r\n\r\nAPPROVE\r\n--BOUNDARY--\r\n",
        # Outlook-style HTML: no new text, the quoted ask below a header block
        b"Content-Type: text/html\r\n\r\n<div></div><div id=divRplyFwdMsg><b>From:</b> agent"
        b"<br><b>Sent:</b> Monday<br><b>To:</b> alice<br><b>Subject:</b> x</div>"
        b"<div>Approve refund?</div>\r\n",
        # the approval only in a quote
        b"Content-Type: text/plain\r\n\r\n> Approve\r\n",
        # charset lie: utf-16 declared, ASCII bytes
        b"Content-Type: text/plain; charset=utf-16\r\n\r\nApprove\r\n",
        # NUL inside the word
        b"Content-Type: text/plain\r\n\r\nAppr\x00ove\r\n",
        b"Content-Type: text/plain\r\n\r\nApprove\x00\r\nNo\r\n",
    ],
    ids=[
        "attached-eml",
        "attached-eml-inline",
        "attached-txt",
        "outlook-html-only-quote",
        "only-quoted",
        "charset-lie",
        "nul-in-word",
        "nul-then-no",
    ],
)
async def test_mime_tricks_never_approve(make_gateway, rest):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    outcome = await gateway.handle_inbound(raw_reply(parent, rest))
    assert outcome.outcome != "applied"
    assert await state(gateway) == ("pending", None)


async def test_forwarded_message_as_whole_body_does_not_approve(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    rest = (
        b"Content-Type: message/rfc822\r\n\r\n"
        b"From: bob@corp.test\r\nSubject: what bob thinks\r\n\r\nApprove\r\n"
    )
    outcome = await gateway.handle_inbound(raw_reply(parent, rest))
    assert outcome.outcome != "applied"
    assert await state(gateway) == ("pending", None)


@pytest.mark.parametrize(
    "rest",
    [
        b"Content-Type: text/plain; charset=x-bogus\r\n\r\nApprove\r\n",
        b"Content-Type: text/plain; charset=utf-7\r\n\r\n+AEEAcABwAHIAbwB2AGU-\r\n",
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!%%QXBwcm92ZQ==**\r\n",
    ],
    ids=["unknown-charset", "utf-7", "base64-garbage-around-valid"],
)
async def test_odd_encodings_of_a_real_approval_are_read(make_gateway, rest):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    assert (await gateway.handle_inbound(raw_reply(parent, rest))).outcome == "applied"


async def test_five_megabyte_body_is_not_an_approval(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    rest = b"Content-Type: text/plain\r\n\r\nApprove\r\n" + b"lorem ipsum dolor sit\r\n" * 230_000
    outcome = await gateway.handle_inbound(raw_reply(parent, rest))
    assert outcome.outcome != "applied"
    assert await state(gateway) == ("pending", None)


async def test_deeply_nested_multiparts_do_not_kill_the_watcher(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    depth = 5000
    rest = b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    rest += b"".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'.encode()
        for i in range(depth)
    )
    rest += f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nApprove\r\n".encode()
    outcome = await gateway.handle_inbound(raw_reply(parent, rest))
    assert outcome.outcome != "applied"
    assert await state(gateway) == ("pending", None)
    # and the gateway still works afterwards
    assert (await gateway.handle_inbound(reply(parent, "Approve"))).outcome == "applied"


@pytest.mark.parametrize(
    "raw", [b"", b"\x00\xff" * 1000, b"\r\n\r\n\r\n", b"From: x\r\n" * 5000, b"\xff" * 100_000]
)
async def test_garbage_gets_a_stored_outcome(make_gateway, raw):
    gateway = await make_gateway()
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome
    assert await gateway.store.list_inbound()


async def test_large_lf_only_message_keeps_its_headers_for_audit(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve\n" + "x" * 2_100_000).replace(b"\r\n", b"\n")
    await gateway.handle_inbound(raw)
    [record] = await gateway.store.list_inbound()
    assert record.raw is not None and b"Message-ID" in record.raw


# ------------------------------------------------------------------------------------------------
# Wording: decide() reached through the gateway
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Yes — wait, no",
        "NOT approved",
        "I can't approve",
        "approve? ",
        "Approve?",
        "👍👎",
        "ap\u200bprove",
        "\u202eevorppa",
        "Yes.\nNo.",
        "yes\nno",
        "Yes. Don't.",
        "Yes, but only half",
        "Not sure, approve",
        "Absolutely not",
        "Yes.\nnot approved",
        "ok\u2028no",
        "Approve\u2029No",
        "Sure, go ahead and reject it",
        "Please don't approve",
        "Approve if the amount is under 5",
        "Ápprove",
        "аpprove",  # Cyrillic a
        "Approve. Actually, reject it.",
    ],
)
async def test_unclear_or_negative_wording_never_approves(make_gateway, body):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    await gateway.handle_inbound(reply(parent, body))
    assert never_approved(await state(gateway))


async def test_quoted_no_below_new_approve_is_an_approval(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    assert (await gateway.handle_inbound(reply(parent, "approve\n\n> no"))).verdict == "approve"


async def test_reply_with_quoted_ask_and_no_new_text_is_not_an_approval(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    outcome = await gateway.handle_inbound(reply(parent, "", quote_parent=True))
    assert outcome.outcome == "unclear_asked_again"


@pytest.mark.parametrize(
    "body",
    [
        "Yes.\nNope.",
        "Approve. Never.",
        "Approved.\nNah, actually not.",
        "Yes.\nNon.",
        "yes\n-1",
        "Ok.\nNever mind.",
    ],
)
async def test_retraction_in_a_later_sentence_never_approves(make_gateway, body):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    await gateway.handle_inbound(reply(parent, body))
    assert never_approved(await state(gateway))


@pytest.mark.parametrize("body", ["Approved — not!", "Approved... NOT", "Approve -- NOT"])
async def test_approve_then_punctuated_not_never_approves(make_gateway, body):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    await gateway.handle_inbound(reply(parent, body))
    assert never_approved(await state(gateway))


# ------------------------------------------------------------------------------------------------
# Classification of real replies by the subject of our own ask
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["Order 4711 not delivered: refund?", "Refund for undeliverable parcel 4711"],
)
async def test_reply_to_an_ask_about_delivery_problems_is_not_a_bounce(make_gateway, subject):
    gateway = await make_gateway()
    [parent] = await ask(gateway, subject=subject)
    outcome = await gateway.handle_inbound(reply(parent, "Approve"))
    assert outcome.outcome == "applied"
    assert await state(gateway) == ("done", True)


@pytest.mark.parametrize(
    "subject", ["Vacation request from Bob", "Approve Bob's annual leave", "Absent days: payroll"]
)
async def test_reply_to_an_ask_about_vacation_is_not_an_auto_reply(make_gateway, subject):
    gateway = await make_gateway()
    [parent] = await ask(gateway, subject=subject)
    outcome = await gateway.handle_inbound(reply(parent, "Approve"))
    assert outcome.outcome == "applied"


async def test_auto_reply_saying_approve_is_ignored(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    for i, headers in enumerate(
        [{"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"Precedence": "auto_reply"}]
    ):
        raw = reply(parent, "OK, approved", message_id=f"<auto{i}@corp.test>", headers=headers)
        assert (await gateway.handle_inbound(raw)).outcome == "auto_reply"
    raw = reply(parent, "Yes", message_id="<ooo@corp.test>", subject="Automatic reply: refund")
    assert (await gateway.handle_inbound(raw)).outcome == "auto_reply"
    assert await state(gateway) == ("pending", None)


async def test_bounce_with_a_forged_key_does_not_fail_the_recipient(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    key = _key_of(parent)
    forged = f"<hl1-{key.request_id}-0-{'a' * 20}.1@example.test>"
    msg = EmailMessage()
    msg["From"] = "MAILER-DAEMON@corp.test"
    msg["To"] = AGENT
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Message-ID"] = "<bounce1@corp.test>"
    msg.set_content(f"user unknown\n\nMessage-ID: {forged}\n")
    outcome = await gateway.handle_inbound(msg.as_bytes())
    assert outcome.outcome == "bounce_unverified"  # recorded, and it changes nothing
    assert await state(gateway) == ("pending", None)


# ------------------------------------------------------------------------------------------------
# Mail loops
# ------------------------------------------------------------------------------------------------


async def test_robot_without_auto_headers_gets_a_bounded_number_of_clarifications(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    counts = []
    for i in range(8):
        raw = reply(parent, "Thank you for your message, we received it.", message_id=f"<b{i}@x>")
        await gateway.handle_inbound(raw)
        counts.append(await outbox_count(gateway))
    assert counts[-1] == counts[-4]  # it stopped
    assert counts[-1] <= 1 + gateway.config.replies.max_clarifications


async def test_robot_after_decision_gets_at_most_two_notes(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    await gateway.handle_inbound(reply(parent, "Approve", message_id="<a@corp.test>"))
    before = await outbox_count(gateway)
    for i in range(6):
        outcome = await gateway.handle_inbound(reply(parent, "Thanks!", message_id=f"<l{i}@x>"))
        assert outcome.outcome == "late"
    assert await outbox_count(gateway) - before <= 2
    assert await state(gateway) == ("done", True)


async def test_out_of_office_with_delegate_is_not_a_mail_loop(make_gateway):
    gateway = await make_gateway(
        routes=[{"name": "r", "fn": "*", "to": [ALICE], "delegates": {ALICE: "dave@corp.test"}}]
    )
    await ask(gateway, to=None)
    row = await gateway.store.get_request(call_id="c1")
    counts = []
    for i in range(6):
        latest = [
            o for o in await gateway.store.outbox_for_request(row.id) if o.rcpt_to == [ALICE]
        ][-1]
        raw = reply(
            latest, "I am out of the office.", message_id=f"<ooo{i}@x>", subject="Out of office"
        )
        assert (await gateway.handle_inbound(raw)).outcome == "auto_reply"
        counts.append(await outbox_count(gateway))
    assert counts[-1] == counts[0], f"outbox grows with each auto-reply: {counts}"


# ------------------------------------------------------------------------------------------------
# Message-IDs
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message_id",
    [
        b"<" + b"a" * 5000 + b"@corp.test>",
        b"<\xc3\xa9@corp.test>",
        b"<a b@corp.test>",
        b"no-brackets",
        b"<\xff\xfe@corp.test>",
        b"<a@corp.test>\r\n <b@corp.test>",
    ],
)
async def test_odd_message_ids_still_apply_once(make_gateway, message_id):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve", message_id="<tmp@x>").replace(b"<tmp@x>", message_id)
    assert (await gateway.handle_inbound(raw)).outcome == "applied"
    assert (await gateway.handle_inbound(raw)).outcome == "duplicate"
    assert await state(gateway) == ("done", True)


@pytest.mark.parametrize(
    "message_id", [b"<a\x00b@corp.test>", b"=?utf-8?q?a=0Db?=@corp.test", b"<\xe2\x80\xa8@x>"]
)
async def test_control_characters_in_message_id_do_not_lose_the_answer(make_gateway, message_id):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve", message_id="<tmp@x>").replace(b"<tmp@x>", message_id)
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome == "applied"
    assert await state(gateway) == ("done", True)


async def test_reply_without_message_id_is_deduplicated_by_content(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve").replace(b"Message-ID: <r1@corp.test>\n", b"")
    assert b"Message-ID" not in raw
    assert (await gateway.handle_inbound(raw)).outcome == "applied"
    assert (await gateway.handle_inbound(raw)).outcome == "duplicate"


# ------------------------------------------------------------------------------------------------
# Concurrency and several responders
# ------------------------------------------------------------------------------------------------


async def test_same_reply_delivered_five_times_in_parallel_applies_once(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve")
    results = await asyncio.gather(*(gateway.handle_inbound(raw) for _ in range(5)))
    assert sorted(r.outcome for r in results) == ["applied"] + ["duplicate"] * 4
    assert await outbox_count(gateway) == 2  # the ask and one confirmation


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("any", ("done", True)), ("all", ("done", True)), ("quorum", ("done", True))],
)
async def test_two_people_answering_at_the_same_moment(make_gateway, policy, expected):
    route = {"name": "r", "fn": "*", "to": [ALICE, BOB], "policy": policy}
    if policy == "quorum":
        route["quorum"] = 2
    gateway = await make_gateway(routes=[route])
    alice_ask, bob_ask = await ask(gateway, to=None)
    results = await asyncio.gather(
        gateway.handle_inbound(reply(alice_ask, "Approve", message_id="<a@corp.test>")),
        gateway.handle_inbound(reply(bob_ask, "Approve", sender=BOB, message_id="<b@corp.test>")),
    )
    assert {r.outcome for r in results} <= {"applied", "vote_recorded", "late"}
    assert await state(gateway) == expected


async def test_all_policy_one_reject_at_the_same_moment_rejects(make_gateway):
    route = {"name": "r", "fn": "*", "to": [ALICE, BOB], "policy": "all"}
    gateway = await make_gateway(routes=[route])
    alice_ask, bob_ask = await ask(gateway, to=None)
    await asyncio.gather(
        gateway.handle_inbound(reply(alice_ask, "Approve", message_id="<a@corp.test>")),
        gateway.handle_inbound(
            reply(bob_ask, "Reject, no", sender=BOB, message_id="<b@corp.test>")
        ),
    )
    assert await state(gateway) == ("done", False)


async def test_same_person_cannot_vote_twice_under_quorum(make_gateway):
    route = {"name": "r", "fn": "*", "to": [ALICE, BOB, CAROL], "policy": "quorum", "quorum": 2}
    gateway = await make_gateway(routes=[route])
    alice_ask, *_ = await ask(gateway, to=None)
    await gateway.handle_inbound(reply(alice_ask, "Approve", message_id="<a1@corp.test>"))
    outcome = await gateway.handle_inbound(reply(alice_ask, "Yes", message_id="<a2@corp.test>"))
    assert outcome.outcome == "already_answered"
    assert await state(gateway) == ("pending", None)


async def test_subaddress_does_not_count_as_a_second_person(make_gateway):
    route = {
        "name": "r",
        "fn": "*",
        "to": [ALICE, BOB, CAROL],
        "policy": "quorum",
        "quorum": 2,
        "responders": ["@corp.test"],
    }
    gateway = await make_gateway(routes=[route])
    alice_ask, *_ = await ask(gateway, to=None)
    await gateway.handle_inbound(reply(alice_ask, "Approve", message_id="<p1@corp.test>"))
    await gateway.handle_inbound(
        reply(alice_ask, "Approve", sender="alice+again@corp.test", message_id="<p2@corp.test>")
    )
    assert await state(gateway) == ("pending", None)


async def test_two_gateways_on_one_store_keep_both_votes(make_gateway):
    route = {"name": "r", "fn": "*", "to": [ALICE, BOB, CAROL], "policy": "quorum", "quorum": 2}
    first = await make_gateway(routes=[route], db="shared.db")
    second = await make_gateway(routes=[route], db="shared.db")
    alice_ask, bob_ask, _ = await ask(first, to=None)
    alice_reply = reply(alice_ask, "Approve", message_id="<a@corp.test>")
    commit = second.store.commit
    done: list[bool] = []

    async def commit_after_the_other_gateway(**kw: Any) -> bool:
        # Deterministic interleaving: the first gateway handles Alice's reply completely
        # after the second one has read the request for Bob's reply, before it commits.
        inbound = kw.get("inbound")
        if inbound is not None and inbound.dedupe_key == "mid:<b@corp.test>" and not done:
            done.append(True)  # interleave once; the retry then sees Alice's vote
            assert (await first.handle_inbound(alice_reply)).outcome == "vote_recorded"
        return await commit(**kw)

    second.store.commit = commit_after_the_other_gateway  # type: ignore[method-assign]
    await second.handle_inbound(reply(bob_ask, "Approve", sender=BOB, message_id="<b@corp.test>"))
    row = await first.store.get_request(call_id="c1")
    assert row is not None
    voters = sorted(v["address"] for v in row.status.get("responders") or [])
    assert voters == [ALICE, BOB]
    assert await state(first) == ("done", True)


# ------------------------------------------------------------------------------------------------
# Issue 9: closed grammar through the gateway, approval codes, right thread, classifier hook
# ------------------------------------------------------------------------------------------------


def _ask_texts(parent: OutboxRow) -> tuple[str, str]:
    msg = email.message_from_bytes(parent.message, policy=email.policy.default)
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return plain, html


async def _last_clarification(gateway: Gateway) -> str:
    row = await gateway.store.get_request(call_id="c1")
    assert row is not None
    [clarify] = [
        o for o in await gateway.store.outbox_for_request(row.id) if o.purpose == "clarify"
    ]
    msg = email.message_from_bytes(clarify.message, policy=email.policy.default)
    return msg.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.parametrize(
    "body",
    [
        "Approve.\n\nSent from my iPhone\n\nWait, no!",
        "Yes pending legal review",
        "Approve it for $50 instead",
        "Ok, noted.",
        "Sure, I'll look at it tomorrow",
        "Ask Bob to approve it",
        "I agree with the rejection",
        "Sure, approve it, what could go wrong",
        "Yes, I don´t approve",
        "Ok, noted\u200b",
        "是的，我不同意",
        "Approved\n\n-- \nAlice\n\nPS: scratch that",
    ],
)
async def test_not_plain_yes_never_approves_and_the_question_says_why(make_gateway, body):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    outcome = await gateway.handle_inbound(reply(parent, body))
    assert outcome.outcome == "unclear_asked_again"
    assert never_approved(await state(gateway))
    assert "I read" in await _last_clarification(gateway)


async def test_clarification_names_the_condition(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    await gateway.handle_inbound(reply(parent, "Yes pending legal review"))
    text = await _last_clarification(gateway)
    assert "I read a condition: 'Yes pending legal review'" in text


async def test_rejection_comment_keeps_the_humans_negation(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    await gateway.handle_inbound(reply(parent, "No, don't do this.\n\n-- \nAlice\nFinance"))
    row = await gateway.store.get_request(call_id="c1")
    assert row is not None and row.status["approved"] is False
    assert row.status["comment"] == "don't do this."


async def test_classifier_hook_can_never_approve(make_gateway):
    seen: list[str] = []

    def classifier(text: str) -> Any:
        from hl_email.replies import Decision

        seen.append(text)
        return Decision("approve", comment="the model says yes")

    gateway = await make_gateway(classifier=classifier)
    [parent] = await ask(gateway)
    outcome = await gateway.handle_inbound(reply(parent, "hmm, sure why not"))
    assert seen and outcome.outcome == "unclear_asked_again"
    assert await state(gateway) == ("pending", None)


async def test_classifier_hook_may_turn_unclear_into_a_rejection(make_gateway):
    from hl_email.replies import Decision

    gateway = await make_gateway(classifier=lambda text: Decision("reject", comment="too risky"))
    [parent] = await ask(gateway)
    await gateway.handle_inbound(reply(parent, "hmm, that customer again"))
    assert await state(gateway) == ("done", False)


@pytest.mark.parametrize("where", ["config", "route"])
async def test_approval_code_flow(make_gateway, where):
    import re
    from urllib.parse import unquote

    if where == "config":
        gateway = await make_gateway(replies={"approval": "code"})
    else:
        gateway = await make_gateway(
            routes=[{"name": "high", "fn": "*", "to": [ALICE], "approval": "code"}]
        )
    [parent] = await ask(gateway)
    plain, html = _ask_texts(parent)
    match = re.search(r"^Approval code: ([A-Z2-9]{6})\s*$", plain, re.M)
    assert match, plain
    code = match.group(1)
    assert not set(code) & set("ILO01")
    assert "Approval code: <strong" in html and code in html
    mailto = re.search(r'href="(mailto:[^"]+)"', html).group(1)  # the APPROVE button
    assert f"APPROVE {code}" in unquote(mailto)
    # the approve word alone is not enough
    first = await gateway.handle_inbound(reply(parent, "Approve", message_id="<r1@corp.test>"))
    assert first.outcome == "unclear_asked_again"
    clarification = await _last_clarification(gateway)
    assert "approval code" in clarification
    assert f"Approval code: {code}" in clarification  # the follow-up shows the code again
    wrong = await gateway.handle_inbound(
        reply(parent, "Approve ABCDEF", message_id="<r2@corp.test>")
    )
    assert wrong.outcome == "unclear_asked_again"
    assert await state(gateway) == ("pending", None)
    ok = await gateway.handle_inbound(
        reply(parent, f"APPROVE {code}\n\nSent from my iPhone", message_id="<r3@corp.test>")
    )
    assert (ok.outcome, ok.verdict) == ("applied", "approve")
    assert await state(gateway) == ("done", True)


async def test_approval_code_is_bound_to_request_and_recipient():
    from hl_email.core.tokens import APPROVAL_CODE_ALPHABET, approval_code

    codes = {
        approval_code("s", "req001", 1, ALICE),
        approval_code("s", "req001", 2, BOB),
        approval_code("s", "req002", 1, ALICE),
        approval_code("t", "req001", 1, ALICE),
    }
    assert len(codes) == 4
    assert approval_code("s", "req001", 1, ALICE) == approval_code(
        "s", "req001", 1, "Alice@Corp.test"
    )
    assert all(len(c) == 6 and set(c) <= set(APPROVAL_CODE_ALPHABET) for c in codes)


async def test_reply_key_on_an_unrelated_email_is_not_an_answer(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    # Someone learned the reply key and got Alice to answer a different email with it.
    raw = reply(parent, "Yes, sounds good!", subject="Lunch on Friday?")
    outcome = await gateway.handle_inbound(raw)
    assert outcome.outcome == "unclear_asked_again"
    assert await state(gateway) == ("pending", None)
    row = await gateway.store.get_request(call_id="c1")
    [clarify] = [
        o for o in await gateway.store.outbox_for_request(row.id) if o.purpose == "clarify"
    ]
    msg = email.message_from_bytes(clarify.message, policy=email.policy.default)
    # answered in the request's own thread, not threaded onto the unrelated email
    assert "<r1@corp.test>" not in str(msg["References"] or "")
    assert parent.message_id in str(msg["References"])
    assert str(msg["Subject"]).endswith(str(email.message_from_bytes(parent.message)["Subject"]))
    assert "does not answer ours" in msg.get_body(preferencelist=("plain",)).get_content()


async def test_other_subject_with_our_quote_still_answers(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    raw = reply(parent, "Approve", subject="Fwd: that refund", quote_parent=True)
    assert (await gateway.handle_inbound(raw)).verdict == "approve"


@pytest.mark.parametrize(
    ("html", "approved"),
    [
        (b"<p>Approve</p><blockquote>No, never</blockquote>", True),
        (b"<div>Hi,</div><blockquote>Approve</blockquote>", False),
        (b"<blockquote><p>Yes, approved</p></blockquote>", False),
    ],
)
async def test_blockquoted_html_never_counts_toward_an_approval(make_gateway, html, approved):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    rest = (
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>" + html + b"</body></html>\r\n"
    )
    await gateway.handle_inbound(raw_reply(parent, rest))
    assert (await state(gateway))[1] is (True if approved else None)


# -- every part a reader may see must approve --------------------------------------------------

_IMAGE = (
    b"--b\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
)


@pytest.mark.parametrize(
    "rest",
    [
        # Apple Mail splits a body around an inline image: the text after it counts too.
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nApprove\r\n"
        + _IMAGE
        + b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbut only for $5\r\n--b--\r\n",
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nApproved.\r\n"
        + _IMAGE
        + b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nActually no. Reject.\r\n--b--\r\n",
        # The formatted part (what an HTML client shows) says no.
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nApprove\r\n"
        b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<div>No, don't do it.</div>\r\n--b--\r\n",
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYes\r\n"
        b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<div>Yes, after the audit next week.</div>\r\n--b--\r\n",
    ],
    ids=["image-split-condition", "image-split-retraction", "html-says-no", "html-defers"],
)
async def test_parts_that_disagree_never_approve(make_gateway, rest):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    outcome = await gateway.handle_inbound(raw_reply(parent, rest))
    assert outcome.outcome != "applied"
    assert await state(gateway) == ("pending", None)


async def test_plain_and_html_twins_of_one_approval_approve(make_gateway):
    gateway = await make_gateway()
    [parent] = await ask(gateway)
    rest = (
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nApproved, thanks!\r\n"
        b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b'<div dir="ltr"><b>Approved</b>, thanks!</div>\r\n--b--\r\n'
    )
    assert (await gateway.handle_inbound(raw_reply(parent, rest))).outcome == "applied"
    assert await state(gateway) == ("done", True)


async def test_policy_all_needs_everyone_asked_not_just_an_extra_responder(make_gateway):
    """Under "all", a responder the route also lets answer adds a vote; it never stands in
    for a person who was asked."""
    route = {"name": "r", "fn": "*", "to": [ALICE], "policy": "all", "responders": [ALICE, BOB]}
    gateway = await make_gateway(routes=[route])
    [alice_ask] = await ask(gateway, to=None)
    await gateway.handle_inbound(
        reply(alice_ask, "Approve", sender=BOB, message_id="<bob@corp.test>")
    )
    assert await state(gateway) == ("pending", None)
    await gateway.handle_inbound(reply(alice_ask, "Approve", message_id="<alice@corp.test>"))
    assert await state(gateway) == ("done", True)


async def test_out_of_office_delegate_is_asked_after_a_conflicting_write(make_gateway):
    """A version conflict on the escalation (another writer touched the request) makes the
    message be handled again; the delegate must still be asked then."""
    from hl_email.store.base import CommitResult

    gateway = await make_gateway(
        routes=[{"name": "r", "fn": "*", "to": [ALICE], "delegates": {ALICE: "dave@corp.test"}}]
    )
    [parent] = await ask(gateway, to=None)
    commit = gateway.store.commit
    conflicted: list[bool] = []

    async def conflict_once(**kw: Any) -> Any:
        if kw.get("inbound") is not None and not conflicted:
            conflicted.append(True)
            return CommitResult.CONFLICT
        return await commit(**kw)

    gateway.store.commit = conflict_once  # type: ignore[method-assign]
    raw = reply(parent, "I am out of the office.", message_id="<ooo@x>", subject="Out of office")
    assert (await gateway.handle_inbound(raw)).outcome == "auto_reply"
    assert conflicted
    row = await gateway.store.get_request(call_id="c1")
    assert any(
        o.rcpt_to == ["dave@corp.test"] for o in await gateway.store.outbox_for_request(row.id)
    )
