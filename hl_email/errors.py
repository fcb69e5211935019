"""Every error the gateway raises, in one tree; each says what went wrong and what to do.

```
GatewayError
├── RequestInvalidError (also ValueError)   the request cannot be sent as given
│   └── NoRouteError (also RouteError)      no channel, no matching rule, no default route
├── NotFoundError (also KeyError)           no request with that call_id
├── DuplicateCallError                      a request with that call_id exists already
├── ConfigError (also ValueError)           the configuration is invalid (names each bad key)
├── RouteError (also ValueError)            a routing rule or predicate is invalid
├── TemplateError (also ValueError)         a template failed to compile or render
├── HeaderInjectionError (also ValueError)  a header value carries CR/LF or a control character
├── LanguageError (also ValueError)         a language tag of the wrong form
├── ImapError                               the IMAP server refused a command
├── MailConfigError                         connecting failed in a way only a config change fixes
│   ├── MailCertificateError, MailTlsMismatchError
│   └── MailAuthError
│       ├── ImapAuthError                   the IMAP server refused the login
│       └── OAuthError (hl_email.oauth)     the token endpoint refused
└── DeliveryError                           sending failed (`transient` says if retrying helps)
    ├── TransientDeliveryError              4xx, dropped connection, timeout: retried
    │   └── PausingDeliveryError            certificate/login/TLS: the outbox pauses
    └── PermanentDeliveryError              5xx: the recipient's delivery is marked failed
```

What a reply can be refused for is not an error of the gateway but a stored outcome of the
inbound path; those are listed with the receiver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

__all__ = [
    "ConfigError",
    "DeliveryError",
    "DuplicateCallError",
    "GatewayError",
    "HeaderInjectionError",
    "ImapAuthError",
    "ImapError",
    "LanguageError",
    "MailAuthError",
    "MailCertificateError",
    "MailConfigError",
    "MailTlsMismatchError",
    "NoRouteError",
    "NotFoundError",
    "PausingDeliveryError",
    "PermanentDeliveryError",
    "RequestInvalidError",
    "RouteError",
    "TemplateError",
    "TransientDeliveryError",
]


class GatewayError(Exception):
    """Base class for gateway errors."""


class RequestInvalidError(GatewayError, ValueError):
    """The request cannot be sent as given (no email channel, a bad address, a bad template…)."""


class NotFoundError(GatewayError, KeyError):
    """No request with that call_id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class DuplicateCallError(GatewayError):
    """create_request found a request with the same call_id; nothing was written."""


class ConfigError(GatewayError, ValueError):
    """The configuration is invalid; the message names each bad key and what is wrong with it."""


class RouteError(GatewayError, ValueError):
    """A routing rule or predicate is invalid, or a request cannot be routed.

    For predicate parse errors, `position` is the 0-based character offset where the problem is
    and `expected` says what the parser wanted there.
    """

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        expected: str | None = None,
        why: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.position = position
        self.expected = expected
        self.why: tuple[str, ...] = tuple(why)


class NoRouteError(RouteError, RequestInvalidError):
    """No contact channel, no matching rule and no default route: the request is refused.

    `why` holds the lines explaining why each rule did not match.
    """


class TemplateError(GatewayError, ValueError):
    """A template failed to compile or render; the message names the template and line."""


class HeaderInjectionError(GatewayError, ValueError):
    """A value bound for a header carries CR/LF or another control character (also when it is
    hidden in an RFC 2047 encoded word)."""

    def __init__(self, field_name: str, value: str, *, encoded: bool = False) -> None:
        self.field = field_name
        where = " inside an RFC 2047 encoded word (=?…?=)" if encoded else ""
        super().__init__(
            f"refusing to put {field_name!r} into an email header: it contains a line break "
            f"or control character{where} ({value[:60]!r})"
        )


class LanguageError(GatewayError, ValueError):
    """A language tag that is not letters/digits/`-`/`_` in the form `de` or `pt-BR`."""


class ImapError(GatewayError):
    """The IMAP server refused a command; the message says which and what it answered."""


Problem = Literal["certificate", "auth", "tls"]


class MailConfigError(GatewayError):
    """Connecting failed in a way only a configuration change fixes; `fix` says which."""

    problem: Problem = "tls"

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class MailCertificateError(MailConfigError):
    problem: Problem = "certificate"


class MailAuthError(MailConfigError):
    problem: Problem = "auth"


class MailTlsMismatchError(MailConfigError):
    problem: Problem = "tls"


class ImapAuthError(MailAuthError):
    """The IMAP server refused the login (LOGIN or AUTHENTICATE answered NO)."""


class DeliveryError(GatewayError):
    """Sending failed. `transient` says whether trying again later can help."""

    transient: bool = True

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def outage(self) -> bool:
        """The server or the link to it is down (no reply at all, or 421 "service not
        available"), rather than one message or recipient deferred (450, 451, 452 …): its end
        is worth sending every waiting row at once for."""
        return self.transient and (self.code is None or self.code == 421)


class TransientDeliveryError(DeliveryError):
    """4xx, a dropped connection or a timeout: the outbox retries with backoff."""

    transient = True


class PermanentDeliveryError(DeliveryError):
    """5xx: the server refused for good; the recipient's delivery is marked failed."""

    transient = False


class PausingDeliveryError(TransientDeliveryError):
    """A certificate, login or TLS-mode problem: no row can be sent until the configuration
    (or the server) changes, so the outbox pauses instead of failing rows one by one."""

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix
