"""The closed comment (replies/comment.py): after an approval only thanks, sign-offs,
signatures, a short list of harmless phrases and the request's own words may follow.

The attack round's cases are in test_decide_attack_cases.py; these are new words of the same
categories (the gate must generalise, not list them), the specific defects the attack found,
and the plain yeses it found asked again."""

from __future__ import annotations

import pytest

from hl_email.replies import decide, extract_reply_from_html

ARGS = {"amount": 500}

# New words, not in any list: the closed reading asks again because it does not know them.
NEW_NOT_APPROVALS = [
    ("retraction", "Approved. Undo.", {}),
    ("retraction", "Approved. Cancel that.", {}),
    ("retraction", "Approved. Kidding!", {}),
    ("retraction", "Approved. Jk", {}),
    ("retraction", "Approved\n\n-- \nAnna\nPS wait", {}),
    ("retraction", "Approved\nThanks\nRevisit", {}),
    ("deferral", "Yes, eventually.", {}),
    ("deferral", "Yes, on Thursday.", {}),
    ("deferral", "Sí, más tarde.", {}),
    ("deferral", "Sim, depois.", {}),
    ("deferral", "Sì, dopo.", {}),
    ("deferral", "Tak, później.", {}),
    ("deferral", "Да, потом.", {}),
    ("deferral", "好的，以后再说", {}),
    ("deferral", "はい、あとで", {}),
    ("deferral", "Approved.\nBest,\nNot Yet", {}),
    ("condition", "OK, once finance signs.", {}),
    ("condition", "Approved, assuming legal is fine.", {}),
    ("condition", "Approved. Tentative.", {}),
    ("condition", "Oui, sous réserve.", {}),
    ("counter-offer", "Yes, half.", {"arguments": ARGS}),
    ("counter-offer", "Approved, 250 now and 250 later.", {"arguments": ARGS}),
    ("counter-offer", "Approved, 5k.", {"arguments": ARGS}),
    ("counter-offer", "Approve 5.000", {"arguments": ARGS}),
    ("counter-offer", "Approved. 500,000", {"arguments": ARGS}),
    ("counter-offer", "Approved. 500 USD", {"arguments": {"amount": 500, "currency": "EUR"}}),
    ("counter-offer", "Approved. $500", {"arguments": {"amount": 500, "currency": "EUR"}}),
    ("counter-offer", "Approved. 1000", {"arguments": {"amount": 500, "max_allowed": 1000}}),
    ("counter-offer", "Approve the refund of 50", {"arguments": {"amount": 500, "fee": 50}}),
    ("counter-offer", "Approved\nThanks,\nUSD", {"arguments": {"amount": 500, "currency": "EUR"}}),
    ("delegation", "Yes, ask Carol.", {}),
    ("delegation", "OK, Carol decides.", {}),
    ("negation", "Yes. Nope.", {}),
    ("negation", "Approved. Nopity nope.", {}),
    ("emoji", "Approved 😤", {}),
    ("emoji", "Approved 🫠", {}),
    ("unicode", "Approved. ПОЗЖЕ", {}),
    ("unicode", "Approved \u202eedon\u202c", {}),
    ("unicode", "Approved\u2067 not\u2069", {}),
    ("unsupported language", "OK, pozdeji.", {}),
    ("unsupported language", "OK, senare kanske.", {}),
    ("sarcasm", "Approved, what a surprise.", {}),
    ("question", "Approved, right", {}),
    (
        "different request",
        "Approve the refund.",
        {"arguments": {"user": "bob", "action": "delete_account"}},
    ),
    (
        "quoted text counts",
        "\n\nOn Tue, 1 Dec 2026 at 09:14, Agent <a@example.test> wrote:\nYes",
        {},
    ),
    ("plain-yes list", "No problem, go ahead. Kidding.", {}),
    ("plain-yes list", "That's fine. Tomorrow.", {}),
    ("formatting", "**Approved** not yet", {}),
]


@pytest.mark.parametrize(
    ("category", "text", "kwargs"),
    NEW_NOT_APPROVALS,
    ids=[f"{i:02d}-{c}" for i, (c, _t, _k) in enumerate(NEW_NOT_APPROVALS)],
)
def test_new_words_are_asked_again(category: str, text: str, kwargs: dict) -> None:
    result = decide(text, **kwargs)
    assert result.verdict != "approve", (category, text, result)
    assert result.reason


def test_the_reason_quotes_the_comment() -> None:
    reason = decide("Ja, unter Vorbehalt.").reason
    assert reason == (
        "I read a comment after your approval that I can't be sure of: 'unter Vorbehalt'. "
        "Reply APPROVE alone to approve as asked, or REJECT with your reason."
    )
    reason = decide("Approve K7QF3M. nvm", approval_code="K7QF3M").reason
    assert "'nvm'" in reason and "with the code" in reason


