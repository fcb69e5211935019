"""Moved to hl_email.outbound.render (templates: outbound.templates, MIME: outbound.mime_writer);
kept for gateway.py until the split lands."""

from hl_email.outbound.render import (
    AskContext,
    FollowupContext,
    HeaderInjectionError,
    Renderer,
    TemplateError,
    reply_subject,
)

__all__ = [
    "AskContext",
    "FollowupContext",
    "HeaderInjectionError",
    "Renderer",
    "TemplateError",
    "reply_subject",
]
