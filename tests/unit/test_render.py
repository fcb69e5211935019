"""Unit tests for hl_email.outbound.render: escaping, headers, threading, templates, mailto buttons."""

from __future__ import annotations

import email
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import default
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from hl_email.models import ResponseOption
from hl_email.outbound.render import (
    REPLY_MARKER,
    AskContext,
    FollowupContext,
    HeaderInjectionError,
    Renderer,
    TemplateError,
    format_argument,
    reply_subject,
    subject_for,
)

DATE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
REJECT_OPTIONS = (
    ResponseOption(
        name="too_much", title="Amount too high", description="Max 50% without a manager"
    ),
    ResponseOption(name="need_photo", title="Ask for a photo first"),
)


def approval(**changes: object) -> AskContext:
    ctx = AskContext(
        kind="approval",
        call_id="call-1",
        run_id="refund-agent",
        agent_name="Refund agent",
        agent_address="agent@example.test",
        reply_address="agent+k1@example.test",
        to=["alice@corp.test"],
        cc=["bob@corp.test"],
        recipient="alice@corp.test",
        fn="send_refund",
        kwargs={"order": "A-17", "amount": 120},
        options=REJECT_OPTIONS,
        message_id="<k1.call-1@example.test>",
        date=DATE,
    )
    return replace(ctx, **changes)


def question(**changes: object) -> AskContext:
    ctx = AskContext(
        kind="question",
        call_id="call-2",
        run_id="support",
        agent_name="Support bot",
        agent_address="agent@example.test",
        reply_address="agent@example.test",
        to=["alice@corp.test"],
        msg="Which plan should this customer get?\nThey have 40 seats.",
        options=(
            ResponseOption(name="team", title="Team"),
            ResponseOption(name="business", title="Business", description="SSO included"),
        ),
        message_id="<k2.call-2@example.test>",
        date=DATE,
    )
    return replace(ctx, **changes)


def followup(**changes: object) -> FollowupContext:
    ctx = FollowupContext(
        kind="clarify",
        call_id="call-1",
        agent_name="Refund agent",
        agent_address="agent@example.test",
        reply_address="agent+k1@example.test",
        to=["alice@corp.test"],
        thread_subject="Approval needed: send_refund (Refund agent)",
        message="I couldn't tell whether you approve. Please reply APPROVE, or REJECT and a reason.",
        quoted_reply="hmm, maybe?",
        options=REJECT_OPTIONS,
        message_id="<f1.call-1@example.test>",
        in_reply_to="<human-1@corp.test>",
        references=["<k1.call-1@example.test>"],
        date=DATE,
    )
    return replace(ctx, **changes)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def parts(msg: EmailMessage) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def roundtrip(msg: EmailMessage) -> EmailMessage:
    return email.message_from_bytes(msg.as_bytes(), policy=default)


def mailtos(html: str) -> list[tuple[str, str, str]]:
    """(address, subject, body) of every mailto link, decoded the way a mail client does."""
    found = []
    for href in re.findall(r'href="(mailto:[^"]+)"', html):
        url = urlsplit(unescape(href))
        query = dict(pair.split("=", 1) for pair in url.query.split("&"))
        found.append((unquote(url.path), unquote(query["subject"]), unquote(query.get("body", ""))))
    return found


# --- structure and headers ------------------------------------------------------------------


def test_approval_is_multipart_alternative_text_then_html(renderer: Renderer) -> None:
    msg = renderer.render_ask(approval())
    assert msg.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in msg.iter_parts()]
    assert types == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in msg.iter_parts())


def test_approval_headers(renderer: Renderer) -> None:
    msg = roundtrip(renderer.render_ask(approval()))
    assert msg["From"].addresses[0].display_name == "Refund agent"
    assert msg["From"].addresses[0].addr_spec == "agent@example.test"
    assert str(msg["To"]) == "alice@corp.test"
    assert str(msg["Cc"]) == "bob@corp.test"
    assert str(msg["Reply-To"]) == "agent+k1@example.test"
    assert msg["Subject"] == "Approval needed: send_refund(order=A-17, amount=120) (Refund agent)"
    assert msg["Date"].datetime == DATE
    assert msg["Message-ID"] == "<k1.call-1@example.test>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert msg["X-HL-Email-Call-Id"] == "call-1"
    assert msg["In-Reply-To"] is None and msg["References"] is None
    assert msg["Bcc"] is None


