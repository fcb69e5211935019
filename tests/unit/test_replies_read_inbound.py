"""read_inbound (issue 17): one parse for the whole inbound path reads every message the way
the stdlib ``policy.default`` parse did, on every corpus message, with LF and CRLF line ends.

The reference below is what the gateway read before the switch (``_parse_message``,
``_dedupe_key``, ``_safe_header``, ``_body_ref_keys`` in gateway.py, written out here so the
comparison survives the gateway's rewrite)."""

from __future__ import annotations

import email
import email.policy
import os
import re
from pathlib import Path

import pytest

from hl_email.core.tokens import find_reply_keys
from hl_email.replies import (
    bounce_original_message_ids,
    classify_message,
    decide,
    decision_readings,
    extract_reply_from_message,
)
from hl_email.replies.authorize import _parse_authentication_results, dmarc_verdict, sender_address
from hl_email.replies.match import body_ref_keys, candidate_keys
from hl_email.replies.parse import header_strings, read_inbound
from hl_email.replies.thread import answers_our_email
from hl_email.thread import thread_message_ids

ROOT = Path(__file__).resolve().parents[2]
CORPORA = Path(os.environ.get("HL_EMAIL_CORPORA") or ROOT.parent / "shared" / "corpora")


def _messages() -> list[tuple[str, bytes]]:
    paths = sorted((ROOT / "tests" / "data").rglob("*.eml")) + sorted(CORPORA.rglob("*.eml"))
    paths += sorted((CORPORA / "sisimai_bounces_dev" / "maildir").glob("*"))
    out = []
    for path in dict.fromkeys(paths):
        raw = path.read_bytes()
        out.append((str(path), raw))
        crlf = re.sub(rb"\r?\n", b"\r\n", raw)
        if crlf != raw:
            out.append((f"{path} (CRLF)", crlf))
    return out


_EDGE_CASES = [
    b"From: a@corp.test\nSubject: x\n\nbody\n",
    b"Subject:\n folded on the next line\nFrom:\n  a@corp.test\n\nApproved\n",
    b"From: =?utf-8?q?alice=40corp=2Etest?= <eve@evil.test>\nSubject: =?utf-8?b?UmU6IHg=?=\n\nyes\n",
    b"From: a@corp.test\nFrom: b@corp.test\nSubject: x\n\nyes\n",
    "From: J\u00f6rg <j\u00f6rg@corp.test>\nSubject: R\u00e9: x\n\nyes\n".encode(),
    b"From: a@corp.test\nIn-Reply-To: <hl1-abc-1-aaaaaaaaaaaaaaaaaaaa@corp.test>\n\nyes\n",
    b"\nFrom: a@corp.test\nSubject: leading blank line\n\nyes\n",
    b" From: a@corp.test\n\nfolded first line\n",
    b"From: a@corp.test\rSubject: bare CR\r\rbody\r",
    b"From: a@corp.test\n"
    + b"Content-Type: message/rfc822\n\n" * 45
    + b"Subject: deep\n\nApprove\n",
    b"From: a@corp.test\nAuthentication-Results: mx.corp.test; dmarc=pass header.from=corp.test\n"
    b"Authentication-Results: (comment) mx.corp.test; dmarc=fail (p=reject) header.from=corp.test\n\n"
    b"yes\n",
    b"From: a@corp.test\nContent-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: base64\n\nUmVmOiBobDEtYWJjZGVmLTEtYWFhYWFhYWFhYWFhYWFhYWFhYWEKWWVz\n",
    b"From: bad header line\nnot a header\n\nbody\n",
    b"",
]


def _reference(raw: bytes) -> dict[str, object]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return _reads(msg, msg, msg, stdlib=True)


def _new(raw: bytes) -> dict[str, object]:
    inbound = read_inbound(raw)
    return _reads(inbound.message, inbound.headers, inbound.default_message(), inbound=inbound)


def _stdlib_body_ref_keys(msg: email.message.EmailMessage) -> list[object]:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        content = part.get_content() if part is not None else ""
    except Exception:
        return []
    if not isinstance(content, str):
        return []
    found: list[object] = []
    for match in re.finditer(
        r"Ref:\s*(hl1-[a-z0-9]+-[0-9]+-[a-z2-7]{20})", content[:200_000], re.I
    ):
        found.extend(k for k in find_reply_keys(match.group(1)) if k not in found)
    return found


def _safe_header(msg, name):  # type: ignore[no-untyped-def]
    try:
        value = msg.get(name)
    except Exception:
        return None
    return str(value)[:500] if value is not None else None


def _message_id(msg):  # type: ignore[no-untyped-def]
    try:
        value = msg.get("Message-ID")
        return str(value).strip() if value else None
    except Exception:
        return None


