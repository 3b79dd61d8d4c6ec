"""How days and times read on every page: one way, on Amsterdam's clock, in the page's language.

A day is "maandag 30 november" (the year only when it is not this year: "maandag 4 januari 2027"); a time is
"9:00", as people write it in running text; a moment is "maandag 30 november om 9:00". A table column that
lists many days may use the short day, "ma 30 nov". The audit log alone keeps its exact record, to the second
(`exact_text`). Pages use the Jinja filters `day`, `short_day` and `moment`; code the functions.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date
from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _

from routing.directory.schedule import TZ


def day_text(day: date | datetime | None, locale: str | None = None) -> str:
    """'maandag 30 november'; `locale` for text stored for later readers (default: the page's language)."""
    if day is None:
        return ""
    return _spelled(_local_day(day), locale or str(get_locale()), False, datetime.now(TZ).year)


def short_day(day: date | datetime | None) -> str:
    """'ma 30 nov', for a column of days."""
    if day is None:
        return ""
    return _spelled(_local_day(day), str(get_locale()), True, datetime.now(TZ).year)


def clock_text(moment: datetime) -> str:
    """'9:00' on Amsterdam's clock."""
    local = moment.astimezone(TZ)
    return f"{local.hour}:{local.minute:02d}"


def moment_text(moment: datetime | str | None) -> str:
    """'maandag 30 november om 9:00'; an ISO 8601 string (as stored) is read first."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = _parse(moment)
    return _("%(day)s om %(time)s", day=day_text(moment), time=clock_text(moment))


def exact_text(moment: datetime | str) -> str:
    """'30-11-2026 10:12:03': the audit log's record of when, to the second."""
    if isinstance(moment, str):
        moment = _parse(moment)
    return moment.astimezone(TZ).strftime("%d-%m-%Y %H:%M:%S")


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _local_day(day: date | datetime) -> date:
    return day.astimezone(TZ).date() if isinstance(day, datetime) else day


@lru_cache(maxsize=512)
def _spelled(day: date, locale: str, short: bool, this_year: int) -> str:
    """Babel takes a while to spell a date, and pages name only a few days."""
    pattern = "EEE d MMM" if short else "EEEE d MMMM"
    if day.year != this_year:
        pattern += " y"
    return format_date(day, pattern, locale=locale)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["day"] = day_text
    app.jinja_env.filters["short_day"] = short_day
    app.jinja_env.filters["moment"] = moment_text