def test_reply_to_omitted_when_same_as_from(renderer: Renderer) -> None:
    msg = renderer.render_ask(approval(reply_address="agent@example.test", cc=()))
    assert msg["Reply-To"] is None
    assert msg["Cc"] is None


def test_date_keeps_offset_and_must_be_aware(renderer: Renderer) -> None:
    berlin = DATE.astimezone(timezone(timedelta(hours=1)))
    assert renderer.render_ask(approval(date=berlin))["Date"].endswith("+0100")
    with pytest.raises(ValueError, match="timezone"):
        renderer.render_ask(approval(date=datetime(2025, 3, 1, 12, 0)))


def test_display_name_with_specials_is_quoted(renderer: Renderer) -> None:
    msg = roundtrip(renderer.render_ask(approval(agent_name='Refunds, "EU" <team>')))
    assert msg["From"].addresses[0].display_name == 'Refunds, "EU" <team>'
    assert msg["From"].addresses[0].addr_spec == "agent@example.test"


# --- subjects ---------------------------------------------------------------------------------


def test_default_subjects() -> None:
    assert (
        subject_for(approval())
        == "Approval needed: send_refund(order=A-17, amount=120) (Refund agent)"
    )
    assert subject_for(question()) == "Which plan should this customer get?"
    assert subject_for(question(subject="Plan for ACME")) == "Plan for ACME"
    assert subject_for(approval(subject="Refund A-17?")) == "Refund A-17?"


def test_question_subject_is_trimmed_first_line() -> None:
    long = "\n\n  " + "word " * 40 + "\nsecond line"
    subject = subject_for(question(msg=long))
    assert len(subject) <= 78
    assert subject.endswith("…")
    assert "\n" not in subject and "second" not in subject
    assert subject_for(question(msg="Tabs\tand  spaces")) == "Tabs and spaces"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Approval needed", "Re: Approval needed"),
        ("Re: Approval needed", "Re: Approval needed"),
        ("RE: re: Approval needed", "Re: Approval needed"),
        ("Aw: Approval needed", "Re: Approval needed"),
        ("Re[2]: Approval needed", "Re: Approval needed"),
        ("Regarding the refund", "Re: Regarding the refund"),
    ],
)
def test_reply_subject_never_doubles_re(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


# --- header injection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field_name", "changes"),
    [
        ("subject", {"subject": "Hi\r\nBcc: victim@evil.test"}),
        ("subject", {"subject": "Hi\nthere"}),
        ("agent_name", {"agent_name": "Agent\r\nBcc: victim@evil.test"}),
        ("fn", {"fn": "send_refund\nBcc: victim@evil.test"}),
        ("fn", {"fn": "send_refund\u2028x"}),
        ("to", {"to": ["alice@corp.test\r\nBcc: victim@evil.test"]}),
        ("cc", {"cc": ["bob@corp.test\n"]}),
        ("reply_address", {"reply_address": "agent@example.test\rX: y"}),
        ("message_id", {"message_id": "<a@b>\r\nX: y"}),
        ("references", {"references": ["<a@b>\nX: y"]}),
    ],
)
def test_header_injection_refused(renderer: Renderer, field_name: str, changes: dict) -> None:
    with pytest.raises(HeaderInjectionError, match=field_name) as info:
        renderer.render_ask(approval(**changes))
    assert info.value.field == field_name


def test_header_injection_through_subject_template(tmp_path: Path) -> None:
    (tmp_path / "approval.subject.txt").write_text("Refund {{ kwargs.order }}\n")
    renderer = Renderer(tmp_path)
    assert renderer.subject_for(approval()) == "Refund A-17"
    with pytest.raises(HeaderInjectionError, match="subject"):
        renderer.render_ask(approval(kwargs={"order": "A-17\r\nBcc: victim@evil.test"}))


