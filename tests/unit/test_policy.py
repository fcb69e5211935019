"""any / all / quorum tallies."""

from __future__ import annotations

from hl_email.core.policy import Vote, tally


def votes(*pairs):
    return [Vote(a, v) for a, v in pairs]


def test_any_first_answer_wins():
    assert tally("any", 1, [], 3).outcome == "pending"
    assert tally("any", 1, votes(("a", "reject"), ("b", "approve")), 3).outcome == "reject"
    assert tally("any", 1, votes(("a", "approve")), 3).outcome == "approve"


def test_all_needs_everyone_and_one_rejection_rejects():
    assert tally("all", 0, votes(("a", "approve"), ("b", "approve")), 3).outcome == "pending"
    assert (
        tally("all", 0, votes(("a", "approve"), ("b", "approve"), ("c", "approve")), 3).outcome
        == "approve"
    )
    assert tally("all", 0, votes(("a", "approve"), ("b", "reject")), 3).outcome == "reject"


def test_quorum_approves_at_n_and_rejects_when_out_of_reach():
    assert tally("quorum", 2, votes(("a", "approve")), 3).outcome == "pending"
    assert tally("quorum", 2, votes(("a", "approve"), ("b", "approve")), 3).outcome == "approve"
    assert tally("quorum", 2, votes(("a", "reject")), 3).outcome == "pending"
    assert tally("quorum", 2, votes(("a", "reject"), ("b", "reject")), 3).outcome == "reject"


def test_unreachable_when_too_few_people_remain():
    # Two of three deliveries failed: a quorum of two can never be met.
    assert tally("quorum", 2, [], 1).outcome == "unreachable"
    assert tally("all", 0, [], 0).outcome == "unreachable"
    assert tally("any", 1, [], 0).outcome == "unreachable"
