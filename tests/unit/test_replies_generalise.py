"""Reply shapes that generalise (issue 14): each rule is one client family or structure,
tested here with several variants written for it."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from hl_email.replies import (
    MessageKind,
    classify_message,
    extract_reply,
    extract_reply_from_html,
    extract_reply_from_message,
)
from hl_email.replies.parse import decode_text


def _flat(text: str) -> str:
    return " ".join(text.split())


# --- HTML quote containers per client family -------------------------------------------------

_QUOTE = "Can you approve the refund of $40 for order 4711?"


@pytest.mark.parametrize(
    "html",
    [
        # Outlook on the web / Outlook.com: the header div, often after an <hr>
        f'<div>Approved</div><hr style="display:inline-block;width:98%" tabindex="-1">'
        f'<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Bot<br><b>Sent:</b> Monday</div>'
        f"<div>{_QUOTE}</div>",
        # the same, rewritten by a forwarding Exchange ("x_" prefixes)
        f'<div class="x_elementToProof">Approved</div><div id="x_appendonsend"></div>'
        f'<div id="x_divRplyFwdMsg"><font><b>From:</b> Bot</font></div><div>{_QUOTE}</div>',
        # an empty appendonsend marker before a plain header block
        f'<p>Approved</p><div id="appendonsend"></div><p><b>From:</b> Bot<br><b>Date:</b> Mon'
        f"</p><p>{_QUOTE}</p>",
        # Outlook for Mac: named sections
        f'<div name="messageBodySection"><div>Approved</div></div>'
        f'<div name="messageReplySection">On 1 Jan 2024, Bot wrote:<br>'
        f'<blockquote type="cite">{_QUOTE}</blockquote></div>',
        # a container whose id or class says messageReplySection
        f'<div>Approved</div><div id="messageReplySection_1">From: Bot<br>{_QUOTE}</div>',
        f'<div>Approved</div><div class="MessageReplySection">{_QUOTE}</div>',
        # new Outlook's reference container
        f'<div>Approved</div><div id="mail-editor-reference-message-container">{_QUOTE}</div>',
        # Outlook desktop: border-top header div
        f'<p>Approved</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt">'
        f"<p><b>From:</b> Bot <b>Sent:</b> Monday</p></div><p>{_QUOTE}</p>",
    ],
    ids=["owa", "owa-x", "appendonsend", "mac-named", "id", "class", "new-outlook", "desktop"],
)
def test_outlook_reply_sections(html: str) -> None:
    assert extract_reply_from_html(html) == "Approved"


@pytest.mark.parametrize(
    "html",
    [
        # Gmail web: gmail_quote with gmail_attr
        f'<div dir="ltr">Approved</div><br><div class="gmail_quote"><div dir="ltr" '
        f'class="gmail_attr">On Mon, Jan 1, 2024 at 10:00 AM Bot &lt;bot@x.org&gt; wrote:<br>'
        f'</div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">{_QUOTE}'
        f"</blockquote></div>",
        # Gmail 2024+: gmail_quote_container
        f'<div dir="ltr">Approved</div><div class="gmail_quote gmail_quote_container">'
        f"<div>On Mon wrote:</div><blockquote>{_QUOTE}</blockquote></div>",
        # Yahoo: ids that only contain yahoo_quoted
        f'<div class="ydp1f0yahoo-style-wrap"><div>Approved</div></div>'
        f'<div id="ydp5a3cyahoo_quoted_8812" class="ydp5a3cyahoo_quoted"><div>On Monday, Bot '
        f"wrote:</div><div>{_QUOTE}</div></div>",
        f'<div>Approved</div><div class="yahoo_quoted" style="display: block;">{_QUOTE}</div>',
        # Apple Mail: blockquote type=cite after an attribution div
        f'<div dir="ltr">Approved</div><div dir="ltr"><br><blockquote type="cite">On 1 Jan '
        f"2024, at 10:00, Bot &lt;bot@x.org&gt; wrote:<br><br></blockquote></div>"
        f'<blockquote type="cite"><div dir="ltr">{_QUOTE}</div></blockquote>',
        # Thunderbird: moz-cite-prefix + cite blockquote
        f'<p>Approved</p><div class="moz-cite-prefix">On 01/01/2024 10:00, Bot wrote:<br></div>'
        f'<blockquote type="cite" cite="mid:x@y">{_QUOTE}</blockquote>',
        # ProtonMail
        f'<div>Approved</div><div class="protonmail_quote">On Monday, Bot wrote:<br>'
        f'<blockquote class="protonmail_quote" type="cite">{_QUOTE}</blockquote></div>',
        # Zimbra: hr#zwchr and data-marker blocks
        f'<div>Approved</div><br><hr id="zwchr"><div data-marker="__HEADERS__"><b>From: </b>'
        f'Bot</div><div data-marker="__QUOTED_TEXT__">{_QUOTE}</div>',
        f'<div>Approved</div><div data-marker="__QUOTED_TEXT__">{_QUOTE}</div>',
        # GMX / web.de and Fastmail
        f'<div>Approved</div><div name="quote" style="margin:10px 5px 5px 10px">{_QUOTE}</div>',
        f'<div>Approved</div><div id="qt"><div>On Mon, Bot wrote:</div>{_QUOTE}</div>',
        # help desks
        f'<div>Approved</div><div class="freshdesk_quote"><blockquote>{_QUOTE}</blockquote></div>',
    ],
    ids=[
        "gmail",
        "gmail-container",
        "yahoo-ydp",
        "yahoo",
        "apple",
        "thunderbird",
        "proton",
        "zimbra",
        "zimbra-marker",
        "gmx",
        "fastmail",
        "freshdesk",
    ],
)
def test_other_clients_quote_containers(html: str) -> None:
    assert extract_reply_from_html(html) == "Approved"


@pytest.mark.parametrize(
    ("html", "signature"),
    [
        (
            '<div dir="ltr">Approved<br clear="all"><div><br></div>-- <br><div dir="ltr" '
            'class="gmail_signature" data-smartmail="gmail_signature"><div>Lena Fischer</div>'
            "<div>Head of Finance | +49 30 1234</div></div></div>",
            "Lena Fischer",
        ),
        (
            '<div>Approved</div><div data-smartmail="gmail_signature">Sam Ortiz<br>ACME</div>',
            "Sam Ortiz",
        ),
        ('<p>Approved</p><div class="moz-signature">-- <br>Jo Park</div>', "Jo Park"),
        (
            '<div>Approved</div><div class="protonmail_signature_block">Sent with Proton Mail'
            "</div>",
            "Proton",
        ),
        ('<div>Approved</div><div id="Signature"><p>Kim Lee<br>Ops</p></div>', "Kim Lee"),
        ('<div>Approved</div><div id="AppleMailSignature">Sent from my iPhone</div>', "iPhone"),
    ],
    ids=["gmail", "gmail-attr", "thunderbird", "proton", "outlook", "apple"],
)
def test_signature_blocks_go_unless_the_decision_reads(html: str, signature: str) -> None:
    assert extract_reply_from_html(html) == "Approved"
    assert signature in extract_reply_from_html(html, for_decision=True)
    assert signature in extract_reply_from_html(html, strip_signatures=False)


# --- lists and blockquotes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<ul><li>first</li><li>second</li></ul>", "- first\n- second"),
        ("<ol><li>Approve A</li><li>Reject B</li></ol>", "1. Approve A\n2. Reject B"),
        ('<ol start="3"><li><p>three</p></li><li><div>four</div></li></ol>', "3. three\n4. four"),
        (
            "<ol><li>one<ul><li>sub a</li><li>sub b</li></ul></li><li>two</li></ol>",
            "1. one\n  - sub a\n  - sub b\n2. two",
        ),
        (
            "<div>Answers:</div><ol><li>yes</li><li>no</li></ol><div>Thanks</div>",
            "Answers:\n\n1. yes\n2. no\n\nThanks",
        ),
    ],
    ids=["ul", "ol", "start", "nested", "between-text"],
)
def test_html_lists_keep_their_markers(html: str, expected: str) -> None:
    assert extract_reply_from_html(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        # Gmail's indent button
        '<div>I agree with this part:</div><blockquote style="margin:0 0 0 40px;border:none;'
        'padding:0px"><div>We ship on Friday.</div></blockquote><div>Go ahead.</div>',
        # Gmail's quote button (class gmail_quote, but no gmail_quote div around it)
        '<div dir="ltr">I agree with this part:<blockquote class="gmail_quote" style="margin:0px'
        ' 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">We ship on '
        "Friday.</blockquote><div>Go ahead.</div></div>",
        # a plain blockquote in a hand-written HTML mail
        "<p>I agree with this part:</p><blockquote><p>We ship on Friday.</p></blockquote>"
        "<p>Go ahead.</p>",
    ],
    ids=["gmail-indent", "gmail-quote-button", "plain"],
)
def test_blockquote_written_on_purpose_is_kept_but_never_decides(html: str) -> None:
    assert _flat(extract_reply_from_html(html)) == (
        "I agree with this part: We ship on Friday. Go ahead."
    )
    assert _flat(extract_reply_from_html(html, for_decision=True)) == (
        "I agree with this part: Go ahead."
    )


@pytest.mark.parametrize(
    "html",
    [
        "<p>No</p><p>On Mon, 1 Jan 2024, Bot &lt;bot@x.org&gt; wrote:</p>"
        "<blockquote>Approve the refund?</blockquote>",
        "<p>No</p><p>Am 01.01.2024 um 10:00 schrieb Bot &lt;bot@x.org&gt;:</p>"
        "<blockquote>Approve the refund?</blockquote>",
        "<p>No</p><p>01.01.2024, 10:00, &quot;Bot&quot; &lt;bot@x.org&gt;:</p>"
        "<blockquote>Approve the refund?</blockquote>",
        "<p>No</p><blockquote><b>From:</b> Bot<br><b>Sent:</b> Monday<br><b>To:</b> me<br>"
        "Approve the refund?</blockquote>",
    ],
    ids=["english", "german", "yandex-style", "header-block-inside"],
)
def test_blockquote_under_an_attribution_is_quoted_mail(html: str) -> None:
    assert extract_reply_from_html(html) == "No"
    assert extract_reply_from_html(html, for_decision=True) == "No"


# --- other systems' "reply above this line" markers --------------------------------------------


@pytest.mark.parametrize(
    "marker",
    [
        "-- Reply above this line --",
        "##- Please type your reply above this line -##",
        "---- Please reply above this line ----",
        "Reply ABOVE THIS LINE to add a comment to this issue",
        "> -- Write your reply above this line --",
        "[Please do not write below this line]",
        "##- Bitte geben Sie Ihre Antwort oberhalb dieser Zeile ein. -##",
        "--- Répondez au-dessus de cette ligne ---",
        "## Por favor, escriba su respuesta encima de esta línea ##",
        "-- Responda acima desta linha --",
        "--- Rispondi sopra questa riga ---",
        "-- Antwoord boven deze regel --",
        "-- Odpowiedz powyżej tej linii --",
        "-- Svara ovanför denna rad --",
        "-- Svar over denne linje --",
        "—— Ответьте выше этой строки ——",
        "-- Відповідайте над цим рядком --",
        "—— 请在此行上方回复 ——",
        "―― この行より上に返信してください ――",
    ],
)
def test_other_systems_reply_markers(marker: str) -> None:
    body = f"Approved, go ahead.\n\n{marker}\n\nTicket #4711: refund request\nApprove it?\n"
    assert extract_reply(body) == "Approved, go ahead."


@pytest.mark.parametrize(
    "text",
    [
        "The total is in the line above this line of the invoice.",
        "Please check the line above.",
        "Dieser Zeile stimme ich zu.",
    ],
)
def test_sentences_about_lines_are_not_markers(text: str) -> None:
    assert extract_reply(f"Yes.\n{text}") == f"Yes.\n{text}"


# --- charsets --------------------------------------------------------------------------------


def _raw(body: bytes, content_type: str, cte: str = "8bit") -> bytes:
    return (
        b"From: a@example.org\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: "
        + content_type.encode()
        + b"\nContent-Transfer-Encoding: "
        + cte.encode()
        + b"\n\n"
        + body
    )


@pytest.mark.parametrize(
    ("text", "sent", "declared"),
    [
        ("同意，請繼續處理退款。謝謝", "utf-8", "big5"),
        ("承認します。よろしくお願いします。", "utf-8", "shift_jis"),
        ("Да, согласовано. Спасибо", "utf-8", "koi8-r"),
        ("Ja, genehmigt. Grüße aus München", "utf-8", "iso-8859-1"),
        ("承認します。よろしくお願いします。", "shift_jis", None),
        ("承認します。明日また連絡します。", "euc_jp", None),
        ("承認します。よろしくお願いします。", "iso-2022-jp", None),
        ("同意，請繼續處理。謝謝", "big5", None),
        ("同意，请继续处理。谢谢", "gb2312", None),
        ("Да, согласовано. Спасибо", "koi8-r", None),
        ("Так, погоджено. Дякую", "koi8-u", None),
        ("Да, согласовано. Спасибо", "cp1251", None),
        ("Oui, c'est approuvé pour Zürich, merci.", "iso-8859-1", None),
        ("承認します。よろしくお願いします。", "shift_jis", "utf-8"),
        ("Да, согласовано. Спасибо", "cp1251", "utf-8"),
    ],
)
def test_wrong_or_missing_charset_is_recovered(text: str, sent: str, declared: str | None) -> None:
    assert decode_text(text.encode(sent), declared) == text
    content_type = "text/plain" + (f"; charset={declared}" if declared else "")
    assert extract_reply_from_message(_raw(text.encode(sent) + b"\n", content_type)) == text


def test_a_correct_declared_charset_is_trusted() -> None:
    # iso-8859-2 bytes that cp1252 would read as other letters: the declaration decides
    text = "Tak, zatwierdzam. Dziękuję, Łódź"
    assert decode_text(text.encode("iso-8859-2"), "iso-8859-2") == text
    # mostly valid UTF-8 with one damaged byte stays UTF-8
    damaged = "Genehmigt – Grüße, Jürgen Müller ".encode() * 3 + b"\xff"
    assert decode_text(damaged, "utf-8").startswith("Genehmigt – Grüße")


# --- structure -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix", [b"\n", b"\r\n", b"\n\n", b" \n"], ids=["lf", "crlf", "two", "space"]
)
def test_blank_line_before_the_header_block(prefix: bytes) -> None:
    raw = prefix + b"From: a@example.org\nSubject: Re: x\nContent-Type: text/plain\n\nApproved\n"
    assert extract_reply_from_message(raw.replace(b"\n", b"\r\n") if b"\r" in prefix else raw) == (
        "Approved"
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/alternative",
        "multipart/alternative; boundary=somethingelse",
        'multipart/mixed; boundary=""',
    ],
    ids=["no-boundary", "wrong-boundary", "empty-boundary"],
)
def test_multipart_without_a_usable_boundary(content_type: str) -> None:
    body = (
        b"This is a multi-part message in MIME format.\n\n--_000_DB7PR_\n"
        b'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: base64\n\n'
        b"QXBwcm92ZWQ=\n\n--_000_DB7PR_\nContent-Type: text/html\n\n<p>Approved</p>\n"
        b"--_000_DB7PR_--\n"
    )
    assert extract_reply_from_message(_raw(body, content_type)) == "Approved"
    # no part structure at all: the body is the text
    assert extract_reply_from_message(_raw(b"Approved\n", content_type)) == "Approved"


@pytest.mark.parametrize(
    "body",
    [
        "On Mon, Jan 1, 2024 at 10:00 AM Bot <bot@x.org> wrote:\n> Approve the refund?\n",
        "On 1 Jan 2024, at 10:00, Bot <bot@x.org> wrote:\n\n> Approve the refund?\n>\n> Ref 1\n",
        "Am 01.01.2024 um 10:00 schrieb Bot <bot@x.org>:\n> Approve the refund?\n",
        "Le lun. 1 janv. 2024 à 10:00, Bot <bot@x.org> a écrit :\n> Approve the refund?\n",
        "\n\nOn Mon, 1 Jan 2024, Bot wrote:\n>> Approve?\n> Approve the refund?\n\n",
    ],
    ids=["gmail", "apple", "german", "french", "nested"],
)
def test_only_an_attribution_and_the_quote_is_empty(body: str) -> None:
    assert extract_reply(body) == ""
    assert extract_reply(body, for_decision=True) == ""


def test_a_text_part_with_a_file_name_is_an_attachment() -> None:
    for headers in (
        'Content-Type: text/plain; name="approve.txt"\n',
        'Content-Type: text/plain\nContent-Disposition: inline; filename="log.txt"\n',
        "Content-Type: text/plain\nContent-Disposition: inline; filename*=UTF-8''l%C3%B6g.txt\n",
    ):
        raw = (
            "From: a@example.org\nSubject: Re: x\nContent-Type: multipart/mixed; boundary=b\n\n"
            f"--b\n{headers}\nAPPROVE everything\n--b\nContent-Type: text/html\n\n"
            "<p>See the file</p>\n--b--\n"
        ).encode()
        assert extract_reply_from_message(raw) == "See the file", headers


# --- signatures and closings -----------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Sent from my desk, so I can approve it properly tomorrow.",
        "Sent from my home office, not the phone: no.",
        "Sent from the airport lounge because this is urgent.",
        "Sent from my laptop after the meeting",
    ],
)
def test_a_sentence_starting_sent_from_my_is_text(sentence: str) -> None:
    assert extract_reply(f"Hi,\n\n{sentence}") == f"Hi,\n\n{sentence}"


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "sent from my android phone",
        "Sent from my Galaxy",
        "Sent from Outlook for iOS",
        "Sent from Mail for Windows",
        "Sent with Proton Mail secure email.",
        "Sent from Yahoo Mail on Android",
        "Sent via the Samsung Galaxy S23, an AT&T 5G smartphone",
        "Envoyé de mon iPhone",
        "Von meinem iPad gesendet",
        "Enviado desde mi móvil",
    ],
)
def test_phone_and_app_signatures_go(signature: str) -> None:
    assert extract_reply(f"Approved\n\n{signature}") == "Approved"
    assert extract_reply(f"Approved\n\n{signature}", for_decision=True) == (
        f"Approved\n\n{signature}"
    )


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ("The budget is 400 EUR.\n\nThanks,\nLena", "The budget is 400 EUR."),
        ("Ship it on Monday.\n-Sam", "Ship it on Monday."),
        ("Ship it on Monday.\n\n— Sam Ortiz", "Ship it on Monday."),
        (
            "Use the blue one.\n\nBest regards,\n\nLena Fischer\nHead of Finance",
            "Use the blue one.",
        ),
        ("Nimm die blaue.\n\nViele Grüße\nLena", "Nimm die blaue."),
        ("Prends la bleue.\n\nCordialement,\nJean Dupont", "Prends la bleue."),
        ("Use a azul.\n\nAbraços,\nJoão", "Use a azul."),
        ("Возьмите синюю.\n\nС уважением,\nИван", "Возьмите синюю."),
        ("青いのを使ってください。\n\nよろしくお願いします。\n田中", "青いのを使ってください。"),
        ("Use the blue one.\nThanks!", "Use the blue one."),
        ("Use the blue one.\n\nThanks, Lena", "Use the blue one."),
        ("Use the blue one.\n//Jef", "Use the blue one."),
    ],
)
def test_hand_written_closings_are_stripped_from_answers(body: str, answer: str) -> None:
    assert extract_reply(body, strip_signoff=True) == answer
    assert extract_reply(body) == body  # extraction alone keeps them (the corpora expect so)
    raw = f"From: a@example.org\nSubject: Re: x\nContent-Type: text/plain; charset=utf-8\n\n{body}"
    assert extract_reply_from_message(raw.encode(), strip_signoff=True) == answer


@pytest.mark.parametrize(
    "body",
    [
        "Thanks,\nLena",  # nothing but the closing: kept
        "Please ask Lena.\nShe knows the budget.",
        "Yes, with one condition:\nonly for order 4711",
        "The answer is: best",
    ],
)
def test_closings_are_not_invented(body: str) -> None:
    assert extract_reply(body, strip_signoff=True) == body


# --- the decision's text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "decision_text"),
    [
        (
            "Approve.\n\nSent from my iPhone\n\nWait, no!",
            "Approve.\n\nSent from my iPhone\n\nWait, no!",
        ),
        (
            "Approve.\n\n-- \nLena\n\nPS: actually not yet",
            "Approve.\n\n--\nLena\n\nPS: actually not yet",
        ),
        (
            "See inline.\n\nOn Mon, Bot <b@x.org> wrote:\n> Approve the refund?\nNo\n> Notify?\nYes",
            "See inline.\n\nNo\nYes",
        ),
        ("No.\n\nOn Mon, Bot <b@x.org> wrote:\n> Reply APPROVE to approve\n", "No."),
    ],
    ids=["after-phone-signature", "after-sig-delimiter", "inline-quotes", "quoted-approve"],
)
def test_for_decision_keeps_signatures_and_drops_every_quote(body: str, decision_text: str) -> None:
    assert extract_reply(body, for_decision=True) == decision_text
    raw = f"From: a@example.org\nSubject: Re: x\nContent-Type: text/plain; charset=utf-8\n\n{body}"
    assert extract_reply_from_message(raw.encode(), for_decision=True) == decision_text


def test_for_decision_on_html_drops_all_blockquotes_keeps_signatures() -> None:
    html = (
        '<div>No.</div><blockquote style="margin:0 0 0 40px">Approve</blockquote>'
        '<div id="AppleMailSignature">Sent from my iPhone</div><div>Wait, actually no!</div>'
        '<blockquote type="cite">Reply APPROVE</blockquote>'
    )
    message = EmailMessage()
    message["From"] = "a@example.org"
    message.set_content(html, subtype="html")
    text = extract_reply_from_message(message.as_bytes(), for_decision=True)
    assert "Approve" not in text and "APPROVE" not in text
    assert "Wait, actually no!" in text and "Sent from my iPhone" in text


# --- classification --------------------------------------------------------------------------


def _message(headers: str, body: str = "Approved") -> bytes:
    return (f"{headers}\nContent-Type: text/plain; charset=utf-8\n\n{body}\n").encode()


@pytest.mark.parametrize("verdict", ["FAIL", "fail", "FAIL (spam)"])
def test_ses_spam_verdict_fail_is_spam(verdict: str) -> None:
    headers = f"From: a@example.org\nSubject: Re: x\nX-SES-Spam-Verdict: {verdict}"
    assert classify_message(_message(headers)) == MessageKind.SPAM
    virus = "From: a@example.org\nSubject: Re: x\nX-SES-Virus-Verdict: FAIL"
    assert classify_message(_message(virus)) == MessageKind.SPAM


def test_ses_spam_verdict_pass_is_human() -> None:
    headers = "From: a@example.org\nSubject: Re: x\nX-SES-Spam-Verdict: PASS"
    assert classify_message(_message(headers)) == MessageKind.HUMAN


@pytest.mark.parametrize(
    "sender",
    [
        "post_master@mail.example.jp",
        "Post_Master <post_master@example.org>",
        "post.master@example.org",
        "mailer_daemon@example.org",
    ],
)
def test_postmaster_spellings_with_a_reply_subject_bounce(sender: str) -> None:
    body = "Your message could not be delivered to the following recipient: x@example.org"
    raw = _message(f"From: {sender}\nSubject: Re: Approve refund", body)
    assert classify_message(raw, thread_subject="Approve refund") == MessageKind.BOUNCE
    assert classify_message(_message(f"From: {sender}\nSubject: Re: Approve refund")) == (
        MessageKind.BOUNCE
    )


@pytest.mark.parametrize(
    "header",
    [
        "X-MLServer: fml [fml 4.0.3 release (20011202/4.0.3)]",
        "X-ML-Name: staff",
        "X-ML-Count: 1234",
        "X-ML-Info: If you have a question, send e-mail with the body",
        "X-Mailing-List: <dev@lists.example.org> archive/latest/99",
        "X-Ecartis-Version: Ecartis v1.0.0",
    ],
)
def test_mailing_list_software_is_list(header: str) -> None:
    raw = _message(f"From: staff-admin@example.jp\nSubject: Re: Approve refund\n{header}")
    assert classify_message(raw) == MessageKind.LIST


@pytest.mark.parametrize(
    "headers",
    [
        "From: list-owner@example.org\nSubject: Mail loop detected\nX-Loop: list@example.org",
        "From: noreply@example.org\nSubject: Loop alert: your message looped",
        "From: admin@example.org\nSubject: Looping message rejected\nX-Loop: agent@x",
    ],
)
def test_loop_alerts_are_machine_mail(headers: str) -> None:
    assert classify_message(_message(headers, "A mail loop was detected.")) != MessageKind.HUMAN


@pytest.mark.parametrize(
    "text",
    [
        "I am out of the office until Monday, 8 January, with limited access to email.",
        "Thank you for your email. I'm currently out of the office and will reply on my return.",
        "I will be on annual leave from 20 Dec to 3 Jan.",
        "Ich bin bis zum 8. Januar nicht im Büro.",
        "Vielen Dank für Ihre Nachricht. Ich befinde mich derzeit im Urlaub.",
        "Je suis absent du bureau jusqu'au 8 janvier.",
        "Estoy fuera de la oficina hasta el 8 de enero.",
        "Estou de férias até 8 de janeiro.",
        "Sono fuori ufficio fino all'8 gennaio.",
        "Ik ben tot 8 januari afwezig.",
        "Jestem poza biurem do 8 stycznia.",
        "Jag är ledig till och med den 8 januari.",
        "Jeg er på ferie indtil den 8. januar.",
        "Jeg er ikke på kontoret før 8. januar.",
        "Я в отпуске до 8 января.",
        "Я у відпустці до 8 січня.",
        "您好，我目前不在办公室，将于1月8日返回。",
        "お問い合わせありがとうございます。1月8日まで休暇中です。",
    ],
)
def test_out_of_office_text_without_headers_is_an_auto_reply(text: str) -> None:
    raw = _message("From: anna@example.org\nSubject: Re: Approve refund", text)
    assert classify_message(raw, thread_subject="Approve refund") == MessageKind.AUTO_REPLY


@pytest.mark.parametrize(
    "text",
    [
        "Approved. Enjoy your vacation!",
        "Yes, approved.\n\nLine 2\nLine 3\nLine 4\nLine 5\nI am out of the office next week.",
        "Ok. Is the office closed until Monday?",
    ],
)
def test_human_replies_that_mention_absence_stay_human(text: str) -> None:
    raw = _message("From: anna@example.org\nSubject: Re: Approve refund", text)
    assert classify_message(raw, thread_subject="Approve refund") == MessageKind.HUMAN


@pytest.mark.parametrize(
    "body",
    [
        "Approve.\nThanks, but no",
        "Approve.\n\nThanks,\nnot yet",
        "Approve.\n\nBest,\nWait no",
        "Approve\n- not yet",
        "Options:\n- A\n-B",
        "Yes.\n\nCheers,\nbut only on Monday",
    ],
)
def test_a_closing_never_swallows_words_that_decide(body: str) -> None:
    assert extract_reply(body, strip_signoff=True) == body


@pytest.mark.parametrize(
    ("body", "kind", "comment"),
    [
        ("Yes\n\nThanks,\nLena", "approval", None),
        ("No, they already got a voucher.\n\nThanks,\nLena", "approval", "they already got a"),
        ("The budget is 400 EUR.\n\nBest regards,\nLena Fischer\nHead of Finance", "question", ""),
        ("Use the blue one.\n-Sam", "question", ""),
        ("No, too expensive.\n\nSent from my iPhone", "approval", "too expensive"),
    ],
)
def test_the_gateway_hands_the_agent_comments_without_closings(
    body: str, kind: str, comment: str | None
) -> None:
    from hl_email.inbound.verdicts import comment_from_answer as _comment_from_answer
    from hl_email.replies import decide

    decision = decide(extract_reply(body, for_decision=True), kind=kind)
    trimmed = _comment_from_answer(decision, body, extract_reply(body), kind, [])
    assert trimmed.verdict == decision.verdict and trimmed.option == decision.option
    if comment is None:
        assert not trimmed.comment
    else:
        assert trimmed.comment and comment in trimmed.comment
        assert "Lena" not in trimmed.comment and "Sam" not in trimmed.comment
        assert "iPhone" not in trimmed.comment


def test_strip_signoff_of_a_bare_closing_comment() -> None:
    from hl_email.replies import strip_signoff

    assert strip_signoff("Thanks,\nLena", keep_alone=False) == ""
    assert strip_signoff("Thanks,\nLena") == "Thanks,\nLena"
    assert strip_signoff("the box was crushed\n\nCheers", keep_alone=False) == "the box was crushed"


def test_a_missing_outer_boundary_with_a_nested_alternative_is_recovered() -> None:
    raw = (
        b"From: a@b.c\nContent-Type: multipart/mixed\n\n--outer\nContent-Type: "
        b"multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain\n\n"
        b"Approved\n--inner\nContent-Type: text/html\n\n<p>Approved</p>\n--inner--\n--outer\n"
        b"Content-Type: application/pdf; name=x.pdf\n\nJVBE\n--outer--\n"
    )
    assert extract_reply_from_message(raw) == "Approved"


def test_out_of_office_words_in_the_quote_do_not_make_an_auto_reply() -> None:
    raw = _message(
        "From: anna@example.org\nSubject: Re: x",
        "On Mon, Bot <b@x.org> wrote:\n> I am out of the office until Monday, approve?\n\nYes",
    )
    assert classify_message(raw) == MessageKind.HUMAN