def test_followup_refuses_injection(renderer: Renderer) -> None:
    with pytest.raises(HeaderInjectionError, match="thread_subject"):
        renderer.render_followup(followup(thread_subject="x\r\nBcc: y@z.test"))


def test_newlines_in_kwargs_and_question_body_are_fine(renderer: Renderer) -> None:
    renderer.render_ask(approval(kwargs={"note": "line 1\r\nBcc: not-a-header@x.test"}))
    msg = renderer.render_ask(question(msg="First line\r\nBcc: not-a-header@x.test"))
    assert msg["Bcc"] is None
    assert msg["Subject"] == "First line"


# --- bodies -----------------------------------------------------------------------------------


def test_kwargs_are_escaped_in_html(renderer: Renderer) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    text, html = parts(renderer.render_ask(approval(kwargs={"note": evil, "<b>key</b>": 1})))
    assert "<script>" not in html and "<img" not in html and "<b>key</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;key&lt;/b&gt;" in html
    assert evil in text  # the text part is literal


def test_approval_body_content(renderer: Renderer) -> None:
    ctx = approval(kwargs={"order": "A-17", "amount": 120, "items": [{"sku": "X", "qty": 2}]})
    text, html = parts(renderer.render_ask(ctx))
    for body in (text, html):
        assert "Refund agent" in body and "send_refund" in body
        assert "A-17" in body and "120" in body
        assert "Amount too high" in body and "Ask for a photo first" in body
    assert "Reply APPROVE, or REJECT and a reason." in text
    assert "Or reply with the number of an option:" in text
    assert "1. Amount too high - Max 50% without a manager" in text
    assert "2. Ask for a photo first" in text
    assert '"sku": "X"' in text
    assert "&#34;sku&#34;: &#34;X&#34;" in html
    assert "<script" not in html.lower() and "<style" not in html.lower()
    assert "max-width:600px" in html


def test_marker_is_first_line_of_text_and_html(renderer: Renderer) -> None:
    for ctx in (approval(), question(), approval(escalation_msg="Still waiting")):
        text, html = parts(renderer.render_ask(ctx))
        assert text.splitlines()[0] == REPLY_MARKER
        visible = re.sub(r"<head>.*?</head>|<[^>]+>", " ", html, flags=re.S)
        words = REPLY_MARKER.split()
        assert unescape(visible).split()[: len(words)] == words
    assert REPLY_MARKER == "##- Please type your reply above this line -##"


def test_long_values_wrap_in_text_and_are_truncated(renderer: Renderer) -> None:
    text, _ = parts(renderer.render_ask(approval(kwargs={"body": "word " * 100})))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert format_argument("x" * 20000).endswith("(12000 more characters not shown)")
    assert format_argument({"a": [1, 2]}) == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert format_argument("") == '""'
    assert format_argument(None) == "null"


def test_escalation_message_shown_on_top(renderer: Renderer) -> None:
    text, html = parts(renderer.render_ask(question(escalation_msg="Waiting for 2 hours <now>")))
    assert text.index("Waiting for 2 hours") < text.index("Which plan")
    assert "Waiting for 2 hours &lt;now&gt;" in html


def test_question_body(renderer: Renderer) -> None:
    text, html = parts(renderer.render_ask(question()))
    assert "Which plan should this customer get?\nThey have 40 seats." in text
    assert "1. Team" in text and "2. Business - SSO included" in text
    assert "Which plan should this customer get?<br>" in html


# --- mailto buttons ---------------------------------------------------------------------------


def test_approval_mailto_buttons(renderer: Renderer) -> None:
    _, html = parts(renderer.render_ask(approval(subject="Refund A-17 for Jürgen & co?")))
    links = mailtos(html)
    subject = "Re: Refund A-17 for Jürgen & co?"
    assert ("agent+k1@example.test", subject, "APPROVE") in links
    assert ("agent+k1@example.test", subject, "REJECT: ") in links
    assert ("agent+k1@example.test", subject, "1") in links
    assert ("agent+k1@example.test", subject, "2") in links
    assert "%20" in html and "subject=Re+" not in html


