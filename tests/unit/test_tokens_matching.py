"""Reply keys, matching headers and DMARC verdicts: pure logic."""

from __future__ import annotations

import email
import email.policy

from hl_email.core.tokens import (
    find_reply_keys,
    make_message_id,
    mint_reply_key,
    plus_address,
    verify_reply_key,
)
from hl_email.replies.authorize import dmarc_verdict, sender_address
from hl_email.replies.match import candidate_keys

SECRET = "unit-secret"


def parse(headers: str):
    return email.message_from_string(headers + "\n\nbody\n", policy=email.policy.default)


def test_key_is_bound_to_secret_request_slot_and_address():
    key = mint_reply_key(SECRET, "req123abc", 0, "Alice@Corp.test")
    assert verify_reply_key(SECRET, key, "alice@corp.test")
    assert not verify_reply_key(SECRET, key, "bob@corp.test")
    assert not verify_reply_key("other-secret", key, "alice@corp.test")
    forged = type(key)(key.request_id, 1, key.mac)
    assert not verify_reply_key(SECRET, forged, "alice@corp.test")


def test_keys_found_in_message_ids_and_plus_addresses():
    key = mint_reply_key(SECRET, "req123abc", 2, "a@b.test")
    mid = make_message_id(key, 3, "example.test")
    assert find_reply_keys(f"<x@y>,{mid}") == [key]
    assert find_reply_keys(f"<x@y>\r\n {mid.upper()}") == [key]  # servers may upcase
    assert find_reply_keys(plus_address("agent@example.test", key)) == [key]
    assert find_reply_keys("<random@id>", None, "") == []


def test_candidate_keys_prefer_in_reply_to_then_newest_reference():
    k1 = mint_reply_key(SECRET, "aaaaaaaa", 0, "a@b.test")
    k2 = mint_reply_key(SECRET, "bbbbbbbb", 0, "a@b.test")
    msg = parse(
        f"From: a@b.test\nIn-Reply-To: {make_message_id(k2, 1, 'x')}\n"
        f"References: {make_message_id(k1, 1, 'x')} {make_message_id(k2, 1, 'x')}"
    )
    assert candidate_keys(msg) == [k2, k1]


def test_sender_address_rejects_ambiguous_from():
    assert sender_address(parse("From: Alice <ALICE@corp.test>"))[0] == "alice@corp.test"
    assert sender_address(parse("From: a@b.test, c@d.test"))[0] is None
    assert sender_address(parse("To: x@y.test"))[0] is None
    assert sender_address(parse("From: not-an-address"))[0] is None


def test_dmarc_needs_pass_from_the_trusted_authserv():
    ok = parse(
        "From: a@corp.test\nAuthentication-Results: mx.corp.test; dmarc=pass (p=reject) header.from=corp.test"
    )
    assert dmarc_verdict(ok, "mx.corp.test", "a@corp.test").ok
    fail = parse(
        "From: a@corp.test\nAuthentication-Results: mx.corp.test; dmarc=fail header.from=corp.test"
    )
    assert not dmarc_verdict(fail, "mx.corp.test", "a@corp.test").ok
    other = parse(
        "From: a@corp.test\nAuthentication-Results: evil.test; dmarc=pass header.from=corp.test"
    )
    assert not dmarc_verdict(other, "mx.corp.test", "a@corp.test").ok
    wrong_domain = parse(
        "From: a@corp.test\nAuthentication-Results: mx.corp.test; dmarc=pass header.from=evil.test"
    )
    assert not dmarc_verdict(wrong_domain, "mx.corp.test", "a@corp.test").ok
    mixed = parse(
        "From: a@corp.test\nAuthentication-Results: mx.corp.test; dmarc=pass header.from=corp.test\n"
        "Authentication-Results: mx.corp.test; dmarc=fail header.from=corp.test"
    )
    assert not dmarc_verdict(mixed, "mx.corp.test", "a@corp.test").ok
    assert not dmarc_verdict(parse("From: a@corp.test"), "mx.corp.test", "a@corp.test").ok
