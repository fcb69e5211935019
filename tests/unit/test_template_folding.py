"""Constant translations in the packaged templates (`t("key")` compiled as the catalog text):
every email comes out byte for byte as when t() runs at render time, in every language."""

from __future__ import annotations

import pytest

from hl_email import i18n
from hl_email.outbound import templates
from hl_email.outbound.render import Renderer
from hl_email.outbound.templates import ConstantTranslations, TemplateLibrary
from tests.unit.test_render import REJECT_OPTIONS, approval, followup, question

LANGUAGES = sorted(i18n.CATALOG)


@pytest.fixture(scope="module")
def pair() -> tuple[Renderer, Renderer]:
    folded = Renderer()
    unfolded = Renderer()
    with pytest.MonkeyPatch.context() as mp:
        # The reference: every template compiled with t() left as a call.
        mp.setattr(ConstantTranslations, "filter_stream", lambda self, stream: stream)
        for language in LANGUAGES:
            for name in (
                "approval.html",
                "approval.txt",
                "approval.subject.txt",
                "question.html",
                "question.txt",
                "question.subject.txt",
                "followup.html",
                "followup.txt",
            ):
                unfolded.templates.compiled(unfolded.templates.env(None, language), name)
    return folded, unfolded


CONTEXTS = {
    "approval": lambda lang: approval(language=lang),
    "approval-options-code": lambda lang: approval(
        language=lang, options=REJECT_OPTIONS, approval_code="K7Q2", description="Why: <b>x</b>"
    ),
    "approval-no-args": lambda lang: approval(language=lang, kwargs={}),
    "question": lambda lang: question(language=lang),
    "question-free": lambda lang: question(language=lang, options=()),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("shape", sorted(CONTEXTS))
def test_asks_render_the_same_folded(pair, language: str, shape: str) -> None:
    folded, unfolded = pair
    ctx = CONTEXTS[shape](language)
    assert folded._ask_parts(ctx) == unfolded._ask_parts(ctx)


@pytest.mark.parametrize("language", LANGUAGES)
def test_followups_render_the_same_folded(pair, language: str) -> None:
    folded, unfolded = pair
    ctx = followup(language=language)
    assert folded._followup_parts(ctx) == unfolded._followup_parts(ctx)


def test_packaged_templates_are_folded_user_templates_are_not(tmp_path) -> None:
    (tmp_path / "approval.txt").write_text('{{ t("approval_how") }}|{{ t }}\n')
    library = TemplateLibrary(tmp_path)
    env = library.default_env
    packaged = env.loader.get_source(env, "base.html")
    assert "footer_read_html" in packaged[0]
    code = env.compile(packaged[0], "base.html", packaged[1], raw=True)
    assert "footer_read_html" not in code  # the call became its text
    user = env.loader.get_source(env, "approval.txt")
    assert "approval_how" in env.compile(user[0], "approval.txt", user[1], raw=True)


def test_a_key_the_catalog_lacks_is_left_to_fail_at_render() -> None:
    stream = templates.TokenStream(
        iter(
            templates.Token(1, kind, value)
            for kind, value in (
                ("variable_begin", "{{"),
                ("name", "t"),
                ("lparen", "("),
                ("string", "no_such_key"),
                ("rparen", ")"),
                ("variable_end", "}}"),
            )
        ),
        None,
        None,
    )
    out = templates._fold_translations(list(stream), None)
    assert [t.type for t in out][1:5] == ["name", "lparen", "string", "rparen"]