def test_numbers_are_the_amount_itself() -> None:
    # "50.000" is fifty thousand in de/fr/es/pt/it/nl: never the request's 500.00
    assert "'50.000'" in decide("Approved. 50.000", arguments=ARGS).reason
    # only the amount argument's own number, not a limit or a fee
    args = {"amount": 500, "max_allowed": 1000, "fee": 50}
    assert decide("Approve 1000", arguments=args).verdict == "unclear"
    assert decide("Approved. 500", arguments=args).verdict == "approve"
    assert decide("Approved for 500.", arguments=args).verdict == "approve"
    # the same value in any notation; an ambiguous "1.000" is asked again
    assert decide("Approved, 1,000.00 is fine", arguments={"amount": 1000}).verdict == "approve"
    assert decide("Approved, 1.000,00 is fine", arguments={"amount": 1000}).verdict == "approve"
    assert decide("Approved. 1.000", arguments={"amount": 1000}).verdict == "unclear"
    # the request's own currency only
    eur = {"amount": 120, "currency": "EUR", "order": "A-7731"}
    assert decide("Yes, approve the 120 EUR refund for A-7731.", arguments=eur).verdict == (
        "approve"
    )
    assert decide("Approved. 120 USD", arguments=eur).verdict == "unclear"


def test_bidi_overrides_never_approve() -> None:
    assert decide("Approved \u202eton\u202c").verdict == "unclear"
    # the same reply without the isolate approves: the bidi character alone is the reason
    assert decide("Approved.\nThanks,\nAnna Berg").verdict == "approve"
    result = decide("Approved.\nThanks,\nAnna \u2066Berg\u2069")
    assert result.verdict == "unclear"
    assert "direction" in result.reason


def test_a_quote_without_markers_under_a_reply_header_never_approves() -> None:
    result = decide("On Mon, 1 Dec 2026, Agent wrote:\nApproved.\n")
    assert result.verdict == "unclear"
    assert result.reason == "The reply has no new text above the quoted message."
    # bottom-posting under a marked quote still counts
    assert decide("On Mon, 1 Dec 2026, Agent wrote:\n> Approve?\n\nApproved.").verdict == (
        "approve"
    )


def test_an_image_is_read_as_its_alt_text() -> None:
    text = extract_reply_from_html('<div>Approved<img alt="👎" src="cid:e1"></div>')
    assert "👎" in text
    assert decide(text).verdict != "approve"


# The attack round's over-strictness list: plain yeses that were asked again.
PLAIN_YESES = [
    "**Approved**", "*Approved*", "“Approved”", "Yesss", "没问题", "行，没问题",
    "Sí, claro, adelante.", "Sim, claro.", "No problem, go ahead.", "Sure, no problem!",
    "That's fine.", "Works for me.", "Sounds great!", "Happy to approve.", "Approved by me.",
    "Sure thing, boss.", "了解、承認します", "Approve the refund of 500", "Approved for 500.",
    "Yes, 100%",
    "Approved\n\n-- \nJane Doe\nVP Ops\nT: +1 (555) 010-2000",
    "Approved\n\nJane Doe | VP Ops | +1 555 010 2000",
    "Approved\n\n-- \nJane Doe\nAcme Corp | 123 Main St",
    "Sì, approvato.\n\n-- \nMarco Rossi\nVia Roma 12, 00100 Roma",
    # harmless comments and sign-offs
    "Approved. Thanks for checking!", "Yes, go ahead. Good catch.",
    "Ja, freigegeben. Danke für die Nachfrage.", "Oui, validé. Bon week-end !",
    "Yes, go ahead. Have a nice weekend!\n\nBest,\nAnna Berg\nHead of Finance, ACME GmbH\n"
    "+49 30 1234 5678",
    "Approved\n\nSent from my iPhone", "Approved.\nThanks,\nAnna", "Yes\n\nBest,\nJ",
    "Здравствуйте,\n\nодобряю.\n\nС уважением,\nИван",
]  # fmt: skip


@pytest.mark.parametrize("text", PLAIN_YESES)
def test_plain_yeses_approve(text: str) -> None:
    result = decide(text, arguments={"amount": 500, "customer": "ACME GmbH"})
    assert result.verdict == "approve", (text, result)


def test_left_asked_again_on_purpose() -> None:
    # "Tak" is Polish "yes" and Danish "thanks": asked again
    assert decide("Tak.").verdict == "unclear"


def test_the_gateway_path_drops_a_quote_without_markers_too() -> None:
    # the gateway decides on extract_reply_from_message(msg, for_decision=True)
    import email

    from hl_email.replies import extract_reply_from_message

    for body in (
        "On Mon, 1 Dec 2026, Agent wrote:\nApproved.\n",
        "\n\n-----Original Message-----\nFrom: Agent\nSent: Monday\nTo: Anna\n"
        "Subject: Approve refund?\n\nApproved.",
    ):
        msg = email.message_from_string(
            "From: anna@example.test\nSubject: Re: Approve refund?\n"
            "Content-Type: text/plain; charset=utf-8\n\n" + body
        )
        text = extract_reply_from_message(msg, for_decision=True)
        assert text == ""
        assert decide(text).verdict == "unclear"
