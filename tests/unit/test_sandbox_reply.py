"""The dev sandbox's pure parts: reply construction, mailto parsing, link rewriting, Maildir."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from selectolax.lexbor import LexborHTMLParser

from hl_email.inbound.maildir import Maildir
from hl_email.outbound.render import mailto
from hl_email.sandbox import (
    build_reply,
    mailbox_name,
    parse_mailto,
    quote_text,
    rewrite_mailto_links,
)

ASK_ID = "<hl1-abcdef123456-0-aaaaaaaaaaaaaaaaaaaa.1@example.test>"


def original(**headers: str) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "Refund agent <agent@example.test>"
    msg["To"] = "alice@example.com"
    msg["Subject"] = "Approval needed: issue_refund"
    msg["Date"] = "Sat, 01 Mar 2025 12:00:00 +0000"
    msg["Message-ID"] = ASK_ID
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Please approve issue_refund.\n\nArguments:\n  amount: 49.00 EUR\n")
    msg.add_alternative("<p>Please approve <b>issue_refund</b>.</p>", subtype="html")
    return msg


def parse(reply: EmailMessage) -> EmailMessage:
    raw = reply.as_bytes(policy=email.policy.SMTP)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF on the wire
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def text_of(msg: EmailMessage) -> str:
    return msg.get_content().replace("\r\n", "\n")


def test_reply_threads_quotes_and_addresses_like_a_mail_client() -> None:
    reply = parse(
        build_reply(
            original(),
            from_address="alice@example.com",
            from_name="Alice",
            body="APPROVE\r\n",
            date=datetime(2025, 3, 1, 12, 5, tzinfo=UTC),
        )
    )
    assert reply["From"] == "Alice <alice@example.com>"
    assert reply["To"] == "agent@example.test"
    assert reply["Subject"] == "Re: Approval needed: issue_refund"
    assert reply["In-Reply-To"] == ASK_ID
    assert reply["References"] == ASK_ID
    assert reply["Message-ID"].endswith("@example.com>") and reply["Message-ID"] != ASK_ID
    assert reply["Date"] == "Sat, 01 Mar 2025 12:05:00 +0000"
    body = text_of(reply)
    new, _, quoted = body.partition(
        "\n\nOn Sat, 1 Mar 2025 at 12:00, Refund agent <agent@example.test> wrote:\n"
    )
    assert new == "APPROVE"
    assert quoted.splitlines() == [
        "> Please approve issue_refund.",
        ">",
        "> Arguments:",
        ">   amount: 49.00 EUR",
    ]


def test_reply_goes_to_reply_to_and_extends_references() -> None:
    parent = original(
        Reply_To="agent+hl1-abcdef123456-0-aaaaaaaaaaaaaaaaaaaa@example.test",
        References="<first@example.test> <second@example.test>",
        In_Reply_To="<second@example.test>",
    )
    reply = parse(build_reply(parent, from_address="alice@example.com", body="yes"))
    assert reply["To"] == "agent+hl1-abcdef123456-0-aaaaaaaaaaaaaaaaaaaa@example.test"
    assert reply["In-Reply-To"] == ASK_ID
    assert reply["References"].split() == ["<first@example.test>", "<second@example.test>", ASK_ID]


def test_reply_subject_not_doubled_and_explicit_fields_win() -> None:
    parent = original()
    del parent["Subject"]
    parent["Subject"] = "RE: Re: Approval needed"
    reply = parse(build_reply(parent, from_address="a@example.com", body="x"))
    assert reply["Subject"] == "Re: Approval needed"
    reply = parse(
        build_reply(
            parent,
            from_address="a@example.com",
            body="x",
            to="other@example.test",
            subject="Re: custom",
        )
    )
    assert (reply["To"], reply["Subject"]) == ("other@example.test", "Re: custom")


def test_reply_quotes_the_html_text_when_there_is_no_plain_part() -> None:
    parent = EmailMessage()
    parent["From"] = "agent@example.test"
    parent["Subject"] = "Hi"
    parent["Message-ID"] = "<m1@example.test>"
    parent.set_content(
        "<html><head><style>p{}</style></head><body><p>Ship it?</p></body></html>", subtype="html"
    )
    reply = parse(build_reply(parent, from_address="bob@example.com", body="Yes"))
    text = text_of(reply)
    assert text.startswith("Yes\n\nagent@example.test wrote:\n")
    assert "> Ship it?" in text and "p{}" not in text


def test_quote_text() -> None:
    assert quote_text("a\n\n> old\nb\n") == "> a\n>\n>> old\n> b"


def test_parse_mailto_round_trips_the_renderers_buttons() -> None:
    uri = mailto(
        "agent+key@example.test",
        "Re: Approval needed: refund 50% & more",
        "APPROVE",
        "hl1-abcdef123456-0-aaaaaaaaaaaaaaaaaaaa",
    )
    parsed = parse_mailto(uri)
    assert parsed["to"] == "agent+key@example.test"
    assert parsed["subject"] == "Re: Approval needed: refund 50% & more"
    assert parsed["body"] == "APPROVE\n\n\nRef: hl1-abcdef123456-0-aaaaaaaaaaaaaaaaaaaa"
    # RFC 6068: `+` is literal; only %20 is a space.
    assert parse_mailto("mailto:a@b.test?body=1+1%202")["body"] == "1+1 2"
    with pytest.raises(ValueError):
        parse_mailto("https://example.test/")


def test_rewrite_mailto_links_points_buttons_at_the_reply_box() -> None:
    html = (
        "<html><head><title>t</title></head><body>"
        '<a href="mailto:agent@example.test?subject=Re%3A%20x&amp;body=APPROVE" target="_blank">Approve</a>'
        '<a href="https://example.test/">site</a></body></html>'
    )
    out = LexborHTMLParser(rewrite_mailto_links(html, "/dev/inbox/alice%40example.com/k1"))
    approve, site = out.css("a")
    assert (
        approve.attributes["data-mailto"]
        == "mailto:agent@example.test?subject=Re%3A%20x&body=APPROVE"
    )
    href = approve.attributes["href"]
    assert href.startswith("/dev/inbox/alice%40example.com/k1?compose=mailto%3A") and href.endswith(
        "#reply"
    )
    assert approve.attributes["target"] == "_top"
    assert site.attributes["href"] == "https://example.test/"
    csp = out.css_first('meta[http-equiv="Content-Security-Policy"]')
    assert csp is not None and "default-src 'none'" in csp.attributes["content"]


def test_mailbox_name_drops_plus_detail_and_case() -> None:
    assert mailbox_name("Agent+hl1-x-0-y@Example.TEST") == "agent@example.test"
    assert mailbox_name("Alice <alice@example.com>") == "alice@example.com"


def test_maildir_delivers_atomically_and_marks_seen(tmp_path) -> None:
    md = Maildir(tmp_path / "box")
    key = md.deliver(b"Subject: one\r\n\r\nbody\r\n")
    assert list((tmp_path / "box" / "tmp").iterdir()) == []
    assert [e.key for e in md.new()] == [key]
    assert md.read(key) == b"Subject: one\r\n\r\nbody\r\n"
    entry = md.mark_seen(key)
    assert entry is not None and entry.seen and entry.path.name == f"{key}:2,S"
    assert md.new() == [] and [e.key for e in md.entries()] == [key]
    assert md.read(key) == b"Subject: one\r\n\r\nbody\r\n"
    assert md.get("../etc") is None and md.read("nope") is None
