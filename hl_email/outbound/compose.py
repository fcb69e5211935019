"""Composition of the asks of a request: one email (own reply key, own thread) per recipient.

Pure apart from rendering: time comes in as `now`; the rows go to the store with the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from ..config import GatewayConfig
from ..core.tokens import ReplyKey, approval_code, make_message_id, mint_reply_key, plus_address
from ..errors import RequestInvalidError
from ..models import EmailContactChannel, ResponseOption
from ..store import OutboxRow, RecipientRow, RequestRow
from .render import (
    AskContext,
    FollowupContext,
    HeaderInjectionError,
    Renderer,
    TemplateError,
    reply_subject,
)

__all__ = ["Asks", "Composer", "Identity", "approval_code_for", "identity", "reply_address"]

log = logging.getLogger("hl_email.gateway")


@dataclass(frozen=True)
class Identity:
    """Who asks: an address and a display name."""

    address: str
    name: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


class Asks(NamedTuple):
    outbox: list[OutboxRow]
    subject: str  # the request's subject: stored with a new request


def identity(config: GatewayConfig, request: RequestRow) -> Identity:
    """Who asks: the request's [[mailboxes]] entry, or the default [agent]."""
    name = request.route.get("mailbox")
    entry = None
    if name:
        try:
            entry = config.mailbox(name)
        except KeyError:  # removed from the config since: keep asking as [agent]
            log.warning("request %s names unknown mailbox %r", request.call_id, name)
    if entry is None:
        return Identity(config.agent.address, config.agent.name)
    return Identity(entry.address, entry.display_name or config.agent.name)


def reply_address(config: GatewayConfig, key: ReplyKey, address: str | None = None) -> str:
    """Where a recipient replies: the agent's address, plus-addressed with the key if set so."""
    address = address or config.agent.address
    if config.agent.plus_addressing:
        return plus_address(address, key, config.agent.plus_separator)
    return address


def approval_code_for(
    config: GatewayConfig, request: RequestRow, recipient: RecipientRow
) -> str | None:
    """The approval code of this recipient's emails, when the route asks for codes."""
    if request.kind != "function_call":
        return None
    if (request.route.get("approval") or config.replies.approval) != "code":
        return None
    return approval_code(config.security.secret, request.id, recipient.seq, recipient.address)


def _outbox_row(
    request: RequestRow,
    recipient: RecipientRow,
    purpose: str,
    asker: Identity,
    data: bytes,
    message_id: str,
    now: float,
) -> OutboxRow:
    """One email to one recipient, due now."""
    return OutboxRow(
        request_id=request.id,
        recipient_seq=recipient.seq,
        purpose=purpose,
        mail_from=asker.address,
        rcpt_to=[recipient.address],
        message=data,
        message_id=message_id,
        next_attempt_at=now,
        created_at=now,
    )


def _threading(
    request: RequestRow, recipient: RecipientRow, channel: EmailContactChannel | None
) -> tuple[str | None, list[str], str | None]:
    """(In-Reply-To, References, subject): the recipient's own thread, or the channel's."""
    if recipient.thread:
        subject = reply_subject(request.subject) if request.subject else None
        return recipient.thread[-1], list(recipient.thread[-20:]), subject
    in_reply_to = channel.in_reply_to_message_id if channel else None
    references: list[str] = []
    if channel and channel.references_message_id:
        references = channel.references_message_id.split()
    elif in_reply_to:
        references = [in_reply_to]
    subject = (request.spec.get("subject") or None) or (channel.subject if channel else None)
    if subject is None and request.subject:
        subject = request.subject
    return in_reply_to, references, subject