def test_question_mailto_buttons(renderer: Renderer) -> None:
    _, html = parts(renderer.render_ask(question(subject="Re: Plan for ACME")))
    links = mailtos(html)
    assert {body for _, _, body in links} == {"1", "2", ""}
    assert {subject for _, subject, _ in links} == {"Re: Plan for ACME"}
    _, html = parts(renderer.render_ask(question(options=())))
    assert mailtos(html) == [("agent@example.test", "Re: Which plan should this customer get?", "")]


# --- threading --------------------------------------------------------------------------------


def test_ask_continuing_a_thread(renderer: Renderer) -> None:
    msg = renderer.render_ask(
        approval(in_reply_to="<p@corp.test>", references=["<a@corp.test> <b@corp.test>", "c@x"])
    )
    assert msg["In-Reply-To"] == "<p@corp.test>"
    assert msg["References"] == "<a@corp.test> <b@corp.test> <c@x> <p@corp.test>"


def test_followup_threading_and_subject(renderer: Renderer) -> None:
    msg = roundtrip(renderer.render_followup(followup()))
    assert msg["Subject"] == "Re: Approval needed: send_refund (Refund agent)"
    assert msg["Message-ID"] == "<f1.call-1@example.test>"
    assert msg["In-Reply-To"] == "<human-1@corp.test>"
    assert msg["References"] == "<k1.call-1@example.test> <human-1@corp.test>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-HL-Email-Call-Id"] == "call-1"


def test_followup_never_doubles_re_and_dedupes_references(renderer: Renderer) -> None:
    ctx = followup(
        thread_subject="Re: Approval needed",
        references=["<k1@x>", "<human-1@corp.test>", "<k1@x>"],
    )
    msg = renderer.render_followup(ctx)
    assert msg["Subject"] == "Re: Approval needed"
    assert msg["References"] == "<k1@x> <human-1@corp.test>"


def test_followup_bodies(renderer: Renderer) -> None:
    text, html = parts(renderer.render_followup(followup()))
    assert text.splitlines()[0] == REPLY_MARKER
    assert "I couldn't tell whether you approve." in text
    assert "> hmm, maybe?" in text
    assert "1. Amount too high" in text
    bodies = {body for _, _, body in mailtos(html)}
    assert bodies == {"APPROVE", "REJECT: ", "1", "2"}
    assert {s for _, s, _ in mailtos(html)} == {"Re: Approval needed: send_refund (Refund agent)"}
    text, html = parts(
        renderer.render_followup(followup(kind="confirm", message="Approved. Thanks!"))
    )
    assert mailtos(html) == [] and "Approved. Thanks!" in text
    _, html = parts(
        renderer.render_followup(
            followup(kind_of_request="question", options=(), quoted_reply=None)
        )
    )
    assert {body for _, _, body in mailtos(html)} == {""}


# --- non-ASCII --------------------------------------------------------------------------------


def test_non_ascii_survives_bytes_roundtrip(renderer: Renderer) -> None:
    ctx = question(
        agent_name="Bürobot 中文 🤖",
        subject="Überweisung für 中文客户 🚀",
        msg="Soll ich die Überweisung ausführen? 请确认 ✅",
        options=(ResponseOption(name="ja", title="Ja, sofort 👍"),),
    )
    raw = renderer.render_ask(ctx).as_bytes()
    assert raw.isascii()  # headers RFC 2047-encoded, bodies transfer-encoded
    msg = email.message_from_bytes(raw, policy=default)
    assert msg["Subject"] == "Überweisung für 中文客户 🚀"
    assert msg["From"].addresses[0].display_name == "Bürobot 中文 🤖"
    text, html = parts(msg)
    assert "Soll ich die Überweisung ausführen? 请确认 ✅" in text
    assert "Ja, sofort 👍" in text and "Ja, sofort 👍" in html
    assert ("agent@example.test", "Re: Überweisung für 中文客户 🚀", "1") in mailtos(html)


