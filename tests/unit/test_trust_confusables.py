"""Address confusables (issue 10, item 7): the bound recipient and the DMARC header.from domain
are compared on the exact ASCII/IDNA form; full-width and ideographic dots are never folded."""

from __future__ import annotations

import email
import email.policy

import pytest

from hl_email.core.addresses import ascii_domain, normalize_address
from hl_email.replies.authorize import dmarc_verdict, sender_address

LOOKALIKES = [
    "alice@corp\u3002test",  # ideographic full stop
    "alice@corp\uff0etest",  # full-width full stop
    "alice@corp\uff61test",  # half-width ideographic full stop
    "alice@\uff43orp.test",  # full-width c
    "alice@\uff23\uff2f\uff32\uff30.test",  # full-width CORP
]


@pytest.mark.parametrize("address", LOOKALIKES)
def test_lookalike_domains_are_not_folded_into_the_real_one(address):
    with pytest.raises(ValueError, match="look-alike"):
        normalize_address(address, field="spec.channel.email.address")
    msg = email.message_from_bytes(
        f"From: {address}\r\nSubject: Re: x\r\n\r\nApprove\r\n".encode(),
        policy=email.policy.default,
    )
    sender, why = sender_address(msg)
    assert sender is None and "look-alike" in why


def test_real_idn_domains_still_match_in_either_form():
    assert normalize_address("alice@xn--bcher-kva.test") == "alice@bücher.test"
    assert normalize_address("Alice@BÜCHER.test") == "alice@bücher.test"
    assert ascii_domain("bücher.test") == ascii_domain("xn--bcher-kva.test") == "xn--bcher-kva.test"
    assert ascii_domain("corp\u3002test") is None


def _with_results(header_from: str) -> email.message.Message:
    raw = (
        "From: alice@corp.test\r\n"
        f"Authentication-Results: mx.corp.test; dmarc=pass header.from={header_from}\r\n"
        "Subject: Re: x\r\n\r\nApprove\r\n"
    ).encode()
    return email.message_from_bytes(raw, policy=email.policy.default)


@pytest.mark.parametrize(
    "header_from", ["corp\u3002test", "corp\uff0etest", "\uff43orp.test", "corp.test.evil.test"]
)
def test_dmarc_header_from_is_compared_exactly(header_from):
    result = dmarc_verdict(_with_results(header_from), "mx.corp.test", "alice@corp.test")
    assert not result.ok


def test_dmarc_header_from_in_punycode_matches_a_unicode_sender():
    raw = (
        "From: alice@bücher.test\r\n"
        "Authentication-Results: mx.corp.test; dmarc=pass header.from=xn--bcher-kva.test\r\n"
        "Subject: Re: x\r\n\r\nApprove\r\n"
    ).encode()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert dmarc_verdict(msg, "mx.corp.test", "alice@bücher.test").ok
    assert dmarc_verdict(_with_results("corp.test"), "mx.corp.test", "alice@corp.test").ok
