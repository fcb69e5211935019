"""Routing rules as configured: durations, `[[routes]]` rules, the default route, `[groups]` of
responders, and the cross-checks that need the whole routing config (docs/routing.md)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..core.addresses import normalize_address
from .predicate import Predicate, parse_predicate, predicate_text

__all__ = [
    "Duration",
    "EscalationStep",
    "Groups",
    "RouteConfig",
    "RoutingConfig",
    "check_groups",
    "format_duration",
    "gateway_routes_check",
    "parse_duration",
]


# -- durations -----------------------------------------------------------------------------------

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_NUM = r"\d+(?:\.\d+)?"
_DURATION = re.compile(
    rf"^(?:({_NUM})\s*d)?\s*(?:({_NUM})\s*h)?\s*(?:({_NUM})\s*m)?\s*(?:({_NUM})\s*s)?$",
    re.IGNORECASE,
)
_PLAIN_NUMBER = re.compile(rf"^{_NUM}$")


def parse_duration(value: str | int | float) -> float:
    """Seconds from `90s`, `30m`, `4h`, `1d`, `1h30m` (units in that order), or a number of
    seconds (3600 or "3600"). Raises ValueError naming the bad text."""
    hint = "expected e.g. '90s', '30m', '4h', '1d', '1h30m' or a number of seconds"
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}: {hint}")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"invalid duration {value!r}: must be a finite number >= 0")
        return seconds
    if not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r}: {hint}")
    text = value.strip()
    if _PLAIN_NUMBER.match(text):
        return float(text)
    match = _DURATION.match(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"invalid duration {value!r}: {hint}")
    return sum(float(n) * _UNITS[u] for n, u in zip(match.groups(), "dhms", strict=True) if n)


def format_duration(seconds: float) -> str:
    """The short form of a duration: 5400 -> '1h30m', 90 -> '1m30s', 0.5 -> '0.5s'."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    rest = int(seconds)
    if rest == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be greater than zero")
    return seconds


Duration = Annotated[float, BeforeValidator(_positive_duration)]


# -- config models -------------------------------------------------------------------------------


def _address(value: Any) -> str:
    return normalize_address(value)


Address = Annotated[str, AfterValidator(_address)]
_GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _domain(value: str) -> str:
    domain = value[1:]
    try:
        return "@" + _address(f"x@{domain}").rpartition("@")[2]
    except ValueError:
        raise ValueError(f"{value!r} is not a valid @domain") from None


