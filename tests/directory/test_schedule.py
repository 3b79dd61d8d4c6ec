"""Presence, line hours and working days in Europe/Amsterdam, across DST, holidays and exceptions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.directory import schedule
from routing.directory.model import Hours, Interval

TZ = schedule.TZ


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def test_amsterdam_office_is_staffed_two_days_a_week(demo):
    centrum = demo.locations["amsterdam-centrum"]
    assert schedule.is_present(centrum, local(2026, 12, 1, 10, 0))  # Tuesday
    assert not schedule.is_present(centrum, local(2026, 12, 1, 12, 45))  # lunch
    assert not schedule.is_present(centrum, local(2026, 12, 2, 10, 0))  # Wednesday
    assert schedule.is_present(centrum, local(2026, 12, 3, 16, 29))  # Thursday
    assert not schedule.is_present(centrum, local(2026, 12, 3, 16, 30))  # end is exclusive


def test_presence_accepts_any_timezone(demo):
    centrum = demo.locations["amsterdam-centrum"]
    assert schedule.is_present(centrum, datetime(2026, 12, 1, 9, 30, tzinfo=UTC))  # 10:30 in Amsterdam
    with pytest.raises(ValueError):
        schedule.is_present(centrum, datetime(2026, 12, 1, 10, 0))


def test_kings_day_is_closed_and_next_shift_is_the_day_after(demo):
    enschede = demo.locations["enschede"]
    kings_day = local(2026, 4, 27, 10, 0)  # Monday
    assert schedule.holiday_name(kings_day.date()) == "Koningsdag"
    assert not schedule.is_present(enschede, kings_day)
    assert schedule.next_shift_start(enschede, local(2026, 4, 26, 12, 0)) == local(2026, 4, 28, 9, 0)


def test_christmas_pushes_the_next_shift_past_the_holidays(demo):
    utrecht = demo.locations["utrecht"]
    assert schedule.next_shift_start(utrecht, local(2026, 12, 24, 17, 30)) == local(2026, 12, 28, 9, 0)


def test_a_dated_exception_opens_a_public_holiday(demo):
    enschede = demo.locations["enschede"]  # Good Friday 2026: mornings only, by exception
    assert schedule.holiday_name(date(2026, 4, 3)) is not None
    assert schedule.is_present(enschede, local(2026, 4, 3, 10, 0))
    assert not schedule.is_present(enschede, local(2026, 4, 3, 14, 0))


def test_a_dated_exception_closes_a_normal_day(demo):
    centrum = demo.locations["amsterdam-centrum"]  # Thursday 24 December 2026: closed by exception
    assert not schedule.is_present(centrum, local(2026, 12, 24, 10, 0))
    assert schedule.next_shift_start(centrum, local(2026, 12, 22, 17, 0)) == local(2026, 12, 29, 9, 0)


def test_next_shift_is_strictly_after_and_includes_the_afternoon(demo):
    centrum = demo.locations["amsterdam-centrum"]
    assert schedule.next_shift_start(centrum, local(2026, 12, 1, 9, 0)) == local(2026, 12, 1, 13, 0)
    assert schedule.next_shift_start(centrum, local(2026, 12, 1, 8, 59)) == local(2026, 12, 1, 9, 0)


def test_next_shift_across_spring_forward(demo):
    centrum = demo.locations["amsterdam-nieuw-west"]  # Monday and Wednesday
    # Clocks go forward on Sunday 29 March 2026; Monday 09:00 is then 07:00 UTC, not 08:00.
    start = schedule.next_shift_start(centrum, local(2026, 3, 27, 18, 0))
    assert start.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert start.tzinfo is TZ


def test_next_shift_across_fall_back(demo):
    centrum = demo.locations["amsterdam-nieuw-west"]
    # Clocks go back on Sunday 25 October 2026; Monday 09:00 is then 08:00 UTC.
    start = schedule.next_shift_start(centrum, local(2026, 10, 24, 12, 0))
    assert start.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_a_shift_in_the_skipped_hour_starts_when_the_clock_resumes(demo):
    night = dataclasses.replace(
        demo.locations["utrecht"],
        presence=Hours(weekly={6: (Interval(time(2, 30), time(4, 0)),)}),
    )
    start = schedule.next_shift_start(night, local(2026, 3, 28, 12, 0))
    assert start.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 summer time


def test_fall_back_compares_in_utc_not_wall_clock(demo):
    early = dataclasses.replace(
        demo.locations["utrecht"],
        presence=Hours(weekly={6: (Interval(time(2, 15), time(2, 45)),)}),
    )
    # 02:00-03:00 happens twice on 25 October 2026. A start counts once, at its first pass (00:15 UTC);
    # at the second pass's 02:10 (01:10 UTC) it is over, so the next start is a week later.
    second_pass = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    start = schedule.next_shift_start(early, second_pass)
    assert start.astimezone(TZ).date() == date(2026, 11, 1)


def test_no_presence_means_no_next_shift(demo):
    nobody = dataclasses.replace(demo.locations["utrecht"], presence=Hours())
    assert schedule.next_shift_start(nobody, local(2026, 12, 1, 9, 0)) is None


def test_line_hours_and_validity(demo):
    line = demo.locations["utrecht"].lines["svb"]  # Mon-Fri 08:30-17:00, valid from 1 February 2023
    assert schedule.line_open(line, local(2026, 12, 1, 8, 30))
    assert not schedule.line_open(line, local(2026, 12, 1, 17, 0))
    assert not schedule.line_open(line, local(2023, 1, 31, 10, 0))  # before it existed
    assert schedule.next_line_open(line, local(2023, 1, 20, 10, 0)) == local(2023, 2, 1, 8, 30)
    assert schedule.next_line_open(line, local(2026, 12, 4, 17, 0)) == local(2026, 12, 7, 8, 30)
    ended = dataclasses.replace(line, valid_until=date(2026, 12, 4))
    assert schedule.next_line_open(ended, local(2026, 12, 4, 17, 0)) is None


def test_lines_close_on_public_holidays(demo):
    line = demo.locations["utrecht"].lines["svb"]
    assert not schedule.line_open(line, local(2026, 12, 25, 10, 0))
    assert schedule.next_line_open(line, local(2026, 12, 24, 17, 0)) == local(2026, 12, 28, 8, 30)


def test_working_days():
    assert schedule.is_working_day(date(2026, 12, 1))
    assert not schedule.is_working_day(date(2026, 12, 5))  # Saturday
    assert not schedule.is_working_day(date(2026, 4, 27))  # Koningsdag
    assert not schedule.is_working_day(date(2026, 12, 25))  # Christmas


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (local(2026, 12, 1, 15, 0), 2, local(2026, 12, 3, 15, 0)),
        (local(2026, 12, 4, 15, 0), 2, local(2026, 12, 8, 15, 0)),  # over a weekend
        (local(2026, 4, 24, 15, 0), 2, local(2026, 4, 29, 15, 0)),  # over a weekend and Koningsdag
        (local(2026, 12, 24, 12, 0), 2, local(2026, 12, 29, 12, 0)),  # over Christmas
        (local(2026, 12, 5, 10, 0), 1, local(2026, 12, 7, 10, 0)),  # from a Saturday
        (local(2026, 12, 1, 15, 0), 0, local(2026, 12, 1, 15, 0)),
    ],
)
def test_add_working_days(start, n, expected):
    assert schedule.add_working_days(start, n) == expected


def test_add_working_days_keeps_wall_clock_across_dst():
    deadline = schedule.add_working_days(local(2026, 3, 27, 10, 0), 2)  # Friday, winter time
    assert deadline.astimezone(UTC) == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)  # Tuesday 10:00 summer time


@settings(max_examples=300, deadline=None)
@given(at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(TZ)))
def test_next_shift_is_after_and_present(demo, at):
    for location_id in ("amsterdam-centrum", "enschede", "nijmegen"):
        location = demo.locations[location_id]
        start = schedule.next_shift_start(location, at)
        assert start is not None and start > at
        assert schedule.is_present(location, start)
        assert start.tzinfo is TZ


@settings(max_examples=300, deadline=None)
@given(at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(TZ)),
       n=st.integers(min_value=1, max_value=10))
def test_add_working_days_counts_exactly_n_working_days(at, n):
    deadline = schedule.add_working_days(at, n)
    assert schedule.is_working_day(deadline.date())
    days = [at.date() + timedelta(days=k) for k in range(1, (deadline.date() - at.date()).days + 1)]
    assert sum(schedule.is_working_day(d) for d in days) == n
    assert deadline.time() == at.astimezone(TZ).time() or deadline.dst() != at.dst()  # skipped hour moves
