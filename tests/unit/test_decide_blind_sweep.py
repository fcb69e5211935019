"""A blind sweep of decide(): replies a hurried human types that must never approve.

The cases (tests/data/sweep/blind_cases.py) were written without reading the tuned test
data, in 16 languages, bare and wrapped in real client shapes (Gmail, Outlook, Apple Mail,
signatures, phone footers, HTML-to-text artifacts). An unclear or reject verdict is fine;
approve is the bug. A few clear approvals are checked too, so the fixes do not make every
reply unclear.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hl_email.replies.decide import decide

_PATH = Path(__file__).resolve().parents[1] / "data" / "sweep" / "blind_cases.py"
_SPEC = importlib.util.spec_from_file_location("blind_cases", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
cases = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(cases)

NOT_APPROVE = cases.cases(cases.NOT_APPROVE)
APPROVE = cases.cases(cases.APPROVE)

# Approvals asked again today (less important than a false approval): languages the
# gateway does not read (ar, hi, ko, tr), Polish "tak" (also Ukrainian "so"), a Portuguese
# "pode aprovar", Japanese "問題ありません" and an Outlook "[cid:…]" image line.
_ASKED_AGAIN_LANGUAGES = {"ar", "hi", "ko", "tr"}


def _verdict(text: str) -> str:
    return decide(text, kind="approval", arguments=cases.ARGUMENTS).verdict


def test_counts() -> None:
    languages = {lang for lang, *_ in NOT_APPROVE}
    assert len(languages) >= 12
    assert len({reply for _, _, reply, _ in NOT_APPROVE}) >= 400
    assert len({reply for _, _, reply, _ in APPROVE}) >= 90


def test_no_must_not_approve_reply_approves() -> None:
    wrong = [
        (lang, shape, reply)
        for lang, shape, reply, text in NOT_APPROVE
        if _verdict(text) == "approve"
    ]
    assert wrong == []


@pytest.mark.parametrize("text", cases.FOUND)
def test_found_shapes_do_not_approve(text: str) -> None:
    assert _verdict(text) != "approve"


@pytest.mark.parametrize("text", cases.KEPT)
def test_kept_approvals(text: str) -> None:
    assert _verdict(text) == "approve"


def test_most_clear_approvals_approve() -> None:
    read = [(lang, reply, text) for lang, _, reply, text in APPROVE]
    supported = [r for r in read if r[0] not in _ASKED_AGAIN_LANGUAGES]
    approved = sum(_verdict(text) == "approve" for _, _, text in supported)
    # 150 of 164 today; the rest are the cases named above
    assert approved >= 147, approved
