"""Extraction details: our marker, HTML containers, MIME decoding, robustness."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from hl_email.replies import REPLY_MARKER, extract_reply, extract_reply_from_message
from hl_email.replies.html import html_to_text


def _lines(text: str) -> list[str]:
    """Lines without trailing spaces and blank runs (what extraction normalises)."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    return out


def test_our_marker_cuts_everything_below() -> None:
    body = f"Approved, thanks\n\n{REPLY_MARKER}\nRefund agent asks: approve $40?\n"
    assert extract_reply(body) == "Approved, thanks"


def test_quoted_marker_cuts_too() -> None:
    body = f"No\n\nOn Mon, 1 Jan 2024 Bot <bot@example.test> wrote:\n> {REPLY_MARKER}\n> hi"
    assert extract_reply(body) == "No"
    assert extract_reply(f">> {REPLY_MARKER}\n>> approve?") == ""


def test_inline_answers_between_quotes_are_kept() -> None:
    body = (
        "See inline.\n\nOn Mon, 1 Jan 2024 Bot <bot@example.test> wrote:\n"
        "> Approve the refund?\nYes\n> Notify finance?\nNo\n"
    )
    assert _lines(extract_reply(body)) == _lines(
        "See inline.\n\n> Approve the refund?\nYes\n> Notify finance?\nNo"
    )


def test_bottom_posted_reply() -> None:
    body = "On Mon, 1 Jan 2024 Bot <bot@example.test> wrote:\n> Approve?\n\nApproved."
    assert extract_reply(body) == "Approved."


def test_code_fence_keeps_delimiters() -> None:
    body = "Run this:\n\n```\n-- \n____\n> not a quote\n```\n\nDone."
    assert _lines(extract_reply(body)) == _lines(body)


def test_signatures_stripped_or_kept() -> None:
    body = "Yes\n\n-- \nAnna\nHead of Finance"
    assert extract_reply(body) == "Yes"
    assert _lines(extract_reply(body, strip_signatures=False)) == _lines(body)
    assert extract_reply("Yes\n\nEnviado desde mi iPhone") == "Yes"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<div>Yes</div><div id="divRplyFwdMsg"><b>From:</b> Bot</div><div>Approve?</div>',
            "Yes",
        ),
        ('<p>No</p><blockquote type="cite">Approve?</blockquote>', "No"),
        ('<div>Ok</div><div class="protonmail_quote">Approve?</div>', "Ok"),
        ('<div>Ok</div><div class="yahoo_quoted">Approve?</div>', "Ok"),
        ('<div>Ok</div><div class="moz-cite-prefix">On Mon Bot wrote:</div>', "Ok"),
        (
            "<div>Ok<br>go</div><div>On Mon, 1 Jan 2024 Bot wrote:</div><blockquote>q</blockquote>",
            "Ok\ngo",
        ),
        (
            "<div>Ok<br>go</div><blockquote>written on purpose</blockquote>",
            "Ok\ngo\n\nwritten on purpose",
        ),
    ],
)
def test_html_quote_containers(html: str, expected: str) -> None:
    message = EmailMessage()
    message["From"] = "anna@example.org"
    message.set_content(html, subtype="html")
    assert extract_reply_from_message(message.as_bytes()) == expected


def test_blockquote_after_an_attribution_becomes_quoted_text() -> None:
    html = "<p>a</p><p>On Mon, Bot &lt;b@x.org&gt; wrote:</p><blockquote>b<br>c</blockquote>"
    assert html_to_text(html).endswith("wrote:\n\n> b\n> c")
    assert html_to_text("<p>a</p><blockquote>b<br>c</blockquote>") == "a\n\nb\nc"


def test_quoted_printable_latin1_and_flowed() -> None:
    raw = (
        b"From: a@example.org\nSubject: Re: x\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=iso-8859-1; format=flowed\n"
        b"Content-Transfer-Encoding: quoted-printable\n\n"
        b"Oui, c'est approuv=E9 pour le client =\n"
        b"\nde Z=FCrich \nmerci\n"
    )
    assert extract_reply_from_message(raw) == ("Oui, c'est approuvé pour le client de Zürich merci")


def test_base64_utf8_and_crlf() -> None:
    message = EmailMessage()
    message.set_content("Ja, genehmigt.\r\n\r\n> Frage?\r\n", charset="utf-8", cte="base64")
    assert extract_reply_from_message(message) == "Ja, genehmigt."


def test_attached_message_is_not_read_as_the_reply() -> None:
    outer = EmailMessage()
    outer.set_content("Forwarding for your records.")
    inner = email.message_from_string("Subject: x\n\nyes approve everything")
    outer.add_attachment(inner)
    assert extract_reply_from_message(outer.as_bytes()) == "Forwarding for your records."


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain; "
        b"charset=does-not-exist\nContent-Transfer-Encoding: base64\n\n@@@@\n",
        b"Content-Type: text/html\n\n<div><<<<>>>></",
        None,
        12,
    ],
)
def test_malformed_messages_never_raise(raw: object) -> None:
    assert isinstance(extract_reply_from_message(raw), str)  # type: ignore[arg-type]


def test_non_string_body_is_empty() -> None:
    assert extract_reply(None) == ""  # type: ignore[arg-type]
    assert extract_reply("   \n ") == ""


def test_message_object_and_bytes_agree() -> None:
    raw = b"From: a@example.org\nSubject: Re\n\nyes\n\nOn Mon, X <x@y.z> wrote:\n> q\n"
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert extract_reply_from_message(raw) == extract_reply_from_message(parsed) == "yes"
