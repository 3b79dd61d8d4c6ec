"""Reminders on the morning of the deadline and the 07:00 overdue overview, in Europe/Amsterdam time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handovers.helpers import UWV_SMS, link_path

TZ = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)  # deadline: Wednesday 2 December (2 working days)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def _tick(now):
    from routing.extensions import get_redis
    from workers.handover_jobs import tick

    return tick(get_redis(), now)


def test_a_reminder_with_a_fresh_link_on_the_morning_of_the_deadline(app, make_handover, sent):
    [handover] = make_handover(now=MONDAY)
    assert handover.deadline.isoformat() == "2026-12-02"
    assert _tick(at(1, 7, 30))["reminders"] == 0  # Tuesday: not yet
    assert _tick(at(2, 6, 55))["reminders"] == 0  # Wednesday, before 07:00
    assert _tick(at(2, 7, 5))["reminders"] == 1
    assert _tick(at(2, 7, 10))["reminders"] == 0  # once
    reminder = sent[-1]
    assert reminder["kind"] == "handover_reminder" and reminder["recipient"].sms == UWV_SMS
    assert reminder["context"]["reference"] == handover.reference
    assert link_path(reminder) != link_path(sent[0])


def test_not_reached_brings_a_reminder_the_next_working_day(app, redis, make_handover, sent):
    from routing.handovers import service

    [handover] = make_handover(now=MONDAY)
    # Friday: not reached; next working day is Monday 7 December.
    _tick(at(2, 7, 5))
    service.record_attempt(redis, handover, "not_reached", "test", at(4, 14))
    assert _tick(at(5, 9))["reminders"] == 0  # Saturday
    before = len(sent)
    assert _tick(at(7, 7, 1))["reminders"] == 1
    assert [n["kind"] for n in sent[before:]] == ["handover_reminder", "handover_overdue_overview"]


def test_overdue_overview_once_per_working_day_per_partner_channel(app, make_handover, sent):
    made = make_handover(["uwv", "svb"], now=MONDAY) + make_handover("uwv", now=MONDAY)
    assert _tick(at(2, 8))["overviews"] == 0  # deadline day: not overdue yet
    result = _tick(at(3, 7, 1))
    assert result["overviews"] == 2
    assert _tick(at(3, 9))["overviews"] == 0
    overviews = {n["recipient"].sms: n["context"] for n in sent if n["kind"] == "handover_overdue_overview"}
    uwv = sorted(h.reference for h in made if h.partner == "uwv")
    assert overviews[UWV_SMS] == {"count": 2, "references": uwv, "link": "http://localhost/overdrachten"}
    assert _tick(at(5, 7, 30))["overviews"] == 0  # Saturday
    assert _tick(at(7, 7, 30))["overviews"] == 2  # Monday again


def test_finished_handovers_get_no_reminders(app, redis, make_handover, sent):
    from routing.handovers import service

    [handover] = make_handover(now=MONDAY)
    service.record_outcome(redis, handover, "solved", "test", at(1, 10))
    assert _tick(at(2, 7, 5)) == {"reminders": 0, "overviews": 0, "purged": 0}
    assert _tick(at(3, 7, 5)) == {"reminders": 0, "overviews": 0, "purged": 0}


def test_the_tick_is_registered_with_the_scheduler():
    from workers import cron, queues
    from workers.handover_jobs import handover_tick

    assert (handover_tick, queues.JOBS, 300) in cron.SCHEDULE


def test_made_on_its_deadline_day_after_seven_no_separate_reminder(app, make_handover, sent):
    [handover] = make_handover(now=at(2, 10), deadline=at(2, 10).date())
    assert handover.deadline.isoformat() == "2026-12-02"
    assert _tick(at(2, 23, 30))["reminders"] == 0
    assert _tick(at(3, 7, 5)) == {"reminders": 0, "overviews": 1, "purged": 0}
