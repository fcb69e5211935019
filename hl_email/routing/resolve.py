"""Resolving a request to a route: which rule matches and why, who is asked and who may answer,
the policy's quorum, and the explanation `hl-email routes test` prints."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from pydantic import ValidationError

from ..errors import NoRouteError, RouteError
from .rules import EscalationStep, RouteConfig, RoutingConfig, check_groups, format_duration

__all__ = ["RouteDecision", "Router", "explain", "may_answer", "resolve_route"]


# -- resolution ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteDecision:
    """Where a request goes. `why` explains the decision line by line."""

    source: Literal["channel", "rule", "default"]
    rule: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    responders: tuple[str, ...]
    policy: str
    quorum: int
    timeout: float | None
    reminders: tuple[float, ...]
    escalations: tuple[EscalationStep, ...]
    delegates: Mapping[str, str]
    why: tuple[str, ...]
    language: str | None = None
    template_set: str | None = None
    mailbox: str | None = None
    approval: str | None = None
    working_hours: str | None = None
    tz: str | None = None

    @property
    def recipients(self) -> tuple[str, ...]:
        return (*self.to, *self.cc, *self.bcc)


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


_KINDS = {"approval": "approval", "question": "question"}
_KINDS |= {"function_call": "approval", "human_contact": "question"}


def _check_rule(
    route: RouteConfig,
    *,
    kind: str,
    fn: str | None,
    kwargs: Mapping[str, Any],
    run_id: str,
    agent: str,
) -> tuple[bool, str]:
    """Whether a rule matches, and a phrase saying why (the first failing condition)."""
    matched: list[str] = []
    if route.kind is not None:
        if route.kind != kind:
            return False, f"kind is {kind}, rule wants {route.kind}"
        matched.append(f"kind {kind}")
    if route.agent is not None:
        if not _glob(route.agent, agent):
            return False, f"agent {agent!r} does not match {route.agent!r}"
        matched.append(f"agent ~ {route.agent!r}")
    if route.run_id is not None:
        if not _glob(route.run_id, run_id):
            return False, f"run_id {run_id!r} does not match {route.run_id!r}"
        matched.append(f"run_id ~ {route.run_id!r}")
    if route.fn is not None:
        if fn is None:
            return False, f"no function name (a {kind}), rule wants fn {route.fn!r}"
        if not _glob(route.fn, fn):
            return False, f"fn {fn!r} does not match {route.fn!r}"
        matched.append(f"fn {fn!r} ~ {route.fn!r}")
    for i, predicate in enumerate(route.predicates):
        notes = "".join(f"; {note}" for note in predicate.type_notes(kwargs))
        if not predicate.evaluate(kwargs):
            seen = predicate.values(kwargs)
            return False, f"when[{i}] {predicate.text!r} is false ({seen}{notes})"
        matched.append(f"when[{i}] {predicate.text!r}" + (f" ({notes[2:]})" if notes else ""))
    return True, ", ".join(matched) or "no conditions (matches every request)"


def _expand_responders(route: RouteConfig, groups: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    expanded: list[str] = []
    for entry in route.responders:
        if entry.startswith("group:"):
            name = entry[len("group:") :]
            if name not in groups:
                raise RouteError(f"route {route.name!r}: unknown group {name!r} in responders")
            expanded.extend(groups[name])
        else:
            expanded.append(entry)
    return tuple(dict.fromkeys(e.lower() for e in expanded))


def _recipients(
    to: Iterable[str], cc: Iterable[str], bcc: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    # One email per person: an address listed twice keeps its most visible field (to > cc > bcc).
    seen: set[str] = set()
    out: list[list[str]] = [[], [], []]
    for i, addresses in enumerate((to, cc, bcc)):
        for address in addresses:
            key = address.lower()
            if key not in seen:
                seen.add(key)
                out[i].append(address)
    return tuple(out[0]), tuple(out[1]), tuple(out[2])


def _quorum(
    policy: str, route_quorum: int | None, responders: Sequence[str], recipients: Sequence[str]
) -> int:
    if policy == "quorum":
        return route_quorum or 1
    if policy == "all":
        return max(1, sum(1 for r in recipients if may_answer(responders, recipients, r)))
    return 1


def _unanswerable(route: RouteConfig, responders: Sequence[str]) -> list[str]:
    """Warnings for people the route asks who may not answer under its explicit responders."""
    if not responders:
        return []
    asked = [(a, "to") for a in route.to]
    for i, step in enumerate(route.escalations):
        asked += [(a, f"escalations[{i}]") for a in (*step.add, *step.handover)]
    asked += [(b, f"delegates[{a!r}]") for a, b in route.delegates.items()]
    return [
        f"warning: {address} ({where}) would be asked but may not answer: "
        "it is not among the responders"
        for address, where in asked
        if not may_answer(responders, (), address)
    ]


def _call_text(kind: str, fn: str | None) -> str:
    return f"{fn}(...)" if fn else f"a {kind}"


def resolve_route(
    routing: RoutingConfig,
    *,
    kind: str,
    fn: str | None,
    kwargs: Mapping[str, Any],
    run_id: str,
    agent: str,
    channel_addresses: Sequence[tuple[str, str]] = (),
) -> RouteDecision:
    """Decide where a request goes.

    Precedence: an explicit contact channel names the recipients (policy `any`, every recipient
    may answer), with timers and delegates from the first matching rule, else the default route;
    without a channel, the first matching rule in order, else the default route; else
    NoRouteError.
    """
    if kind not in _KINDS:
        raise RouteError(f"unknown request kind {kind!r} (expected approval or question)")
    kind = _KINDS[kind]
    why: list[str] = []
    channel = _channel_fields(channel_addresses, why) if channel_addresses else None
    matched = _first_match(
        routing, why, kind=kind, fn=fn, kwargs=kwargs or {}, run_id=run_id, agent=agent
    )
    chosen = matched or routing.default
    if chosen is not None and matched is None:
        why.append(f"default route {chosen.name!r} used: no rule matched")
    if channel is not None:
        return _channel_decision(channel, chosen, from_rule=matched is not None, why=why)
    if chosen is None:
        raise NoRouteError(
            f"no route for {_call_text(kind, fn)}: no rule matched and no default route; "
            "add a [[routes]] rule or pass a contact_channel",
            why=why,
        )
    return _rule_decision(chosen, routing.groups, from_rule=matched is not None, why=why)


def _channel_fields(
    channel_addresses: Sequence[tuple[str, str]], why: list[str]
) -> dict[str, list[str]]:
    """The contact channel's addresses by field (to, cc, bcc), normalized."""
    fields: dict[str, list[str]] = {"to": [], "cc": [], "bcc": []}
    for address, field_name in channel_addresses:
        if field_name not in fields:
            raise RouteError(f"contact channel field {field_name!r} is not to, cc or bcc")
        fields[field_name].append(address.strip().lower())
    why.append(
        "contact channel given in the call: it names the recipients (policy any; "
        "every recipient may answer)"
    )
    return fields


