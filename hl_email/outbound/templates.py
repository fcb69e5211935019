"""Templates: the user dir over the packaged defaults, selected per (template set, language),
compiled once and cached; Jinja filters and the `t()` translator they use."""

from __future__ import annotations

import functools
import re
import textwrap
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup, escape

from hl_email import i18n
from hl_email.errors import TemplateError
from hl_email.outbound.template_budget import BudgetedSandbox

try:  # the reply extractor owns the marker when it exists; the text must stay identical
    from hl_email.replies import REPLY_MARKER
except ImportError:  # pragma: no cover - depends on which modules exist yet
    REPLY_MARKER = "##- Please type your reply above this line -##"

__all__ = [
    "CHANNEL_TEMPLATE_NAME",
    "PACKAGE_TEMPLATES",
    "TemplateLibrary",
    "template_candidates",
    "template_error",
    "translator",
    "validate_selection",
    "wrap_lines",
]

PACKAGE_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
CHANNEL_TEMPLATE_NAME = "channel template"
ARGUMENT_WRAP_COLUMNS = 72
# A template set is one directory name below a templates dir: never a path.
_TEMPLATE_SET_RE = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
# Environments per (template set, language) kept compiled; beyond that they are rebuilt.
MAX_SELECTIONS = 256


def wrap_lines(text: str, width: int = ARGUMENT_WRAP_COLUMNS) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines() or [""]:
        # PERF: most lines fit; textwrap would return them unchanged, at ~10 us a line.
        if len(line) <= width and line.isprintable() and line.strip() and line[-1] != " ":
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        wrapped = textwrap.wrap(
            line,
            width=width,
            subsequent_indent=indent,
            break_long_words=True,
            break_on_hyphens=False,
            drop_whitespace=True,
        )
        lines.extend(wrapped or [""])
    return lines


def _nl2br(value: Any) -> Markup:
    """Escape, then keep the author's line breaks (Outlook ignores white-space:pre-wrap)."""
    return Markup("<br>\n").join(escape(str(value)).splitlines())


def _preformat(value: Any) -> Markup:
    """Escape, keep line breaks and leading indentation (JSON), let long lines wrap."""
    escaped = escape(str(value))
    # PERF: most values are one printable line not starting with a space (every line break
    # str.splitlines knows is unprintable): the escaped value is the result.
    if escaped.isprintable() and escaped[:1] not in ("", " "):
        return escaped
    lines = []
    for line in escaped.splitlines() or [Markup("")]:
        stripped = line.lstrip(" ")
        lines.append(Markup("&nbsp;") * (len(line) - len(stripped)) + stripped)
    return Markup("<br>\n").join(lines)


# ---------------------------------------------------------------------------------------------
# Template errors


def template_error(exc: BaseException, fallback: str, roots: Sequence[Path]) -> TemplateError:
    """Name the innermost template frame and its line; Jinja rewrites tracebacks to point there."""
    name, line = fallback, getattr(exc, "lineno", None)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        name = _template_name(exc.filename, roots) or exc.name or fallback
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            found = _template_name(frame.filename, roots)
            if found:
                name, line = found, frame.lineno
    where = f"{name}, line {line}" if line else name
    detail = getattr(exc, "message", None) or str(exc)
    return TemplateError(f"{where}: {type(exc).__name__}: {detail}")


def _template_name(filename: str | None, roots: Sequence[Path]) -> str | None:
    if not filename:
        return None
    if filename == "<template>":
        return CHANNEL_TEMPLATE_NAME
    path = Path(filename)
    for root in roots:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------------------------------------
# Template selection: template set and language


def validate_selection(
    template_set: str | None, language: str | None
) -> tuple[str | None, str | None]:
    """(template_set, language) checked and canonical (`pt_br` -> `pt-BR`); TemplateError naming
    a value that is not letters, digits, `-` and `_` (no path can be smuggled in)."""
    if template_set is not None and (
        not isinstance(template_set, str) or not _TEMPLATE_SET_RE.match(template_set)
    ):
        raise TemplateError(
            f"invalid template set {template_set!r}: use letters, digits, '-' and '_' only"
        )
    try:
        language = i18n.normalize_language(language)
    except i18n.LanguageError as exc:
        raise TemplateError(str(exc)) from None
    return template_set, language


def template_candidates(
    name: str, template_set: str | None = None, language: str | None = None
) -> list[str]:
    """The files tried for a template name, in order: for `approval.html`, set `ops` and language
    `pt-BR`: ops/approval.pt-BR.html, ops/approval.pt.html, ops/approval.html,
    approval.pt-BR.html, approval.pt.html, approval.html. A name with a `/` is taken as it is."""
    if "/" in name:
        return [name.lstrip("/")]
    stem, dot, ext = name.rpartition(".")
    localized = [f"{stem}.{tag}.{ext}" for tag in i18n.fallbacks(language)] if dot else []
    names = [*localized, name]
    if template_set:
        return [f"{template_set}/{n}" for n in names] + names
    return names


