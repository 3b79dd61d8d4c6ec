"""Scheduled callback work: release the queue at the start of a shift, and the retention purge.

Both run every minute (workers/cron.py) and decide themselves whether there is work: release only opens
requests whose release time has passed at a location that is staffed right now; the purge only acts on
what is past its retention. Both return counts only, never personal data.
"""

from __future__ import annotations

import logging

from routing.callbacks import service
from routing.extensions import get_redis
from workers.tracing import traced

log = logging.getLogger(__name__)

RELEASE_SECONDS = 60
PURGE_SECONDS = 3600


@traced
def release_waiting() -> dict[str, int]:
    released = service.release_waiting(get_redis(), now=service.clock())
    if released:
        log.info("callback requests released per location: %s", released)
    return released


@traced
def purge_expired() -> dict[str, int]:
    counts = service.purge_expired(get_redis(), now=service.clock())
    log.info("callback retention: %(expired)s expired, %(personal_deleted)s personal records deleted", counts)
    return counts