def _first_match(
    routing: RoutingConfig,
    why: list[str],
    *,
    kind: str,
    fn: str | None,
    kwargs: Mapping[str, Any],
    run_id: str,
    agent: str,
) -> RouteConfig | None:
    """The first rule that matches (rules are checked in order), saying why for each checked."""
    if not routing.routes:
        why.append("no rules configured")
        return None
    for i, route in enumerate(routing.routes):
        ok, reason = _check_rule(route, kind=kind, fn=fn, kwargs=kwargs, run_id=run_id, agent=agent)
        if not ok:
            why.append(f"rule {route.name!r} (routes[{i}]) did not match: {reason}")
            continue
        why.append(f"rule {route.name!r} (routes[{i}]) matched: {reason}")
        rest = len(routing.routes) - i - 1
        if rest:
            why.append(f"{rest} later rule(s) not checked: the first match wins")
        return route
    return None


def _route_settings(route: RouteConfig | None) -> dict[str, Any]:
    """What a decision takes from its rule besides who is asked: timers, delegates, language,
    templates, mailbox, approval mode and working hours (none of them without a rule)."""
    if route is None:
        return {
            "timeout": None,
            "reminders": (),
            "escalations": (),
            "delegates": MappingProxyType({}),
        }
    return {
        "timeout": route.timeout,
        "reminders": tuple(sorted(set(route.reminders))),
        "escalations": tuple(sorted(route.escalations, key=lambda s: s.after)),
        "delegates": MappingProxyType(dict(route.delegates)),
        "language": route.language,
        "template_set": route.template_set,
        "mailbox": route.mailbox,
        "approval": route.approval,
        "working_hours": route.working_hours,
        "tz": route.tz,
    }


