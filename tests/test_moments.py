"""Days and times read the same way on every page (routing.moments)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import refresh

from routing import moments
from routing.directory.schedule import TZ


def test_a_day_a_time_and_a_moment_on_amsterdams_clock(app):
    this_year = datetime.now(TZ).year
    with app.test_request_context("/?lang=nl"):
        # 23:30 UTC on 31 December is 00:30 on 1 January in Amsterdam: that day, and the year when it is another.
        moment = datetime(this_year - 1, 12, 31, 23, 30, tzinfo=UTC)
        assert moments.clock_text(moment) == "0:30"
        assert moments.day_text(moment) == moments.day_text(date(this_year, 1, 1))
        assert str(this_year) not in moments.day_text(moment)
        assert moments.day_text(date(this_year + 1, 1, 4)).endswith(f"4 januari {this_year + 1}")
        assert moments.moment_text(moment.isoformat()) == f"{moments.day_text(date(this_year, 1, 1))} om 0:30"
        assert moments.short_day(date(this_year, 11, 30)).startswith(
            ("ma ", "di ", "wo ", "do ", "vr ", "za ", "zo ")) and moments.short_day(date(this_year, 11, 30)).endswith(
            "30 nov")
        assert moments.exact_text("2026-11-30T09:12:03.120Z") == "30-11-2026 10:12:03"
        assert moments.moment_text(None) == "" and moments.day_text(None) == ""
    with app.test_request_context("/?lang=en"):
        refresh()  # the test's app context remembers the locale of the first request
        assert moments.moment_text(datetime(2026, 11, 30, 8, 5, tzinfo=UTC)).endswith("30 November at 9:05")
