"""Working hours for reminders: "remind after 1h" should not fire at 3 am. Pure: time comes in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["WorkingHours", "next_working_time", "parse_working_hours", "parse_tz"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(
    r"\s*(?:(?P<d1>[a-z]{3})(?:\s*-\s*(?P<d2>[a-z]{3}))?\s+)?"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*",
    re.I,
)


@dataclass(frozen=True)
class WorkingHours:
    """[start, end) minutes after local midnight, on the given weekdays (0 = Monday)."""

    start: int
    end: int
    days: frozenset[int]
    text: str

    def contains(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return local.weekday() in self.days and self.start <= minute < self.end


def parse_working_hours(text: str) -> WorkingHours:
    """`"09:00-18:00"` (every day) or `"mon-fri 09:00-18:00"`; ValueError saying what is wrong."""
    match = _SPEC.fullmatch(text or "")
    if match is None:
        raise ValueError(
            f"working_hours {text!r} is not like '09:00-18:00' or 'mon-fri 09:00-18:00'"
        )
    h1, m1, h2, m2 = (int(match[k]) for k in ("h1", "m1", "h2", "m2"))
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f"working_hours {text!r}: not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= end:
        raise ValueError(
            f"working_hours {text!r}: the start must be before the end (no overnight ranges)"
        )
    days = frozenset(range(7))
    if match["d1"]:
        try:
            first = _DAYS.index(match["d1"].lower())
            last = _DAYS.index((match["d2"] or match["d1"]).lower())
        except ValueError:
            raise ValueError(f"working_hours {text!r}: days are mon, tue, … sun") from None
        days = frozenset((first + i) % 7 for i in range((last - first) % 7 + 1))
    return WorkingHours(start, end, days, text.strip())


def parse_tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"tz {name!r} is not a known time zone (e.g. 'Europe/Berlin')") from None


def next_working_time(ts: float, hours: WorkingHours, tz: ZoneInfo) -> float:
    """`ts` itself when it falls in working hours, else the start of the next working period."""
    local = datetime.fromtimestamp(ts, tz)
    if hours.contains(local):
        return ts
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(8):
        candidate_day = (day + timedelta(days=offset)).replace(tzinfo=None)
        start = datetime(
            candidate_day.year,
            candidate_day.month,
            candidate_day.day,
            hours.start // 60,
            hours.start % 60,
            tzinfo=tz,
        )
        if candidate_day.weekday() in hours.days and start.timestamp() > ts:
            return start.timestamp()
    return ts  # unreachable with at least one day; never lose the reminder
