"""inbound/reading.read_message (issue 17): the receiver's one read of a message gives, at every
call site of the inbound path, what the gateway computed on its stdlib ``policy.default`` parse.

Each call site of gateway.py (``_handle_inbound``, ``_handle_bounce``, ``_handle_auto_reply``,
``_handle_agent_email``, ``_apply``/``_every_reading_approves``, ``_followup``,
``_previous_thread``) is written out below as the gateway wrote it, on
``email.message_from_bytes(raw, policy=email.policy.default)``, and compared with the
``InboundMail`` property that replaces it, on every message of ../shared/corpora (every
subfolder) and tests/data, with LF and CRLF line ends, and on damaged and odd messages. The
catch-up's header triage (``triage.read_headers`` on the header block alone) reads the same
Message-ID, From, Subject and header reply keys."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from pathlib import Path

import pytest
from test_replies_read_inbound import _CRLF_RECOVERY, _EDGE_CASES, CORPORA, MESSAGES

from hl_email.inbound.reading import read_message
from hl_email.inbound.triage import read_headers
from hl_email.limits import InboundLimits, check_inbound
from hl_email.replies import (
    bounce_original_message_ids,
    classify_message,
    decision_readings,
    extract_reply_from_message,
)
from hl_email.replies.authorize import _parse_authentication_results, dmarc_verdict, sender_address
from hl_email.replies.match import REF_LINE, body_ref_keys, candidate_keys
from hl_email.replies.parse import header_strings
from hl_email.replies.thread import answers_our_email
from hl_email.thread import thread_message_ids

LIMITS = InboundLimits()
# the other messages' subjects and reply keys, so that the thread checks also see a mismatch
_OUR_SUBJECTS = (None, "Approve refund of $40.00 for order 4711?")
_CODES = (None, "K7QF3M")
_NO_KEY = "hl1-none-1-aaaaaaaaaaaaaaaaaaaa"


def _safe_header(msg, name):  # type: ignore[no-untyped-def]
    if msg is None:
        return None
    try:
        value = msg.get(name)
    except Exception:
        return None
    return str(value)[:500] if value is not None else None


def _dedupe_key(msg, raw):  # type: ignore[no-untyped-def]
    message_id = None
    if msg is not None:
        try:
            value = msg.get("Message-ID")
            message_id = str(value).strip() if value else None
        except Exception:
            message_id = None
    if message_id:
        return "mid:" + message_id.lower(), message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest(), None


def _authservs(headers) -> list[str]:  # type: ignore[no-untyped-def]
    found = {"mx.corp.test"} | {
        _parse_authentication_results(v)[0]
        for v in header_strings(headers, "Authentication-Results")
    }
    return sorted(found)


def _texts(msg) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    try:
        text = extract_reply_from_message(msg, for_decision=True)
        answer = extract_reply_from_message(msg)
    except Exception:
        text = answer = ""
    return REF_LINE.sub("", text).strip(), REF_LINE.sub("", answer).strip()


def _agent_text(msg) -> str:  # type: ignore[no-untyped-def]
    try:
        return REF_LINE.sub("", extract_reply_from_message(msg)).strip()
    except Exception:
        return ""


def _bounce_ids(msg) -> list[str]:  # type: ignore[no-untyped-def]
    try:
        return bounce_original_message_ids(msg)
    except Exception:
        return []


def _gateway_reads(raw: bytes) -> dict[str, object]:
    """What gateway.py reads from one message today, call site by call site."""
    refusal = check_inbound(raw, LIMITS)
    if refusal is not None:
        return {"refusal": refusal, "dedupe_key": "sha256:" + hashlib.sha256(raw).hexdigest()}
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:
        return {"parse_error": f"{type(exc).__name__}: {exc}", "dedupe_key": _dedupe_key(None, raw)}
    dedupe_key, message_id = _dedupe_key(msg, raw)
    header_keys = candidate_keys(msg)
    keys = header_keys or body_ref_keys(msg)
    sender = sender_address(msg)
    subject = _safe_header(msg, "Subject")
    return {
        "dedupe_key": (dedupe_key, message_id),
        "from": _safe_header(msg, "From"),
        "subject": subject,
        "followup_message_id": _safe_header(msg, "Message-ID"),
        "header_keys": header_keys,
        "keys": keys,
        "kind": [str(classify_message(msg, thread_subject=s)) for s in (None, subject, "Re: x")],
        "sender": sender,
        "dmarc": [
            (a, repr(dmarc_verdict(msg, a, sender[0] or "x@corp.test"))) for a in _authservs(msg)
        ],
        "texts": _texts(msg),
        "agent_text": _agent_text(msg),
        "readings": decision_readings(msg),
        "answers_our_email": [
            answers_our_email(msg, our_subject=s, reply_key=str(k), approval_code=c)
            for k in keys[:2] or [_NO_KEY]
            for s in (*_OUR_SUBJECTS, subject)
            for c in _CODES
        ],
        "bounce_ids": _bounce_ids(msg),
        "thread_ids": thread_message_ids(msg),
    }


def _reading(raw: bytes) -> dict[str, object]:
    """The same reads through the receiver's read_message."""
    mail = read_message(raw, LIMITS)
    if mail.refusal is not None:
        return {"refusal": mail.refusal, "dedupe_key": mail.dedupe_key}
    if mail.parse_error is not None:
        return {"parse_error": mail.parse_error, "dedupe_key": (mail.dedupe_key, None)}
    subject = mail.header("Subject")
    return {
        "dedupe_key": (mail.dedupe_key, mail.message_id),
        "from": mail.header("From"),
        "subject": subject,
        "followup_message_id": mail.header("Message-ID"),
        "header_keys": mail.header_keys,
        "keys": mail.keys,
        "kind": [mail.kind(s) for s in (None, subject, "Re: x")],
        "sender": mail.sender,
        "dmarc": [
            (a, repr(mail.dmarc(a, mail.sender[0] or "x@corp.test")))
            for a in _authservs(mail.headers)
        ],
        "texts": mail.reply_texts,
        "agent_text": mail.agent_text,
        "readings": mail.readings,
        "answers_our_email": [
            mail.answers_our_email(our_subject=s, reply_key=str(k), approval_code=c)
            for k in mail.keys[:2] or [_NO_KEY]
            for s in (*_OUR_SUBJECTS, subject)
            for c in _CODES
        ],
        "bounce_ids": mail.bounce_ids,
        "thread_ids": mail.thread_ids,
    }