def _responder(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a responder must be text, got {type(value).__name__}")
    text = value.strip()
    if text.startswith("group:"):
        name = text[len("group:") :]
        if not _GROUP_NAME.match(name):
            raise ValueError(f"{value!r} is not a valid group reference (group:NAME)")
        return text
    if text.startswith("@"):
        return _domain(text)
    return _address(text)


def _group_member(value: Any) -> str:
    if isinstance(value, str) and value.strip().startswith("group:"):
        raise ValueError(f"{value!r}: groups cannot contain other groups")
    return _responder(value)


Responder = Annotated[str, AfterValidator(_responder)]
GroupMember = Annotated[str, AfterValidator(_group_member)]


class EscalationStep(BaseModel):
    """After `after` seconds without a decision: add recipients, or hand over to others."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: Duration
    add: list[Address] = Field(default_factory=list)
    handover: list[Address] = Field(default_factory=list)
    message: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> EscalationStep:
        if not self.add and not self.handover:
            raise ValueError(
                "an escalation step needs 'add' or 'handover' addresses (use reminders for a nudge)"
            )
        if self.add and self.handover:
            raise ValueError("an escalation step takes 'add' or 'handover', not both")
        return self


class RouteConfig(BaseModel):
    """One `[[routes]]` rule: conditions to match a request, and where it goes if it does."""

    model_config = ConfigDict(extra="forbid")

    name: str
    # -- match: every given condition must hold; an omitted one matches anything
    agent: str | None = None
    run_id: str | None = None
    kind: Literal["approval", "question"] | None = None
    fn: str | None = None
    when: list[Annotated[str, AfterValidator(predicate_text)]] = Field(default_factory=list)
    # -- result
    to: list[Address] = Field(default_factory=list)
    cc: list[Address] = Field(default_factory=list)
    bcc: list[Address] = Field(default_factory=list)
    responders: list[Responder] = Field(default_factory=list)
    policy: Literal["any", "all", "quorum"] = "any"
    quorum: int | None = None
    timeout: Duration | None = None
    reminders: list[Duration] = Field(default_factory=list)
    escalations: list[EscalationStep] = Field(default_factory=list)
    delegates: dict[Address, Address] = Field(default_factory=dict)
    language: str | None = None
    template_set: str | None = None
    mailbox: str | None = None  # a [[mailboxes]] name: the identity that asks (default [agent])
    # "code": the ask carries an approval code the approving reply must contain
    approval: Literal["reply", "code"] | None = None
    # Reminders wait for these hours ("09:00-18:00" or "mon-fri 09:00-18:00") in `tz`
    # (default UTC), so "remind after 1h" does not fire at 3 am.
    working_hours: str | None = None
    tz: str | None = None

    _predicates: tuple[Predicate, ...] = PrivateAttr(default=())

    @field_validator("working_hours")
    @classmethod
    def _working_hours(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from ..hours import parse_working_hours

        return parse_working_hours(value).text

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from ..hours import parse_tz

        parse_tz(value)
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a route needs a non-empty name")
        return value.strip()

    @model_validator(mode="after")
    def _consistent(self) -> RouteConfig:
        if not (self.to or self.cc or self.bcc):
            raise ValueError("a route needs at least one recipient in to, cc or bcc")
        if self.policy == "quorum":
            if self.quorum is None:
                raise ValueError("policy 'quorum' needs quorum = N (how many approvals)")
            if self.quorum < 1:
                raise ValueError(f"quorum must be at least 1, got {self.quorum}")
            possible = _possible_responders(self, groups=None)
            if possible is not None and self.quorum > possible:
                raise ValueError(
                    f"quorum {self.quorum} can never be reached: only {possible} "
                    "people may answer this route"
                )
        elif self.quorum is not None:
            raise ValueError(
                f"quorum is only used with policy = 'quorum' (policy is {self.policy!r})"
            )
        for label, delay in [("reminders", r) for r in self.reminders] + [
            ("escalations", s.after) for s in self.escalations
        ]:
            if self.timeout is not None and delay >= self.timeout:
                raise ValueError(
                    f"{label}: {format_duration(delay)} is not before the timeout "
                    f"({format_duration(self.timeout)}), so it would never run"
                )
        for address, delegate in self.delegates.items():
            if address == delegate:
                raise ValueError(f"delegates: {address} cannot delegate to itself")
        self._predicates = tuple(parse_predicate(text) for text in self.when)
        return self

    @property
    def predicates(self) -> tuple[Predicate, ...]:
        """The parsed `when` conditions (re-parsed if `when` was changed after validation)."""
        if tuple(p.text for p in self._predicates) != tuple(self.when):
            return tuple(parse_predicate(text) for text in self.when)
        return self._predicates

    def group_names(self) -> list[str]:
        return [r[len("group:") :] for r in self.responders if r.startswith("group:")]


def _possible_responders(
    route: RouteConfig, groups: Mapping[str, Sequence[str]] | None
) -> int | None:
    """How many people can answer, or None when unbounded (@domain) or not yet known (groups)."""
    if not route.responders:
        return len(dict.fromkeys([*route.to, *route.cc, *route.bcc]))
    people: set[str] = set()
    for entry in route.responders:
        if entry.startswith("group:"):
            if groups is None or entry[6:] not in groups:
                return None
            members = groups[entry[6:]]
            if any(m.startswith("@") for m in members):
                return None
            people.update(members)
        elif entry.startswith("@"):
            return None
        else:
            people.add(entry)
    return len(people)


class _RoutingIssue(ValueError):
    """A cross-check failure, with where it is (`loc`) and what is wrong (`message`)."""

    def __init__(self, loc: tuple[str | int, ...], message: str, shown_key: str) -> None:
        super().__init__(f"{shown_key}: {message}")
        self.loc = loc
        self.message = message


_MATCH_KEYS = ("agent", "run_id", "kind", "fn", "when")


def _issues(
    routes: Sequence[RouteConfig], default: RouteConfig | None, groups: Mapping[str, Sequence[str]]
) -> Iterable[tuple[tuple[str | int, ...], str]]:
    seen: dict[str, int] = {}
    for i, route in enumerate(routes):
        if route.name in seen:
            yield (
                ("routes", i, "name"),
                f"{route.name!r} is already the name of rule {seen[route.name]}; "
                "rule names must be unique",
            )
        seen[route.name] = i
    located: list[tuple[tuple[str | int, ...], RouteConfig]] = [
        (("routes", i), r) for i, r in enumerate(routes)
    ]
    if default is not None:
        located.append((("default",), default))
        for key in _MATCH_KEYS:
            if key in default.model_fields_set and getattr(default, key) not in (None, []):
                yield (
                    ("default", key),
                    "the default route is used when no rule matches, so it takes no conditions "
                    f"({', '.join(_MATCH_KEYS)}); put them in a [[routes]] rule",
                )
    for loc, route in located:
        for j, entry in enumerate(route.responders):
            if entry.startswith("group:") and entry[6:] not in groups:
                known = ", ".join(sorted(groups)) or "none defined"
                yield (
                    (*loc, "responders", j),
                    f"unknown group {entry[6:]!r} (groups: {known}; define it under [groups])",
                )
        if route.policy == "quorum" and route.quorum is not None:
            possible = _possible_responders(route, groups)
            if possible is not None and route.quorum > possible:
                yield (
                    (*loc, "quorum"),
                    f"{route.quorum} can never be reached: only {possible} people may answer",
                )


def check_groups(
    routes: Sequence[RouteConfig],
    default: RouteConfig | None,
    groups: Mapping[str, Sequence[str]],
    *,
    default_key: str = "default",
) -> None:
    """Cross-checks that need the whole routing config: unique rule names, known groups, a quorum
    the expanded groups can reach, no conditions on the default route.

    Raises ValueError naming the key, e.g. `routes.2.responders.0: unknown group 'finance' …`.
    """
    for loc, message in _issues(routes, default, groups):
        if loc[0] == "default":
            loc = (default_key, *loc[1:])
        raise _RoutingIssue(loc, message, ".".join(str(part) for part in loc))


def _groups_field(value: dict[str, list[str]]) -> dict[str, list[str]]:
    for name, members in value.items():
        if not _GROUP_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid group name (letters, digits, _ . -)")
        if not members:
            raise ValueError(f"group {name!r} is empty")
    return value


Groups = Annotated[dict[str, list[GroupMember]], AfterValidator(_groups_field)]


class RoutingConfig(BaseModel):
    """All routing: rules in order, the default route, and named groups of responders."""

    model_config = ConfigDict(extra="forbid")

    routes: list[RouteConfig] = Field(default_factory=list)
    default: RouteConfig | None = None
    groups: Groups = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> RoutingConfig:
        check_groups(self.routes, self.default, self.groups)
        return self

    @classmethod
    def from_gateway_config(cls, config: Any) -> RoutingConfig:
        """From a GatewayConfig's top-level `routes`, `default_route` and `groups`."""
        return cls(
            routes=list(config.routes),
            default=config.default_route,
            groups=dict(config.groups),
        )


def gateway_routes_check(value: Any, info: ValidationInfo) -> Any:
    """For GatewayConfig's `routes` and `default_route` validators: check them against `groups`,
    reporting the exact key (`routes.0.responders.1`) through pydantic's error location."""
    if "groups" not in info.data:  # [groups] itself is invalid; that error is reported instead
        return value
    try:
        if info.field_name == "routes":
            check_groups(value, None, info.data["groups"])
        elif value is not None:
            check_groups([], value, info.data["groups"])
    except _RoutingIssue as issue:
        # A ValidationError raised inside a validator is merged with the field's location.
        relative = issue.loc[1:]
        raise ValidationError.from_exception_data(
            "GatewayConfig",
            [
                InitErrorDetails(
                    type=PydanticCustomError("routing", "{message}", {"message": issue.message}),
                    loc=relative,
                    input=value,
                )
            ],
        ) from None
    return value
