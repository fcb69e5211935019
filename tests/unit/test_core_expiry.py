"""Pure decisions of a request's end without a decision: timeout, undeliverable, schedule."""

from __future__ import annotations

from dataclasses import dataclass

from hl_email.core.durations import reminder_deferred_until, schedule
from hl_email.core.expiry import timed_out, undeliverable


@dataclass
class R:
    address: str
    state: str
    error: str | None = None


def test_timeout_fails_closed():
    status, state = timed_out("function_call", {"requested_at": "x"}, 3600, 0.0)
    assert state == "done" and status["approved"] is False and status["timed_out"]
    assert "timed out (fail closed)" in status["comment"]
    status, state = timed_out("human_contact", {}, 60, 0.0)
    assert state == "failed" and "timed out" in status["error"]


def test_undeliverable_only_when_nobody_is_left():
    route = {"policy": "any", "quorum": 1}
    two = [R("a@x.test", "failed", "550 no such user"), R("b@x.test", "sent")]
    assert undeliverable("function_call", "pending", {}, route, two, 0.0) is None
    one = [R("a@x.test", "failed", "550 no such user")]
    status, state = undeliverable("function_call", "pending", {}, route, one, 0.0)
    assert state == "failed" and "a@x.test: 550 no such user" in status["error"]
    assert undeliverable("function_call", "done", {}, route, one, 0.0) is None


def test_schedule_and_working_hours():
    route = {"reminders": [60.0], "escalations": [{"after": 120.0}], "timeout": 300.0}
    assert [(k, due) for k, due, _ in schedule(route, 1000.0)] == [
        ("reminder", 1060.0),
        ("escalation", 1120.0),
        ("timeout", 1300.0),
    ]
    assert reminder_deferred_until({}, 1000.0) is None
    # Monday 1970-01-05 00:00 UTC is outside 09:00-17:00: the reminder waits until 09:00.
    monday = 4 * 86400.0
    assert reminder_deferred_until({"working_hours": "mon-fri 09:00-17:00"}, monday) == (
        monday + 9 * 3600
    )
