"""Render asks and follow-ups into threaded, multipart EmailMessages with Jinja templates."""

from __future__ import annotations

import binascii
import email
import functools
import json
import re
import secrets
import textwrap
import traceback
from base64 import b64encode
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from functools import cache
from html import unescape as unescape_html
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, quote

import jinja2
from jinja2 import meta, nodes
from markupsafe import Markup, escape

from hl_email import i18n
from hl_email.header_values import (
    HEADER_FORBIDDEN,
    HeaderInjectionError,
    check_header_value,
    neutralise_encoded_words,
)
from hl_email.models import ResponseOption
from hl_email.template_budget import BudgetedSandbox, TemplateBudgetError, render_within_budget

from .errors import TemplateError as TemplateError

try:  # the reply extractor owns the marker when it exists; the text must stay identical
    from hl_email.replies import REPLY_MARKER
except ImportError:  # pragma: no cover - depends on which modules exist yet
    REPLY_MARKER = "##- Please type your reply above this line -##"

__all__ = [
    "REPLY_MARKER",
    "AskContext",
    "FollowupContext",
    "HeaderInjectionError",
    "RenderedEmail",
    "Renderer",
    "TemplateError",
    "arguments_summary",
    "format_argument",
    "reply_subject",
    "subject_for",
    "validate_selection",
]

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
CHANNEL_TEMPLATE_NAME = "channel template"

# A subject derived from a question's first line stays within one folded header line.
SUBJECT_MAX_CHARS = 78
# One huge argument must not make a multi-megabyte email; the human sees that it was cut.
ARGUMENT_MAX_CHARS = 8000
ARGUMENT_WRAP_COLUMNS = 72

# Header values are checked on their decoded form (RFC 2047 words too): header_values.py.
_HEADER_FORBIDDEN = HEADER_FORBIDDEN
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw|odp|vs)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I)
_MSGID_SPLIT = re.compile(r"[\s,]+")
# A template set is one directory name below a templates dir: never a path.
_TEMPLATE_SET_RE = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
# Environments per (template set, language) kept compiled; beyond that they are rebuilt.
MAX_SELECTIONS = 256
# The ask variables that depend on the subject (see _ask_variables).
_SUBJECT_DEPENDENT = frozenset({"subject", "reply_subject", "options", "mailto"})


@dataclass(frozen=True, kw_only=True)
class AskContext:
    """Everything needed to render one copy of an approval request or a question."""

    kind: Literal["approval", "question"]
    call_id: str
    run_id: str
    agent_name: str
    agent_address: str
    reply_address: str
    to: Sequence[str]
    cc: Sequence[str] = ()
    recipient: str = ""
    fn: str | None = None
    kwargs: Mapping[str, Any] | None = None
    msg: str | None = None
    subject: str | None = None
    options: Sequence[ResponseOption] = ()
    context_about_user: str | None = None
    html_template: str | None = None
    escalation_msg: str | None = None
    # What the function does (its docstring, sent by the SDK), shown under the intro.
    description: str | None = None
    message_id: str = ""
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    date: datetime
    # Chosen by the route: templates from `<templates dir>/<template_set>/` first, texts and
    # `<name>.<language>.<ext>` templates in this language (see docs/templates.md).
    language: str | None = None
    template_set: str | None = None
    # `[replies] approval = "code"`: the code shown on its own line and prefilled in APPROVE
    approval_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class FollowupContext:
    """A message in an existing thread: clarification, confirmation, reminder, error or note."""

    kind: Literal["clarify", "confirm", "already_decided", "error", "reminder", "note"]
    call_id: str
    agent_name: str
    agent_address: str
    reply_address: str
    to: Sequence[str]
    thread_subject: str
    message: str
    quoted_reply: str | None = None
    options: Sequence[ResponseOption] = ()
    kind_of_request: Literal["approval", "question"] = "approval"
    message_id: str = ""
    in_reply_to: str | None = None
    references: Sequence[str] = field(default_factory=tuple)
    date: datetime
    language: str | None = None
    template_set: str | None = None
    approval_code: str | None = None


# ---------------------------------------------------------------------------------------------
# Pure helpers


def reply_subject(subject: str) -> str:
    """`Re: ` + subject, folding any existing Re:/Aw:/Sv: prefixes so it is never doubled."""
    return "Re: " + _REPLY_PREFIX.sub("", subject).strip()


