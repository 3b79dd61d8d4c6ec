"""Warm handovers in Redis.

One hash per handover holds the anonymous facts (location, partner, status, deadline, outcome); the
personal fields live apart in their own hash, each value encrypted, so that retention is a plain Redis TTL
on that one key and the anonymous history stays for the dashboard. Indexes are sorted sets by location,
by partner, and of the open handovers by deadline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import redis

from routing.privacy import crypto
from routing.store.keys import PREFIX
from routing.store.scripts import lua

HANDOVER = PREFIX + "ho:{ref}"
PERSONAL = PREFIX + "ho:{ref}:pd"
ATTEMPTS = PREFIX + "ho:{ref}:attempts"
GROUP = PREFIX + "ho:group:{group}"
BY_LOCATION = PREFIX + "ho:loc:{location}"
BY_PARTNER = PREFIX + "ho:partner:{partner}"
ALL = PREFIX + "ho:all"
# Open handovers scored by when their next reminder is due (epoch seconds): the reminder job reads this.
OPEN = PREFIX + "ho:open"
# When each handover's personal fields are due for deletion (epoch seconds): the purge job reads this.
# Their key also carries a TTL BACKSTOP_SECONDS later, so they go even if the purge never runs.
PURGE = PREFIX + "ho:purge"
BACKSTOP_SECONDS = 86_400
# "Send me a new link" is allowed once per RESEND_SECONDS per handover.
RESEND = PREFIX + "ho:{ref}:resend"
RESEND_SECONDS = 600
# Once-a-day markers of the scheduled jobs (per job and Amsterdam date, or per handover and date).
ONCE = PREFIX + "ho:once:{name}"
ONCE_SECONDS = 3 * 24 * 3600

# Fields kept encrypted in PERSONAL.
PERSONAL_FIELDS = ("phone", "name", "note", "preferred", "language", "reply_by", "return_note")
ENCRYPTED_HASH_FIELDS = {PREFIX + "ho:*:pd": PERSONAL_FIELDS}  # for `flask keys rotate`

# Change a handover only while its status is one of ARGV[1] (comma-separated); optionally append an attempt.
# Returns the number of attempts afterwards, or -1 when the status did not allow the change. One script, so
# two partner clicks at the same moment cannot both finish a handover.
_TRANSITION = lua("""
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == status then allowed = true end end
if not allowed then return -1 end
if ARGV[2] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[2]) end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('LLEN', KEYS[2])
""")


# A handover sent back to the loket is handed over again once: the first to claim it (finished, not handed over
# again yet, nobody else busy doing so) makes the follow-up; a colleague at the same moment is refused. The claim
# becomes the link (next_reference) once the follow-up exists, or goes when making it failed.
_CLAIM_FOLLOW_UP = lua("""
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'next_reference') == 1 then return 0 end
if redis.call('HSETNX', KEYS[1], 'next_claim', ARGV[1]) == 0 then return 0 end
return 1
""")
_RELEASE_FOLLOW_UP = lua("""
if redis.call('HGET', KEYS[1], 'next_claim') == ARGV[1] then redis.call('HDEL', KEYS[1], 'next_claim') end
""")


# Per partner: its open handovers (in OPEN, with an open status) and how many of those are past their deadline
# (an ISO date before today, Europe/Amsterdam), for /metrics: anonymous counts, one round trip.
# KEYS: OPEN; ARGV: HANDOVER without its ref, today, open statuses... Returns partner, open, overdue, ...
_OPEN_PER_PARTNER = lua("""
local open = {}
for i = 3, #ARGV do open[ARGV[i]] = true end
local counts, order = {}, {}
for _, ref in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local facts = redis.call('HMGET', ARGV[1] .. ref, 'partner', 'status', 'deadline')
  if facts[1] and open[facts[2]] then
    if not counts[facts[1]] then counts[facts[1]] = {0, 0}; table.insert(order, facts[1]) end
    counts[facts[1]][1] = counts[facts[1]][1] + 1
    if facts[3] and facts[3] < ARGV[2] then counts[facts[1]][2] = counts[facts[1]][2] + 1 end
  end
end
local out = {}
for _, partner in ipairs(order) do
  table.insert(out, partner); table.insert(out, counts[partner][1]); table.insert(out, counts[partner][2])
