"""Opening hours, presence and working days in Europe/Amsterdam time.

Rules: a day's hours come from its dated exception if there is one, else it is closed on a Dutch public
holiday, else the weekly hours apply. All functions take aware datetimes and return aware datetimes in
Europe/Amsterdam. Comparisons happen in UTC: two aware datetimes sharing one tzinfo compare by wall clock,
which is wrong across a DST change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from .model import Hours, Interval, Line, Location

TZ = ZoneInfo("Europe/Amsterdam")

# How far ahead next_* looks before concluding "never": a year plus a margin for dated exceptions.
HORIZON_DAYS = 400


@lru_cache(maxsize=32)
def _holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("NL", years=year, language="nl"))


def holiday_name(day: date) -> str | None:
    """The Dutch name of the public holiday on ``day``, or None."""
    return _holidays(day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def intervals_on(hours: Hours, day: date) -> tuple[Interval, ...]:
    if day in hours.exceptions:
        return hours.exceptions[day]
    if holiday_name(day) is not None:
        return ()
    return hours.weekly.get(day.weekday(), ())


def _local(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return at.astimezone(TZ)


def _at_local(day: date, wall: time) -> datetime:
    """Wall-clock time on ``day`` as an aware Amsterdam datetime; a time skipped by DST moves forward."""
    return datetime.combine(day, wall, tzinfo=TZ).astimezone(UTC).astimezone(TZ)


def is_open(hours: Hours, at: datetime) -> bool:
    local = _local(at)
    now = local.time().replace(tzinfo=None)
    return any(iv.start <= now < iv.end for iv in intervals_on(hours, local.date()))


def next_open(hours: Hours, after: datetime, until: date | None = None) -> datetime | None:
    """The first opening strictly after ``after`` (not later than day ``until``), or None."""
    after_utc = after.astimezone(UTC)
    first = _local(after).date()
    last = first + timedelta(days=HORIZON_DAYS)
    if until is not None:
        last = min(last, until)
    day = first
    while day <= last:
        for iv in sorted(intervals_on(hours, day), key=lambda iv: iv.start):
            start = _at_local(day, iv.start)
            if start.astimezone(UTC) > after_utc:
                return start
        day += timedelta(days=1)
    return None


def is_present(location: Location, at: datetime) -> bool:
    """Is the dienstverlener at the counter at ``at``?"""
    return is_open(location.presence, at)


def present_until(location: Location, at: datetime) -> datetime | None:
    """End of the shift the dienstverlener is in at ``at`` (its interval, where a later one may follow
    straight after), or None when nobody is at the counter."""
    local = _local(at)
    now = local.time().replace(tzinfo=None)
    for iv in intervals_on(location.presence, local.date()):
        if iv.start <= now < iv.end:
            return _at_local(local.date(), iv.end)
    return None


def next_shift_start(location: Location, after: datetime) -> datetime | None:
    """Start of the dienstverlener's next shift strictly after ``after`` (None: no shift planned)."""
    return next_open(location.presence, after)


def line_valid_on(line: Line, day: date) -> bool:
    return (line.valid_from is None or line.valid_from <= day) and (
        line.valid_until is None or day <= line.valid_until
    )


def line_open(line: Line, at: datetime) -> bool:
    return line_valid_on(line, _local(at).date()) and is_open(line.hours, at)


def next_line_open(line: Line, after: datetime) -> datetime | None:
    """The line's next opening strictly after ``after`` within its validity period, or None."""
    start = after
    if line.valid_from is not None and _local(after).date() < line.valid_from:
        # Opening at the very start of the first valid day still counts as "after".
        start = datetime.combine(line.valid_from, datetime.min.time(), tzinfo=TZ) - timedelta(microseconds=1)
        start = max(start, after)
    return next_open(line.hours, start, until=line.valid_until)


def add_working_days(start: datetime, n: int) -> datetime:
    """``start`` moved ``n`` working days ahead at the same wall-clock time (weekends and holidays skipped)."""
    if n < 0:
        raise ValueError("n must be zero or more")
    local = _local(start)
    day = local.date()
    remaining = n
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return _at_local(day, local.time())