def test_non_ascii_approval_kwargs_roundtrip(renderer: Renderer) -> None:
    msg = roundtrip(renderer.render_ask(approval(kwargs={"kunde": "Jürgen 中文 😀"})))
    text, html = parts(msg)
    assert "Jürgen 中文 😀" in text and "Jürgen 中文 😀" in html


# --- templates: user dir, errors, channel template ---------------------------------------------


def test_user_templates_dir_overrides_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "approval.txt").write_text("{{ marker }}\nCUSTOM {{ fn }} for {{ agent_name }}\n")
    (tmp_path / "approval.subject.txt").write_text("[ops] {{ fn }}\n")
    renderer = Renderer(tmp_path)
    msg = renderer.render_ask(approval())
    text, html = parts(msg)
    assert "CUSTOM send_refund for Refund agent" in text
    assert msg["Subject"] == "[ops] send_refund"
    assert "Approve <span" in html  # not overridden: the packaged default
    assert (
        subject_for(approval())
        == "Approval needed: send_refund(order=A-17, amount=120) (Refund agent)"
    )


def test_user_base_layout_override_applies_to_default_templates(tmp_path: Path) -> None:
    (tmp_path / "base.html").write_text(
        "<p>{{ marker }}</p><main>{% block content %}{% endblock %}</main>"
    )
    _, html = parts(Renderer(tmp_path).render_ask(question()))
    assert html.startswith("<p>" + REPLY_MARKER) and "<main>" in html


def test_user_template_syntax_error_at_construction(tmp_path: Path) -> None:
    (tmp_path / "question.html").write_text("line one\n{% if %}\n")
    with pytest.raises(TemplateError, match=r"question\.html, line 2"):
        Renderer(tmp_path)


def test_user_template_undefined_variable_names_template_and_line(tmp_path: Path) -> None:
    (tmp_path / "approval.html").write_text("<p>{{ fn }}</p>\n<p>{{ no_such_thing }}</p>\n")
    renderer = Renderer(tmp_path)
    with pytest.raises(TemplateError, match=r"approval\.html, line 2.*no_such_thing") as info:
        renderer.render_ask(approval())
    assert isinstance(info.value, ValueError)


def test_missing_templates_dir(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="not a directory"):
        Renderer(tmp_path / "nope")


def test_user_html_templates_are_autoescaped_text_templates_are_not(tmp_path: Path) -> None:
    (tmp_path / "approval.html").write_text("<p>{{ kwargs.note }}</p>")
    (tmp_path / "approval.txt").write_text("{{ kwargs.note }}")
    text, html = parts(Renderer(tmp_path).render_ask(approval(kwargs={"note": "<b>&</b>"})))
    assert html == "<p>&lt;b&gt;&amp;&lt;/b&gt;</p>\n"
    assert text == "<b>&</b>\n"


def test_channel_template_overrides_html_body(renderer: Renderer) -> None:
    template = (
        "<html><body><h1>{{ event.spec.fn }} / {{ type }}</h1>"
        "<p>{{ event.spec.kwargs.note }}</p><p>{{ event.run_id }} {{ event.call_id }}</p>"
        '<a href="{{ mailto.approve }}">ok</a></body></html>'
    )
    ctx = approval(kwargs={"note": "<script>x</script>"}, html_template=template)
    text, html = parts(renderer.render_ask(ctx))
    assert "<h1>send_refund / function_call</h1>" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "refund-agent call-1" in html
    assert html.index(REPLY_MARKER) < html.index("<h1>")  # marker injected after <body>
    assert (
        "agent+k1@example.test",
        "Re: Approval needed: send_refund(note=<script>x</script>) (Refund agent)",
        "APPROVE",
    ) in mailtos(html)
    assert text.splitlines()[0] == REPLY_MARKER  # the text twin stays ours
    q = question(
        html_template="{{ type }}: {{ event.spec.msg }} ({{ event.spec.response_options[1].name }})"
    )
    _, html = parts(renderer.render_ask(q))
    assert "human_contact: Which plan" in html and "(business)" in html


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% set x = kwargs.update({'a': 1}) %}",
        "{{ event.spec.kwargs.clear() }}",
    ],
)
def test_channel_template_is_sandboxed(renderer: Renderer, template: str) -> None:
    with pytest.raises(TemplateError, match="channel template"):
        renderer.render_ask(approval(html_template=template))


