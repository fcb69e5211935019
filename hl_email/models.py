"""Wire models, field-for-field compatible with the HumanLayer 0.7.x SDK; pure pydantic, no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

__all__ = [
    "ContactChannel",
    "EmailMessage",
    "EmailPayload",
    "V1Beta2EmailEventReceived",
    "V1Beta2FunctionCallCompleted",
    "V1Beta2HumanContactCompleted",
    "EmailContactChannel",
    "EmailRecipient",
    "Escalation",
    "FunctionCall",
    "FunctionCallSpec",
    "FunctionCallStatus",
    "HumanContact",
    "HumanContactSpec",
    "HumanContactStatus",
    "ResponseOption",
    "Responder",
    "SMSContactChannel",
    "SlackContactChannel",
    "WhatsAppContactChannel",
]


class _WireModel(BaseModel):
    # Validators are built on first use, not at import: `import hl_email_sdk` pays ~20 ms less
    # (bench/startup.py), and an agent that never sees a Slack channel never builds its schema.
    model_config = ConfigDict(defer_build=True)


class SlackContactChannel(_WireModel):
    """Accepted for wire compatibility; this gateway only delivers email."""

    channel_or_user_id: str
    context_about_channel_or_user: str | None = None
    bot_token: str | None = None
    allowed_responder_ids: list[str] | None = None
    experimental_slack_blocks: bool | None = None
    thread_ts: str | None = None


class SMSContactChannel(_WireModel):
    """Accepted for wire compatibility; this gateway only delivers email."""

    phone_number: str
    context_about_user: str | None = None


class WhatsAppContactChannel(_WireModel):
    """Accepted for wire compatibility; this gateway only delivers email."""

    phone_number: str
    context_about_user: str | None = None


class EmailRecipient(_WireModel):
    address: str
    context_about_user: str | None = None
    field: Literal["to", "cc", "bcc"] | None = None


class EmailContactChannel(_WireModel):
    """Where to send an email; `subject` / `in_reply_to_message_id` continue an existing thread."""

    address: str
    context_about_user: str | None = None
    additional_recipients: list[EmailRecipient] | None = None
    subject: str | None = None
    references_message_id: str | None = None
    in_reply_to_message_id: str | None = None
    # Deprecated spellings HumanLayer still sends; kept in sync with the new names both ways.
    experimental_subject_line: str | None = None
    experimental_references_message_id: str | None = None
    experimental_in_reply_to_message_id: str | None = None
    # A Jinja2 template for the HTML body, as in HumanLayer.
    template: str | None = None
    # hl-email: which [[mailboxes]] identity asks (default: [agent]).
    mailbox: str | None = None

    @model_validator(mode="after")
    def _sync_experimental_aliases(self) -> EmailContactChannel:
        for new, old in (
            ("subject", "experimental_subject_line"),
            ("references_message_id", "experimental_references_message_id"),
            ("in_reply_to_message_id", "experimental_in_reply_to_message_id"),
        ):
            new_value, old_value = getattr(self, new), getattr(self, old)
            if new_value is None and old_value is not None:
                object.__setattr__(self, new, old_value)
            elif old_value is None and new_value is not None:
                object.__setattr__(self, old, new_value)
        return self

    @classmethod
    def in_reply_to(
        cls,
        from_address: str,
        subject: str,
        message_id: str,
        context_about_user: str | None = None,
    ) -> EmailContactChannel:
        return cls(
            address=from_address,
            context_about_user=context_about_user,
            subject=subject if subject.lower().startswith("re:") else f"Re: {subject}",
            in_reply_to_message_id=message_id,
            references_message_id=message_id,
        )


class ContactChannel(_WireModel):
    slack: SlackContactChannel | None = None
    sms: SMSContactChannel | None = None
    whatsapp: WhatsAppContactChannel | None = None
    email: EmailContactChannel | None = None

    def context(self) -> str | None:
        for channel in (self.slack, self.sms, self.whatsapp, self.email):
            if channel is not None:
                return getattr(channel, "context_about_user", None) or getattr(
                    channel, "context_about_channel_or_user", None
                )
        return None


class ResponseOption(_WireModel):
    name: str
    title: str | None = None
    description: str | None = None
    prompt_fill: str | None = None
    interactive: bool = False


def _unique_option_names(options: list[ResponseOption] | None) -> list[ResponseOption] | None:
    if options:
        names = [option.name for option in options]
        if len(names) != len(set(names)):
            raise ValueError("option names must be unique")
    return options


class FunctionCallSpec(_WireModel):
    fn: str
    kwargs: dict[str, Any]
    channel: ContactChannel | None = None
    reject_options: list[ResponseOption] | None = None
    state: dict[str, Any] | None = None
    # hl-email addition: what the function does (the SDK sends its docstring), shown in the ask.
    description: str | None = None

    _check_options = field_validator("reject_options")(
        classmethod(lambda cls, v: _unique_option_names(v))
    )


class Responder(_WireModel):
    """One person's answer on a request (an hl-email addition; HumanLayer has no such field)."""

    address: str
    verdict: str
    comment: str | None = None
    option: str | None = None
    at: datetime


