"""The fast byte builder (render_ask_raw / render_followup_raw) against the stdlib one."""

from __future__ import annotations

import email
import re
from dataclasses import replace
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from hl_email.models import ResponseOption
from hl_email.outbound.render import HeaderInjectionError, Renderer
from tests.unit.test_render import approval, followup, question

LONG_ASCII = "Refund for order A-17 " * 12
LONG_UNICODE = "Überweisung für 中文客户 🚀 bitte prüfen " * 6


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


ASKS = {
    "approval": approval(),
    "question": question(),
    "no-cc-same-reply": approval(cc=(), reply_address="agent@example.test"),
    "umlaut": approval(agent_name="Bürobot", kwargs={"kunde": "Jürgen Müller"}),
    "cjk-emoji": question(
        agent_name="Bürobot 中文 🤖",
        subject="Überweisung für 中文客户 🚀",
        msg="Soll ich die Überweisung ausführen? 请确认 ✅",
        options=(ResponseOption(name="ja", title="Ja, sofort 👍"),),
    ),
    "long-ascii-subject": approval(subject=LONG_ASCII.strip()),
    "long-unicode-subject": approval(subject=LONG_UNICODE.strip()),
    "long-word-subject": approval(subject="x" * 120),
    "encoded-word-lookalike": approval(subject="=?utf-8?q?not_encoded?= really"),
    "double-space-subject": approval(subject="two  spaces"),
    "long-argument": approval(kwargs={"body": "word " * 3000, "blob": "y" * 500}),
    "json-argument": approval(kwargs={"items": [{"sku": "X", "qty": 2, "note": "ü ✓"}]}),
    "specials-name": approval(agent_name='Refunds, "EU" <team> \\ ops'),
    "long-name": approval(agent_name="A very long agent display name " * 3),
    "long-unicode-name": approval(agent_name="Bürobot für sehr lange Namen 中文 " * 3),
    "named-recipients": approval(
        to=["Alice Example <alice@corp.test>", "bob@corp.test", "carol@corp.test"],
        cc=["Dave D. <dave@corp.test>", "Ünal <unal@corp.test>"],
    ),
    "quoted-local-part": approval(to=['"alice smith"@corp.test']),
    "threaded": approval(
        in_reply_to="<p@corp.test>",
        references=[f"<ref{i}.hl1-abc-{i}@example.test>" for i in range(12)],
    ),
    "odd-ids": approval(in_reply_to="not an id", references=["<a b@c>", "<x@[1.2.3.4]>"]),
    "unicode-call-id": approval(call_id="anruf-ü-1"),
    "escalation": question(escalation_msg="Still waiting <2h>"),
    "channel-template": approval(
        html_template="<html><body><p>{{ event.spec.fn }} ü 中文</p></body></html>"
    ),
    "empty-html": approval(html_template="\n\n"),
    "crlf-in-body": question(msg="First line\r\nsecond\rthird\n. \nfourth  \t"),
}

FOLLOWUPS = {
    "clarify": followup(),
    "confirm": followup(kind="confirm", message="Approved. Thanks! ✅", quoted_reply=None),
    "unicode-thread": followup(thread_subject="Überweisung für 中文客户 🚀"),
    "long-thread": followup(thread_subject=LONG_UNICODE.strip()),
}


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def _headers(msg: EmailMessage) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in msg.items() if k != "Content-Type"]


def _addresses(msg: EmailMessage) -> dict[str, list[tuple[str, str]]]:
    return {
        name: [(a.display_name, a.addr_spec) for a in msg[name].addresses]
        for name in ("From", "To", "Cc", "Reply-To")
        if msg[name] is not None
    }


def _parts(msg: EmailMessage) -> list[tuple[str, str | None, str, str]]:
    return [
        (
            p.get_content_type(),
            p.get_content_charset(),
            p["Content-Transfer-Encoding"],
            p.get_content(),
        )
        for p in msg.iter_parts()
    ]


def _check_wire_format(raw: bytes) -> None:
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert not re.search(r"\r\n(?![ \t])[^:\r\n]*(\r\n|$)", head)  # every line a field or fold


def _equivalent(fast_raw: bytes, slow: EmailMessage) -> None:
    _check_wire_format(fast_raw)
    fast, ref = _parse(fast_raw), _parse(slow.as_bytes())
    assert _headers(fast) == _headers(ref)
    assert _addresses(fast) == _addresses(ref)
    assert fast.get_content_type() == ref.get_content_type() == "multipart/alternative"
    assert _parts(fast) == _parts(ref)
    assert [t for t, *_ in _parts(fast)] == ["text/plain", "text/html"]


