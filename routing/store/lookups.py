"""Anonymous counts of professional lines shown to staff, per day, location and partner.

Nothing about who looked or what was typed: a hash per day, field "location|partner", value a count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import redis

from routing.store.keys import PREFIX

LOOKUPS = PREFIX + "lookups:{day}"
# Kept for the dashboard's year-on-year view, then dropped by Redis.
TTL_SECONDS = 400 * 24 * 3600


def count_shown(r: redis.Redis, day: date, location_id: str, partner_ids: Iterable[str]) -> None:
    """Add one to each (location, partner) whose line was shown on ``day`` (local date)."""
    partner_ids = list(partner_ids)
    if not partner_ids:
        return
    key = LOOKUPS.format(day=day.isoformat())
    with r.pipeline(transaction=False) as pipe:
        for partner_id in partner_ids:
            pipe.hincrby(key, f"{location_id}|{partner_id}", 1)
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()


def counts_on(r: redis.Redis, day: date) -> dict[tuple[str, str], int]:
    """{(location_id, partner_id): count} for one day."""
    raw = r.hgetall(LOOKUPS.format(day=day.isoformat()))
    out: dict[tuple[str, str], int] = {}
    for field, value in raw.items():
        location_id, _, partner_id = field.decode().partition("|")
        out[(location_id, partner_id)] = int(value)
    return out
