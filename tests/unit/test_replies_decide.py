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
    assert decide("Yes, go ahead. Notify finance.") == Decision("approve", "Notify finance.")
    assert decide("approved - notify finance today").comment == "notify finance today"
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
        "Yes, go ahead. Notify finance.", "Approved. Sorry for the delay.",
        "Yes, approved. Please notify finance today.", "Approved.\nThanks,\nAnna",
        "Ok. Send it to Bob as well.", "Genehmigt. Danke!",
    ],
)  # fmt: skip
def test_an_approval_with_a_comment_still_approves(text: str) -> None:
    assert decide(text).verdict == "approve", text


def test_german_button_word_freigeben_is_understood():
    # The German approval email's button says "Freigeben"; people also type it.
    assert decide("Freigegeben").verdict == "approve"
    assert decide("Freigeben.").verdict == "approve"
    assert decide("Nicht freigegeben").verdict == "reject"
