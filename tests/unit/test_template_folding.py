"""Constant translations in the packaged templates (`t("key")` compiled as the catalog text):
every email comes out byte for byte as when t() runs at render time, in every language."""

from __future__ import annotations

import random

import pytest
from markupsafe import Markup, escape

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


def _preformat_line_by_line(value: object) -> Markup:
    lines = []
    for line in escape(str(value)).splitlines() or [Markup("")]:
        stripped = line.lstrip(" ")
        lines.append(Markup("&nbsp;") * (len(line) - len(stripped)) + stripped)
    return Markup("<br>\n").join(lines)


def test_preformat_fast_path_matches_the_line_by_line_form() -> None:
    rng = random.Random(17)
    alphabet = "ab <>&\"'\n\r\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029 é€"
    cases: list[object] = ["", " ", "a", " a", "<x>&", "a\u2028b", '  {\n  "k": 1\n}', 12, None]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))) for _ in range(5000)]
    for value in cases:
        got = templates._preformat(value)
        assert got == _preformat_line_by_line(value), repr(value)
        assert type(got) is Markup