def test_channel_template_errors_name_channel_template_and_line(renderer: Renderer) -> None:
    with pytest.raises(TemplateError, match=r"channel template, line 2: .*missing"):
        renderer.render_ask(approval(html_template="ok\n{{ missing }}"))
    with pytest.raises(TemplateError, match=r"channel template, line 1: TemplateSyntaxError"):
        renderer.render_ask(approval(html_template="{% for %}"))
    with pytest.raises(TemplateError, match="channel template"):
        renderer.check_channel_template("{{ x ")
    renderer.check_channel_template("{{ event.spec.fn }}")


# --- contract checks --------------------------------------------------------------------------


def test_ask_needs_its_content(renderer: Renderer) -> None:
    with pytest.raises(ValueError, match="fn"):
        renderer.render_ask(approval(fn=None))
    with pytest.raises(ValueError, match="msg"):
        renderer.render_ask(question(msg=None))


def test_contexts_are_frozen() -> None:
    with pytest.raises(AttributeError):
        approval().fn = "x"  # type: ignore[misc]


def test_rendering_is_deterministic(renderer: Renderer) -> None:
    a, b = renderer.render_ask(approval()), renderer.render_ask(approval())
    assert parts(a) == parts(b)
    assert [(k, v) for k, v in a.items() if k != "Content-Type"] == [
        (k, v) for k, v in b.items() if k != "Content-Type"
    ]


def test_humanlayer_channel_template_renders_with_urls_and_v1beta2_type(renderer: Renderer) -> None:
    """HumanLayer's documented template (docs/channels/email.mdx) renders unchanged: its
    `urls.base_url` action links become prefilled mailto replies, and `type` compares equal to
    HumanLayer's `v1beta2.*` spelling as well as ours."""
    template = (
        "<html><body><h3>Function: {{ event.spec.fn }}</h3>"
        "<pre>{{ event.spec.kwargs | tojson(indent=2) }}</pre>"
        '<a href="{{ urls.base_url }}?approve=true">Approve</a>'
        "{% for option in event.spec.reject_options %}"
        '<a href="{{ urls.base_url }}?reject=true&option={{ option.name }}">{{ option.name }}</a>'
        "{% endfor %}"
        '<a href="{{ urls.base_url }}?reject=true">Reject</a>'
        '<a href="{{ urls.base_url }}">Reply</a>'
        "{% if type == 'v1beta2.function_call' %}<i>hl-type</i>{% endif %}"
        "{% if type == 'function_call' %}<i>our-type</i>{% endif %}"
        "{% if type == 'v1beta2.human_contact' %}<i>wrong</i>{% endif %}"
        "</body></html>"
    )
    ctx = approval(
        html_template=template,
        options=(ResponseOption(name="too_much", title="Too much"),),
    )
    _, html = parts(renderer.render_ask(ctx))
    assert "hl-email-action" not in html and "http" not in html
    assert "<i>hl-type</i>" in html and "<i>our-type</i>" in html and "wrong" not in html
    bodies = [body.split("\n\n\nRef:")[0] for _, _, body in mailtos(html)]
    assert bodies == ["APPROVE", "1", "REJECT: ", ""]
    assert {address for address, _, _ in mailtos(html)} == {"agent+k1@example.test"}
    q = question(
        html_template=(
            "{% for o in event.spec.response_options %}"
            '<a href="{{ urls.base_url }}?option={{ o.name }}">{{ o.title }}</a>{% endfor %}'
            "{% if type in ['v1beta2.human_contact'] %}<b>{{ type }}</b>{% endif %}"
        )
    )
    _, html = parts(renderer.render_ask(q))
    assert [body.split("\n\n\nRef:")[0] for _, _, body in mailtos(html)] == ["1", "2"]
    assert "<b>human_contact</b>" in html
