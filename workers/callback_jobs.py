"""Scheduled callback work: release the queue at the start of a shift, tell arrivals a notice window held
back, and the retention purge.

They run every minute or hour (workers/cron.py) and decide themselves whether there is work: release opens the
waiting requests of a location that is staffed right now (at their release time, or sooner when the location is
staffed before it) and moves those due at an unstaffed one to its next shift; the arrivals job only
tells locations whose window is over and that had arrivals since; the purge only acts on what is past its
retention. All return counts only, never personal data.
"""

from __future__ import annotations

import logging

from routing.callbacks import service
from routing.extensions import get_redis
from workers.tracing import traced

log = logging.getLogger(__name__)

RELEASE_SECONDS = 60
ARRIVALS_SECONDS = 60
PURGE_SECONDS = 3600


@traced
def release_waiting() -> dict[str, int]:
    released = service.release_waiting(get_redis(), now=service.clock())
    if released:
        log.info("callback requests released per location: %s", released)
    return released


@traced
def tell_later_arrivals() -> dict[str, int]:
    told = service.tell_later_arrivals(get_redis())
    if told:
        log.info("on-duty notices for arrivals after the first in their window: %s", told)
    return told


@traced
def purge_expired() -> dict[str, int]:
    counts = service.purge_expired(get_redis(), now=service.clock())
    # Both counts are of requests whose personal data went: an expired one's with it, at once (it said "1 expired,
    # 0 personal records deleted", which read as if the expired one's data had stayed).
    log.info("callback retention: %(expired)s expired and their personal data deleted; personal data of "
             "%(personal_deleted)s done past their retention deleted", counts)
    return counts
