"""Message classification (auto-replies, bounces, reports, lists, spam) and bounce lookup."""

from __future__ import annotations

import email

import pytest

from hl_email.replies import MessageKind, bounce_original_message_ids, classify_message

HUMAN_GMAIL = b"""\
Return-Path: <anna@gmail.com>
Received: from mail-wr1-f41.google.com (mail-wr1-f41.google.com [209.85.221.41])
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=gmail.com; s=20230601; h=to:subject
X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=1e100.net; s=20230601
X-Gm-Message-State: AOJu0Yx
X-Google-Smtp-Source: AGHT+IF
MIME-Version: 1.0
References: <req-1.abc@agent.example.test>
In-Reply-To: <req-1.abc@agent.example.test>
From: Anna Example <anna@gmail.com>
Date: Mon, 1 Jan 2024 10:00:00 +0100
Message-ID: <CAF=abc@mail.gmail.com>
Subject: Re: Approve refund of $40?
To: Refund agent <agent@example.test>
Content-Type: multipart/alternative; boundary="000000000000b1"

--000000000000b1
Content-Type: text/plain; charset="UTF-8"

Yes, go ahead.

On Mon, 1 Jan 2024 at 09:00, Refund agent <agent@example.test> wrote:
> Approve refund of $40?

--000000000000b1
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Yes, go ahead.</div>
<div class="gmail_quote">On Mon wrote:<blockquote class="gmail_quote">Approve?</blockquote></div>

--000000000000b1--
"""


def _message(headers: str, body: str = "Hello\n") -> bytes:
    base = (
        "From: Bob <bob@example.org>\nTo: agent@example.test\n"
        "Subject: Re: Approve refund?\nMessage-ID: <m1@example.org>\n"
    )
    return (base + headers + "\n" + body).encode()


def test_a_gmail_reply_is_human() -> None:
    assert classify_message(HUMAN_GMAIL) == MessageKind.HUMAN
    assert classify_message(email.message_from_bytes(HUMAN_GMAIL)) == MessageKind.HUMAN


def test_outlook_auto_response_suppress_alone_is_human() -> None:
    raw = _message("X-Auto-Response-Suppress: All\nX-MS-Has-Attach:\nThread-Topic: Refund\n")
    assert classify_message(raw) == MessageKind.HUMAN


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied\n",
        "Auto-Submitted: auto-generated\n",
        "Auto-Submitted: auto-notified; owner-email=x@y\n",
        "X-Autoreply: yes\n",
        "X-Autorespond: yes\n",
        "Precedence: auto_reply\n",
        "Precedence: bulk\n",
        "Precedence: junk\n",
        "X-Precedence: auto_reply\n",
        "X-FC-MachineGenerated: true\n",
        "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n",
    ],
)
def test_auto_reply_headers(headers: str) -> None:
    assert classify_message(_message(headers)) == MessageKind.AUTO_REPLY


def test_auto_submitted_no_is_human() -> None:
    assert classify_message(_message("Auto-Submitted: no\n")) == MessageKind.HUMAN


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Approve refund?",
        "Automatic reply: Approve refund?",
        "Auto-Reply: away",
        "Abwesenheitsnotiz: Approve refund?",
        "Automatische Antwort: Approve refund?",
        "Réponse automatique : absent",
        "Respuesta automática: fuera de la oficina",
        "Risposta automatica: fuori ufficio",
        "Automatisch antwoord: afwezig",
        "Autosvar: frånvaro",
        "Automatyczna odpowiedź: poza biurem",
        "Автоответ: в отпуске",
        "自动回复: 不在办公室",
        "=?UTF-8?B?QXV0b21hdGljIHJlcGx5OiBBcHByb3ZlPw==?=",
    ],
)
def test_out_of_office_subjects(subject: str) -> None:
    raw = f"From: bob@example.org\nSubject: {subject}\n\nI am away.\n".encode()
    assert classify_message(raw) == MessageKind.AUTO_REPLY


DSN = b"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: agent@example.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.example.org.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Final-Recipient: rfc822; gone@example.org
Action: failed
Status: 5.1.1

--B
Content-Type: text/rfc822-headers

From: Refund agent <agent@example.test>
To: gone@example.org
Subject: Approve refund?
Message-ID: <req-1.key@agent.example.test>