def _channel_decision(
    channel: Mapping[str, Sequence[str]],
    chosen: RouteConfig | None,
    *,
    from_rule: bool,
    why: list[str],
) -> RouteDecision:
    """The channel's recipients, any of whom may answer; the rule (if any) gives the rest."""
    to, cc, bcc = _recipients(channel["to"], channel["cc"], channel["bcc"])
    if chosen is not None:
        why.append(
            f"timers and delegates from {'rule' if from_rule else 'default route'} "
            f"{chosen.name!r}; its recipients, responders and policy are not used"
        )
    else:
        why.append("no rule or default route: no timeout, reminders or escalations")
    return RouteDecision(
        source="channel",
        rule=chosen.name if chosen is not None else None,
        to=to,
        cc=cc,
        bcc=bcc,
        responders=(),
        policy="any",
        quorum=1,
        why=tuple(why),
        **_route_settings(chosen),
    )


def _rule_decision(
    chosen: RouteConfig,
    groups: Mapping[str, Sequence[str]],
    *,
    from_rule: bool,
    why: list[str],
) -> RouteDecision:
    """Everything from the rule (or the default route): recipients, responders, policy."""
    to, cc, bcc = _recipients(chosen.to, chosen.cc, chosen.bcc)
    responders = _expand_responders(chosen, groups)
    why.extend(_unanswerable(chosen, responders))
    return RouteDecision(
        source="rule" if from_rule else "default",
        rule=chosen.name,
        to=to,
        cc=cc,
        bcc=bcc,
        responders=responders,
        policy=chosen.policy,
        quorum=_quorum(chosen.policy, chosen.quorum, responders, (*to, *cc, *bcc)),
        why=tuple(why),
        **_route_settings(chosen),
    )


def may_answer(decision_responders: Sequence[str], recipients: Sequence[str], address: str) -> bool:
    """Whether `address` may answer: with no responders, any recipient; otherwise an exact
    address or an `@domain` entry for its domain (case-insensitive)."""
    address = address.strip().lower()
    if not address:
        return False
    if not decision_responders:
        return address in {r.strip().lower() for r in recipients}
    domain = "@" + address.rpartition("@")[2]
    for entry in decision_responders:
        entry = entry.strip().lower()
        if entry.startswith("@"):
            if domain == entry:
                return True
        elif entry == address:
            return True
    return False


