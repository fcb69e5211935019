"""Routing rules: who is asked for a request, who may answer, under which policy and timers; pure."""

from ..errors import NoRouteError, RouteError
from .rules import (
    Duration,
    EscalationStep,
    Groups,
    Predicate,
    RouteConfig,
    RouteDecision,
    Router,
    RoutingConfig,
    check_groups,
    explain,
    format_duration,
    gateway_routes_check,
    may_answer,
    parse_duration,
    parse_predicate,
    resolve_route,
)

__all__ = [
    "Duration",
    "EscalationStep",
    "Groups",
    "NoRouteError",
    "Predicate",
    "RouteConfig",
    "RouteDecision",
    "RouteError",
    "Router",
    "RoutingConfig",
    "check_groups",
    "explain",
    "format_duration",
    "gateway_routes_check",
    "may_answer",
    "parse_duration",
    "parse_predicate",
    "resolve_route",
]