--B--
"""


def test_rfc3464_report_is_a_bounce_and_names_our_message() -> None:
    assert classify_message(DSN) == MessageKind.BOUNCE
    assert bounce_original_message_ids(DSN) == ["<req-1.key@agent.example.test>"]


def test_attached_original_message_ids() -> None:
    raw = (
        b"From: postmaster@example.org\nSubject: Undeliverable: Approve refund?\n"
        b"Message-ID: <own@example.org>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="X"\n\n--X\nContent-Type: text/plain\n\n'
        b"Delivery has failed to these recipients.\n--X\nContent-Type: message/rfc822\n\n"
        b"From: agent@example.test\nMessage-ID: <req-2@agent.example.test>\n\nbody\n--X--\n"
    )
    assert classify_message(raw) == MessageKind.BOUNCE
    assert bounce_original_message_ids(raw) == ["<req-2@agent.example.test>"]


def test_non_standard_qmail_bounce() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.jp\nSubject: failure notice\n\n"
        b"Hi. This is the qmail-send program at mx.example.jp.\n"
        b"I'm afraid I wasn't able to deliver your message.\n\n"
        b"<gone@example.jp>:\nSorry, no mailbox here by that name.\n\n"
        b"--- Below this line is a copy of the message.\n\n"
        b"Message-ID: <req-3@agent.example.test>\nSubject: Approve?\n"
    )
    assert classify_message(raw) == MessageKind.BOUNCE
    assert bounce_original_message_ids(raw) == ["<req-3@agent.example.test>"]


def test_x_failed_recipients_is_a_bounce() -> None:
    assert classify_message(_message("X-Failed-Recipients: gone@example.org\n")) == (
        MessageKind.BOUNCE
    )


def test_arf_feedback_report() -> None:
    raw = (
        b"From: abuse@isp.example\nSubject: FW: Approve?\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\n\n'
        b"--F\nContent-Type: text/plain\n\nThis is an abuse report\n"
        b"--F\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--F--\n"
    )
    assert classify_message(raw) == MessageKind.FEEDBACK_REPORT


@pytest.mark.parametrize(
    "headers",
    [
        "List-Id: <team.lists.example.org>\n",
        "List-Post: <mailto:team@lists.example.org>\n",
        "Precedence: list\n",
        "List-Unsubscribe: <mailto:leave@lists.example.org>\nPrecedence: list\n",
        "Mailing-List: contact team-help@example.org\n",
    ],
)
def test_list_traffic(headers: str) -> None:
    assert classify_message(_message(headers)) == MessageKind.LIST


@pytest.mark.parametrize(
    "headers",
    [
        "X-Spam-Flag: YES\n",
        "X-Spam-Status: Yes, score=9.1 required=5.0\n",
    ],
)
def test_spam_verdicts(headers: str) -> None:
    assert classify_message(_message(headers)) == MessageKind.SPAM


def test_spam_status_no_is_human() -> None:
    assert classify_message(_message("X-Spam-Status: No, score=0.1\n")) == MessageKind.HUMAN


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00\xff\xfe garbage", b"not a message at all", "plain str no headers", None, 42],
)
def test_garbage_never_raises_and_is_never_human(raw: object) -> None:
    assert classify_message(raw) not in (MessageKind.HUMAN,)  # type: ignore[arg-type]
    assert bounce_original_message_ids(raw) == []  # type: ignore[arg-type]


def test_broken_mime_bounce_is_still_a_bounce() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.org\nSubject: Mail delivery failed\n"
        b'Content-Type: multipart/report; boundary="never-closed"\n\n--never-closed\n'
        b"Content-Type: text/plain; charset=x-unknown-charset\nContent-Transfer-Encoding: base64\n\n"
        b"!!!not base64!!!\n"
    )
    assert classify_message(raw) == MessageKind.BOUNCE


def _reply(subject: str, headers: str = "", body: str = "Approve\n") -> bytes:
    return (
        f"From: Alice <alice@corp.test>\nTo: agent@example.test\nSubject: {subject}\n"
        f"Message-ID: <r1@corp.test>\n{headers}\n{body}"
    ).encode()


@pytest.mark.parametrize(
    "thread",
    [
        "Order 4711 not delivered: refund?",
        "Refund for undeliverable parcel 4711",
        "Vacation request from Bob",
        "Approve Bob's annual leave",
        "Absent days: payroll",
        "Out of office equipment budget",
    ],
)
@pytest.mark.parametrize(
    "prefix", ["Re: ", "RE: ", "AW: ", "SV: ", "Antw: ", "Odp: ", "VS: ", "Re[2]: ", "回复: ",
               "答复：", "Re: AW: ", "[External] Re: ", ""],
)  # fmt: skip
def test_a_reply_repeating_the_thread_subject_is_human(thread: str, prefix: str) -> None:
    raw = _reply(prefix + thread)
    assert classify_message(raw, thread_subject=thread) == MessageKind.HUMAN
    # case and whitespace do not matter
    assert classify_message(raw, thread_subject="  " + thread.upper()) == MessageKind.HUMAN
    # a reply prefix alone makes the rest the thread's words, also without a thread subject
    if prefix:
        assert classify_message(raw) == MessageKind.HUMAN


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("Automatic reply: Vacation request from Bob", MessageKind.AUTO_REPLY),
        ("Out of office: Re: Vacation request from Bob", MessageKind.AUTO_REPLY),
        ("Abwesenheitsnotiz: Vacation request from Bob", MessageKind.AUTO_REPLY),
        ("Automatic reply: Order 4711 not delivered: refund?", MessageKind.AUTO_REPLY),
        ("Undeliverable: Vacation request from Bob", MessageKind.BOUNCE),
    ],
)
def test_what_an_autoresponder_adds_to_the_thread_subject_still_counts(
    subject: str, kind: MessageKind
) -> None:
    thread = subject.split(": ", 1)[1].removeprefix("Re: ")
    assert classify_message(_reply(subject), thread_subject=thread) == kind


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied\n",
        "X-Autoreply: yes\n",
        "Precedence: auto_reply\n",
        "Return-Path: <>\n",
    ],
)
def test_header_signals_still_decide_with_a_thread_subject(headers: str) -> None:
    thread = "Order 4711 not delivered: refund?"
    raw = _reply("Re: " + thread, headers)
    assert classify_message(raw, thread_subject=thread) == MessageKind.AUTO_REPLY


def test_mailer_daemon_and_reports_still_decide_with_a_thread_subject() -> None:
    thread = "Approve refund?"
    raw = b"From: MAILER-DAEMON@mx.example.org\nSubject: Re: Approve refund?\n\nuser unknown\n"
    assert classify_message(raw, thread_subject=thread) == MessageKind.BOUNCE
    assert classify_message(DSN, thread_subject="Undelivered Mail Returned to Sender") == (
        MessageKind.BOUNCE
    )


def test_a_subject_without_the_thread_subject_is_still_read() -> None:
    raw = _reply("Vacation: away until Monday")
    assert classify_message(raw, thread_subject="Approve refund?") == MessageKind.AUTO_REPLY
    assert classify_message(raw) == MessageKind.AUTO_REPLY
