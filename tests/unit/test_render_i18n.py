"""Languages and template sets: translated default templates, per-route template selection,
the message catalog the gateway uses for its in-thread sentences."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import pytest

from hl_email import i18n
from hl_email.i18n import CATALOG, message, params_of
from hl_email.outbound.render import (
    REPLY_MARKER,
    Renderer,
    TemplateError,
    template_candidates,
    validate_selection,
)
from tests.unit.test_render import approval, followup, mailtos, question

LANGUAGES = ("de", "fr", "es")

# What a recipient must see in each language (subject, body text, HTML button labels).
EXPECTED = {
    "de": {
        "approval_subject": "Freigabe erforderlich: send_refund(order=A-17, amount=120) (Refund agent)",
        "approval_text": "Refund agent möchte send_refund aufrufen und wartet auf Ihre Entscheidung.",
        "how": "Antworten Sie mit APPROVE oder mit REJECT und einer Begründung.",
        "buttons": ("Freigeben", "Ablehnen"),
        "asks": "Support bot fragt:",
        "choose": "Wählen Sie eine Antwort:",
        "footer": "Gesendet von hl-email im Auftrag von",
    },
    "fr": {
        "approval_subject": "Approbation requise : send_refund(order=A-17, amount=120) (Refund agent)",
        "approval_text": "Refund agent souhaite appeler send_refund et attend votre décision.",
        "how": "Répondez APPROVE, ou REJECT suivi d'un motif.",
        "buttons": ("Approuver", "Refuser"),
        "asks": "Support bot demande :",
        "choose": "Choisissez une réponse :",
        "footer": "Envoyé par hl-email pour le compte de",
    },
    "es": {
        "approval_subject": "Aprobación necesaria: send_refund(order=A-17, amount=120) (Refund agent)",
        "approval_text": "Refund agent quiere llamar a send_refund y espera su decisión.",
        "how": "Responda APPROVE, o REJECT y un motivo.",
        "buttons": ("Aprobar", "Rechazar"),
        "asks": "Support bot pregunta:",
        "choose": "Elija una respuesta:",
        "footer": "Enviado por hl-email en nombre de",
    },
}

ENGLISH_LEFTOVERS = (
    "wants to call",
    "waiting for your decision",
    "Reply APPROVE",
    "Or reply with the number",
    "Sent by hl-email",
    "Only the text above",
    "Choose an answer",
    "Your reply:",
    "Write a reply",
    " asks:",
    "no arguments",
    "with these arguments",
    "A button opens",
    "grey line",
)

KEYS_FOR_GATEWAY = {
    "clarify_approval": {},
    "clarify_question": {},
    "confirm_approved": {},
    "confirm_rejected": {},
    "confirm_answered": {},
    "vote_recorded": {"reason": "1 of 2 approvals", "needed": 1},
    "already_decided": {"verdict": "approved by alice@corp.test"},
    "decided_note": {"verdict": "approved by alice@corp.test"},
    "reminder_approval": {},
    "reminder_question": {},
    "timed_out_note": {},
    "cancelled_note": {},
    "clarify_reason": {"reason": "no APPROVE or REJECT found"},
    "delegate_intro": {"away": "alice@corp.test"},
    "escalated": {},
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def parts(msg: EmailMessage) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def visible(html: str) -> str:
    """The HTML as a reader sees it: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# ---------------------------------------------------------------------------------------------
# Translated default templates


@pytest.mark.parametrize("language", LANGUAGES)
def test_approval_is_translated(renderer: Renderer, language: str) -> None:
    want = EXPECTED[language]
    msg = renderer.render_ask(approval(language=language))
    text, html = parts(msg)
    assert msg["Subject"] == want["approval_subject"]
    assert text.splitlines()[0] == REPLY_MARKER
    assert REPLY_MARKER in html and html.index(REPLY_MARKER) < html.index("<h1")
    assert want["approval_text"] in text
    assert want["how"] in text
    assert want["footer"] in text and want["footer"] in visible(html)
    shown = visible(html)
    for label in want["buttons"]:
        assert label in shown
    assert f'<html lang="{language}">' in html
    for leftover in ENGLISH_LEFTOVERS:
        assert leftover not in text, leftover
        assert leftover not in shown, leftover
    # The reply words, the marker and the option numbers are the same in every language.
    subject = "Re: " + want["approval_subject"]
    bodies = {(s, b) for _, s, b in mailtos(html)}
    assert bodies == {(subject, "APPROVE"), (subject, "REJECT: "), (subject, "1"), (subject, "2")}
    assert "APPROVE" in shown and "REJECT" in shown
    assert "1. Amount too high - Max 50% without a manager" in text  # user data untouched