def test_the_corpora_are_there() -> None:
    if not CORPORA.exists():
        pytest.skip(f"corpora not present at {CORPORA}")
    assert len(MESSAGES) >= 800


@pytest.mark.parametrize("name,raw", MESSAGES, ids=[n for n, _ in MESSAGES])
def test_every_call_site_reads_the_same(name: str, raw: bytes) -> None:
    new, reference = _reading(raw), _gateway_reads(raw)
    if Path(name).name in _CRLF_RECOVERY:
        # see test_replies_read_inbound: the stdlib path missed the boundary in CRLF form;
        # ours reads it as the stdlib path reads the LF form (neither approves)
        assert {k for k in new if new[k] != reference[k]} <= {"texts", "agent_text", "readings"}
        reference = _gateway_reads(raw.replace(b"\r\n", b"\n"))
        reference["dedupe_key"] = _gateway_reads(raw)["dedupe_key"]
    assert new == reference


@pytest.mark.parametrize("raw", _EDGE_CASES)
def test_damaged_and_odd_messages_read_the_same(raw: bytes) -> None:
    assert _reading(raw) == _gateway_reads(raw)


def test_over_a_limit_is_refused_unparsed() -> None:
    raw = b"From: a@corp.test\nSubject: " + b"x" * 40_000 + b"\n\nyes\n"
    mail = read_message(raw, LIMITS)
    assert mail.refusal is not None and mail.parsed is None
    assert mail.dedupe_key == "sha256:" + hashlib.sha256(raw).hexdigest()


_HEADER_END = re.compile(rb"\r?\n\r?\n")


@pytest.mark.parametrize("name,raw", MESSAGES, ids=[n for n, _ in MESSAGES])
def test_header_triage_reads_the_same_headers(name: str, raw: bytes) -> None:
    """What the catch-up reads from the header block alone (BODY.PEEK[HEADER]: the header
    lines and the blank line after them) is what the full read gives."""
    end = _HEADER_END.search(raw)
    if end is None or raw[:1] in (b"\r", b"\n", b" ", b"\t"):
        pytest.skip("no header block the server would cut the same way")
    view = read_headers(raw[: end.end()])
    mail = read_message(raw, LIMITS)
    if mail.refusal is not None:
        pytest.skip("over a limit: triage does not decide it (within_limits)")
    assert (view.message_id, view.header("From"), view.header("Subject")) == (
        mail.message_id,
        mail.header("From"),
        mail.header("Subject"),
    )
    assert view.dedupe_key == (mail.dedupe_key if mail.message_id else None)
    assert candidate_keys(view.headers) == mail.header_keys


def _stdlib_view(block: bytes):  # type: ignore[no-untyped-def]
    """read_headers as it was: the stdlib policy.default parse of the block."""
    msg = email.message_from_bytes(block, policy=email.policy.default)
    return msg, bool(msg.defects)


def _blocks() -> list[bytes]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    from catchupmail import unrelated

    blocks = []
    for raw in [unrelated(n) for n in range(40)] + [raw for _, raw in MESSAGES]:
        end = _HEADER_END.search(raw)
        blocks.append(raw[: end.end()] if end else raw)
    odd = [
        b"From: a@corp.test\nContent-Type: multipart/mixed\n\n",
        b"From: a@corp.test\nContent-Type: message/rfc822\n\n",
        b"From a@corp.test Mon\nFrom: a@corp.test\n\n",
        b"From: a@corp.test\nnot a header\n\n",
        b" From: a@corp.test\n\n",
        b"From: a@corp.test\nSubject: cut at the cap",
        b"From: a@corp.test\r\nSubject: x\r\n\r\n",
        b"From: a@corp.test\n: no name\n\n",
    ]
    return blocks + odd + list(_EDGE_CASES)