class FunctionCallStatus(_WireModel):
    requested_at: datetime | None = None
    responded_at: datetime | None = None
    approved: bool | None = None
    comment: str | None = None
    reject_option_name: str | None = None
    slack_message_ts: str | None = None
    # hl-email additions (ignored by the HumanLayer SDK, which tolerates extra fields).
    user_info: dict[str, Any] | None = None
    responders: list[Responder] | None = None
    error: str | None = None
    cancelled: bool | None = None  # true when the agent withdrew the request (then `error` says so)

    class Approved(_WireModel):
        approved: Literal[True]
        comment: str | None

    class Rejected(_WireModel):
        approved: Literal[False]
        comment: str

    def as_completed(self) -> FunctionCallStatus.Approved | FunctionCallStatus.Rejected:
        if self.approved is None:
            raise ValueError("FunctionCallStatus.as_completed() called before approval")
        if self.approved is True:
            return FunctionCallStatus.Approved(approved=True, comment=self.comment)
        return FunctionCallStatus.Rejected(approved=False, comment=self.comment or "")


class FunctionCall(_WireModel):
    run_id: str
    call_id: str
    spec: FunctionCallSpec
    status: FunctionCallStatus | None = None

    class Completed(_WireModel):
        call: FunctionCall

        def as_completed(self) -> FunctionCallStatus.Approved | FunctionCallStatus.Rejected:
            if self.call.status is None:
                raise ValueError("FunctionCall.Completed.as_completed() called before approval")
            return self.call.status.as_completed()


class HumanContactSpec(_WireModel):
    msg: str
    subject: str | None = None
    channel: ContactChannel | None = None
    response_options: list[ResponseOption] | None = None
    state: dict[str, Any] | None = None

    _check_options = field_validator("response_options")(
        classmethod(lambda cls, v: _unique_option_names(v))
    )


class HumanContactStatus(_WireModel):
    requested_at: datetime | None = None
    responded_at: datetime | None = None
    response: str | None = None
    response_option_name: str | None = None
    user_info: dict[str, Any] | None = None
    responders: list[Responder] | None = None
    error: str | None = None
    cancelled: bool | None = None  # true when the agent withdrew the request (then `error` says so)


class HumanContact(_WireModel):
    run_id: str
    call_id: str
    spec: HumanContactSpec
    status: HumanContactStatus | None = None

    class Completed(_WireModel):
        contact: HumanContact

        def as_completed(self) -> str:
            if self.contact.status is None or self.contact.status.response is None:
                raise ValueError("HumanContact.Completed.as_completed() called before response")
            return self.contact.status.response


class Escalation(_WireModel):
    escalation_msg: str
    additional_recipients: list[EmailRecipient] | None = None
    channel: ContactChannel | None = None


class EmailMessage(_WireModel):
    """A message in an email thread (HumanLayer's agent-webhook shape)."""

    from_address: str
    to_address: list[str]
    cc_address: list[str]
    bcc_address: list[str]
    subject: str
    content: str
    datetime: str


class EmailPayload(_WireModel):
    """An email to the agent that belongs to no request: a new conversation (the outer loop)."""

    from_address: str
    to_address: str
    subject: str
    body: str
    message_id: str
    previous_thread: list[EmailMessage] | None = None
    raw_email: str
    is_test: bool | None = None


class V1Beta2EmailEventReceived(_WireModel):
    is_test: bool | None = None
    type: Literal["agent_email.received"] = "agent_email.received"
    event: EmailPayload


class V1Beta2FunctionCallCompleted(_WireModel):
    """The `function_call.completed` webhook body (HumanLayer's shape)."""

    is_test: bool | None = None
    type: Literal["function_call.completed"] = "function_call.completed"
    event: FunctionCall


class V1Beta2HumanContactCompleted(_WireModel):
    """The `human_contact.completed` webhook body (HumanLayer's shape)."""

    is_test: bool | None = None
    type: Literal["human_contact.completed"] = "human_contact.completed"
    event: HumanContact
