"""Single-use link tokens, stored only as a keyed hash.

A token record outlives its validity by TOMBSTONE_SECONDS so that a reused or expired link can still be
recognised ("this link was already used") and a fresh one sent to the same channel; the record never holds
the token itself, so a Redis dump cannot be turned into working links.
"""

from __future__ import annotations

import redis

from routing.store.keys import PREFIX
from routing.store.scripts import lua

TOKEN = PREFIX + "tok:{digest}"
# How long an expired or used token stays recognisable after its expiry.
TOMBSTONE_SECONDS = 14 * 24 * 3600


def save(r: redis.Redis, digest: str, subject: str, expires_at: int) -> None:
    """Store a new token for ``subject`` (e.g. a handover reference) valid until ``expires_at`` (epoch s)."""
    key = TOKEN.format(digest=digest)
    with r.pipeline() as pipe:
        pipe.hset(key, mapping={"subject": subject, "expires_at": expires_at})
        pipe.expireat(key, expires_at + TOMBSTONE_SECONDS)
        pipe.execute()


def get(r: redis.Redis, digest: str) -> dict[str, str] | None:
    raw = r.hgetall(TOKEN.format(digest=digest))
    return {k.decode(): v.decode() for k, v in raw.items()} or None


# Mark used only if the token exists, so an unknown digest never creates a record; HSETNX makes the first
# caller the only winner when two requests race.
_CONSUME = lua("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'used_at', ARGV[1])
""")


def consume(r: redis.Redis, digest: str, used_at: int) -> bool:
    """Mark the token used; true only for the one caller that used it first."""
    return bool(_CONSUME([TOKEN.format(digest=digest)], [used_at], client=r))
