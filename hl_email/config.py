"""Gateway configuration: a TOML file plus HL_EMAIL_* environment variables (nested with "__")."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .core.addresses import ascii_domain, normalize_address
from .errors import ConfigError as ConfigError
from .header_values import header_problem
from .routing import Duration, Groups, RouteConfig, gateway_routes_check

__all__ = ["ConfigError", "GatewayConfig", "ascii_domain", "load_config", "normalize_address"]


class _Section(BaseModel):
    model_config = {"extra": "forbid"}


Security = Literal["none", "starttls", "tls"]
MailAuth = Literal["password", "xoauth2", "oauthbearer"]


class OAuthConfig(_Section):
    """`[imap.oauth]` / `[smtp.oauth]`: where access tokens for XOAUTH2 / OAUTHBEARER come from
    (a refresh-token grant). `hl-email oauth login` stores the refresh token in the store."""

    provider: Literal["google", "microsoft", "custom"] = "custom"
    token_url: str = ""  # empty: the provider's (google, microsoft); required for custom
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""  # empty: the one `hl-email oauth login` stored
    scope: str = ""  # empty: the provider's mail scopes
    tenant: str = "common"  # microsoft only


class AgentConfig(_Section):
    address: str = "agent@localhost.test"
    name: str = "hl-email agent"
    # When true, Reply-To is agent+<reply key>@domain so that a reply matches even without headers.
    plus_addressing: bool = False
    plus_separator: str = "+"

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return normalize_address(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if any(ch in v for ch in "\r\n\0") or header_problem(v) is not None:
            raise ValueError(
                "agent.name must not contain line breaks or control characters "
                "(also not inside an RFC 2047 encoded word)"
            )
        return v


class SmtpConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    security: Security = "none"
    timeout: float = Field(30.0, gt=0)
    validate_certs: bool = True
    ca_file: str = ""  # extra CA certificates (PEM), added to the system bundle
    auth: MailAuth = "password"
    oauth: OAuthConfig | None = None
    # Transient failures are retried for this long (seconds; default: the request's own
    # timeout, else 1 day; at most 1 day), not a fixed number of attempts.
    retry_for: float | None = Field(None, gt=0, le=86400)
    # A certificate or login problem pauses the outbox; it tries again this often (seconds).
    pause_retry: float = Field(180.0, gt=0)
    # How many SMTP connections the outbox uses in parallel (the emails of one thread, i.e.
    # one request and recipient, always go one after the other).
    connections: int = Field(4, ge=1, le=16)
    # Outbox retry policy for transient failures.
    max_attempts: int | None = Field(None, ge=1)  # optional cap besides retry_for
    backoff_initial: float = Field(2.0, gt=0)
    backoff_max: float = Field(600.0, gt=0)


class ImapConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(1143, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    security: Security = "none"
    folder: str = "INBOX"
    timeout: float = Field(30.0, gt=0)
    validate_certs: bool = True
    ca_file: str = ""  # extra CA certificates (PEM), added to the system bundle
    auth: MailAuth = "password"
    oauth: OAuthConfig | None = None
    # During IDLE, a NOOP this often (seconds) proves the link is alive; a dead or frozen
    # connection is noticed within about twice this.
    heartbeat: float = Field(60.0, gt=0)
    # IDLE is re-issued before the RFC 2177 29-minute limit.
    idle_timeout: float = Field(25 * 60, gt=0, le=29 * 60)
    poll_interval: float = Field(30.0, gt=0)
    # Use IDLE when the server offers it; false forces polling every poll_interval seconds.
    idle: bool = True
    reconnect_initial: float = Field(1.0, gt=0)
    reconnect_max: float = Field(120.0, gt=0)
    enabled: bool = True


class StoreConfig(_Section):
    url: str = "sqlite:///hl-email.db"
    # Retention: raw inbound messages (and the bodies of sent emails) older than this are
    # purged; outcomes, decisions and headers' summary stay. "90d", "12h"; empty keeps all.
    keep_raw_mail: Duration | None = None
    # Scale-out: a timer one gateway claimed is taken over by another this long after the
    # claim when the first did not finish it (it crashed). "60s" (default), "5m".
    timer_lease: Duration = 60.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v.startswith(("postgres://", "postgresql://")):
            from .store.postgres import parse_url

            parse_url(v)  # our own query parameters (schema, pool_min, pool_max) are valid
            return v
        if not (v.startswith("sqlite:///") or v.startswith("sqlite://:memory:")):
            raise ValueError(
                f"store.url: {v!r} is not a supported URL"
                " (expected sqlite:///path.db or postgresql://user@host/db)"
            )
        return v


def _address_or_domain_entries(v: list[str]) -> list[str]:
    """Normalized `address` / `@domain` entries (allow lists)."""
    out = []
    for entry in v:
        if entry.startswith("@"):
            domain = entry[1:].strip().lower()
            if not domain or "@" in domain or any(c in domain for c in " \r\n,;"):
                raise ValueError(f"{entry!r} is not a valid @domain entry")
            out.append("@" + domain)
        else:
            out.append(normalize_address(entry))
    return out


class SecurityConfig(_Section):
    secret: str = ""
    trusted_authserv_id: str = ""
    # When set: the only addresses / @domains a call, its channel, additional_recipients or an
    # escalation may ask (what the agent supplies; routes configured here are not limited).
    allowed_recipients: list[str] = Field(default_factory=list)

    @field_validator("allowed_recipients")
    @classmethod
    def _allowed(cls, v: list[str]) -> list[str]:
        return _address_or_domain_entries(v)


class ApiConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8040, ge=0, le=65535)
    # Agents: create, read, wait, escalate, cancel; never respond (see hl_email/scopes.py).
    api_keys: list[str] = Field(default_factory=list)
    # May answer (…/respond) on a human's behalf; empty: only email answers decide.
    approver_keys: list[str] = Field(default_factory=list)
    # The operator console: read and cancel.
    admin_keys: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _agent_cannot_approve(self) -> ApiConfig:
        both = set(self.api_keys) & set(self.approver_keys)
        if both:
            raise ValueError(
                "api.approver_keys: a key is also in api.api_keys; an agent key that may "
                "respond lets the agent approve its own calls (use separate keys)"
            )
        return self


class WebhookConfig(_Section):
    """`[[webhooks]]`: POST a signed HumanLayer-style payload when a request completes."""

    url: str
    events: list[str] = Field(
        default_factory=lambda: [
            "function_call.completed",
            "human_contact.completed",
            "agent_email.received",
        ]
    )
    secret: str = ""
    timeout: float = Field(10.0, gt=0)
    max_attempts: int = Field(12, ge=1)
    backoff_initial: float = Field(1.0, gt=0)
    backoff_max: float = Field(600.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"webhooks.url: {v!r} must start with http:// or https://")
        return v

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[str]) -> list[str]:
        known = {
            "function_call.completed",
            "human_contact.completed",
            "function_call.failed",
            "human_contact.failed",
            "agent_email.received",
        }
        for event in v:
            if event not in known:
                raise ValueError(
                    f"webhooks.events: unknown event {event!r} (known: {sorted(known)})"
                )
        return v


class RepliesConfig(_Section):
    # Addresses (or @domain) besides the bound recipient allowed to answer; empty = only the bound recipient.
    send_confirmations: bool = True
    max_clarifications: int = Field(3, ge=0)
    # "code": each ask shows "Approval code: XXXXXX" and only a reply carrying the approve
    # word and that code approves (recommended for high-stakes routes; also per [[routes]]).
    approval: Literal["reply", "code"] = "reply"


class AgentInboxConfig(_Section):
    """Email to the agent that answers no request: handed to the agent when the sender is allowed."""

    enabled: bool = True
    # Addresses or "@domain" entries; empty means nobody (every such email is recorded and dropped).
    allowed_senders: list[str] = Field(default_factory=list)

    @field_validator("allowed_senders")
    @classmethod
    def _senders(cls, v: list[str]) -> list[str]:
        return _address_or_domain_entries(v)


class InboundConfig(_Section):
    """`[inbound]`: limits checked on the raw bytes before any parsing (hl_email/limits.py), and
    how the agent's mail arrives besides IMAP."""

    max_message_bytes: int = Field(25 * 1024 * 1024, ge=1024)
    max_header_bytes: int = Field(32 * 1024, ge=1024)
    max_parts: int = Field(200, ge=1)
    max_depth: int = Field(20, ge=1)
    max_references: int = Field(100, ge=1)
    # "127.0.0.1:2424": accept the agent's mail over LMTP from the MTA (push, no IMAP delay).
    lmtp: str = ""
    # Where LMTP messages are kept (fsynced) between the 250 answer and their stored outcome;
    # relative paths are resolved from the config file's directory.
    lmtp_spool: str = "hl-email-lmtp-spool"

    @field_validator("lmtp")
    @classmethod
    def _lmtp(cls, v: str) -> str:
        if v:
            from .inbound.lmtp import parse_listen

            parse_listen(v)
        return v


