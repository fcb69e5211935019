"""The Renderer: an ask's or a follow-up's context → the bytes of one threaded multipart email
(templates from templates.py, headers and MIME from mime_writer.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from functools import cache
from html import unescape as unescape_html
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

import jinja2
from markupsafe import escape

from hl_email import i18n
from hl_email.errors import TemplateError as TemplateError
from hl_email.header_values import (
    HEADER_FORBIDDEN,
    HeaderInjectionError,
    neutralise_encoded_words,
)
from hl_email.models import ResponseOption
from hl_email.outbound.mime_writer import (
    RenderedEmail,
    check_header,
    envelope_fields,
    mailto,
    message_bytes,
    parse_message,
    reply_ref,
    stdlib_message,
)
from hl_email.outbound.template_budget import TemplateBudgetError, render_within_budget
from hl_email.outbound.templates import (
    CHANNEL_TEMPLATE_NAME,
    REPLY_MARKER,
    TemplateLibrary,
    template_candidates,
    template_error,
    translator,
    validate_selection,
    wrap_lines,
)

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
    "mailto",
    "reply_subject",
    "subject_for",
    "template_candidates",
    "validate_selection",
]

# A subject derived from a question's first line stays within one folded header line.
SUBJECT_MAX_CHARS = 78
# One huge argument must not make a multi-megabyte email; the human sees that it was cut.
ARGUMENT_MAX_CHARS = 8000

_HEADER_FORBIDDEN = HEADER_FORBIDDEN
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw|odp|vs)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I)
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
# Renderer


class Renderer:
    """Renders asks and follow-ups with the templates of a TemplateLibrary."""

    def __init__(self, templates_dir: str | Path | None = None) -> None:
        self.templates = TemplateLibrary(templates_dir)

    def template_sets(self) -> list[str]:
        """The template sets available: the subdirectories of the templates dirs."""
        return self.templates.template_sets()

    def check_selection(self, template_set: str | None = None, language: str | None = None) -> None:
        """Check a route's template set and language before any email needs them (e.g. at
        gateway start): TemplateError for a bad name, a missing set, or a template of the
        selection that fails to compile."""
        env = self.templates.env(template_set, language)
        for kind in ("approval", "question"):
            for name in (f"{kind}.subject.txt", f"{kind}.txt", f"{kind}.html"):
                self.templates.compiled(env, name)
        for name in ("followup.txt", "followup.html"):
            self.templates.compiled(env, name)

    def check_channel_template(self, source: str) -> None:
        """Compile a channel `template` (e.g. at submit time); raises TemplateError."""
        self.templates.channel_template(source)

    # -- subjects -----------------------------------------------------------------------------

    def subject_for(self, ctx: AskContext) -> str:
        """The subject render_ask uses (explicit subject, else the kind's subject template)."""
        _check_ask_headers(ctx)
        return self._subject(ctx, None, self.templates.env(ctx.template_set, ctx.language))

    def _subject(
        self, ctx: AskContext, base: dict[str, Any] | None, env: jinja2.Environment
    ) -> str:
        if ctx.subject and ctx.subject.strip():
            return ctx.subject.strip()
        name = f"{ctx.kind}.subject.txt"
        # A subject template that reads none of the subject-dependent variables (true of the
        # defaults) is rendered without building those (mailto links).
        if self.templates.independent_of(env, name, _SUBJECT_DEPENDENT):
            base = base if base is not None else _ask_base(ctx)
            variables = dict(base, kwargs=dict(base["kwargs"]))
        else:
            variables = _ask_variables(ctx, subject="", base=base)
        # A template (or a kwarg it prints) that yields a line break is refused, not folded away.
        subject = self.templates.render(name, variables, env).strip()
        return check_header("subject", subject)

    # -- messages -----------------------------------------------------------------------------

    def render_ask(self, ctx: AskContext) -> EmailMessage:
        """The email for one recipient of an approval request or a question."""
        return parse_message(self.render_ask_raw(ctx).data)

    def render_ask_raw(self, ctx: AskContext) -> RenderedEmail:
        """render_ask as the bytes to send (CRLF, 7-bit) plus the subject, built without the
        stdlib's header machinery (which costs milliseconds per message)."""
        subject, envelope, text, html = self._ask_parts(ctx)
        return RenderedEmail(subject, message_bytes(envelope, text, html))

    def render_followup(self, ctx: FollowupContext) -> EmailMessage:
        """A message in the thread of an ask: `Re: <thread subject>`, same threading headers."""
        return parse_message(self.render_followup_raw(ctx).data)

    def render_followup_raw(self, ctx: FollowupContext) -> RenderedEmail:
        """render_followup as the bytes to send plus the subject."""
        subject, envelope, text, html = self._followup_parts(ctx)
        return RenderedEmail(subject, message_bytes(envelope, text, html))

    def _ask_parts(self, ctx: AskContext) -> tuple[str, dict[str, Any], str, str]:
        if ctx.kind == "approval" and not ctx.fn:
            raise ValueError("an approval needs fn")
        if ctx.kind == "question" and ctx.msg is None:
            raise ValueError("a question needs msg")
        _check_ask_headers(ctx)
        env = self.templates.env(ctx.template_set, ctx.language)
        base = _ask_base(ctx)
        subject = self._subject(ctx, base, env)
        variables = _ask_variables(ctx, subject=subject, base=base)
        text = self.templates.render(f"{ctx.kind}.txt", variables, env)
        if ctx.html_template is not None:
            html = self._render_channel_template(ctx, variables)
        else:
            html = self.templates.render(f"{ctx.kind}.html", variables, env)
        envelope = envelope_fields(
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
        check_header("thread_subject", ctx.thread_subject)
        check_header("agent_name", ctx.agent_name)
        check_header("call_id", ctx.call_id)
        env = self.templates.env(ctx.template_set, ctx.language)
        subject = reply_subject(ctx.thread_subject)
        variables = _followup_variables(ctx, subject=subject)
        text = self.templates.render("followup.txt", variables, env)
        html = self.templates.render("followup.html", variables, env)
        envelope = envelope_fields(
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
        return stdlib_message(envelope, text, html)

    def _stdlib_followup(self, ctx: FollowupContext) -> EmailMessage:
        _, envelope, text, html = self._followup_parts(ctx)
        return stdlib_message(envelope, text, html)

    def _render_channel_template(self, ctx: AskContext, variables: dict[str, Any]) -> str:
        event = {"run_id": ctx.run_id, "call_id": ctx.call_id, "spec": _channel_spec(ctx)}
        kind = "function_call" if ctx.kind == "approval" else "human_contact"
        # HumanLayer's documented variables: `urls.base_url` (its action links append
        # ?approve=true, ?reject=true&option=…, ?option=…) and `type`. Here every such link
        # becomes a prefilled mailto reply: clicking opens an email, only sending it decides.
        urls = {"base_url": ACTION_URL, **variables["mailto"]}
        template = self.templates.channel_template(ctx.html_template or "")
        try:
            # Time, memory and output are budgeted: the template comes from the API caller.
            html = render_within_budget(
                template,
                {
                    **variables,
                    "event": event,
                    "type": EventType(kind),
                    "urls": urls,
                    "t": translator(ctx.language),
                },
            )
        except TemplateBudgetError as exc:
            raise TemplateError(str(exc)) from None
        except jinja2.TemplateError as exc:
            raise template_error(exc, CHANNEL_TEMPLATE_NAME, self.templates.roots) from None
        html = action_links_to_mailto(
            html, variables["mailto"], {o["name"]: o["mailto"] for o in variables["options"]}
        )
        return _with_marker(html)


def _channel_spec(ctx: AskContext) -> dict[str, Any]:
    if ctx.kind == "approval":
        return {
            "fn": ctx.fn,
            "kwargs": dict(ctx.kwargs or {}),
            "reject_options": [o.model_dump() for o in ctx.options] or None,
        }
    return {
        "msg": ctx.msg,
        "subject": ctx.subject,
        "response_options": [o.model_dump() for o in ctx.options] or None,
    }


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
    check_header("agent_name", ctx.agent_name)
    check_header("call_id", ctx.call_id)
    if ctx.fn is not None:
        check_header("fn", ctx.fn)
    if ctx.subject is not None:
        check_header("subject", ctx.subject)


def _ask_base(ctx: AskContext) -> dict[str, Any]:
    """The variables that do not depend on the subject (computed once per render)."""
    kwargs = dict(ctx.kwargs or {})
    arguments = []
    for name, value in kwargs.items():
        text = format_argument(value)
        arguments.append({"name": str(name), "value": text, "lines": wrap_lines(text)})
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
