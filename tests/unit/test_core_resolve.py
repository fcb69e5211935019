"""core/resolve.py: a vote, a late answer and asking again as pure Effects (no store, no clock)."""

from __future__ import annotations

from typing import Any

from hl_email.core.outcomes import Outcome
from hl_email.core.resolve import ask_again, late_answer, person, resolve_vote
from hl_email.models import ResponseOption
from hl_email.replies import Decision
from hl_email.store import RecipientRow, RequestRow

NOW = 1_700_000_000.0


def _request(kind: str = "function_call", **route: Any) -> RequestRow:
    return RequestRow("r1", "call-1", "run", kind, {"fn": "refund"}, {}, route=route, version=3)


def _people(*addresses: str) -> list[RecipientRow]:
    return [RecipientRow("r1", i, a, state="sent") for i, a in enumerate(addresses)]


def _vote(request: RequestRow, people: list[RecipientRow], verdict: str, seq: int = 0, **kw: Any):
    return resolve_vote(
        request,
        people[seq].address,
        seq,
        people,
        Decision(verdict, **kw),
        [],
        "text",
        NOW,
        send_confirmations=True,
    )


def test_one_approval_resolves_and_notes_the_others() -> None:
    people = _people("a@x.test", "b@x.test")
    effects = _vote(_request(), people, "approve", comment="ok")
    assert effects.outcome is Outcome.APPLIED and effects.detail == "approve"
    assert effects.change is not None and effects.change.state == "done"
    assert effects.change.resolved_at == NOW
    assert effects.change.status["approved"] is True
    assert effects.change.status["comment"] == "ok"
    assert [(e.recipient_seq, e.kind, e.in_reply) for e in effects.emails] == [
        (0, "confirm", True),
        (1, "note", False),
    ]
    assert effects.answered and effects.notify == "done"


def test_a_rejection_without_a_comment_gets_one() -> None:
    effects = _vote(_request(), _people("a@x.test"), "reject")
    assert effects.change is not None
    assert effects.change.status["approved"] is False
    assert effects.change.status["comment"] == "rejected by email without a reason"


def test_a_quorum_not_met_records_the_vote_only() -> None:
    people = _people("a@x.test", "b@x.test", "c@x.test")
    effects = _vote(_request(policy="quorum", quorum=2), people, "approve")
    assert effects.outcome is Outcome.VOTE_RECORDED
    assert effects.change is not None and effects.change.state is None
    assert effects.notify is None
    assert [e.kind for e in effects.emails] == ["confirm"]


def test_policy_all_waits_for_everyone_asked() -> None:
    people = _people("a@x.test", "b@x.test")
    effects = _vote(_request(policy="all"), people, "approve")
    assert effects.outcome is Outcome.VOTE_RECORDED
    assert "1 of 2" in effects.detail


def test_a_question_answer_with_an_option() -> None:
    options = [ResponseOption(name="ship", title="Ship it")]
    effects = resolve_vote(
        _request("human_contact"),
        "a@x.test",
        0,
        _people("a@x.test"),
        Decision("answer", option="ship"),
        options,
        "ship",
        NOW,
        send_confirmations=False,
    )
    assert effects.outcome is Outcome.APPLIED and effects.detail == "answer option=ship"
    assert effects.change is not None
    assert effects.change.status["response"] == "Ship it"
    assert effects.emails == ()


def test_late_notes_stop_after_two() -> None:
    done = _request()
    done.state = "done"
    first = late_answer(done, 0, 0)
    assert first.outcome is Outcome.LATE and [e.kind for e in first.emails] == ["already_decided"]
    assert first.change is not None and first.change.any_state
    assert late_answer(done, 0, 2).emails == ()


def test_ask_again_until_the_limit() -> None:
    request = _request()
    effects = ask_again(
        request, 0, Decision("unclear", reason="which one"), "x", [], max_clarifications=2
    )
    assert effects.outcome is Outcome.UNCLEAR_ASKED_AGAIN and effects.detail == "which one"
    assert effects.change is not None and effects.change.clarifications == 1
    request.clarifications = 2
    limited = ask_again(request, 0, Decision("unclear"), "x", [], max_clarifications=2)
    assert limited.outcome is Outcome.UNCLEAR and limited.change is None


def test_person_ignores_sub_addresses() -> None:
    assert person("Alice+x@Corp.test") == person("alice@corp.test")
