"""Working hours: parsing and the next working moment, across days, weekends and DST."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hl_email.config import ConfigError, load_config
from hl_email.hours import next_working_time, parse_tz, parse_working_hours

BERLIN = ZoneInfo("Europe/Berlin")


def at(*args: int) -> float:
    return datetime(*args, tzinfo=BERLIN).timestamp()


def test_parse():
    every = parse_working_hours("09:00-18:00")
    assert (every.start, every.end, every.days) == (540, 1080, frozenset(range(7)))
    assert parse_working_hours("Mon-Fri 08:30 - 17:00").days == frozenset(range(5))
    assert parse_working_hours("sat-mon 10:00-12:00").days == frozenset({5, 6, 0})
    for bad in ("9-18", "18:00-09:00", "25:00-26:00", "xyz 09:00-10:00", ""):
        with pytest.raises(ValueError):
            parse_working_hours(bad)
    with pytest.raises(ValueError, match="not a known time zone"):
        parse_tz("Mars/Olympus")


def test_next_working_time():
    hours = parse_working_hours("mon-fri 09:00-18:00")
    inside = at(2026, 1, 7, 12, 0)  # Wednesday noon
    assert next_working_time(inside, hours, BERLIN) == inside
    assert next_working_time(at(2026, 1, 7, 6, 0), hours, BERLIN) == at(2026, 1, 7, 9, 0)
    assert next_working_time(at(2026, 1, 7, 18, 0), hours, BERLIN) == at(2026, 1, 8, 9, 0)
    assert next_working_time(at(2026, 1, 9, 20, 0), hours, BERLIN) == at(2026, 1, 12, 9, 0)
    # The night the clocks go forward (2026-03-29) still lands on 09:00 local time.
    assert next_working_time(at(2026, 3, 27, 19, 0), hours, BERLIN) == at(2026, 3, 30, 9, 0)


def test_route_config_checks_working_hours_and_tz():
    route = {"name": "r", "to": ["a@corp.test"], "working_hours": "09:00-18:00", "tz": "UTC"}
    assert load_config(None, routes=[route]).routes[0].working_hours == "09:00-18:00"
    with pytest.raises(ConfigError, match="working_hours"):
        load_config(None, routes=[{**route, "working_hours": "late"}])
    with pytest.raises(ConfigError, match="time zone"):
        load_config(None, routes=[{**route, "tz": "Nowhere/City"}])
