"""Render asks and follow-ups into threaded, multipart EmailMessages with Jinja templates."""

from __future__ import annotations

import json
import re
import textwrap
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from hl_email.models import ResponseOption

try:  # the reply extractor owns the marker when it exists; the text must stay identical
    from hl_email.replies import REPLY_MARKER
except ImportError:  # pragma: no cover - depends on which modules exist yet
    REPLY_MARKER = "##- Please type your reply above this line -##"

__all__ = [
    "REPLY_MARKER",
    "AskContext",
    "FollowupContext",
    "HeaderInjectionError",
    "Renderer",
    "TemplateError",
    "format_argument",
    "reply_subject",
    "subject_for",
]

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
CHANNEL_TEMPLATE_NAME = "channel template"

# A subject derived from a question's first line stays within one folded header line.
SUBJECT_MAX_CHARS = 78
# One huge argument must not make a multi-megabyte email; the human sees that it was cut.
ARGUMENT_MAX_CHARS = 8000
ARGUMENT_WRAP_COLUMNS = 72

# Anything that could end or fold a header line, or confuse a parser: C0, DEL, C1 NEL and the
# Unicode line/paragraph separators (some MUAs and str.splitlines() treat these as newlines).
_HEADER_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw|odp|vs)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I)
_MSGID_SPLIT = re.compile(r"[\s,]+")


class TemplateError(ValueError):
    """A template failed to compile or render; the message names the template and line."""


class HeaderInjectionError(ValueError):
    """A value bound for a header carries CR/LF or another control character."""

    def __init__(self, field_name: str, value: str) -> None:
        self.field = field_name
        super().__init__(
            f"refusing to put {field_name!r} into an email header: it contains a line break "
            f"or control character ({value[:60]!r})"
        )


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
    message_id: str = ""
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    date: datetime


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


# ---------------------------------------------------------------------------------------------
# Pure helpers


def reply_subject(subject: str) -> str:
    """`Re: ` + subject, folding any existing Re:/Aw:/Sv: prefixes so it is never doubled."""
    return "Re: " + _REPLY_PREFIX.sub("", subject).strip()


