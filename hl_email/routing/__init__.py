"""Routing rules: who is asked for a request, who may answer, under which policy and timers; pure."""

from ..errors import NoRouteError, RouteError
from .predicate import Predicate, parse_predicate
from .resolve import RouteDecision, Router, explain, may_answer, resolve_route
from .rules import (
    Duration,
    EscalationStep,
    Groups,
    RouteConfig,
    RoutingConfig,
    check_groups,
    format_duration,
    gateway_routes_check,
    parse_duration,
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
