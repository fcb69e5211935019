"""Decision grammar: approve, reject, options, answers and the many ways to be unclear."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hl_email.replies import REPLY_MARKER, Decision, decide

OPTIONS = (
    SimpleNamespace(name="too_expensive", title="Too expensive", description="Over budget"),
    SimpleNamespace(name="wrong_customer", title="Wrong customer", description=None),
    SimpleNamespace(name="later", title=None, description="Ask again next week"),
)


@pytest.mark.parametrize(
    "text",
    [
        "yes", "Yes.", "YES!", "approve", "Approved", "I approve", "ok", "OK", "okay", "lgtm",
        "LGTM!", "go ahead", "Go for it", "sure", "y", "Y", "k", "👍", "👍🏽", "✅", "✔️",
        "ja", "Jawohl", "oui", "sí", "si", "sim", "sì", "Tak, zatwierdzam", "да", "так", "是", "好的",
        "はい", "Hi Bot,\n\nYes please.\n\nThanks", "Thanks! Approved.", "sounds good",
        "Yes.\n\n-- \nAnna\nHead of Finance",
    ],
)  # fmt: skip
def test_clear_approvals(text: str) -> None:
    assert decide(text).verdict == "approve", text


@pytest.mark.parametrize(
    "text",
    [
        "no", "No.", "n", "N", "nope", "reject", "Rejected", "deny", "denied", "decline",
        "👎", "❌", "not approved", "I do not approve", "I don't approve this", "don't",
        "Don't do it", "absolutely not", "nein", "non", "não", "nie", "нет", "ні", "いいえ",
        "不同意",
    ],
)  # fmt: skip
def test_clear_rejections(text: str) -> None:
    assert decide(text).verdict == "reject", text


def test_comment_follows_the_decision_word() -> None:
    assert decide("Yes, go ahead. Good catch.") == Decision("approve", "Good catch.")
    assert decide("approved - have a nice weekend").comment == "have a nice weekend"
    assert decide("No, too expensive") == Decision("reject", "too expensive")
    assert decide("Reject: the customer is flagged").comment == "the customer is flagged"
    assert decide("I do not approve, wrong account").comment == "wrong account"
    assert decide("no").comment is None
    assert decide("yes").comment is None
    assert decide("Yes please.\n\nThanks").comment is None


@pytest.mark.parametrize(
    ("text", "reason_word"),
    [
        ("yes if under $100", "conditional"),
        ("Yes, but only the small one", "conditional"),
        ("approve unless it is over 500", "conditional"),
        ("yes no", "both"),
        ("Yes.\nNo.", "no"),
        ("approved, don't tell finance", "both"),
        ("approve? not sure", "question"),
        ("Can you tell me more about the customer?", "question"),
        ("Yes. Why is this needed though?", "question"),
        ("Thanks!", "thanks"),
        ("Thank you for the details.", "thanks"),
        ("", "no new text"),
        ("   \n\n  ", "no new text"),
        ("maybe", "unsure"),
        ("I think so", "unsure"),
        ("Not sure, let me check", "unsure"),
        ("Let me look at it tomorrow", "no approve"),
        ("No problem", "unsure"),
    ],
)
def test_unclear_replies(text: str, reason_word: str) -> None:
    result = decide(text)
    assert result.verdict == "unclear", text
    assert result.reason and reason_word in result.reason.lower(), result.reason


def test_quoted_text_is_not_new_text() -> None:
    assert decide("> yes\n> approved").verdict == "unclear"
    assert decide(
        "No\n\nOn Mon, 1 Jan 2024, Bot <bot@example.test> wrote:\n> approve?"
    ).verdict == ("reject")
    assert decide("yes\n\n> no, never").verdict == "approve"
    quoted_marker = f"> {REPLY_MARKER}\n> Approve the refund? yes / no"
    assert decide(quoted_marker).verdict == "unclear"
    assert decide(f"Approved\n\n{REPLY_MARKER}\nReply yes or no").verdict == "approve"


def test_reject_options_by_number_name_and_title() -> None:
    chosen = decide("2", options=OPTIONS)
    assert chosen == Decision("reject", comment="Wrong customer", option="wrong_customer")
    assert decide("1 - way over the limit", options=OPTIONS) == Decision(
        "reject", comment="way over the limit", option="too_expensive"
    )
    assert decide("option 3", options=OPTIONS).option == "later"
    assert decide("option 3", options=OPTIONS).comment == "Ask again next week"
    assert decide("Too expensive", options=OPTIONS).option == "too_expensive"
    assert decide("wrong_customer: it is ACME", options=OPTIONS).comment == "it is ACME"
    assert decide("4", options=OPTIONS).verdict == "unclear"
    assert decide("yes", options=OPTIONS).verdict == "approve"


def test_question_kind_answers() -> None:
    assert decide("Blue, please", kind="question") == Decision("answer", comment="Blue, please")
    picked = decide("2", kind="question", options=OPTIONS)
    assert (picked.verdict, picked.option) == ("answer", "wrong_customer")
    assert decide("Wrong customer, it was ACME", kind="question", options=OPTIONS).option == (
        "wrong_customer"
    )
    assert decide("2 weeks", kind="question", options=OPTIONS).option is None
    assert decide("", kind="question").verdict == "unclear"
    assert decide("> quoted only", kind="question").verdict == "unclear"


def test_classifier_is_consulted_only_when_unclear() -> None:
    calls: list[str] = []

    def classifier(text: str) -> Decision:
        calls.append(text)
        return Decision("reject", comment="llm")

    assert decide("no", classifier=classifier).verdict == "reject"
    assert calls == []
    assert decide("ship it when ready, sure thing?", classifier=classifier).comment == "llm"
    assert calls == ["ship it when ready, sure thing?"]


@pytest.mark.parametrize("text", ["ship it when ready?", "hmm", "Yes pending legal review"])
def test_a_classifier_can_never_approve(text: str) -> None:
    # issue 9: a hook may reject, answer or explain better, never turn unclear into approve
    result = decide(text, classifier=lambda t: Decision("approve", comment="llm"))
    assert result.verdict == "unclear"
    better = decide(text, classifier=lambda t: Decision("unclear", reason="Which account?"))
    assert (better.verdict, better.reason) == ("unclear", "Which account?")


def test_classifier_failures_fall_back_to_unclear() -> None:
    def broken(text: str) -> Decision:
        raise RuntimeError("model down")

    assert decide("hmm", classifier=broken).verdict == "unclear"
    assert decide("hmm", classifier=lambda text: None).verdict == "unclear"
    # a verdict that does not fit the kind is ignored
    assert decide("hmm", kind="question", classifier=lambda t: Decision("approve")).verdict == (
        "answer"
    )
    assert decide("hmm", classifier=lambda t: Decision("answer")).verdict == "unclear"


def test_decision_is_frozen() -> None:
    with pytest.raises(AttributeError):
        decide("yes").verdict = "reject"  # type: ignore[misc]


# Cross-language collisions: a word that is "yes" in one listed language and something else
# in another never approves on its own meaning alone.
@pytest.mark.parametrize(
    "text",
    [
        "tak", "Tak.", "Tak!", "Mange tak", "Tak for det", "Tusen takk", "Tak, dziękuję",
        "Si vous voulez", "Si el precio es menor", "Sí, si es menos de 100",
        "Se for menos, sim", "Vale 100 euro", "Vale la pena", "Prima verifica il conto",
        "Prima di procedere, controlla", "Ya veremos", "Ya lo hice",
    ],
)  # fmt: skip
def test_cross_language_collisions_are_not_approvals(text: str) -> None:
    assert decide(text).verdict == "unclear", text


@pytest.mark.parametrize("text", ["Si", "si.", "Vale", "Vale!", "Prima", "Ya", "Ja", "Так"])
def test_ambiguous_words_alone_still_approve(text: str) -> None:
    assert decide(text).verdict == "approve", text


def test_decide_does_not_extract_twice_but_matches() -> None:
    from hl_email.replies import extract_reply

    body = "Approved\n\nOn Mon, 1 Jan 2024, Bot <b@x.org> wrote:\n> No\n"
    extracted = extract_reply(body)
    assert extract_reply(extracted) == extracted
    assert decide(extracted) == decide(body) == decide(str(extracted))


# A later sentence that takes the yes back: any reject word, a retraction, or a sentence led
# (or ended) by a negation after the approving sentence makes the reply unclear.
@pytest.mark.parametrize(
    "text",
    [
        "Yes.\nNope.", "Approve. Never.", "Approved.\nNah, actually not.", "Yes.\nNon.",
        "yes\n-1", "Ok.\nNever mind.", "Yes. Nein.", "Sí.\nMejor no.", "Yes\n👎",
        "Approve. No rush.", "Yes. Just kidding.", "Yes.\nScratch that.", "Ok. On second thought",
        "Approved. Actually, no.", "Approved. Actually, hold off.", "Yes. Not.",
        "Approved. I'd say not.", "Yes.\nWell, not really.", "Oui.\nLaisse tomber.",
        "Ja.\nVergiss es.", "Ja. Doch nicht.", "Sì. Lascia perdere.", "Tak, zatwierdzam. Jednak nie.",
        "Да. Неважно.", "好的。不行。", "好的。算了。", "はい。やっぱり",
        # a negation after the yes in the same sentence is doubt too
        "Sure, not happening", "Approved, not really",
    ],
)  # fmt: skip
def test_a_later_retraction_is_never_an_approval(text: str) -> None:
    assert decide(text).verdict == "unclear", text


@pytest.mark.parametrize(
    "text",
    ["Approved — not!", "Approved... NOT", "Approve -- NOT", "Approved, NOT", "Approved… not",
     "OK (not)", "Genehmigt — nicht!", "d'accord... pas"],
)  # fmt: skip
def test_approve_then_punctuated_not_is_never_an_approval(text: str) -> None:
    assert decide(text).verdict in ("reject", "unclear"), text


def test_punctuated_not_in_one_sentence_rejects() -> None:
    assert decide("Approved — not!").verdict == "reject"
    assert decide("Approve -- NOT").verdict == "reject"


@pytest.mark.parametrize(
    "text",
    [
        "Yes, go ahead. Thanks for checking.", "Approved. Sorry for the delay.",
        "Yes, approved. Have a nice weekend.", "Approved.\nThanks,\nAnna",
        "Ok. Thanks for the quick summary.", "Genehmigt. Danke!",
    ],
)  # fmt: skip
def test_an_approval_with_a_comment_still_approves(text: str) -> None:
    assert decide(text).verdict == "approve", text


def test_an_addition_to_the_request_is_not_a_plain_yes() -> None:
    # issue 9, deliberately stricter than before: "as well", "also", "double" change the request
    for text in ("Ok. Send it to Bob as well.", "Yes, also give them a voucher",
                 "Approved, pls double the amount"):  # fmt: skip
        assert decide(text).verdict == "unclear", text


def test_german_button_word_freigeben_is_understood():
    # The German approval email's button says "Freigeben"; people also type it.
    assert decide("Freigegeben").verdict == "approve"
    assert decide("Freigeben.").verdict == "approve"
    assert decide("Nicht freigegeben").verdict == "reject"


# --- issue 9: the closed grammar ---------------------------------------------------------------


def test_every_supported_language_is_supported_whole() -> None:
    from hl_email.replies import SUPPORTED_LANGUAGES
    from hl_email.replies.lexicon import LANGUAGES

    assert {"en", "de", "fr", "es", "pt", "it", "nl", "pl", "sv", "da", "no", "ru", "uk", "zh",
            "ja"} <= set(SUPPORTED_LANGUAGES)  # fmt: skip
    for language in LANGUAGES:
        for kind in ("approve", "reject", "negation", "condition", "deferral", "acknowledgement",
                     "time", "hedge", "retraction", "delegation", "counter_offer", "question"):  # fmt: skip
            assert language.words(kind), (language.code, kind)


@pytest.mark.parametrize("apostrophe", list("´`ʼ＇‘′’‛"))
def test_negation_with_any_apostrophe_is_read(apostrophe: str) -> None:
    assert decide(f"Yes, I don{apostrophe}t approve").verdict != "approve"
    assert decide(f"I don{apostrophe}t approve").verdict == "reject"


@pytest.mark.parametrize(
    "text",
    ["Ａｐｐｒｏｖｅｄ", "Approved\u200b", "\u200bYes", "👍🏿", "Approved\ufe0f", "Yes\u2060."],
)
def test_normalised_forms_of_an_approval_approve(text: str) -> None:
    assert decide(text).verdict == "approve", text


@pytest.mark.parametrize(
    "text",
    ["Ｎｏｔ ａｐｐｒｏｖｅｄ", "Yes, n\u200bot now", "Approve\u202e, no", "ok, do\u00adn't"],
)
def test_normalised_forms_of_a_negation_never_approve(text: str) -> None:
    assert decide(text).verdict != "approve", text


def test_a_retraction_after_the_signature_counts() -> None:
    assert decide("Approve.\n\nSent from my iPhone\n\nWait, no!").verdict == "unclear"
    assert decide("Yes.\n\n-- \nAnna\nFinance\n\nPS: actually don't").verdict == "unclear"
    assert decide("Yes.\n\n-- \nAnna\nFinance").verdict == "approve"


def test_the_reason_names_what_was_read() -> None:
    result = decide("Yes, pending legal review")
    assert result.verdict == "unclear"
    assert "condition" in result.reason and "pending legal review" in result.reason
    assert "I read a deferral" in decide("Ok, I'll look at it tomorrow").reason
    assert "acknowledgement" in decide("Ok, noted.").reason


def test_rejection_comment_keeps_the_negation() -> None:
    assert decide("No, don't do this") == Decision("reject", "don't do this")
    assert decide("Rejected — we never refund twice").comment == "we never refund twice"
    assert decide("No, not this customer.\n\n-- \nAnna\nFinance").comment == "not this customer."
    assert decide("Nein, bitte nicht.\n\nViele Grüße\nJan").comment == "bitte nicht."


def test_approval_comment_is_the_humans_words_without_signature() -> None:
    assert decide("Approved. Good catch.\n\nThanks,\nAnna").comment == "Good catch."
    assert decide("Yes.\n\nSent from my iPhone").comment is None


def test_numbers_must_be_the_requests() -> None:
    args = {"amount": 120, "order": "A-7731"}
    assert decide("Approve the 120 refund", arguments=args).verdict == "approve"
    assert decide("Yes, 120 is fine", arguments=args).verdict == "approve"
    assert decide("Approve, order A-7731", arguments=args).verdict == "approve"
    assert decide("Approve 80", arguments=args).verdict == "unclear"
    assert "a number that is not in the request: '80'" in decide("Yes, 80", arguments=args).reason
    # without arguments every number is a possible counter-offer
    assert decide("Yes, 120 is fine").verdict == "unclear"


def test_approval_code_is_required_when_given() -> None:
    assert decide("APPROVE K7QF3M", approval_code="K7QF3M").verdict == "approve"
    assert decide("approve k7qf3m\n\nSent from my iPhone", approval_code="K7QF3M").verdict == (
        "approve"
    )
    assert decide("Approve", approval_code="K7QF3M").verdict == "unclear"
    assert decide("Approve K7QF3X", approval_code="K7QF3M").verdict == "unclear"
    assert decide("y", approval_code="K7QF3M").verdict == "unclear"
    assert decide("REJECT K7QF3M", approval_code="K7QF3M").verdict == "reject"


@pytest.mark.parametrize(
    "text",
    ["네, 승인합니다", "Ναι", "Ok, ei käy", "Evet", "Ok, değil", "Ok, không", "аpprove", "Yеs"],
)
def test_unsupported_languages_and_mixed_scripts_are_unclear(text: str) -> None:
    assert decide(text).verdict == "unclear", text


@pytest.mark.parametrize(
    "text",
    ["是的，我不同意", "好，不用了", "はい、承認しません", "好的，收到", "はい、承知しました",
     "可以，明天再说"],
)  # fmt: skip
def test_cjk_yes_followed_by_a_signal_is_unclear(text: str) -> None:
    assert decide(text).verdict == "unclear", text


def test_long_and_hostile_input_is_read_safely() -> None:
    # bounded: the decision reads at most a few thousand characters and never backtracks
    for text in ("yes " * 50_000, "no" + "!" * 100_000, "ok," * 30_000, "是" * 40_000,
                 "Approved " + "a" * 200_000, "\u200b" * 100_000 + "yes"):  # fmt: skip
        assert decide(text).verdict in ("unclear", "reject", "approve")
    assert decide("yes " * 50_000).verdict != "approve"


@pytest.mark.parametrize("text", ["Yes, I do n ot approve", "Approved, no t really", "Ok, wa it"])
def test_a_signal_word_split_by_a_space_still_counts(text: str) -> None:
    # some clients turn a zero-width character into a space before we see the text
    assert decide(text).verdict == "unclear", text


def test_zero_width_inside_a_word_never_helps_an_approval() -> None:
    from hl_email.replies import extract_reply_from_message

    for body in ("Yes, I do n\u200bot approve", "ap\u200bprove", "Yes, I disap\u200bprove"):
        raw = f"From: a@b.test\nContent-Type: text/plain; charset=utf-8\n\n{body}\n".encode()
        assert decide(extract_reply_from_message(raw)).verdict == "unclear", body
        assert decide(body).verdict == "unclear", body


@pytest.mark.parametrize(
    "text", ["Approved-ish", "ok-ish", "yes-but", "Yes pending", "OK [pending]"]
)
def test_an_approval_word_glued_to_more_is_not_complete(text: str) -> None:
    assert decide(text).verdict != "approve", text


@pytest.mark.parametrize(
    "text",
    ["Yes, go ahead. Notify finance.", "Yes, approved. Please notify finance today.",
     "Approved. Notify finance.\n\nThanks,\nAnna"],
)  # fmt: skip
def test_an_instruction_after_the_approval_is_asked_again(text: str) -> None:
    # the comment is read closed (replies/comment.py): only thanks, sign-offs, signatures,
    # a short list of harmless phrases and the request's own words may follow a yes
    result = decide(text)
    assert result.verdict == "unclear", text
    assert "I read a comment after your approval that I can't be sure of" in result.reason
    assert "otify finance" in result.reason
