"""The scheduler's heartbeat: when the scheduler process (`python -m workers.cron`) last went round its loop.

The scheduler writes it on every tick (at least once a minute); `/metrics` reports it, so an alert can see
that periodic work (the notice sweeper, releases, reminders, the purge) stopped. `/readyz` does not look at
it: the web is ready without a scheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from routing.store.keys import PREFIX

HEARTBEAT = PREFIX + "scheduler:heartbeat"
# Long enough to still say when a dead scheduler last ticked; the key is gone a day after the last tick.
HEARTBEAT_TTL_SECONDS = 86_400


def beat(r: redis.Redis, now: datetime) -> None:
    r.set(HEARTBEAT, now.astimezone(UTC).isoformat(timespec="microseconds"), ex=HEARTBEAT_TTL_SECONDS)


def last_beat(r: redis.Redis) -> datetime | None:
    raw = r.get(HEARTBEAT)
    return datetime.fromisoformat(raw.decode()) if raw else None
