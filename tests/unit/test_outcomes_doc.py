"""docs/outcomes.md lists exactly the stored inbound outcomes of core/outcomes.py."""

import re
from pathlib import Path

from hl_email.core import outcomes
from hl_email.core.outcomes import Outcome, Refusal
from hl_email.replies import MessageKind

DOC = Path(__file__).resolve().parents[2] / "docs" / "outcomes.md"


def _table_outcomes() -> list[str]:
    return re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), re.M)


def test_doc_table_lists_exactly_the_enum() -> None:
    listed = _table_outcomes()
    assert len(listed) == len(set(listed)), "an outcome is listed twice"
    assert set(listed) == {o.value for o in Outcome}


def test_every_refusal_class_carries_a_listed_outcome() -> None:
    refusals = [
        c for c in vars(outcomes).values() if isinstance(c, type) and issubclass(c, Refusal)
    ]
    assert len(refusals) > 5
    for cls in refusals:
        if cls is not Refusal:
            assert isinstance(cls.outcome, Outcome), cls


def test_every_automatic_kind_has_a_refusal() -> None:
    for kind in MessageKind:
        if kind in (MessageKind.HUMAN, MessageKind.BOUNCE):
            continue
        refusal = outcomes.not_human_answer(kind)
        assert refusal.outcome == kind
        assert refusal.detail == f"not a human answer ({kind}); ignored"