end
return out
""")


def claim_follow_up(r: redis.Redis, ref: str, claim: str, done_status: str) -> bool:
    return bool(_CLAIM_FOLLOW_UP([HANDOVER.format(ref=ref)], [claim, done_status], client=r))


def release_follow_up(r: redis.Redis, ref: str, claim: str) -> None:
    _RELEASE_FOLLOW_UP([HANDOVER.format(ref=ref)], [claim], client=r)


def link_follow_up(r: redis.Redis, ref: str, next_ref: str) -> None:
    with r.pipeline() as pipe:
        pipe.hset(HANDOVER.format(ref=ref), "next_reference", next_ref)
        pipe.hdel(HANDOVER.format(ref=ref), "next_claim")
        pipe.execute()


def _text(raw: dict[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def reserve(r: redis.Redis, ref: str) -> bool:
    """Claim a fresh reference; false when it is taken (the caller draws another)."""
    return bool(r.hsetnx(HANDOVER.format(ref=ref), "reference", ref))


def create(r: redis.Redis, record: dict[str, str], personal: dict[str, str], purge_ts: int,
           created_ts: float, remind_ts: float) -> None:
    ref = record["reference"]
    encrypted = {name: crypto.encrypt(value) for name, value in personal.items() if value}
    with r.pipeline() as pipe:
        pipe.hset(HANDOVER.format(ref=ref), mapping=record)
        pipe.hset(PERSONAL.format(ref=ref), mapping=encrypted)
        pipe.expireat(PERSONAL.format(ref=ref), purge_ts + BACKSTOP_SECONDS)
        pipe.zadd(PURGE, {ref: purge_ts})
        pipe.rpush(GROUP.format(group=record["group"]), ref)
        pipe.zadd(BY_LOCATION.format(location=record["location"]), {ref: created_ts})
        pipe.zadd(BY_PARTNER.format(partner=record["partner"]), {ref: created_ts})
        pipe.zadd(ALL, {ref: created_ts})
        pipe.zadd(OPEN, {ref: remind_ts})
        pipe.execute()


def get(r: redis.Redis, ref: str) -> tuple[dict[str, str], list[dict[str, Any]]] | None:
    with r.pipeline(transaction=False) as pipe:
        pipe.hgetall(HANDOVER.format(ref=ref))
        pipe.lrange(ATTEMPTS.format(ref=ref), 0, -1)
        raw, attempts = pipe.execute()
    if not raw or b"status" not in raw:
        return None
    return _text(raw), [json.loads(a) for a in attempts]


def get_many(r: redis.Redis, refs: Iterable[str]) -> list[tuple[dict[str, str], list[dict[str, Any]]]]:
    refs = list(refs)
    with r.pipeline(transaction=False) as pipe:
        for ref in refs:
            pipe.hgetall(HANDOVER.format(ref=ref))
            pipe.lrange(ATTEMPTS.format(ref=ref), 0, -1)
        raw = pipe.execute()
    found = []
    for record, attempts in zip(raw[::2], raw[1::2], strict=True):
        if record and b"status" in record:
            found.append((_text(record), [json.loads(a) for a in attempts]))
    return found


def get_personal(r: redis.Redis, ref: str) -> dict[str, str] | None:
    """The decrypted personal fields, or None once retention removed them."""
    raw = _text(r.hgetall(PERSONAL.format(ref=ref)))
    if not raw:
        return None
    return {name: crypto.decrypt(value) for name, value in raw.items() if name in PERSONAL_FIELDS}


def personal_kept(r: redis.Redis, refs: Iterable[str]) -> set[str]:
    """Which of ``refs`` still have their personal fields (without reading them: no audit needed)."""
    refs = list(refs)
    with r.pipeline(transaction=False) as pipe:
        for ref in refs:
            pipe.exists(PERSONAL.format(ref=ref))
        kept = pipe.execute()
    return {ref for ref, exists in zip(refs, kept, strict=True) if exists}


def set_personal(r: redis.Redis, ref: str, name: str, value: str) -> None:
    # Only while the personal hash exists: a late write must not resurrect data past its retention.
    key = PERSONAL.format(ref=ref)
    if r.exists(key):
        r.hset(key, name, crypto.encrypt(value))


def transition(r: redis.Redis, ref: str, allowed: Iterable[str], fields: dict[str, str],
               attempt: dict[str, Any] | None = None) -> int | None:
    """Apply ``fields`` if the status is in ``allowed``; the new attempt count, or None when refused."""
    args: list[str] = [",".join(allowed), json.dumps(attempt) if attempt else ""]
    for name, value in fields.items():
        args += [name, value]
    count = _TRANSITION([HANDOVER.format(ref=ref), ATTEMPTS.format(ref=ref)], args, client=r)
    return None if count < 0 else int(count)


def close(r: redis.Redis, ref: str, purge_ts: int) -> None:
    """After a final state: off the open index; personal fields due for deletion at ``purge_ts``."""
    with r.pipeline() as pipe:
        pipe.zrem(OPEN, ref)
        pipe.zadd(PURGE, {ref: purge_ts}, xx=True)
        pipe.expireat(PERSONAL.format(ref=ref), purge_ts + BACKSTOP_SECONDS)
        pipe.execute()


def due_for_purge(r: redis.Redis, now_ts: float) -> list[str]:
    return [ref.decode() for ref in r.zrangebyscore(PURGE, "-inf", now_ts)]


def purge(r: redis.Redis, ref: str) -> str | None:
    """Delete the personal fields; returns the phone number they held (for the audit record), or None
    when they were gone already."""
    key = PERSONAL.format(ref=ref)
    with r.pipeline() as pipe:
        pipe.hget(key, "phone")
        pipe.delete(key)
        pipe.zrem(PURGE, ref)
        phone, _deleted, _removed = pipe.execute()
    return crypto.decrypt(phone) if phone else None


def reschedule(r: redis.Redis, ref: str, due_ts: float) -> None:
    r.zadd(OPEN, {ref: due_ts}, xx=True)


def group_refs(r: redis.Redis, group: str) -> list[str]:
    return [ref.decode() for ref in r.lrange(GROUP.format(group=group), 0, -1)]


def recent_refs(r: redis.Redis, *, locations: Iterable[str] = (), partner: str | None = None,
                everything: bool = False, limit: int = 200) -> list[str]:
    """The newest ``limit`` references of some locations, one partner, or all."""
    if everything:
        keys = [ALL]
    elif partner:
        keys = [BY_PARTNER.format(partner=partner)]
    else:
        keys = [BY_LOCATION.format(location=loc) for loc in sorted(locations)]
    with r.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.zrevrange(key, 0, limit - 1, withscores=True)
        results = pipe.execute()
    scored = sorted((item for result in results for item in result), key=lambda item: -item[1])
    return [ref.decode() for ref, _ in scored[:limit]]


def open_per_partner(r: redis.Redis, today: str, open_statuses: Iterable[str]) -> dict[str, tuple[int, int]]:
    """{partner: (open, overdue)} for the partners with open handovers; `today` an ISO date (Europe/Amsterdam).
    Counted inside Redis: a scrape reads a few numbers, not every open handover."""
    flat = _OPEN_PER_PARTNER([OPEN], [HANDOVER.format(ref=""), today, *open_statuses], client=r)
    return {flat[i].decode(): (int(flat[i + 1]), int(flat[i + 2])) for i in range(0, len(flat), 3)}


def open_refs(r: redis.Redis, due_by: float = float("inf")) -> list[str]:
    """Open handovers whose next reminder is due at or before ``due_by`` (all open ones by default)."""
    return [ref.decode() for ref in r.zrangebyscore(OPEN, "-inf", due_by)]


def once(r: redis.Redis, name: str) -> bool:
    """True the first time ``name`` is claimed (within ONCE_SECONDS); makes scheduled jobs idempotent."""
    return bool(r.set(ONCE.format(name=name), 1, nx=True, ex=ONCE_SECONDS))


def forget(r: redis.Redis, name: str) -> None:
    r.delete(ONCE.format(name=name))


def allow_resend(r: redis.Redis, ref: str) -> bool:
    return bool(r.set(RESEND.format(ref=ref), 1, nx=True, ex=RESEND_SECONDS))
