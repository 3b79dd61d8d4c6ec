"""How many requests were answered with a server error (5xx) or refused by a rate limit (429), for /metrics.

In Redis rather than in each web process, so every gunicorn worker reports the same count (as the other
metrics; the project runs no prometheus_client multiprocess mode). Only these rare answers are counted, so no
other request pays for a Redis write. The statuses are a fixed list: a response cannot add a label of its own.
"""

from __future__ import annotations

import redis

from routing.store.keys import PREFIX

COUNTS = PREFIX + "http:responses"
STATUSES = ("5xx", "429")


def count(r: redis.Redis, status: str) -> None:
    r.hincrby(COUNTS, status, 1)


def counts(r: redis.Redis) -> dict[str, int]:
    """Every status, 0 where there was none yet (a counter that appears only at its first response hides that
    first one from a rate() alert)."""
    found = {status.decode(): int(n) for status, n in r.hgetall(COUNTS).items()}
    return {status: found.get(status, 0) for status in STATUSES}