@pytest.mark.parametrize("block", _blocks())
def test_header_triage_fast_read_is_the_stdlib_read(block: bytes) -> None:
    """read_headers reads plain header blocks with our parser: the same defects, Message-ID,
    headers, keys, limits verdict and triage kind as the stdlib parse it replaced."""
    from hl_email.inbound.triage import HeaderView, unfetched_kind, within_limits

    view = read_headers(block)
    msg, defective = _stdlib_view(block)
    old = HeaderView(block, msg, msg, defective, view.dedupe_key, _dedupe_key(msg, b"")[1])
    assert view.defective == defective
    assert view.message_id == old.message_id
    for name in ("From", "Subject", "To", "Message-ID", "In-Reply-To", "References"):
        assert view.header(name) == old.header(name)
    assert candidate_keys(view.headers) == candidate_keys(msg)
    for size in (len(block) + 100, LIMITS.max_message_bytes):
        assert within_limits(view, size, LIMITS) == within_limits(old, size, LIMITS)
        assert unfetched_kind(view, size, LIMITS, False) == unfetched_kind(old, size, LIMITS, False)


_KEY = "hl1-abcdefgh-1-aaaaaaaaaaaaaaaaaaaa"


@pytest.mark.parametrize(
    "cte,body",
    [
        ("7bit", f"Yes\nRef: {_KEY}\n"),
        ("base64", "WWVzClJlZjogaGwxLWFiY2RlZmdoLTEtYWFhYWFhYWFhYWFhYWFhYWFhYWEK\n"),
        ("quoted-printable", "Yes\nRef: =68l1-abcdefgh-1-aaaaaaaaaaaaaaaaaaaa\n"),
        ("quoted-printable", "Yes\nRef: h=\nl1-abcdefgh-1-aaaaaaaaaaaaaaaaaaaa\n"),
        ("quoted-printable", "Yes\nRef: HL1=2Dabcdefgh-1-aaaaaaaaaaaaaaaaaaaa\n"),
    ],
)
def test_a_hidden_ref_line_is_still_read(cte: str, body: str) -> None:
    """The raw-bytes shortcut (no "hl1-" that any encoding could hide: no body walk) never
    loses a key the body walk finds."""
    raw = (
        "From: a@corp.test\nSubject: x\nMessage-ID: <m@corp.test>\n"
        f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: {cte}\n\n{body}"
    ).encode()
    assert [str(k) for k in read_message(raw, LIMITS).body_ref_keys] == [_KEY]
    assert _reading(raw) == _gateway_reads(raw)
    utf16 = b"From: a@corp.test\nContent-Type: text/plain; charset=utf-16\n\n" + (
        f"Ref: {_KEY}\n".encode("utf-16")
    )
    assert [str(k) for k in read_message(utf16, LIMITS).body_ref_keys] == [
        str(k) for k in body_ref_keys(email.message_from_bytes(utf16, policy=email.policy.default))
    ]


_B64_KEY = "WWVzClJlZjogaGwxLWFiY2RlZmdoLTEtYWFhYWFhYWFhYWFhYWFhYWFhYWEK\n"


@pytest.mark.parametrize(
    "fields,body",
    [
        ("Content-Transfer-Encoding: BASE64", _B64_KEY),
        ("Content-Transfer-Encoding:\n\tbase64", _B64_KEY),
        ("CONTENT-TRANSFER-ENCODING : Base64", _B64_KEY),
        ("Content-Transfer-Encoding: (it is) base64", _B64_KEY),
        ('Content-Transfer-Encoding: "base64"', _B64_KEY),
        (
            "Content-Type: text/plain; charset*=utf-8''\nContent-Transfer-Encoding: base64",
            _B64_KEY,
        ),
        (
            'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
            "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
            + _B64_KEY
            + "--b--\n",
        ),
        ("Content-Type: text/plain; charset=UTF-16", None),
    ],
)
def test_the_shortcut_never_loses_a_key_however_its_encoding_is_written(
    fields: str, body: str | None
) -> None:
    """The raw-bytes shortcut reads Content-Transfer-Encoding fields and charset parameters in
    whatever case, folding or comment they come: every shape the stdlib body walk decodes a
    key from keeps it."""
    head = f"From: a@corp.test\nSubject: x\nMessage-ID: <m@corp.test>\n{fields}\n\n".encode()
    raw = head + (body.encode() if body is not None else f"Ref: {_KEY}\n".encode("utf-16"))
    stdlib = body_ref_keys(email.message_from_bytes(raw, policy=email.policy.default))
    assert [str(k) for k in read_message(raw, LIMITS).body_ref_keys] == [str(k) for k in stdlib]