@pytest.mark.parametrize("language", LANGUAGES)
def test_question_is_translated(renderer: Renderer, language: str) -> None:
    want = EXPECTED[language]
    msg = renderer.render_ask(question(language=language))
    text, html = parts(msg)
    assert msg["Subject"] == "Which plan should this customer get?"  # the asker's words
    assert text.splitlines()[0] == REPLY_MARKER
    assert want["asks"] in text and want["asks"] in visible(html)
    assert want["choose"] in visible(html)
    for leftover in ENGLISH_LEFTOVERS:
        assert leftover not in text, leftover
        assert leftover not in visible(html), leftover
    assert {b for _, _, b in mailtos(html)} == {"1", "2", ""}
    # Without options, and without a first line to take the subject from.
    msg = renderer.render_ask(question(language=language, options=(), msg="   "))
    assert msg["Subject"] == message("question_subject_fallback", language)
    assert msg["Subject"] != "Question" or language == "fr"


@pytest.mark.parametrize("language", LANGUAGES)
def test_followup_is_translated(renderer: Renderer, language: str) -> None:
    ctx = followup(language=language, message=message("clarify_approval", language))
    msg = renderer.render_followup(ctx)
    text, html = parts(msg)
    assert msg["Subject"] == "Re: Approval needed: send_refund (Refund agent)"  # thread kept
    assert text.splitlines()[0] == REPLY_MARKER
    assert message("clarify_approval", language) in text
    assert message("your_reply", language) in text
    assert message("reply_with_number", language) in text
    assert message("button_approve", language) in visible(html)
    assert {b for _, _, b in mailtos(html)} == {"APPROVE", "REJECT: ", "1", "2"}
    for leftover in ENGLISH_LEFTOVERS:
        assert leftover not in text, leftover


def test_no_arguments_is_translated_inside_the_macro(renderer: Renderer) -> None:
    text, html = parts(renderer.render_ask(approval(language="de", kwargs={})))
    assert "(keine Argumente)" in text and "(keine Argumente)" in html


def test_html_translation_escapes_values_but_keeps_its_markup(renderer: Renderer) -> None:
    msg = renderer.render_ask(approval(language="fr", fn="a<b>", agent_name="O'Brien & co"))
    text, html = parts(msg)
    assert "<b>" not in html and "a&lt;b&gt;" in html
    assert "<strong>a&lt;b&gt;</strong>" in html  # the Markup param stays markup
    assert "O&#39;Brien &amp; co souhaite" in html
    assert "O'Brien & co souhaite appeler a<b> et" in text  # text is not escaped


def test_english_stays_the_default(renderer: Renderer) -> None:
    plain = parts(renderer.render_ask(approval()))
    assert parts(renderer.render_ask(approval(language="en"))) == plain
    assert parts(renderer.render_ask(approval(language="en-GB"))) == plain
    assert (
        renderer.render_ask(approval())["Subject"]
        == "Approval needed: send_refund(order=A-17, amount=120) (Refund agent)"
    )


def test_regional_variant_uses_base_language(renderer: Renderer) -> None:
    msg = renderer.render_ask(approval(language="de_AT"))
    assert msg["Subject"] == EXPECTED["de"]["approval_subject"]
    assert validate_selection(None, "pt_br") == (None, "pt-BR")
    assert validate_selection("ops", "DE") == ("ops", "de")


def test_unknown_language_falls_back_to_english_and_warns_once(
    renderer: Renderer, caplog: pytest.LogCaptureFixture
) -> None:
    i18n._warned.discard("xx")
    with caplog.at_level(logging.WARNING, logger="hl_email.i18n"):
        first = renderer.render_ask(approval(language="xx"))
        renderer.render_ask(approval(language="xx"))
        assert message("escalated", "xx") == CATALOG["en"]["escalated"]
    assert first["Subject"] == "Approval needed: send_refund(order=A-17, amount=120) (Refund agent)"
    assert parts(first) == parts(renderer.render_ask(approval()))  # identical to English
    warnings = [r for r in caplog.records if "'xx'" in r.getMessage()]
    assert len(warnings) == 1


def test_channel_template_gets_t_in_the_language(renderer: Renderer) -> None:
    ctx = approval(language="es", html_template="<p>{{ t('button_approve') }}</p>")
    _, html = parts(renderer.render_ask(ctx))
    assert "<p>Aprobar</p>" in html


# ---------------------------------------------------------------------------------------------
# Template sets and language-specific user templates


