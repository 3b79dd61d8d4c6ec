"""What the Redis server itself says about keeping our data: on disk at all, and never evicted.

REDIS_PERSISTENT=1 is the operator's word that Redis keeps its data; a Redis that says otherwise (no append-only
file, no save points) loses every request and handover at its next restart. A maxmemory policy that evicts drops
keys under memory pressure, and ours all carry TTLs, so even a volatile-* policy may take live requests.
"""

from __future__ import annotations

import redis

# The policies under which Redis deletes keys to make room.
EVICTING = ("allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random",
            "volatile-ttl")


def _config(r: redis.Redis, name: str) -> str | None:
    """A setting of the server, or None where CONFIG is not allowed (many managed services rename it)."""
    try:
        return r.config_get(name).get(name)
    except redis.ResponseError:
        return None


def durability_problems(r: redis.Redis) -> list[str]:
    """Why this Redis may lose our data, one sentence each; empty when it keeps it, or when it does not say."""
    problems = []
    if not r.info("persistence").get("aof_enabled") and _config(r, "save") == "":
        problems.append("redis keeps nothing on disk (appendonly no, no save points), though REDIS_PERSISTENT=1 "
                        "says it does: a restart loses every request (see docs/deploy.md)")
    policy = _config(r, "maxmemory-policy")
    if policy in EVICTING and _config(r, "maxmemory") not in (None, "0"):
        problems.append(f"redis may evict keys (maxmemory-policy {policy}): requests and handovers could vanish "
                        "under memory pressure; use noeviction (see docs/deploy.md)")
    return problems