class _SelectingLoader(jinja2.BaseLoader):
    """Resolves every template name (including `extends`, `include` and `import` inside the
    templates) through template_candidates over the user dir and the packaged defaults."""

    def __init__(
        self, base: jinja2.BaseLoader, template_set: str | None, language: str | None
    ) -> None:
        self.base = base
        self.template_set = template_set
        self.language = language

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Any]:
        for candidate in template_candidates(template, self.template_set, self.language):
            try:
                return self.base.get_source(environment, candidate)
            except jinja2.TemplateNotFound:
                continue
        raise jinja2.TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        return self.base.list_templates()


def translator(language: str | None) -> Any:
    """`t(key, **params)` for templates: the catalog text in this language. In an HTML
    template the text is escaped and so are the params, unless a param is Markup (a
    `{% set %}` block), which is how a word in the sentence gets its own markup."""

    @jinja2.pass_eval_context
    def t(eval_ctx: Any, key: str, **params: Any) -> str:
        autoescape = bool(eval_ctx.autoescape)
        if all(type(value) is str or type(value) is Markup for value in params.values()):
            items = tuple((name, value, type(value) is Markup) for name, value in params.items())
            return _t_format(key, language, autoescape, items)
        return _t_format_uncached(key, language, autoescape, params)

    return t


def _t_format_uncached(
    key: str, language: str | None, autoescape: bool, params: Mapping[str, Any]
) -> str:
    text = i18n.lookup(key, language)
    if autoescape:
        return Markup(escape(text)).format(**params)
    return text.format(**params)


@functools.lru_cache(maxsize=8192)
def _t_format(
    key: str, language: str | None, autoescape: bool, items: tuple[tuple[str, str, bool], ...]
) -> str:
    # PERF: the same sentences with the same agent and function names recur in every email;
    # formatting them with escaping was a fifth of the rendering time. Pure, so safe to cache.
    params = {name: Markup(value) if markup else value for name, value, markup in items}
    return _t_format_uncached(key, language, autoescape, params)


class ConstantTranslations(Extension):
    """Writes `t("key")` (a literal key, no params) in the packaged templates as the catalog
    text itself when the template is compiled: each environment has one language, so the text
    is known then. PERF: about 5 us a call saved at every render. The output is the same (in
    an HTML template Jinja escapes the literal as t() escaped the text). User templates are
    compiled as written (a name `t` there may be their own variable)."""

    def filter_stream(self, stream: TokenStream) -> Any:
        if not _packaged(stream.filename):
            return stream
        return _fold_translations(list(stream), getattr(self.environment, "hl_language", None))


def _packaged(filename: str | None) -> bool:
    return filename is not None and Path(filename).parent == PACKAGE_TEMPLATES


def _fold_translations(tokens: list[Token], language: str | None) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        call = [t.type for t in tokens[i + 1 : i + 4]]
        if (
            token.type == "name"
            and token.value == "t"
            and call == ["lparen", "string", "rparen"]
            and (not out or out[-1].type != "dot")
        ):
            try:
                text = i18n.lookup(tokens[i + 2].value, language).format()
            except (LookupError, ValueError):  # left to fail (or not) at render, as before
                text = None
            if text is not None:
                out.append(Token(token.lineno, "string", text))
                i += 4
                continue
        out.append(token)
        i += 1
    return out


def setup_env(env: jinja2.Environment, language: str | None) -> None:
    env.filters["nl2br"] = _nl2br
    env.filters["preformat"] = _preformat
    env.filters["wrap_lines"] = wrap_lines
    env.globals["REPLY_MARKER"] = REPLY_MARKER
    # Globals, so that macros imported without context see them too.
    env.globals["t"] = translator(language)
    env.globals["language"] = language or i18n.DEFAULT_LANGUAGE
    env.globals["catalog_language"] = i18n.catalog_language(language)