def _write(root: Path, name: str, body: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)


def test_candidates_order() -> None:
    assert template_candidates("approval.html", "ops", "pt-BR") == [
        "ops/approval.pt-BR.html",
        "ops/approval.pt.html",
        "ops/approval.html",
        "approval.pt-BR.html",
        "approval.pt.html",
        "approval.html",
    ]
    assert template_candidates("approval.subject.txt", None, "de") == [
        "approval.subject.de.txt",
        "approval.subject.txt",
    ]
    assert template_candidates("approval.html") == ["approval.html"]
    assert template_candidates("ops/x.html", "other", "de") == ["ops/x.html"]


def test_template_set_overrides_from_user_dir(tmp_path: Path) -> None:
    _write(tmp_path, "finance/approval.subject.txt", "[finance] {{ fn }}")
    _write(
        tmp_path, "finance/approval.txt", "{{ marker }}\nFINANCE {{ fn }} {{ t('approval_how') }}"
    )
    renderer = Renderer(tmp_path)
    msg = renderer.render_ask(approval(template_set="finance"))
    text, html = parts(msg)
    assert msg["Subject"] == "[finance] send_refund"
    assert "FINANCE send_refund Reply APPROVE, or REJECT and a reason." in text
    assert "Approve <span" in html  # not in the set: the packaged default
    # The set with a language: set templates still win, built-in texts are translated.
    msg = renderer.render_ask(approval(template_set="finance", language="de"))
    text, html = parts(msg)
    assert msg["Subject"] == "[finance] send_refund"
    assert "FINANCE send_refund Antworten Sie mit APPROVE" in text
    assert "send_refund</span> freigeben?" in html
    # Requests without the set are untouched.
    assert renderer.render_ask(approval())["Subject"].startswith("Approval needed")
    assert renderer.subject_for(approval(template_set="finance")) == "[finance] send_refund"


def test_set_base_layout_applies_to_default_templates(tmp_path: Path) -> None:
    _write(
        tmp_path, "brand/base.html", "<main>{{ marker }}{% block content %}{% endblock %}</main>"
    )
    _write(
        tmp_path,
        "brand/_macros.html",
        "{% macro button(href, label, bg=None, fg=None, border=None) %}[{{ label }}]{% endmacro %}"
        "{% macro arguments_table(a) %}ARGS{% endmacro %}"
        "{% macro option_list(o) %}OPTS{% endmacro %}{% macro callout(t) %}{% endmacro %}",
    )
    renderer = Renderer(tmp_path)
    _, html = parts(renderer.render_ask(approval(template_set="brand", language="es")))
    assert html.startswith("<main>" + REPLY_MARKER)
    assert "[Aprobar][Rechazar]" in html and "ARGS" in html and "OPTS" in html


def test_language_specific_user_template_wins_over_the_sets_generic_one(tmp_path: Path) -> None:
    _write(tmp_path, "ops/approval.subject.txt", "generic {{ fn }}")
    _write(tmp_path, "ops/approval.subject.de.txt", "deutsch {{ fn }}")
    _write(tmp_path, "approval.subject.fr.txt", "top-level fr {{ fn }}")
    _write(tmp_path, "approval.subject.it.txt", "italiano {{ fn }}")
    renderer = Renderer(tmp_path)
    assert (
        renderer.subject_for(approval(template_set="ops", language="de")) == "deutsch send_refund"
    )
    assert renderer.subject_for(approval(template_set="ops", language="de-CH")) == (
        "deutsch send_refund"
    )
    assert (
        renderer.subject_for(approval(template_set="ops", language="fr")) == "generic send_refund"
    )
    assert renderer.subject_for(approval(template_set="ops")) == "generic send_refund"
    assert renderer.subject_for(approval(language="fr")) == "top-level fr send_refund"
    # A language without built-in texts still gets the user's templates for it.
    assert renderer.subject_for(approval(language="it")) == "italiano send_refund"
    assert (
        renderer.subject_for(approval())
        == "Approval needed: send_refund(order=A-17, amount=120) (Refund agent)"
    )


