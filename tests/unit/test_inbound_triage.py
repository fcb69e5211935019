"""Headers-first triage (pure): which messages the headers decide, and the lanes that keep two
messages about one request in order. The same outcomes as the full path are shown over real
Dovecot in tests/integration/test_imap_catchup.py."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from hl_email.inbound.responses import parse_fetch_items, uid_set
from hl_email.inbound.triage import lanes, read_headers, unfetched_kind
from hl_email.limits import InboundLimits

KEY = "hl1-abcdefghijkl-1-abcdefghijklmnopqrst"
LIMITS = InboundLimits()


def message(body: str = "hello", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "News <news@shop.test>")
    msg["To"] = headers.pop("To", "agent@example.test")
    msg["Subject"] = headers.pop("Subject", "Deals")
    msg["Message-ID"] = "<m1@shop.test>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


def kind(raw: bytes, body_hit: bool = False) -> str | None:
    block = raw[: raw.index(b"\n\n") + 2]
    found = unfetched_kind(read_headers(block), len(raw), LIMITS, body_hit)
    return None if found is None else str(found)


def test_header_signals_decide_without_the_body():
    assert kind(message(List_Id="<deals.shop.test>")) == "list"
    assert kind(message(Auto_Submitted="auto-generated")) == "auto_reply"
    assert kind(message(X_Spam_Flag="YES")) == "spam"


@pytest.mark.parametrize(
    "raw, why",
    [
        (message(), "human mail: the body decides (out-of-office text, agent inbox)"),
        (message(List_Id="<l>", To=f"agent+{KEY}@example.test"), "a reply key in To"),
        (message(List_Id="<l>", In_Reply_To=f"<{KEY}@example.test>"), "a reply key"),
        (message(List_Id="<l>", From="MAILER-DAEMON <m@mx.test>"), "a bounce sender"),
        (message(List_Id="<l>", Subject="Undeliverable: Deals"), "a bounce subject"),
        (message(List_Id="<l>", X_Failed_Recipients="a@b.test"), "a bounce"),
        (
            message(
                List_Id="<l>", To="=?utf-8?q?agent+hl1-abcdefghijkl-1-abcdefghijklmnopqrst?= <a@b>"
            ),
            "a key inside an encoded word",
        ),
    ],
)
def test_fetched_when_the_body_or_a_key_could_matter(raw, why):
    assert kind(raw) is None, why


def test_fetched_when_the_server_finds_a_search_term_in_the_body():
    assert kind(message(List_Id="<l>"), body_hit=True) is None


def test_fetched_without_message_id_or_over_a_limit():
    raw = message(List_Id="<l>").replace(b"Message-ID: <m1@shop.test>\n", b"")
    assert kind(raw) is None
    big = message(List_Id="<l>")
    block = big[: big.index(b"\n\n") + 2]
    assert unfetched_kind(read_headers(block), LIMITS.max_message_bytes, LIMITS, False) is None


def test_fetched_unless_one_plain_text_part():
    multi = EmailMessage()
    multi["From"], multi["List-Id"], multi["Message-ID"] = "n@shop.test", "<l>", "<m2@shop.test>"
    multi.set_content("plain")
    multi.add_alternative("<p>html</p>", subtype="html")
    assert kind(bytes(multi)) is None
    utf16 = message(List_Id="<l>").replace(b'charset="utf-8"', b'charset="utf-16"')
    assert kind(utf16) is None


def test_lanes_name_every_request_a_message_could_touch():
    assert lanes(message(To=f"agent+{KEY}@example.test")) == {"abcdefghijkl"}
    assert lanes(message(body=f"Ref: {KEY}")) == {"abcdefghijkl"}
    # no key: in order per sender (the agent inbox)
    assert lanes(message()) == {"from:news <news@shop.test>"}
    b64 = EmailMessage()
    b64["From"] = "a@b.test"
    b64.set_content("x", cte="base64")
    assert lanes(bytes(b64)) is None  # could hide a key: ordered against everything


def test_fetch_items_and_uid_sets():
    lines = [
        b"1 FETCH (UID 7 RFC822.SIZE 12 BODY[HEADER] {5}",
        bytearray(b"Hi: x"),
        b")",
        b"2 FETCH (FLAGS (\\Seen))",
        b"3 FETCH (UID 9 RFC822.SIZE 3 BODY[HEADER] {3}",
        bytearray(b"a:b"),
        b")",
        b"Fetch completed.",
    ]
    assert parse_fetch_items(lines) == {7: (12, b"Hi: x"), 9: (3, b"a:b")}
    assert uid_set([9, 3, 4, 5, 11, 12]) == "3:5,9,11:12"