class MailboxConfig(_Section):
    """`[[mailboxes]]`: one more agent identity with its own address and accounts. `[agent]`,
    `[imap]` and `[smtp]` stay the default mailbox; a route or a call's channel picks another
    with `mailbox = "name"`."""

    name: str
    address: str
    display_name: str = ""
    imap: ImapConfig | None = None  # its own IMAP account (one watcher); none: replies come
    # over LMTP ([inbound] lmtp accepts this address) or to another watched mailbox
    smtp: SmtpConfig | None = None  # its own submission account; none: the default [smtp]

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", v):
            raise ValueError(f"mailboxes.name: {v!r} must be letters, digits, '_', '.', '-'")
        return v

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return normalize_address(v, field="mailboxes.address")

    @field_validator("display_name")
    @classmethod
    def _display(cls, v: str) -> str:
        if any(ch in v for ch in "\r\n\0"):
            raise ValueError("mailboxes.display_name must not contain line breaks")
        return v


class McpConfig(_Section):
    """The MCP server (`hl-email mcp`, `/mcp` on `serve`): who is asked and how long to wait."""

    # Asked when no [[routes]] rule or default_route names someone; empty: the routes decide.
    contact: str = ""
    # Seconds to wait for an answer; then a permission or approval is denied (fail closed).
    timeout: float = Field(3600.0, gt=0)
    # Seconds between MCP progress notifications while a request is pending.
    progress_interval: float = Field(15.0, gt=0)
    run_id: str = "mcp"

    @field_validator("contact")
    @classmethod
    def _contact(cls, v: str) -> str:
        return normalize_address(v, field="mcp.contact") if v.strip() else ""