def test_followup_uses_the_set(tmp_path: Path) -> None:
    _write(tmp_path, "ops/followup.txt", "{{ marker }}\nOPS: {{ message }}")
    renderer = Renderer(tmp_path)
    text, _ = parts(renderer.render_followup(followup(template_set="ops", language="de")))
    assert text.startswith(REPLY_MARKER + "\nOPS: I couldn't tell")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("template_set", "../etc"),
        ("template_set", "a/b"),
        ("template_set", ".."),
        ("template_set", ""),
        ("template_set", "x" * 65),
        ("template_set", "ops\n"),
        ("language", "../de"),
        ("language", "de/x"),
        ("language", "d"),
        ("language", ""),
        ("language", "de..x"),
        ("language", "de\x00"),
    ],
)
def test_bad_names_are_refused(renderer: Renderer, field: str, value: str) -> None:
    with pytest.raises(TemplateError) as info:
        renderer.render_ask(approval(**{field: value}))
    assert repr(value) in str(info.value)
    with pytest.raises(TemplateError):
        renderer.render_followup(followup(**{field: value}))
    with pytest.raises(TemplateError):
        renderer.check_selection(**{field: value})


def test_missing_template_set_is_a_clear_error(tmp_path: Path, renderer: Renderer) -> None:
    with pytest.raises(TemplateError, match="template set 'finance' not found"):
        renderer.render_ask(approval(template_set="finance"))
    (tmp_path / "other").mkdir()
    user = Renderer(tmp_path)
    with pytest.raises(TemplateError, match="template set 'finance' not found"):
        user.render_followup(followup(template_set="finance"))
    with pytest.raises(TemplateError, match="'finance'"):
        user.check_selection("finance", "de")
    user.check_selection("other", "de")
    user.check_selection(None, "xx")
    assert user.template_sets() == ["other"]


def test_syntax_error_in_a_set_is_found_at_start(tmp_path: Path) -> None:
    _write(tmp_path, "ops/question.html", "{% extends 'base.html' %}{% block content %}{{ nope }}")
    with pytest.raises(TemplateError, match="ops/question.html"):
        Renderer(tmp_path)  # syntax errors in sets are found at start like any template


def test_user_set_template_error_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "ops/approval.de.txt", "{{ marker }}\n\n{{ missing_variable }}")
    renderer = Renderer(tmp_path)
    with pytest.raises(TemplateError, match=r"ops/approval\.de\.txt, line 3"):
        renderer.render_ask(approval(template_set="ops", language="de"))


# ---------------------------------------------------------------------------------------------
# The catalog


def test_all_catalogs_have_the_same_keys_and_params() -> None:
    english = CATALOG["en"]
    assert set(CATALOG) >= {"en", "de", "fr", "es"}
    for language, texts in CATALOG.items():
        assert set(texts) == set(english), language
        for key, text in texts.items():
            assert params_of(text) == params_of(english[key]), (language, key)
            assert text.strip() == text and text, (language, key)
            assert REPLY_MARKER not in text


def test_gateway_keys_have_the_documented_params() -> None:
    for key, params in KEYS_FOR_GATEWAY.items():
        assert params_of(CATALOG["en"][key]) == set(params), key


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_message_every_key_every_language(language: str) -> None:
    for key, text in CATALOG[language].items():
        params = {name: f"<{name}>" for name in params_of(text)}
        out = message(key, language, **params)
        for value in params.values():
            assert value in out, (language, key)
        assert "{" not in out and "}" not in out
        if language != "en" and key not in ("question_subject_fallback", "eyebrow_question"):
            assert out != message(key, "en", **params), (language, key)
    # The reply words stay English wherever a sentence tells the human what to reply.
    for key in ("clarify_approval", "reminder_approval", "approval_how"):
        assert "APPROVE" in message(key, language) and "REJECT" in message(key, language)


def test_message_english_texts_match_the_gateway() -> None:
    assert message("vote_recorded", None, reason="1 of 2", needed=1) == (
        "Thanks, your approval is recorded (1 of 2). The request is still open: "
        "1 approval(s) are needed."
    )
    assert message("already_decided", None, verdict="approved by a@x") == (
        "Thanks, but this request was already approved by a@x. Your reply did not change anything."
    )
    assert message("delegate_intro", "en", away="a@x") == (
        "a@x is away (automatic reply), and you are named as their delegate for this request."
    )
    assert message("escalated", None) == (
        "Nobody has answered this request yet, so it is escalated to you."
    )
    assert message(
        "decided_note", "de", verdict=message("verdict_approved_by", "de", who="a@x")
    ) == ("Diese Anfrage wurde von a@x freigegeben. Sie müssen nichts weiter tun.")


def test_message_with_unknown_or_invalid_language_is_english() -> None:
    for language in ("xx", "zz-ZZ", "../de", ""):
        assert message("timed_out_note", language) == CATALOG["en"]["timed_out_note"]
    assert message("timed_out_note", "DE") == CATALOG["de"]["timed_out_note"]
    with pytest.raises(KeyError):
        message("no_such_key", "de")
