"""What a person sees: subjects that tell asks apart, the function's docstring in the ask."""

from __future__ import annotations

from datetime import UTC, datetime

from hl_email.outbound.render import AskContext, Renderer, arguments_summary, subject_for


def ask(**kw) -> AskContext:
    base = dict(
        kind="approval",
        call_id="call-1",
        run_id="run",
        agent_name="Dev agent",
        agent_address="agent@example.test",
        reply_address="agent@example.test",
        to=["alice@corp.test"],
        fn="issue_refund",
        kwargs={"order": "A-17", "amount": 120},
        date=datetime(2026, 1, 2, tzinfo=UTC),
    )
    base.update(kw)
    return AskContext(**base)


def test_summary_shows_a_few_arguments_and_marks_the_rest():
    assert arguments_summary({}) == ""
    assert arguments_summary(None) == ""
    assert arguments_summary({"amount": 900, "vip": True, "note": None}) == (
        "amount=900, vip=true, note=null"
    )
    assert arguments_summary({"items": [1, 2], "meta": {"a": 1}, "empty": []}) == (
        "items=[...], meta={...}, empty=[]"
    )
    long = arguments_summary({"reason": "customer says the parcel never arrived at all"})
    assert long == "reason=customer says the par..."
    many = arguments_summary({f"arg{i}": i for i in range(20)})
    assert many.endswith(", ...") and len(many) <= 60
    assert "\n" not in arguments_summary({"x": "line one\r\nBcc: evil@x"})


def test_three_asks_for_the_same_function_have_different_subjects():
    subjects = {
        subject_for(ask(kwargs={"order": order, "amount": amount}))
        for order, amount in (("A-1", 10), ("A-2", 10), ("A-1", 99))
    }
    assert len(subjects) == 3
    assert subject_for(ask()) == "Approval needed: issue_refund(order=A-17, amount=120) (Dev agent)"
    assert subject_for(ask(kwargs={})) == "Approval needed: issue_refund (Dev agent)"


def test_docstring_is_shown_in_text_and_html():
    doc = "Refund an order to the customer's card.\n\nNever more than the order total."
    msg = Renderer().render_ask(ask(description=doc))
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "What it does:\n  Refund an order to the customer's card." in text
    assert "Never more than the order total." in text
    assert "Refund an order to the customer&#39;s card." in html or (
        "Refund an order to the customer's card." in html
    )
    plain = Renderer().render_ask(ask()).get_body(("plain",)).get_content()
    assert "What it does:" not in plain


def test_confirmations_and_notes_carry_the_reply_marker():
    from hl_email.outbound.render import REPLY_MARKER, FollowupContext

    for kind in ("confirm", "note", "already_decided", "clarify", "reminder"):
        msg = Renderer().render_followup(
            FollowupContext(
                kind=kind,
                call_id="call-1",
                agent_name="Dev agent",
                agent_address="agent@example.test",
                reply_address="agent@example.test",
                to=["alice@corp.test"],
                thread_subject="Approval needed: issue_refund (Dev agent)",
                message="Approved. Thanks, the agent will go ahead.",
                date=datetime(2026, 1, 2, tzinfo=UTC),
            )
        )
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert text.splitlines()[0] == REPLY_MARKER, kind
        assert REPLY_MARKER in html, kind
