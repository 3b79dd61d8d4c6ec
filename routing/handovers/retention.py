"""Retention: a handover's personal fields are deleted when they are due (HANDOVER_RETENTION_DAYS after it
is done, HANDOVER_MAX_RETENTION_DAYS after it was made at the latest). The anonymous record stays.

Each deletion is counted and audited (activity "retention"); a Redis TTL a day later is the backstop.
"""

from __future__ import annotations

from datetime import datetime

import redis

from routing.privacy import audit
from routing.store import handovers as store


def purge_due(r: redis.Redis, now: datetime) -> int:
    """Delete what is due; returns how many handovers lost their personal fields."""
    purged = 0
    for reference in store.due_for_purge(r, now.timestamp()):
        phone = store.purge(r, reference)
        if phone is None:
            continue  # the backstop TTL was first
        audit.record(r, action="handover.personal.delete", activity="retention", actor="job:retention",
                     subject=phone, reference=reference)
        purged += 1
    return purged