class TemplateLibrary:
    """Jinja environments over the user templates dir (first) and the packaged defaults: one
    compiled environment per (template set, language), every template compiled at most once."""

    def __init__(self, templates_dir: str | Path | None = None) -> None:
        self.roots: list[Path] = []
        loaders: list[jinja2.BaseLoader] = []
        user_loader: jinja2.FileSystemLoader | None = None
        if templates_dir is not None:
            user_dir = Path(templates_dir)
            if not user_dir.is_dir():
                raise TemplateError(f"templates dir {str(user_dir)!r} is not a directory")
            user_loader = jinja2.FileSystemLoader(user_dir)
            loaders.append(user_loader)
            self.roots.append(user_dir)
        loaders.append(jinja2.FileSystemLoader(PACKAGE_TEMPLATES))
        self.roots.append(PACKAGE_TEMPLATES)
        self._loader = jinja2.ChoiceLoader(loaders)
        self._options: dict[str, Any] = {
            "loader": _SelectingLoader(self._loader, None, None),
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": False,
            # Templates are compiled once at start; re-reading them per email (Jinja's default
            # mtime check) costs a stat() per template per message. Restart to pick up edits.
            "auto_reload": False,
        }
        self.default_env = self._make_env(None, None)
        # Channel templates come from API callers, so they run sandboxed and read-only.
        self.sandbox = BudgetedSandbox(autoescape=True, **self._options)
        setup_env(self.sandbox, None)
        # One compiled environment per (template set, language) a route has asked for.
        self._envs: dict[tuple[str | None, str | None], jinja2.Environment] = {
            (None, None): self.default_env
        }
        # A broken user template fails at start, not on the first ask: with a templates dir,
        # every override and every default (overrides may use the default macros) is compiled
        # now. The packaged defaults alone are checked by the test suite, so they compile on
        # first use (PERF: 30 ms less to start, e.g. `hl-email dev`).
        if user_loader is not None:
            names = set(jinja2.FileSystemLoader(PACKAGE_TEMPLATES).list_templates())
            names |= {n for n in user_loader.list_templates() if n.endswith((".html", ".txt"))}
            for name in sorted(names):
                self.compiled(self.default_env, name)
        # Per compiled template and set of variable names: does it use none of them?
        self._independent: dict[tuple[jinja2.Template, frozenset[str]], bool] = {}

    def _make_env(self, template_set: str | None, language: str | None) -> jinja2.Environment:
        options = dict(self._options, loader=_SelectingLoader(self._loader, template_set, language))
        # .html is escaped; .txt (bodies and subjects) is not: the MIME layer encodes text.
        env = jinja2.Environment(
            autoescape=jinja2.select_autoescape(("html", "htm"), default_for_string=False),
            extensions=[ConstantTranslations],
            **options,
        )
        env.extend(hl_language=language)
        setup_env(env, language)
        return env

    def template_sets(self) -> list[str]:
        """The template sets available: the subdirectories of the templates dirs."""
        found = {
            p.name
            for root in self.roots
            for p in root.iterdir()
            if p.is_dir() and _TEMPLATE_SET_RE.match(p.name)
        }
        return sorted(found)

    def env(self, template_set: str | None, language: str | None) -> jinja2.Environment:
        """The environment of one selection, built (and cached) on first use."""
        if template_set is None and language is None:
            return self.default_env
        template_set, language = validate_selection(template_set, language)
        key = (template_set, language)
        env = self._envs.get(key)
        if env is None:
            if template_set is not None and not any(
                (root / template_set).is_dir() for root in self.roots
            ):
                where = ", ".join(repr(str(r)) for r in self.roots[:-1]) or "(none configured)"
                raise TemplateError(
                    f"template set {template_set!r} not found: no directory {template_set!r} "
                    f"in the templates dir {where}"
                )
            if language is not None:
                i18n.catalog_language(language)  # the once-per-language warning, if unknown
            env = self._make_env(template_set, language)
            if len(self._envs) >= MAX_SELECTIONS:
                self._envs.pop(next(k for k in self._envs if k != (None, None)))
            self._envs[key] = env
        return env

    def compiled(self, env: jinja2.Environment, name: str) -> jinja2.Template:
        try:
            return env.get_template(name)
        except jinja2.TemplateError as exc:
            raise template_error(exc, name, self.roots) from None

    def render(self, name: str, variables: Mapping[str, Any], env: jinja2.Environment) -> str:
        try:
            return env.get_template(name).render(variables)
        except jinja2.TemplateError as exc:
            raise template_error(exc, name, self.roots) from None

    def independent_of(self, env: jinja2.Environment, name: str, names: frozenset[str]) -> bool:
        """True if template `name` reads none of `names` (and includes nothing that might), so
        that the caller can skip building them."""
        try:
            template = env.get_template(name)
        except jinja2.TemplateError:
            return False
        key = (template, names)
        found = self._independent.get(key)
        if found is None:
            try:
                source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
                tree = env.parse(source)
            except jinja2.TemplateError:
                return False
            nested = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
            found = not any(tree.find_all(nested)) and not (
                meta.find_undeclared_variables(tree) & names
            )
            self._independent[key] = found
        return found

    def channel_template(self, source: str) -> jinja2.Template:
        """A channel `template` compiled in the sandbox; raises TemplateError."""
        try:
            return self.sandbox.from_string(source)
        except jinja2.TemplateError as exc:
            raise template_error(exc, CHANNEL_TEMPLATE_NAME, self.roots) from None
