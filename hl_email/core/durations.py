"""When a request's reminders, escalations and timeout fall. Pure: time comes in as arguments."""

from __future__ import annotations

from typing import Any

from ..hours import next_working_time, parse_tz, parse_working_hours

__all__ = ["in_working_hours", "reminder_deferred_until", "schedule"]


def in_working_hours(route: dict[str, Any], ts: float) -> float:
    """`ts`, or the start of the route's next working hours when `ts` is outside them."""
    if not route.get("working_hours"):
        return ts
    try:
        hours = parse_working_hours(route["working_hours"])
        tz = parse_tz(route.get("tz") or "UTC")
    except ValueError:
        return ts  # a stored route from an older config: remind rather than never
    return next_working_time(ts, hours, tz)


def reminder_deferred_until(route: dict[str, Any], now: float) -> float | None:
    """A reminder due `now` outside working hours waits for them: when; None: send it now."""
    due = in_working_hours(route, now)
    return due if due > now else None


def schedule(route: dict[str, Any], now: float) -> list[tuple[str, float, dict[str, Any]]]:
    """The timers of a request created `now`: (kind, due, payload) for each reminder,
    escalation step and the timeout."""
    timers: list[tuple[str, float, dict[str, Any]]] = [
        ("reminder", in_working_hours(route, now + delay), {"n": i + 1})
        for i, delay in enumerate(route.get("reminders") or [])
    ]
    timers += [("escalation", now + step["after"], step) for step in route.get("escalations") or []]
    if route.get("timeout"):
        timers.append(("timeout", now + route["timeout"], {}))
    return timers