def question_subject(msg: str, fallback: str = "Question") -> str:
    """A subject from the first non-empty line of a question, trimmed at a word boundary."""
    first = next((line for line in msg.splitlines() if line.strip()), "")
    # An encoded word that decodes to a line break would become one in the Subject header.
    first = neutralise_encoded_words(first)
    line = " ".join(_HEADER_FORBIDDEN.sub(" ", first).split())
    if not line:
        return fallback
    if len(line) <= SUBJECT_MAX_CHARS:
        return line
    cut = line[: SUBJECT_MAX_CHARS - 1]
    if " " in cut[SUBJECT_MAX_CHARS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def arguments_summary(kwargs: Mapping[str, Any] | None, budget: int = 48) -> str:
    """`amount=900, order=A-17`: a few arguments for the subject, so that three asks for the
    same function can be told apart in an inbox list. Strings verbatim (shortened), numbers
    and booleans as JSON, lists and dicts as `[...]` / `{...}`, `...` when arguments are left
    out. The markers are ASCII: a `…` would make the subject an encoded word, whose folding
    some readers unfold with an extra space."""
    parts: list[str] = []
    used = 0
    items = list((kwargs or {}).items())
    for i, (name, value) in enumerate(items):
        if isinstance(value, str):
            text = " ".join(_HEADER_FORBIDDEN.sub(" ", value).split())
            text = text if len(text) <= 24 else text[:21].rstrip() + "..."
        elif value is None or isinstance(value, bool | int | float):
            text = json.dumps(value)
        elif isinstance(value, list | tuple):
            text = "[...]" if value else "[]"
        elif isinstance(value, Mapping):
            text = "{...}" if value else "{}"
        else:
            text = "..."
        part = f"{_HEADER_FORBIDDEN.sub('', str(name))[:24]}={text}"
        if parts and used + len(part) + 2 > budget:
            parts.append("...")
            break
        parts.append(part)
        used += len(part) + 2
        if used > budget and i < len(items) - 1:
            parts.append("...")
            break
    return ", ".join(parts)


def format_argument(value: Any) -> str:
    """A function argument as a person reads it: strings verbatim, everything else as JSON."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        except (TypeError, ValueError):  # circular structures, exotic keys
            text = repr(value)
    if value == "":
        text = '""'
    if len(text) > ARGUMENT_MAX_CHARS:
        hidden = len(text) - ARGUMENT_MAX_CHARS
        text = text[:ARGUMENT_MAX_CHARS] + f"\n… ({hidden} more characters not shown)"
    return text


def _wrap_lines(text: str, width: int = ARGUMENT_WRAP_COLUMNS) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines() or [""]:
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


def _check_header(field_name: str, value: str) -> str:
    return check_header_value(field_name, value)


def _msgid(value: str) -> str:
    value = value.strip()
    return value if value.startswith("<") else f"<{value}>"


def _thread_ids(references: Iterable[str], in_reply_to: str | None) -> list[str]:
    """References = parents' references then the parent itself, de-duplicated, parent last."""
    ids: list[str] = []
    for chunk in references:
        ids.extend(_msgid(part) for part in _MSGID_SPLIT.split(chunk) if part)
    if in_reply_to:
        parent = _msgid(in_reply_to)
        ids = [i for i in ids if i != parent] + [parent]
    seen: set[str] = set()
    return [i for i in ids if not (i in seen or seen.add(i))]


_REF_RE = re.compile(r"hl1-[a-z0-9]+-[0-9]+-[a-z2-7]{20}")


def reply_ref(message_id: str) -> str:
    """The reply key inside our Message-ID, for mailto bodies: a mailto reply has no
    In-Reply-To, so the key travels in the body (the gateway finds and strips that line)."""
    match = _REF_RE.search(message_id or "")
    return match.group(0) if match else ""


def mailto(address: str, subject: str, body: str = "", ref: str = "") -> str:
    """A mailto: URI (RFC 6068); spaces as %20, never `+`, which clients would keep literally."""
    uri = f"mailto:{quote(address, safe='@+')}?subject={quote(subject, safe='')}"
    if ref:
        body = f"{body}\n\n\nRef: {ref}" if body else f"\n\n\nRef: {ref}"
    if body:
        uri += f"&body={quote(body, safe='')}"
    return uri


def _address(field_name: str, value: str, display_name: str = "") -> Address:
    _check_header(field_name, value)
    _check_header(field_name, display_name)
    name, addr = parseaddr(value)
    if not addr or "@" not in addr:
        raise ValueError(f"{field_name}: not an email address: {value!r}")
    try:
        return Address(display_name=display_name or name, addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{field_name}: not an email address: {value!r} ({exc})") from exc


def _nl2br(value: Any) -> Markup:
    """Escape, then keep the author's line breaks (Outlook ignores white-space:pre-wrap)."""
    return Markup("<br>\n").join(escape(str(value)).splitlines())


def _preformat(value: Any) -> Markup:
    """Escape, keep line breaks and leading indentation (JSON), let long lines wrap."""
    lines = []
    for line in escape(str(value)).splitlines() or [Markup("")]:
        stripped = line.lstrip(" ")
        lines.append(Markup("&nbsp;") * (len(line) - len(stripped)) + stripped)
    return Markup("<br>\n").join(lines)


# The `urls.base_url` a channel template sees; rewritten to mailto: links after rendering.
ACTION_URL = "hl-email-action:reply"
_ACTION_RE = re.compile(re.escape(ACTION_URL) + r"""([?&][^"'\s<>]{0,500})?""")


class EventType(str):
    """A channel template's `type`: prints ours (`function_call`, `human_contact`) and compares
    equal to HumanLayer's spelling too (`v1beta2.function_call`, `v1beta2.human_contact`)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str.__eq__(self, other) or str.__eq__(f"v1beta2.{self}", other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__


def action_links_to_mailto(
    html: str, mailtos: Mapping[str, str], option_mailtos: Mapping[str, str]
) -> str:
    """Replace `ACTION_URL[?query]` (HumanLayer-style action links) with the prefilled mailto
    reply the query asks for: approve → "APPROVE", reject → "REJECT: ", option=NAME → that
    option's reply, anything else → an empty reply. Pure; never an approval by itself."""

    def replace(match: re.Match[str]) -> str:
        query = unescape_html(match.group(1) or "").lstrip("?&").replace("?", "&")
        params = parse_qs(query, keep_blank_values=True)
        option = (params.get("option") or [""])[0]
        if option and option in option_mailtos:
            uri = option_mailtos[option]
        elif "approve" in params and (params["approve"][0] or "true").lower() != "false":
            uri = mailtos["approve"]
        elif "reject" in params:
            uri = mailtos["reject"]
        else:
            uri = mailtos["reply"]
        return str(escape(uri))

    return _ACTION_RE.sub(replace, html)


def _option_views(
    options: Sequence[ResponseOption], reply_to: str, subject: str, ref: str = ""
) -> list[dict]:
    views = []
    for number, option in enumerate(options, start=1):
        views.append(
            {
                "number": number,
                "name": option.name,
                "title": option.title,
                "label": option.title or option.name,
                "description": option.description,
                "prompt_fill": option.prompt_fill,
                "mailto": mailto(reply_to, subject, str(number), ref),
                "line": f"{number}. {option.title or option.name}"
                + (f" - {option.description}" if option.description else ""),
            }
        )
    return views


# ---------------------------------------------------------------------------------------------
# Template errors


def _template_error(exc: BaseException, fallback: str, roots: Sequence[Path]) -> TemplateError:
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


def _translator(language: str | None) -> Any:
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


# ---------------------------------------------------------------------------------------------
# Renderer


class Renderer:
    """Jinja environments over the user templates dir (first) and the packaged defaults."""

    def __init__(self, templates_dir: str | Path | None = None) -> None:
        self._roots: list[Path] = []
        loaders: list[jinja2.BaseLoader] = []
        user_loader: jinja2.FileSystemLoader | None = None
        if templates_dir is not None:
            user_dir = Path(templates_dir)
            if not user_dir.is_dir():
                raise TemplateError(f"templates dir {str(user_dir)!r} is not a directory")
            user_loader = jinja2.FileSystemLoader(user_dir)
            loaders.append(user_loader)
            self._roots.append(user_dir)
        loaders.append(jinja2.FileSystemLoader(PACKAGE_TEMPLATES))
        self._roots.append(PACKAGE_TEMPLATES)
        self._loader = jinja2.ChoiceLoader(loaders)
        options: dict[str, Any] = {
            "loader": _SelectingLoader(self._loader, None, None),
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": False,
            # Templates are compiled once at start; re-reading them per email (Jinja's default
            # mtime check) costs a stat() per template per message. Restart to pick up edits.
            "auto_reload": False,
        }
        self._options = options
        self._env = self._make_env(None, None)
        # Channel templates come from API callers, so they run sandboxed and read-only.
        self._sandbox = BudgetedSandbox(autoescape=True, **options)
        _setup_env(self._sandbox, None)
        # One compiled environment per (template set, language) a route has asked for.
        self._envs: dict[tuple[str | None, str | None], jinja2.Environment] = {
            (None, None): self._env
        }
        # Fail at start, not on the first ask: compile every user override and every default.
        names = set(jinja2.FileSystemLoader(PACKAGE_TEMPLATES).list_templates())
        if user_loader is not None:
            names |= {n for n in user_loader.list_templates() if n.endswith((".html", ".txt"))}
        for name in sorted(names):
            try:
                self._env.get_template(name)
            except jinja2.TemplateError as exc:
                raise _template_error(exc, name, self._roots) from None
        # Per compiled subject template: does it use none of the subject-dependent variables
        # (true of the defaults)? Then it is rendered without building those (mailto links).
        self._lean_subjects: dict[jinja2.Template, bool] = {}

    # -- template sets and languages ----------------------------------------------------------

    def _make_env(self, template_set: str | None, language: str | None) -> jinja2.Environment:
        options = dict(self._options, loader=_SelectingLoader(self._loader, template_set, language))
        # .html is escaped; .txt (bodies and subjects) is not: the MIME layer encodes text.
        env = jinja2.Environment(
            autoescape=jinja2.select_autoescape(("html", "htm"), default_for_string=False),
            **options,
        )
        _setup_env(env, language)
        return env

    def template_sets(self) -> list[str]:
        """The template sets available: the subdirectories of the templates dirs."""
        found = {
            p.name
            for root in self._roots
            for p in root.iterdir()
            if p.is_dir() and _TEMPLATE_SET_RE.match(p.name)
        }
        return sorted(found)

    def _selected_env(self, template_set: str | None, language: str | None) -> jinja2.Environment:
        if template_set is None and language is None:
            return self._env
        template_set, language = validate_selection(template_set, language)
        key = (template_set, language)
        env = self._envs.get(key)
        if env is None:
            if template_set is not None and not any(
                (root / template_set).is_dir() for root in self._roots
            ):
                where = ", ".join(repr(str(r)) for r in self._roots[:-1]) or "(none configured)"
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

    def check_selection(self, template_set: str | None = None, language: str | None = None) -> None:
        """Check a route's template set and language before any email needs them (e.g. at
        gateway start): TemplateError for a bad name, a missing set, or a template of the
        selection that fails to compile."""
        env = self._selected_env(template_set, language)
        for kind in ("approval", "question"):
            for name in (f"{kind}.subject.txt", f"{kind}.txt", f"{kind}.html"):
                self._compiled(env, name)
        for name in ("followup.txt", "followup.html"):
            self._compiled(env, name)

    def _compiled(self, env: jinja2.Environment, name: str) -> jinja2.Template:
        try:
            return env.get_template(name)
        except jinja2.TemplateError as exc:
            raise _template_error(exc, name, self._roots) from None

    # -- subjects -----------------------------------------------------------------------------

    def subject_for(self, ctx: AskContext) -> str:
        """The subject render_ask uses (explicit subject, else the kind's subject template)."""
        _check_ask_headers(ctx)
        return self._subject(ctx, None, self._selected_env(ctx.template_set, ctx.language))

    def _lean_subject(self, name: str, env: jinja2.Environment) -> bool:
        try:
            template = env.get_template(name)  # a new object when auto-reloaded
        except jinja2.TemplateError:
            return False
        lean = self._lean_subjects.get(template)
        if lean is None:
            try:
                source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
                tree = env.parse(source)
            except jinja2.TemplateError:
                return False
            nested = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
            lean = not any(tree.find_all(nested)) and not (
                meta.find_undeclared_variables(tree) & _SUBJECT_DEPENDENT
            )
            self._lean_subjects[template] = lean
        return lean

    def _subject(
        self, ctx: AskContext, base: dict[str, Any] | None, env: jinja2.Environment
    ) -> str:
        if ctx.subject and ctx.subject.strip():
            return ctx.subject.strip()
        if self._lean_subject(f"{ctx.kind}.subject.txt", env):
            base = base if base is not None else _ask_base(ctx)
            variables = dict(base, kwargs=dict(base["kwargs"]))
        else:
            variables = _ask_variables(ctx, subject="", base=base)
        # A template (or a kwarg it prints) that yields a line break is refused, not folded away.
        subject = self._render(f"{ctx.kind}.subject.txt", variables, env).strip()
        return _check_header("subject", subject)

    # -- messages -----------------------------------------------------------------------------

    def render_ask(self, ctx: AskContext) -> EmailMessage:
        """The email for one recipient of an approval request or a question."""
        return _parse(self.render_ask_raw(ctx).data)

    def render_ask_raw(self, ctx: AskContext) -> RenderedEmail:
        """render_ask as the bytes to send (CRLF, 7-bit) plus the subject, built without the
        stdlib's header machinery (which costs milliseconds per message)."""
        subject, envelope, text, html = self._ask_parts(ctx)
        return RenderedEmail(subject, _message_bytes(envelope, text, html))

    def render_followup(self, ctx: FollowupContext) -> EmailMessage:
        """A message in the thread of an ask: `Re: <thread subject>`, same threading headers."""
        return _parse(self.render_followup_raw(ctx).data)

    def render_followup_raw(self, ctx: FollowupContext) -> RenderedEmail:
        """render_followup as the bytes to send plus the subject."""
        subject, envelope, text, html = self._followup_parts(ctx)
        return RenderedEmail(subject, _message_bytes(envelope, text, html))

    def _ask_parts(self, ctx: AskContext) -> tuple[str, dict[str, Any], str, str]:
        if ctx.kind == "approval" and not ctx.fn:
            raise ValueError("an approval needs fn")
        if ctx.kind == "question" and ctx.msg is None:
            raise ValueError("a question needs msg")
        _check_ask_headers(ctx)
        env = self._selected_env(ctx.template_set, ctx.language)
        base = _ask_base(ctx)
        subject = self._subject(ctx, base, env)
        variables = _ask_variables(ctx, subject=subject, base=base)
        text = self._render(f"{ctx.kind}.txt", variables, env)
        if ctx.html_template is not None:
            html = self._render_channel_template(ctx, variables)
        else:
            html = self._render(f"{ctx.kind}.html", variables, env)
        envelope = _envelope_fields(
            agent_name=ctx.agent_name,
            agent_address=ctx.agent_address,
            reply_address=ctx.reply_address,
            to=ctx.to,
            cc=ctx.cc,
            subject=subject,
            date=ctx.date,
            message_id=ctx.message_id,
            in_reply_to=ctx.in_reply_to,
            references=ctx.references,
            call_id=ctx.call_id,
        )
        return subject, envelope, text, html

    def _followup_parts(self, ctx: FollowupContext) -> tuple[str, dict[str, Any], str, str]:
        _check_header("thread_subject", ctx.thread_subject)
        _check_header("agent_name", ctx.agent_name)
        _check_header("call_id", ctx.call_id)
        env = self._selected_env(ctx.template_set, ctx.language)
        subject = reply_subject(ctx.thread_subject)
        variables = _followup_variables(ctx, subject=subject)
        text = self._render("followup.txt", variables, env)
        html = self._render("followup.html", variables, env)
        envelope = _envelope_fields(
            agent_name=ctx.agent_name,
            agent_address=ctx.agent_address,
            reply_address=ctx.reply_address,
            to=ctx.to,
            cc=(),
            subject=subject,
            date=ctx.date,
            message_id=ctx.message_id,
            in_reply_to=ctx.in_reply_to,
            references=ctx.references,
            call_id=ctx.call_id,
        )
        return subject, envelope, text, html

    def _stdlib_ask(self, ctx: AskContext) -> EmailMessage:
        """render_ask built with the stdlib email machinery: the reference the fast path is
        tested against (same templates, same header values)."""
        _, envelope, text, html = self._ask_parts(ctx)
        return _stdlib_message(envelope, text, html)

    def _stdlib_followup(self, ctx: FollowupContext) -> EmailMessage:
        _, envelope, text, html = self._followup_parts(ctx)
        return _stdlib_message(envelope, text, html)

    def check_channel_template(self, source: str) -> None:
        """Compile a channel `template` (e.g. at submit time); raises TemplateError."""
        try:
            self._sandbox.from_string(source)
        except jinja2.TemplateError as exc:
            raise _template_error(exc, CHANNEL_TEMPLATE_NAME, self._roots) from None

    # -- internals ----------------------------------------------------------------------------

    def _render(
        self, name: str, variables: Mapping[str, Any], env: jinja2.Environment | None = None
    ) -> str:
        try:
            return (env or self._env).get_template(name).render(variables)
        except jinja2.TemplateError as exc:
            raise _template_error(exc, name, self._roots) from None

    def _render_channel_template(self, ctx: AskContext, variables: dict[str, Any]) -> str:
        spec: dict[str, Any]
        if ctx.kind == "approval":
            spec = {
                "fn": ctx.fn,
                "kwargs": dict(ctx.kwargs or {}),
                "reject_options": [o.model_dump() for o in ctx.options] or None,
            }
        else:
            spec = {
                "msg": ctx.msg,
                "subject": ctx.subject,
                "response_options": [o.model_dump() for o in ctx.options] or None,
            }
        event = {"run_id": ctx.run_id, "call_id": ctx.call_id, "spec": spec}
        kind = "function_call" if ctx.kind == "approval" else "human_contact"
        # HumanLayer's documented variables: `urls.base_url` (its action links append
        # ?approve=true, ?reject=true&option=…, ?option=…) and `type`. Here every such link
        # becomes a prefilled mailto reply: clicking opens an email, only sending it decides.
        urls = {"base_url": ACTION_URL, **variables["mailto"]}
        try:
            template = self._sandbox.from_string(ctx.html_template or "")
            # Time, memory and output are budgeted: the template comes from the API caller.
            html = render_within_budget(
                template,
                {
                    **variables,
                    "event": event,
                    "type": EventType(kind),
                    "urls": urls,
                    "t": _translator(ctx.language),
                },
            )
        except TemplateBudgetError as exc:
            raise TemplateError(str(exc)) from None
        except jinja2.TemplateError as exc:
            raise _template_error(exc, CHANNEL_TEMPLATE_NAME, self._roots) from None
        html = action_links_to_mailto(
            html, variables["mailto"], {o["name"]: o["mailto"] for o in variables["options"]}
        )
        return _with_marker(html)


def _setup_env(env: jinja2.Environment, language: str | None) -> None:
    env.filters["nl2br"] = _nl2br
    env.filters["preformat"] = _preformat
    env.filters["wrap_lines"] = _wrap_lines
    env.globals["REPLY_MARKER"] = REPLY_MARKER
    # Globals, so that macros imported without context see them too.
    env.globals["t"] = _translator(language)
    env.globals["language"] = language or i18n.DEFAULT_LANGUAGE
    env.globals["catalog_language"] = i18n.catalog_language(language)


@cache
def _default_renderer() -> Renderer:
    return Renderer()


def subject_for(ctx: AskContext) -> str:
    """The subject render_ask uses with the default templates (`Renderer.subject_for` honours
    a user templates dir)."""
    return _default_renderer().subject_for(ctx)


# ---------------------------------------------------------------------------------------------
# Variables and envelope


def _check_ask_headers(ctx: AskContext) -> None:
    _check_header("agent_name", ctx.agent_name)
    _check_header("call_id", ctx.call_id)
    if ctx.fn is not None:
        _check_header("fn", ctx.fn)
    if ctx.subject is not None:
        _check_header("subject", ctx.subject)


def _ask_base(ctx: AskContext) -> dict[str, Any]:
    """The variables that do not depend on the subject (computed once per render)."""
    kwargs = dict(ctx.kwargs or {})
    arguments = []
    for name, value in kwargs.items():
        text = format_argument(value)
        arguments.append({"name": str(name), "value": text, "lines": _wrap_lines(text)})
    return {
        "kind": ctx.kind,
        "call_id": ctx.call_id,
        "run_id": ctx.run_id,
        "agent_name": ctx.agent_name,
        "agent_address": ctx.agent_address,
        "reply_address": ctx.reply_address,
        "recipient": ctx.recipient,
        "fn": ctx.fn,
        "kwargs": kwargs,
        "arguments": arguments,
        "msg": ctx.msg,
        "question_subject": question_subject(
            ctx.msg or "", i18n.message("question_subject_fallback", ctx.language)
        ),
        "context_about_user": ctx.context_about_user,
        "escalation_msg": ctx.escalation_msg,
        "description": (ctx.description or "").strip()[:2000] or None,
        "arguments_summary": arguments_summary(kwargs),
        "date": ctx.date,
        "marker": REPLY_MARKER,
        "approval_code": ctx.approval_code,
    }


def _approve_body(code: str | None) -> str:
    return f"APPROVE {code}" if code else "APPROVE"


def _ask_variables(
    ctx: AskContext, *, subject: str, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    re_subject = reply_subject(subject) if subject else ""
    ref = reply_ref(ctx.message_id)
    variables = dict(base if base is not None else _ask_base(ctx))
    # A template may mutate a dict it is given (e.g. kwargs.update in a user template): every
    # render gets its own copy of the mutable values, as before.
    variables["kwargs"] = dict(variables["kwargs"])
    variables.update(
        subject=subject,
        reply_subject=re_subject,
        options=_option_views(ctx.options, ctx.reply_address, re_subject, ref),
        mailto={
            "approve": mailto(ctx.reply_address, re_subject, _approve_body(ctx.approval_code), ref),
            "reject": mailto(ctx.reply_address, re_subject, "REJECT: ", ref),
            "reply": mailto(ctx.reply_address, re_subject, "", ref),
        },
    )
    return variables


def _followup_variables(ctx: FollowupContext, *, subject: str) -> dict[str, Any]:
    return {
        "kind": ctx.kind,
        "kind_of_request": ctx.kind_of_request,
        "call_id": ctx.call_id,
        "agent_name": ctx.agent_name,
        "agent_address": ctx.agent_address,
        "reply_address": ctx.reply_address,
        "thread_subject": ctx.thread_subject,
        "subject": subject,
        "reply_subject": subject,
        "message": ctx.message,
        "quoted_reply": ctx.quoted_reply,
        "quoted_lines": (ctx.quoted_reply or "").strip("\n").splitlines(),
        "options": _option_views(
            ctx.options, ctx.reply_address, subject, reply_ref(ctx.message_id)
        ),
        "actionable": ctx.kind in ("clarify", "reminder"),
        "date": ctx.date,
        "marker": REPLY_MARKER,
        "approval_code": ctx.approval_code,
        "mailto": {
            "approve": mailto(
                ctx.reply_address,
                subject,
                _approve_body(ctx.approval_code),
                reply_ref(ctx.message_id),
            ),
            "reject": mailto(ctx.reply_address, subject, "REJECT: ", reply_ref(ctx.message_id)),
            "reply": mailto(ctx.reply_address, subject, "", reply_ref(ctx.message_id)),
        },
    }


class RenderedEmail(NamedTuple):
    """A rendered message ready for SMTP: its subject and its bytes (CRLF, 7-bit ASCII)."""

    subject: str
    data: bytes


def _envelope_fields(
    *,
    agent_name: str,
    agent_address: str,
    reply_address: str,
    to: Sequence[str],
    cc: Sequence[str],
    subject: str,
    date: datetime,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    call_id: str,
) -> dict[str, tuple[Any, ...]]:
    """Check every header value; return them in order as {name: (kind, *values)}, the input of
    both the fast builder and the stdlib one."""
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be timezone-aware")
    if not to:
        raise ValueError("to: at least one recipient is needed")
    for name, value in (("message_id", message_id), ("in_reply_to", in_reply_to or "")):
        _check_header(name, value)
    for value in references:
        _check_header("references", value)
    fields: dict[str, tuple[Any, ...]] = {}
    fields["From"] = ("addresses", "agent_address", [(agent_address, agent_name)])
    fields["To"] = ("addresses", "to", [(a, "") for a in to])
    if cc:
        fields["Cc"] = ("addresses", "cc", [(a, "") for a in cc])
    reply_spec = _addr_spec("reply_address", reply_address)
    if reply_spec.lower() != _addr_spec("agent_address", agent_address).lower():
        fields["Reply-To"] = ("addresses", "reply_address", [(reply_address, "")])
    fields["Subject"] = ("text", _check_header("subject", subject))
    fields["Date"] = ("text", format_datetime(date))
    if message_id:
        fields["Message-ID"] = ("msgid", _msgid(message_id))
    if in_reply_to:
        fields["In-Reply-To"] = ("ids", [_msgid(in_reply_to)])
    thread = _thread_ids(references, in_reply_to)
    if thread:
        fields["References"] = ("ids", thread)
    fields["Auto-Submitted"] = ("text", "auto-generated")
    fields["X-Auto-Response-Suppress"] = ("text", "OOF, AutoReply")
    fields["X-HL-Email-Call-Id"] = ("text", call_id)
    return fields


# -- the stdlib builder: the reference the fast builder is tested against ------------------------


def _stdlib_message(fields: Mapping[str, tuple[Any, ...]], text: str, html: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    for name, (kind, *args) in fields.items():
        msg[name] = _stdlib_value(kind, *args)
    msg.set_content(text.rstrip("\n") + "\n", subtype="plain", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


def _stdlib_value(kind: str, *args: Any) -> Any:
    if kind == "addresses":
        field_name, entries = args
        return tuple(_address(field_name, value, display) for value, display in entries)
    if kind == "ids":
        return " ".join(args[0])
    return args[0]


def _parse(data: bytes) -> EmailMessage:
    # Parsed from LF lines, the parts' get_content() ends lines with "\n" like a message built
    # in memory; as_bytes() under the SMTP policy writes CRLF again.
    message = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=SMTP)
    assert isinstance(message, EmailMessage)
    return message


# -- the fast builder ---------------------------------------------------------------------------
#
# The stdlib's policy-driven header objects cost ~0.1-0.3 ms per header and its generator more;
# nearly every value we send is plain ASCII that can be written as it is. Those are written
# directly here; anything unusual (an address that is not dot-atom@dot-atom, text the simple
# rules below do not cover, a line that cannot be folded to 78 characters) goes to the stdlib
# folder for that one header, so such a header comes out exactly as before.

_MAX_LINE = 78
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
_SIMPLE_ADDR = re.compile(rf"{_DOT_ATOM}@{_DOT_ATOM}\Z")
_SIMPLE_MSGID = re.compile(rf"<{_DOT_ATOM}@{_DOT_ATOM}>\Z")
_ATOM_PHRASE = re.compile(rf"{_ATEXT}(?: {_ATEXT})*\Z")
_PRINTABLE_ASCII = re.compile(r"[ -~]+\Z")
# An RFC 2047 encoded word, `=?utf-8?b?<base64>?=`, is at most 75 characters.
_EW_OVERHEAD = len("=?utf-8?b??=")
_EW_MAX = 75


def _parseaddr(value: str) -> tuple[str, str]:
    """email.utils.parseaddr, skipping its (slow) parser for a bare dot-atom@dot-atom."""
    return ("", value) if _SIMPLE_ADDR.match(value) else parseaddr(value)


def _addr_spec(field_name: str, value: str) -> str:
    _check_header(field_name, value)
    addr = _parseaddr(value)[1]
    if _SIMPLE_ADDR.match(addr):
        return addr
    return _address(field_name, value).addr_spec


def _std_header(name: str, value: Any) -> str:
    """One header folded by the stdlib (SMTP policy): the fallback for unusual values."""
    return str(SMTP.header_store_parse(name, value)[1].fold(policy=SMTP))


def _fold(name: str, tokens: Sequence[str]) -> str | None:
    """`Name: t1 t2 ...`, folding before the space between two tokens so that no line is longer
    than 78 characters; None if a token does not fit on a line of its own."""
    out = [name, ":"]
    width = len(name) + 1
    for i, token in enumerate(tokens):
        if i == 0 or width + 1 + len(token) <= _MAX_LINE:
            out.append(" ")
            width += 1 + len(token)
        else:
            out.append("\r\n ")
            width = 1 + len(token)
        if width > _MAX_LINE:
            return None
        out.append(token)
    out.append("\r\n")
    return "".join(out)


def _encoded_words(value: str, first_room: int) -> list[str] | None:
    """`value` as RFC 2047 base64 words of whole UTF-8 characters, the first fitting in
    `first_room` columns, the others on continuation lines of their own."""
    words: list[str] = []
    chunk = bytearray()
    limit = (first_room - _EW_OVERHEAD) // 4 * 3
    if limit < 4:
        return None
    try:
        for char in value:
            encoded = char.encode("utf-8")
            if chunk and len(chunk) + len(encoded) > limit:
                words.append("=?utf-8?b?" + b64encode(chunk).decode("ascii") + "?=")
                chunk = bytearray()
                limit = (_EW_MAX - _EW_OVERHEAD) // 4 * 3
            chunk += encoded
    except UnicodeEncodeError:  # a lone surrogate: the stdlib decides
        return None
    words.append("=?utf-8?b?" + b64encode(chunk).decode("ascii") + "?=")
    return words


def _plain_words(value: str) -> list[str] | None:
    """Printable ASCII that needs no encoding, split at its single spaces; else None."""
    if (
        _PRINTABLE_ASCII.match(value)
        and "=?" not in value
        and "  " not in value
        and value[0] != " "
        and value[-1] != " "
    ):
        return value.split(" ")
    return None


def _unicode_words(name: str, value: str) -> list[str] | None:
    if value and not value.isascii() and value.isprintable() and value.strip() == value:
        return _encoded_words(value, _MAX_LINE - len(name) - 2)
    return None


def _text_header(name: str, value: str) -> str:
    words = _plain_words(value) or _unicode_words(name, value)
    folded = _fold(name, words) if words else None
    return folded if folded is not None else _std_header(name, value)


def _phrase(name: str, value: str) -> list[str] | None:
    if _ATOM_PHRASE.match(value):
        return value.split(" ")
    if _plain_words(value):
        return ['"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return _unicode_words(name, value)


def _address_header(name: str, field_name: str, entries: Sequence[tuple[str, str]]) -> str:
    tokens: list[str] | None = []
    for value, display in entries:
        _check_header(field_name, value)
        _check_header(field_name, display)
        parsed_name, addr = _parseaddr(value)
        if not addr or "@" not in addr:
            raise ValueError(f"{field_name}: not an email address: {value!r}")
        display = display or parsed_name
        words = _phrase(name, display) if display else []
        if words is None or not _SIMPLE_ADDR.match(addr):
            tokens = None
            break
        tokens.extend(words)
        tokens.append((f"<{addr}>" if display else addr) + ",")
    folded = None
    if tokens:
        tokens[-1] = tokens[-1][:-1]
        folded = _fold(name, tokens)
    if folded is None:  # also validates as before: ValueError for an address it cannot parse
        return _std_header(name, _stdlib_value("addresses", field_name, entries))
    return folded


def _header_lines(fields: Mapping[str, tuple[Any, ...]]) -> str:
    out = []
    for name, (kind, *args) in fields.items():
        if kind == "addresses":
            out.append(_address_header(name, *args))
        elif kind == "text":
            out.append(_text_header(name, args[0]))
        else:  # "msgid" (one id) or "ids" (a list)
            ids = [args[0]] if kind == "msgid" else args[0]
            folded = None
            if all(_SIMPLE_MSGID.match(i) for i in ids):
                folded = _fold(name, ids)
            out.append(folded if folded is not None else _std_header(name, " ".join(ids)))
    return "".join(out)


def _qp(text: str) -> bytes:
    """utf-8 quoted-printable with CRLF line ends; line breaks normalized and a final one added,
    as EmailMessage.set_content(cte="quoted-printable") does."""
    lines = text.encode("utf-8").splitlines()
    return binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True).replace(b"\n", b"\r\n")


def _message_bytes(fields: Mapping[str, tuple[Any, ...]], text: str, html: str) -> bytes:
    """multipart/alternative: text/plain then text/html, both utf-8 quoted-printable."""
    # A boundary starting with "=_" cannot occur in quoted-printable data (there "=" is always
    # followed by two hex digits or a line break), so it needs no check against the bodies.
    boundary = "=_hl_" + secrets.token_hex(16)
    head = (
        _header_lines(fields) + "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
        f"\r\n--{boundary}\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    middle = (
        f"\r\n--{boundary}\r\n"
        'Content-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    tail = f"\r\n--{boundary}--\r\n"
    return b"".join(
        (
            head.encode("ascii"),
            _qp(text.rstrip("\n") + "\n"),
            middle.encode("ascii"),
            _qp(html),
            tail.encode("ascii"),
        )
    )


_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.I)


def _with_marker(html: str) -> str:
    """Channel templates get the reply marker as the first line too, so extraction works."""
    if REPLY_MARKER in html:
        return html
    line = (
        '<div style="color:#9ca3af;font-size:11px;line-height:16px;'
        f'font-family:Arial,sans-serif;">{escape(REPLY_MARKER)}</div>'
    )
    body = _BODY_OPEN.search(html)
    if body:
        return html[: body.end()] + line + html[body.end() :]
    return line + html
