"""parse_message builds the same compat32 tree as the stdlib parser, faster."""

from __future__ import annotations

import email
import email.policy
import os
from pathlib import Path

import pytest

from hl_email.replies import parse_message
from hl_email.replies.parse import content_type, part_text

CORPORA = Path(
    os.environ.get("HL_EMAIL_CORPORA") or Path(__file__).resolve().parents[3] / "shared" / "corpora"
)


def _tree(message: email.message.Message, depth: int = 0) -> list[object]:
    out: list[object] = [
        (depth, content_type(message), message.get_default_type(), message.get_unixfrom()),
        [(k, str(v).replace("\r\n", "\n")) for k, v in message.items()],
    ]
    payload = message.get_payload()
    if isinstance(payload, list):
        for inner in payload:
            out.extend(_tree(inner, depth + 1))
    else:
        out.append(None if payload is None else part_text(message).replace("\r\n", "\n"))
    return out


def _same(raw: bytes) -> None:
    expected = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert _tree(parse_message(raw)) == _tree(expected)


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: hi\n\nbody\n",
        b"Subject: hi\r\nX: a\r\n b\r\n\r\nbody\r\n",
        b"From someone Mon Jan 1\nSubject: x\n\nbody",
        b"Subject: x\nnot a header line\nmore\n",
        b"Subject: x\n",
        b"",
        b"\nbody only",
        b"Content-Type: multipart/mixed; boundary=b\n\npre\n--b\n\none\n--b\n"
        b"Content-Type: text/html\n\n<p>two</p>\n\n--b--\nepilogue\n",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nno close\n",
        b"Content-Type: multipart/mixed; boundary=b\n\nno start boundary\n",
        b"Content-Type: multipart/mixed\n\nno boundary parameter\n",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b--\n",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nx\n--b--\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=o\n\n--o\n"
        b"Content-Type: message/delivery-status\n\nReporting-MTA: x\n\n\nAction: failed\n"
        b"Status: 5.1.1\n\n--o\nContent-Type: message/rfc822\n\nSubject: orig\n"
        b"Content-Type: multipart/alternative; boundary=i\n\n--i\n\nNyaan\n\n--i--\n\n"
        b"--o--\n",
        b"Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: a\n\nx\n--d--\n",
        "Subject: caf\u00e9\n\nna\u00efve \u00fcber\n".encode(),
        b"Subject: x\rY: z\r\rbody\r",
    ],
)
def test_parse_message_matches_stdlib(raw: bytes) -> None:
    _same(raw)


def test_parse_message_matches_stdlib_on_corpus() -> None:
    paths = sorted(CORPORA.glob("**/*.eml")) + sorted(
        (CORPORA / "sisimai_bounces_dev" / "maildir").glob("*")
    )
    if not paths:
        pytest.skip(f"corpora not present at {CORPORA}")
    for path in paths:
        _same(path.read_bytes())


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@corp.test\nSubject: x\nContent-Type: message/rfc822\n\n"
        b"From: bob@corp.test\nSubject: what bob thinks\n\nApprove\n",
        b'From: a@corp.test\nSubject: x\nContent-Type: multipart/mixed; boundary="B"\n\n'
        b"--B\nContent-Type: message/rfc822\n\nFrom: bob@corp.test\nSubject: y\n\nApprove\n--B--\n",
        b"From: a@corp.test\nSubject: x\nContent-Type: message/global\n\n"
        b"From: bob@corp.test\nSubject: y\n\nApprove\n",
    ],
    ids=["whole-body", "only-part-of-mixed", "message-global"],
)
def test_a_forwarded_message_is_never_new_text(raw: bytes) -> None:
    from hl_email.replies import extract_reply_from_message
    from hl_email.replies.parse import iter_parts

    assert extract_reply_from_message(raw) == ""
    assert [content_type(p) for p in iter_parts(parse_message(raw))][0].startswith("message/")
    inner = list(iter_parts(parse_message(raw), into_attached=True))
    assert part_text(inner[-1]).strip() == "Approve"