class Composer:
    """Renders asks into outbox rows, minting each recipient's reply key and Message-ID."""

    def __init__(self, config: GatewayConfig, renderer: Renderer) -> None:
        self.config = config
        self.renderer = renderer

    def followup(
        self,
        request: RequestRow,
        recipient: RecipientRow,
        *,
        reply_id: str | None,
        kind: str,
        message: str,
        quoted: str | None,
        options: list[ResponseOption],
        purpose: str,
        now: float,
    ) -> OutboxRow | None:
        """A follow-up (confirmation, clarification, note) in the recipient's thread, in reply
        to `reply_id` when given; None when it cannot be rendered (logged): a follow-up never
        costs the answer it follows up on. Advances the recipient's message count and thread."""
        key = mint_reply_key(
            self.config.security.secret, request.id, recipient.seq, recipient.address
        )
        recipient.message_count += 1
        asker = identity(self.config, request)
        message_id = make_message_id(key, recipient.message_count, asker.domain)
        thread = list(recipient.thread)
        if reply_id and reply_id not in thread:
            thread.append(reply_id)
        ctx = FollowupContext(
            kind=kind,  # type: ignore[arg-type]
            call_id=request.call_id,
            agent_name=asker.name,
            agent_address=asker.address,
            reply_address=reply_address(self.config, key, asker.address),
            to=[recipient.address],
            thread_subject=request.subject,
            message=message,
            quoted_reply=quoted,
            options=options,
            kind_of_request="approval" if request.kind == "function_call" else "question",
            language=request.route.get("language"),
            template_set=request.route.get("template_set"),
            message_id=message_id,
            in_reply_to=thread[-1] if thread else None,
            references=thread[-20:],
            date=datetime.fromtimestamp(now, tz=UTC),
            approval_code=approval_code_for(self.config, request, recipient),
        )
        try:
            rendered = self.renderer.render_followup_raw(ctx)
        except Exception:
            log.exception("cannot render the %s email for %s", kind, request.call_id)
            return None
        recipient.thread = [*thread, message_id]
        return _outbox_row(request, recipient, purpose, asker, rendered.data, message_id, now)

    def note(
        self, request: RequestRow, recipient: RecipientRow, message: str, *, kind: str, now: float
    ) -> OutboxRow | None:
        """An in-thread message that needs no answer (no reply it provokes is an answer)."""
        return self.followup(
            request,
            recipient,
            reply_id=None,
            kind=kind,
            message=message,
            quoted=None,
            options=[],
            purpose=kind,
            now=now,
        )

    def asks(
        self,
        request: RequestRow,
        recipients: list[RecipientRow],
        *,
        now: float,
        channel: EmailContactChannel | None = None,
        escalation_msg: str | None = None,
        purpose: str = "ask",
    ) -> Asks:
        """Render the ask for each recipient (each gets an own email and own reply key); the
        recipients' reply key, message count and thread are updated in place."""
        outbox: list[OutboxRow] = []
        subject = request.subject
        for recipient in recipients:
            key = mint_reply_key(
                self.config.security.secret, request.id, recipient.seq, recipient.address
            )
            recipient.reply_key = str(key)
            recipient.message_count += 1
            asker = identity(self.config, request)
            message_id = make_message_id(key, recipient.message_count, asker.domain)
            threading = _threading(request, recipient, channel)
            in_reply_to, references, _ = threading
            ctx = self._context(
                request, recipient, channel, escalation_msg, asker, key, message_id, threading, now
            )
            try:
                # PERF: rendering (~0.45 ms, half of it the HTML template) is the largest part
                # of a create; bench/outbound.py prints where the CPU per message goes.
                rendered = self.renderer.render_ask_raw(ctx)
            except (HeaderInjectionError, TemplateError, ValueError) as exc:
                raise RequestInvalidError(str(exc)) from None
            subject = request.subject or rendered.subject
            thread = list(recipient.thread) or [
                *references,
                *([in_reply_to] if in_reply_to and in_reply_to not in references else []),
            ]
            recipient.thread = [*thread, message_id]
            outbox.append(
                _outbox_row(request, recipient, purpose, asker, rendered.data, message_id, now)
            )
        return Asks(outbox, subject)

    def _context(
        self,
        request: RequestRow,
        recipient: RecipientRow,
        channel: EmailContactChannel | None,
        escalation_msg: str | None,
        asker: Identity,
        key: ReplyKey,
        message_id: str,
        threading: tuple[str | None, list[str], str | None],
        now: float,
    ) -> AskContext:
        """The template context of one ask."""
        in_reply_to, references, subject = threading
        spec = request.spec
        approval = request.kind == "function_call"
        options = [
            ResponseOption.model_validate(o)
            for o in (spec.get("reject_options" if approval else "response_options") or [])
        ]
        return AskContext(
            kind="approval" if approval else "question",
            call_id=request.call_id,
            run_id=request.run_id,
            agent_name=asker.name,
            agent_address=asker.address,
            reply_address=reply_address(self.config, key, asker.address),
            to=[recipient.address],
            recipient=recipient.address,
            fn=spec.get("fn") if approval else None,
            kwargs=spec.get("kwargs") if approval else None,
            msg=spec.get("msg") if not approval else None,
            subject=subject,
            options=options,
            context_about_user=channel.context_about_user if channel else None,
            html_template=channel.template if channel else None,
            escalation_msg=escalation_msg,
            description=spec.get("description") if approval else None,
            language=request.route.get("language"),
            template_set=request.route.get("template_set"),
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            date=datetime.fromtimestamp(now, tz=UTC),
            approval_code=approval_code_for(self.config, request, recipient),
        )