@dataclass
class Router:
    """Routing rules from config plus rules added from Python; resolves requests."""

    routing: RoutingConfig = field(default_factory=RoutingConfig)

    @classmethod
    def from_gateway_config(cls, config: Any) -> Router:
        return cls(RoutingConfig.from_gateway_config(config))

    def add_route(
        self, route: RouteConfig | Mapping[str, Any], *, first: bool = False
    ) -> RouteConfig:
        """Add a rule at the end (or, with first=True, before all others); returns it.

        Raises RouteError when the rule is invalid or its name is taken.
        """
        try:
            rule = (
                route if isinstance(route, RouteConfig) else RouteConfig.model_validate(dict(route))
            )
            routes = [rule, *self.routing.routes] if first else [*self.routing.routes, rule]
            check_groups(routes, self.routing.default, self.routing.groups)
        except ValidationError as exc:
            raise RouteError(_validation_text(exc)) from None
        except ValueError as exc:
            raise RouteError(str(exc)) from None
        self.routing = self.routing.model_copy(update={"routes": routes})
        return rule

    def remove_route(self, name: str) -> None:
        routes = [r for r in self.routing.routes if r.name != name]
        if len(routes) == len(self.routing.routes):
            raise RouteError(f"no rule named {name!r}")
        self.routing = self.routing.model_copy(update={"routes": routes})

    @property
    def routes(self) -> tuple[RouteConfig, ...]:
        return tuple(self.routing.routes)

    def resolve(
        self,
        *,
        kind: str,
        fn: str | None,
        kwargs: Mapping[str, Any],
        run_id: str,
        agent: str,
        channel_addresses: Sequence[tuple[str, str]] = (),
    ) -> RouteDecision:
        return resolve_route(
            self.routing,
            kind=kind,
            fn=fn,
            kwargs=kwargs,
            run_id=run_id,
            agent=agent,
            channel_addresses=channel_addresses,
        )


def _validation_text(exc: Any) -> str:
    parts = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"]) or "route"
        parts.append(f"{key}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


# -- explanation ---------------------------------------------------------------------------------


def _list(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "-"


def explain(decision: RouteDecision) -> str:
    """A human-readable account of a decision (what `hl-email routes test` prints)."""
    if decision.source == "channel":
        source = "contact channel in the call"
        if decision.rule:
            source += f" (timers from {decision.rule!r})"
    elif decision.source == "rule":
        source = f"rule {decision.rule!r}"
    else:
        source = f"default route {decision.rule!r}"
    if decision.responders:
        answer = _list(decision.responders)
    else:
        answer = "any recipient"
    if decision.policy == "any":
        policy = "any (the first decisive answer wins)"
    elif decision.policy == "all":
        policy = f"all ({decision.quorum} must approve; one rejection rejects)"
    else:
        policy = f"quorum ({decision.quorum} approvals needed)"
    lines = [
        f"route:       {source}",
        f"to:          {_list(decision.to)}",
        f"cc:          {_list(decision.cc)}",
        f"bcc:         {_list(decision.bcc)}",
        f"may answer:  {answer}",
        f"policy:      {policy}",
        "timeout:     "
        + (
            f"{format_duration(decision.timeout)} (then the call is denied: timed out)"
            if decision.timeout is not None
            else "none (waits until answered)"
        ),
        f"reminders:   {_list([format_duration(r) for r in decision.reminders])}",
    ]
    if decision.working_hours:
        lines.append(
            f"work hours:  {decision.working_hours} {decision.tz or 'UTC'} "
            "(reminders wait for them)"
        )
    if decision.escalations:
        lines.append("escalations:")
        for step in decision.escalations:
            action = (
                f"add {_list(step.add)}" if step.add else f"hand over to {_list(step.handover)}"
            )
            note = f" ({step.message!r})" if step.message else ""
            lines.append(f"  after {format_duration(step.after)}: {action}{note}")
    else:
        lines.append("escalations: -")
    if decision.delegates:
        lines.append(
            "delegates:   " + _list([f"{a} -> {b}" for a, b in decision.delegates.items()])
        )
    if decision.language or decision.template_set:
        lines.append(f"language:    {decision.language or '-'}")
        lines.append(f"templates:   {decision.template_set or '-'}")
    if decision.mailbox:
        lines.append(f"mailbox:     {decision.mailbox}")
    lines.append("why:")
    lines.extend(f"  {line}" for line in decision.why)
    return "\n".join(lines)