@pytest.mark.parametrize("name", sorted(ASKS))
def test_ask_bytes_equal_stdlib(renderer: Renderer, name: str) -> None:
    ctx = ASKS[name]
    rendered = renderer.render_ask_raw(ctx)
    _equivalent(rendered.data, renderer._stdlib_ask(ctx))
    assert rendered.subject == renderer.subject_for(ctx)
    if "=?" not in rendered.subject:  # the stdlib, too, writes such text as it is
        assert _parse(rendered.data)["Subject"] == rendered.subject


@pytest.mark.parametrize("name", sorted(FOLLOWUPS))
def test_followup_bytes_equal_stdlib(renderer: Renderer, name: str) -> None:
    ctx = FOLLOWUPS[name]
    rendered = renderer.render_followup_raw(ctx)
    _equivalent(rendered.data, renderer._stdlib_followup(ctx))
    assert _parse(rendered.data)["Subject"] == rendered.subject


def test_non_ascii_headers_decode_exactly(renderer: Renderer) -> None:
    msg = _parse(renderer.render_ask_raw(ASKS["cjk-emoji"]).data)
    assert msg["Subject"] == "Überweisung für 中文客户 🚀"
    assert msg["From"].addresses[0].display_name == "Bürobot 中文 🤖"
    long = _parse(renderer.render_ask_raw(ASKS["long-unicode-subject"]).data)
    assert long["Subject"] == LONG_UNICODE.strip()


def test_long_argument_values_keep_their_text(renderer: Renderer) -> None:
    text = _parse(renderer.render_ask_raw(ASKS["long-argument"]).data).get_body(("plain",))
    content = text.get_content()
    assert "y" * 72 in content and "more characters not shown" in content
    assert max(len(line) for line in content.splitlines()) <= 80


@pytest.mark.parametrize(
    ("field_name", "changes"),
    [
        ("subject", {"subject": "Hi\r\nBcc: victim@evil.test"}),
        ("agent_name", {"agent_name": "Agent\nBcc: victim@evil.test"}),
        ("fn", {"fn": "send_refund\u2028x"}),
        ("to", {"to": ["alice@corp.test\r\nBcc: victim@evil.test"]}),
        ("cc", {"cc": ["bob@corp.test\n"]}),
        ("reply_address", {"reply_address": "agent@example.test\rX: y"}),
        ("message_id", {"message_id": "<a@b>\r\nX: y"}),
        ("in_reply_to", {"in_reply_to": "<a@b>\x00"}),
        ("references", {"references": ["<a@b>\nX: y"]}),
        ("call_id", {"call_id": "c\x851"}),
    ],
)
def test_raw_path_refuses_header_injection(
    renderer: Renderer, field_name: str, changes: dict
) -> None:
    with pytest.raises(HeaderInjectionError, match=field_name):
        renderer.render_ask_raw(approval(**changes))


def test_followup_raw_refuses_injection(renderer: Renderer) -> None:
    with pytest.raises(HeaderInjectionError, match="thread_subject"):
        renderer.render_followup_raw(followup(thread_subject="x\r\nBcc: y@z.test"))


def test_bad_addresses_still_refused(renderer: Renderer) -> None:
    for bad in ("not-an-address", "a b c"):
        with pytest.raises(ValueError, match="not an email address"):
            renderer.render_ask_raw(approval(to=[bad]))


def test_boundary_is_fresh_and_parts_parse(renderer: Renderer) -> None:
    a, b = renderer.render_ask_raw(approval()).data, renderer.render_ask_raw(approval()).data
    boundary = _parse(a).get_boundary()
    assert boundary and boundary != _parse(b).get_boundary()
    assert a.count(boundary.encode()) == 4  # the parameter, two delimiters, the closing one
    assert len(list(_parse(a).iter_parts())) == 2


def test_render_ask_is_the_parsed_raw_message(renderer: Renderer) -> None:
    ctx = replace(ASKS["cjk-emoji"])
    msg = renderer.render_ask(ctx)
    assert _headers(_parse(msg.as_bytes())) == _headers(_parse(renderer.render_ask_raw(ctx).data))
    assert msg.get_body(("plain",)).get_content().endswith("\n")
    assert "\r" not in msg.get_body(("html",)).get_content()


def test_subject_template_using_mailto_still_gets_it(tmp_path: Path) -> None:
    (tmp_path / "approval.subject.txt").write_text("{{ fn }} {{ mailto.reply[:7] }}")
    renderer = Renderer(tmp_path)
    assert renderer.subject_for(approval()) == "send_refund mailto:"
    assert renderer.render_ask_raw(approval()).subject == "send_refund mailto:"
    (tmp_path / "approval.subject.txt").write_text("[ops] {{ fn }}")
    assert Renderer(tmp_path).render_ask_raw(approval()).subject == "[ops] send_refund"
