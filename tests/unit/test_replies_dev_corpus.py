"""The development corpus of raw replies in tests/data/replies (written for hl-email by
generate.py there): extraction is scored and printed; classification and the decision's
text are checked on every message."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hl_email.replies import MessageKind, classify_message, extract_reply_from_message

ROOT = Path(__file__).resolve().parents[1] / "data" / "replies"
INDEX = json.loads((ROOT / "index.json").read_text(encoding="utf-8"))
THREAD_SUBJECT = "Approve refund of $40.00 for order 4711?"


def _normalised(text: str) -> str:
    return " ".join(text.split())


def test_corpus_is_large_and_varied() -> None:
    assert len(INDEX) >= 150
    assert len(list(ROOT.glob("*.eml"))) == len(INDEX)
    clients = Counter(case["client"].split("-")[0] for case in INDEX.values())
    languages = Counter(case["language"] for case in INDEX.values())
    charsets = Counter(case["charset"] for case in INDEX.values())
    encodings = Counter(case["transfer_encoding"] for case in INDEX.values())
    print(f"\nclients {dict(clients)}\nlanguages {dict(languages)}\ncharsets {dict(charsets)}")
    assert {"gmail", "outlook", "apple", "thunderbird", "yahoo", "protonmail", "zimbra"} <= set(
        clients
    )
    assert "helpdesk" in clients
    assert len(languages) >= 15
    assert {"shift_jis", "big5", "koi8-r", "iso-8859-1"} <= set(charsets)
    assert {"quoted-printable", "base64", "8bit"} <= set(encodings)
    assert all(case["source"] for case in INDEX.values())


def test_extraction_score() -> None:
    misses = []
    for name, case in INDEX.items():
        got = extract_reply_from_message((ROOT / name).read_bytes())
        if _normalised(got) != _normalised(case["expected"]):
            misses.append(name)
    score = len(INDEX) - len(misses)
    by_client = Counter(INDEX[name]["client"] for name in misses)
    print(f"\ntests/data/replies: {score}/{len(INDEX)} (misses: {misses} {dict(by_client)})")
    # a floor, not the goal: the score printed above is what counts
    assert score >= 0.95 * len(INDEX)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_every_reply_is_human_and_the_decision_never_reads_the_quote(name: str) -> None:
    raw = (ROOT / name).read_bytes()
    assert classify_message(raw, thread_subject=THREAD_SUBJECT) == MessageKind.HUMAN
    decision_text = extract_reply_from_message(raw, for_decision=True)
    # the quoted ask's lines never reach the decision (its "Reply APPROVE" above all)
    assert "Reply APPROVE" not in decision_text
    assert "C-1932" not in decision_text
