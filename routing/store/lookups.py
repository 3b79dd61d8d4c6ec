"""Anonymous counts of professional lines shown to staff, per day, location and partner.

Nothing about who looked or what was typed: a hash per day, field "location|partner", value a count.

A search is the most frequent request there is, and the count is the only Redis write it makes. Each process
therefore adds up its counts in memory and writes them in one pipeline at most every ``flush_seconds``
(``LOOKUP_COUNT_FLUSH_SECONDS``), and once more when the process exits. The dashboard sees a count that
late; a process killed outright (SIGKILL) loses at most that many seconds of its counts.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date

import redis

from routing.store.keys import PREFIX

LOOKUPS = PREFIX + "lookups:{day}"
# Kept for the dashboard's year-on-year view, then dropped by Redis.
TTL_SECONDS = 400 * 24 * 3600

log = logging.getLogger(__name__)


class ShownCounts:
    """Counts of lines shown, written to Redis in batches (at once when ``flush_seconds`` is 0)."""

    def __init__(self, r: redis.Redis, flush_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = r
        self._flush_seconds = flush_seconds
        self._clock = clock
        self._pending: Counter[tuple[str, str]] = Counter()  # (day, "location|partner") -> count
        self._last_flush = clock()
        self._lock = threading.Lock()
        _live.add(self)

    def add(self, day: date, location_id: str, partner_ids: Iterable[str]) -> None:
        """One more for each (location, partner) whose line was shown on ``day`` (local date)."""
        with self._lock:
            for partner_id in partner_ids:
                self._pending[(day.isoformat(), f"{location_id}|{partner_id}")] += 1
        if self._clock() - self._last_flush >= self._flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write what is pending. If Redis does not answer, the counts wait for the next flush."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
            self._last_flush = self._clock()
        if not pending:
            return
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for (day, field), count in pending.items():
                    pipe.hincrby(LOOKUPS.format(day=day), field, count)
                for day in {day for day, _ in pending}:
                    pipe.expire(LOOKUPS.format(day=day), TTL_SECONDS)
                pipe.execute()
        except redis.RedisError as error:
            log.warning("lookup counts not written yet (%s); kept for the next flush", type(error).__name__)
            with self._lock:
                self._pending.update(pending)


# Every counter of this process, flushed when it exits (gunicorn workers leave through sys.exit).
_live: weakref.WeakSet[ShownCounts] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for counts in list(_live):
        counts.flush()


def counts_on(r: redis.Redis, day: date) -> dict[tuple[str, str], int]:
    """{(location_id, partner_id): count} for one day."""
    raw = r.hgetall(LOOKUPS.format(day=day.isoformat()))
    out: dict[tuple[str, str], int] = {}
    for field, value in raw.items():
        location_id, _, partner_id = field.decode().partition("|")
        out[(location_id, partner_id)] = int(value)
    return out
