"""How directory values read on a page: phone numbers, moments and opening hours, in the user's language."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import phonenumbers
from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _

from routing import moments

from .model import Hours
from .schedule import TZ


def phone_display(number: str | None) -> str:
    """"+31880000104" → "088 000 0104" (how staff dial it); anything unparsable as it is."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def when_display(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return _("niet gepland")
    local = moment.astimezone(TZ)
    today = (now or datetime.now(UTC)).astimezone(TZ).date()
    if local.date() == today:
        return _("vandaag om %(time)s", time=moments.clock_text(moment))
    if local.date() == today + timedelta(days=1):
        return _("morgen om %(time)s", time=moments.clock_text(moment))
    return moments.moment_text(moment)


def day_names(days: Iterable[int]) -> str:
    names = get_day_names("wide", locale=get_locale())
    return ", ".join(names[d] for d in sorted(days))


def weekly_rows(hours: Hours) -> list[tuple[str, str]]:
    """[(day name, "08:00-17:00, ...")] for Monday to Sunday; closed days say so."""
    names = get_day_names("wide", locale=get_locale())
    rows = []
    for day in range(7):
        intervals = hours.weekly.get(day, ())
        text = ", ".join(f"{iv.start:%H:%M}-{iv.end:%H:%M}" for iv in intervals) or _("gesloten")
        rows.append((names[day], text))
    return rows