def question_subject(msg: str) -> str:
    """A subject from the first non-empty line of a question, trimmed at a word boundary."""
    first = next((line for line in msg.splitlines() if line.strip()), "")
    line = " ".join(_HEADER_FORBIDDEN.sub(" ", first).split())
    if not line:
        return "Question"
    if len(line) <= SUBJECT_MAX_CHARS:
        return line
    cut = line[: SUBJECT_MAX_CHARS - 1]
    if " " in cut[SUBJECT_MAX_CHARS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


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
    if _HEADER_FORBIDDEN.search(value):
        raise HeaderInjectionError(field_name, value)
    return value


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
        options: dict[str, Any] = {
            "loader": jinja2.ChoiceLoader(loaders),
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": False,
        }
        # .html is escaped; .txt (bodies and subjects) is not: the MIME layer encodes text.
        self._env = jinja2.Environment(
            autoescape=jinja2.select_autoescape(("html", "htm"), default_for_string=False),
            **options,
        )
        # Channel templates come from API callers, so they run sandboxed and read-only.
        self._sandbox = ImmutableSandboxedEnvironment(autoescape=True, **options)
        for env in (self._env, self._sandbox):
            env.filters["nl2br"] = _nl2br
            env.filters["preformat"] = _preformat
            env.filters["wrap_lines"] = _wrap_lines
            env.globals["REPLY_MARKER"] = REPLY_MARKER
        # Fail at start, not on the first ask: compile every user override and every default.
        names = set(jinja2.FileSystemLoader(PACKAGE_TEMPLATES).list_templates())
        if user_loader is not None:
            names |= {n for n in user_loader.list_templates() if n.endswith((".html", ".txt"))}
        for name in sorted(names):
            try:
                self._env.get_template(name)
            except jinja2.TemplateError as exc:
                raise _template_error(exc, name, self._roots) from None

    # -- subjects -----------------------------------------------------------------------------

    def subject_for(self, ctx: AskContext) -> str:
        """The subject render_ask uses (explicit subject, else the kind's subject template)."""
        _check_ask_headers(ctx)
        if ctx.subject and ctx.subject.strip():
            return ctx.subject.strip()
        variables = _ask_variables(ctx, subject="")
        # A template (or a kwarg it prints) that yields a line break is refused, not folded away.
        return _check_header("subject", self._render(f"{ctx.kind}.subject.txt", variables).strip())

    # -- messages -----------------------------------------------------------------------------

    def render_ask(self, ctx: AskContext) -> EmailMessage:
        """The email for one recipient of an approval request or a question."""
        if ctx.kind == "approval" and not ctx.fn:
            raise ValueError("an approval needs fn")
        if ctx.kind == "question" and ctx.msg is None:
            raise ValueError("a question needs msg")
        subject = self.subject_for(ctx)
        variables = _ask_variables(ctx, subject=subject)
        text = self._render(f"{ctx.kind}.txt", variables)
        if ctx.html_template is not None:
            html = self._render_channel_template(ctx, variables)
        else:
            html = self._render(f"{ctx.kind}.html", variables)
        msg = _envelope(
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
        _set_bodies(msg, text, html)
        return msg

    def render_followup(self, ctx: FollowupContext) -> EmailMessage:
        """A message in the thread of an ask: `Re: <thread subject>`, same threading headers."""
        _check_header("thread_subject", ctx.thread_subject)
        _check_header("agent_name", ctx.agent_name)
        _check_header("call_id", ctx.call_id)
        subject = reply_subject(ctx.thread_subject)
        variables = _followup_variables(ctx, subject=subject)
        text = self._render("followup.txt", variables)
        html = self._render("followup.html", variables)
        msg = _envelope(
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
        _set_bodies(msg, text, html)
        return msg

    def check_channel_template(self, source: str) -> None:
        """Compile a channel `template` (e.g. at submit time); raises TemplateError."""
        try:
            self._sandbox.from_string(source)
        except jinja2.TemplateError as exc:
            raise _template_error(exc, CHANNEL_TEMPLATE_NAME, self._roots) from None

    # -- internals ----------------------------------------------------------------------------

    def _render(self, name: str, variables: Mapping[str, Any]) -> str:
        try:
            return self._env.get_template(name).render(variables)
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
        try:
            template = self._sandbox.from_string(ctx.html_template or "")
            html = template.render({**variables, "event": event, "type": kind})
        except jinja2.TemplateError as exc:
            raise _template_error(exc, CHANNEL_TEMPLATE_NAME, self._roots) from None
        return _with_marker(html)


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


def _ask_variables(ctx: AskContext, *, subject: str) -> dict[str, Any]:
    re_subject = reply_subject(subject) if subject else ""
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
        "question_subject": question_subject(ctx.msg or ""),
        "subject": subject,
        "reply_subject": re_subject,
        "options": _option_views(
            ctx.options, ctx.reply_address, re_subject, reply_ref(ctx.message_id)
        ),
        "context_about_user": ctx.context_about_user,
        "escalation_msg": ctx.escalation_msg,
        "date": ctx.date,
        "marker": REPLY_MARKER,
        "mailto": {
            "approve": mailto(ctx.reply_address, re_subject, "APPROVE", reply_ref(ctx.message_id)),
            "reject": mailto(ctx.reply_address, re_subject, "REJECT: ", reply_ref(ctx.message_id)),
            "reply": mailto(ctx.reply_address, re_subject, "", reply_ref(ctx.message_id)),
        },
    }


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
        "options": _option_views(ctx.options, ctx.reply_address, subject, reply_ref(ctx.message_id)),
        "actionable": ctx.kind in ("clarify", "reminder"),
        "date": ctx.date,
        "marker": REPLY_MARKER,
        "mailto": {
            "approve": mailto(ctx.reply_address, subject, "APPROVE", reply_ref(ctx.message_id)),
            "reject": mailto(ctx.reply_address, subject, "REJECT: ", reply_ref(ctx.message_id)),
            "reply": mailto(ctx.reply_address, subject, "", reply_ref(ctx.message_id)),
        },
    }


def _envelope(
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
) -> EmailMessage:
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be timezone-aware")
    if not to:
        raise ValueError("to: at least one recipient is needed")
    for name, value in (("message_id", message_id), ("in_reply_to", in_reply_to or "")):
        _check_header(name, value)
    for value in references:
        _check_header("references", value)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address("agent_address", agent_address, agent_name)
    msg["To"] = tuple(_address("to", a) for a in to)
    if cc:
        msg["Cc"] = tuple(_address("cc", a) for a in cc)
    reply = _address("reply_address", reply_address)
    if reply.addr_spec.lower() != _address("agent_address", agent_address).addr_spec.lower():
        msg["Reply-To"] = reply
    msg["Subject"] = _check_header("subject", subject)
    msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = _msgid(message_id)
    if in_reply_to:
        msg["In-Reply-To"] = _msgid(in_reply_to)
    thread = _thread_ids(references, in_reply_to)
    if thread:
        msg["References"] = " ".join(thread)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    msg["X-HL-Email-Call-Id"] = call_id
    return msg


def _set_bodies(msg: EmailMessage, text: str, html: str) -> None:
    msg.set_content(text.rstrip("\n") + "\n", subtype="plain", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")


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
