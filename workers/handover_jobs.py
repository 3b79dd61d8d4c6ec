"""Scheduled handover work: the reminder on the morning of the deadline, the 07:00 overdue overview, and
the retention purge of personal fields.

`handover_tick` runs every few minutes (workers/cron.py) and decides itself, in Europe/Amsterdam time,
whether it is a working day and past the reminder hour; Redis keys make each reminder and each day's
overview per partner channel happen once, however often the tick runs or retries.
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis
from flask import current_app

from routing.directory import schedule
from routing.extensions import get_redis
from routing.handovers import reminders, retention
from workers.tracing import traced

TICK_SECONDS = 300


def tick(r: redis.Redis, now: datetime) -> dict[str, int]:
    """Counts of what this tick did: reminders and overviews sent, handovers whose personal fields went."""
    done = {"reminders": 0, "overviews": 0, "purged": retention.purge_due(r, now)}
    local = now.astimezone(schedule.TZ)
    if schedule.is_working_day(local.date()) and local.hour >= int(current_app.config["HANDOVER_REMINDER_HOUR"]):
        done.update(reminders=reminders.send_due_reminders(r, now), overviews=reminders.send_overdue_overviews(r, now))
    return done


@traced
def handover_tick() -> dict[str, int]:
    return tick(get_redis(), datetime.now(UTC))
