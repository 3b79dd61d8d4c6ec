"""A partner's team phone does not buzz on a Sunday evening: a handover made outside office hours reaches the
partner at the start of the next working day (HANDOVER_NOTICE_OFFICE_HOURS)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handovers.helpers import LOCATION

TZ = ZoneInfo("Europe/Amsterdam")
SUNDAY_EVENING = datetime(2026, 11, 29, 19, 30, tzinfo=TZ)
MONDAY_7 = datetime(2026, 11, 30, 7, 0, tzinfo=TZ)


@pytest.fixture
def app_config(redis_url: str) -> dict:
    return {"HANDOVER_NOTICE_OFFICE_HOURS": True}


@pytest.mark.parametrize(("made", "reaches"), [
    (SUNDAY_EVENING, MONDAY_7),
    (datetime(2026, 11, 30, 6, 15, tzinfo=TZ), MONDAY_7),  # a working day, before 07:00
    (datetime(2026, 11, 30, 10, 0, tzinfo=TZ), None),  # office hours: at once
    (datetime(2026, 12, 4, 18, 0, tzinfo=TZ), datetime(2026, 12, 7, 7, 0, tzinfo=TZ)),  # Friday 18:00: Monday
    # Christmas Eve evening: not on Christmas (Friday), nor the weekend after, but on Monday 28 December.
    (datetime(2026, 12, 24, 20, 0, tzinfo=TZ), datetime(2026, 12, 28, 7, 0, tzinfo=TZ)),
])
def test_when_a_notice_made_then_reaches_the_partner(app, made, reaches):
    from routing.handovers import notify

    assert notify.partner_hours_from(made) == (reaches.astimezone(UTC) if reaches else None)


def test_a_handover_made_on_sunday_evening_reaches_the_partner_on_monday_morning(
        app, client, login, redis, sent, monkeypatch):
    from routing.handovers import views
    from routing.notices import service as notices
    from routing.store import notices as notice_store

    monkeypatch.setattr(views, "_now", lambda: SUNDAY_EVENING.astimezone(UTC))
    login(client, "staff", locations=(LOCATION,))
    page = client.post("/overdrachten/nieuw", data={
        "partner": "uwv", "phone": "06 12345678", "consent": "yes", "urgency": "normal"}, follow_redirects=True)
    assert ("Buiten kantoortijd sturen wij de organisatie geen bericht. Zij krijgt het bericht met een link "
            "maandag 30 november om 7:00.") in page.get_data(as_text=True)
    [notice] = sent
    assert notice["options"]["not_before"] == MONDAY_7.astimezone(UTC)
    # Nothing for the sweeper to hand out again before then; the send job finds it not due, and takes it then.
    assert notice_store.due_for_sweep(redis, MONDAY_7.astimezone(UTC)) == []
    [notice_id] = notice_store.due_for_sweep(redis, datetime(2026, 12, 1, tzinfo=UTC))
    assert notices.claim(redis, notice_id, SUNDAY_EVENING.astimezone(UTC)) is None
    assert notices.claim(redis, notice_id, MONDAY_7.astimezone(UTC)) is not None