class GatewayConfig(BaseSettings):
    """Everything the gateway needs. Load with `load_config(path)`."""

    model_config = SettingsConfigDict(
        env_prefix="HL_EMAIL_",
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    agent: AgentConfig = Field(default_factory=AgentConfig)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    imap: ImapConfig = Field(default_factory=ImapConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    replies: RepliesConfig = Field(default_factory=RepliesConfig)
    agent_inbox: AgentInboxConfig = Field(default_factory=AgentInboxConfig)
    inbound: InboundConfig = Field(default_factory=InboundConfig)
    mcp: McpConfig = Field(default_factory=McpConfig)
    mailboxes: list[MailboxConfig] = Field(default_factory=list)
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    # Routing (docs/routing.md): `[groups]` first, so `[[routes]]` can be checked against it.
    groups: Groups = Field(default_factory=dict)
    routes: list[RouteConfig] = Field(default_factory=list)
    default_route: RouteConfig | None = None
    templates_dir: str | None = None
    # Where relative paths in the file (store url, templates dir) are resolved from.
    base_dir: str | None = None

    @field_validator("routes", "default_route")
    @classmethod
    def _routes_against_groups(cls, value: Any, info: ValidationInfo) -> Any:
        return gateway_routes_check(value, info)

    @model_validator(mode="after")
    def _mailbox_names(self) -> GatewayConfig:
        names = [m.name for m in self.mailboxes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"mailboxes: names used twice: {', '.join(dupes)}")
        addresses = [self.agent.address, *(m.address for m in self.mailboxes)]
        if len(set(addresses)) != len(addresses):
            raise ValueError("mailboxes: every mailbox needs its own address (and not [agent]'s)")
        for route in [*self.routes, *([self.default_route] if self.default_route else [])]:
            if route.mailbox is not None and route.mailbox not in names:
                known = ", ".join(names) or "none configured"
                raise ValueError(
                    f"routes.{route.name}.mailbox: no [[mailboxes]] named {route.mailbox!r} "
                    f"(known: {known})"
                )
        return self

    def mailbox(self, name: str | None) -> MailboxConfig | None:
        """The [[mailboxes]] entry called `name` (None: the default [agent] mailbox)."""
        if name is None:
            return None
        for entry in self.mailboxes:
            if entry.name == name:
                return entry
        raise KeyError(name)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the file, which arrives as init kwargs.
        return (env_settings, init_settings)

    @property
    def sqlite_path(self) -> str:
        path = self.store.url.removeprefix("sqlite:///").removeprefix("sqlite://")
        if path in (":memory:", ""):
            return ":memory:"
        if self.base_dir and not os.path.isabs(path):
            return str(Path(self.base_dir) / path)
        return path

    @property
    def lmtp_spool_dir(self) -> Path:
        path = Path(self.inbound.lmtp_spool)
        if self.base_dir and not path.is_absolute():
            path = Path(self.base_dir) / path
        return path

    @property
    def resolved_templates_dir(self) -> Path | None:
        if not self.templates_dir:
            return None
        path = Path(self.templates_dir)
        if self.base_dir and not path.is_absolute():
            path = Path(self.base_dir) / path
        return path


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = [f"invalid configuration ({source}):"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see the README's config reference)"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


def load_config(path: str | os.PathLike[str] | None = None, **overrides: Any) -> GatewayConfig:
    """Read a TOML file (optional) and HL_EMAIL_* env; raise ConfigError naming every bad key."""
    data: dict[str, Any] = {}
    source = "environment"
    if path is not None:
        file = Path(path)
        source = str(file)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {file}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {file}: {exc}") from None
        data.setdefault("base_dir", str(file.resolve().parent))
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    try:
        return GatewayConfig(**data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source)) from None