def _reads(tree, headers, default, *, stdlib: bool = False, inbound=None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Everything the inbound path reads from one message."""
    subject = _safe_header(headers, "Subject")
    out: dict[str, object] = {
        "message_id": _message_id(headers) if stdlib else inbound.message_id,
        "from": _safe_header(headers, "From") if stdlib else inbound.header("From"),
        "subject": subject if stdlib else inbound.header("Subject"),
        "header_keys": candidate_keys(headers),
        "body_ref_keys": _stdlib_body_ref_keys(default) if stdlib else body_ref_keys(default),
        "kind": str(classify_message(tree)),
        "kind_in_thread": str(classify_message(tree, thread_subject=subject or "Approve?")),
        "sender": sender_address(headers),
        "thread_ids": thread_message_ids(headers),
        "bounce_ids": bounce_original_message_ids(tree),
        "for_decision": extract_reply_from_message(tree, for_decision=True),
        "answer": extract_reply_from_message(tree),
        "readings": decision_readings(tree),
    }
    out["decision"] = repr(decide(str(out["for_decision"])))
    sender = out["sender"][0] or "x@corp.test"  # type: ignore[index]
    authservs = {"mx.corp.test"} | {
        _parse_authentication_results(v)[0]
        for v in header_strings(headers, "Authentication-Results")
    }
    out["dmarc"] = sorted((a, repr(dmarc_verdict(headers, a, sender))) for a in authservs)
    keys = [*out["header_keys"], *out["body_ref_keys"]]  # type: ignore[misc]
    out["answers_our_email"] = [
        answers_our_email(default, our_subject=s, reply_key=str(k), approval_code=c)
        for k in keys[:2] or ["hl1-none-1-aaaaaaaaaaaaaaaaaaaa"]
        for s in (subject, "Approve refund?")
        for c in (None, "K7QF3M")
    ]
    return out


MESSAGES = _messages()


def test_the_corpora_are_there() -> None:
    if not CORPORA.exists():
        pytest.skip(f"corpora not present at {CORPORA}")
    assert len(MESSAGES) >= 500


# Multipart bodies without a boundary parameter, stored with CRLF line ends: the stdlib tree
# keeps "\r\n" in the payload, where the boundary recovery of reply_body (its boundary-line
# pattern ends at "\n") finds no boundary, so the stdlib path read the whole raw body as the
# reply. Our parser reads CRLF and LF alike: these read exactly as the stdlib path reads the
# same message with LF line ends (and none of them approves either way).
_CRLF_RECOVERY = {"211-gmail-web-fr.eml", "212-outlook-web-es.eml"}


@pytest.mark.parametrize("name,raw", MESSAGES, ids=[n for n, _ in MESSAGES])
def test_every_corpus_message_reads_the_same(name: str, raw: bytes) -> None:
    new, reference = _new(raw), _reference(raw)
    if Path(name).name in _CRLF_RECOVERY:
        assert {k for k in new if new[k] != reference[k]} == {"for_decision", "answer", "decision"}
        assert "verdict='approve'" not in str(reference["decision"]) + str(new["decision"])
        reference = _reference(raw.replace(b"\r\n", b"\n"))
    assert new == reference


@pytest.mark.parametrize("raw", _EDGE_CASES)
def test_damaged_and_odd_messages_read_the_same(raw: bytes) -> None:
    assert _new(raw) == _reference(raw)


def test_damage_goes_to_the_stdlib_parser() -> None:
    assert read_inbound(b"From: a@corp.test\n\nbody\n").parser == "fast"
    assert read_inbound(b"From: a@corp.test\r\n\r\nbody\r\n").parser == "fast"
    for raw in _EDGE_CASES[6:10]:
        assert read_inbound(raw).parser == "stdlib"


def _default_reads(msg: email.message.EmailMessage) -> list[object]:
    """What a reader written for policy.default sees: every part's type, disposition, file
    name and headers, the body get_body picks and its content, the attachments."""
    parts = []
    for part in msg.walk():
        try:
            content = None if part.is_multipart() else part.get_content()
        except Exception as exc:  # the stdlib raises on some damaged parts: the same way
            content = type(exc).__name__
        parts.append(
            (
                part.get_content_type(),
                part.get_content_disposition(),
                part.get_filename(),
                [(k, str(v)) for k, v in part.items()],
                # our parser keeps LF line ends (the decoded text of a CRLF message's
                # quoted-printable part can differ in carriage returns only)
                content.replace("\r", "") if isinstance(content, str) else content,
            )
        )
    body = msg.get_body(preferencelist=("plain", "html"))
    attachments = [a.get_filename() for a in msg.iter_attachments()] if msg.is_multipart() else []
    return [parts, body.get_content_type() if body is not None else None, attachments]


@pytest.mark.parametrize("name,raw", MESSAGES, ids=[n for n, _ in MESSAGES])
def test_the_default_view_is_the_stdlib_message(name: str, raw: bytes) -> None:
    stdlib = email.message_from_bytes(raw, policy=email.policy.default)
    assert _default_reads(read_inbound(raw).default_message()) == _default_reads(stdlib)
