"""Callback requests in Redis.

One request is two keys: a small hash with the anonymous facts (location, state, times, topic, channel)
and a string with the personal fields (phone, name, note) as ONE encrypted blob, so withdrawing or purging
is a single DEL and a Redis dump never holds a plaintext number or name. Both get a TTL as a backstop for
the purge job. Intake and every state change are one Lua script each: one round trip, atomic, and a
final state can never be left.

The scripts touch keys they derive from the reference (the existing request behind a phone key, the
location's index); that is fine on the single Redis (with replicas) this service runs on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import redis

from routing.store import audit
from routing.store.keys import PREFIX
from routing.store.scripts import lua

REQUEST = PREFIX + "cb:{reference}"  # hash: anonymous facts and state
PERSONAL = PREFIX + "cb:{reference}:p"  # string: encrypted JSON {phone, name, note}
PERSONAL_PATTERN = PREFIX + "cb:*:p"
ENCRYPTED_KEYS = (PERSONAL_PATTERN,)  # for `flask keys rotate`
# -> reference of the latest live request of this (pseudonymised) number at this location: dedup and STOP.
PHONE = PREFIX + "cb:ph:{location}:{phone_key}"
WAITING = PREFIX + "cb:waiting"  # zset reference -> release time (epoch s), all locations
ACTIVE = PREFIX + "cb:active:{location}"  # zset reference -> created (epoch s): open and in progress
ACTIVE_PATTERN = PREFIX + "cb:active:*"
DONE = PREFIX + "cb:done"  # zset reference -> done time: personal data kept until the retention ends
STATS = PREFIX + "cb:stats:{day}"  # hash "location|channel|topic|outcome" -> count; anonymous, kept
# Fixed-window intake counters per client address, number and location (window index = local epoch // window
# length: IntakeLimits.window), checked inside the intake script so the limits cost no extra round trip. The
# address and the number appear only pseudonymised (keyed HMAC). A number and a location each count two budgets (kinds
# "phone-online", "location-online": web form and API; "phone-phone", "location-phone": SMS, WhatsApp, voice),
# so a flood through one cannot shut the other (IntakeLimits.pool).
RATE = PREFIX + "cb:rl:{kind}:{subject}:{window}"
# Coalesces arrival notices: at most one "N waiting" notice per location per window. Arrivals during a
# window mark ARRIVAL_LATER; when the window is over, the arrivals job sends one notice with the count then.
ARRIVAL_NOTICE = PREFIX + "cb:notified:{location}"
ARRIVAL_LATER = PREFIX + "cb:notified:{location}:later"
ARRIVAL_LATER_TTL_S = 86400  # a marker nobody caught up on (the job was down) does not stay forever

DEDUP_WINDOW_S = 24 * 3600
ARRIVAL_NOTICE_WINDOW_S = 300
# Facts about a finished request (not personal) stay this long after its personal data is gone, so a
# citizen with the reference still sees "withdrawn" or "done".
FINISHED_FACTS_TTL_S = 60 * 24 * 3600

# handed_over: a partner has it (not on any loket list), still live for dedup and withdrawal.
LIVE_STATES = ("received", "waiting", "open", "in_progress", "handed_over")
# The same set as a Lua table for the intake script, so the two never drift apart.
LIVE_LUA = "{" + ", ".join(f"{state} = true" for state in LIVE_STATES) + "}"
FINAL_STATES = ("done", "withdrawn", "expired")

# Hash fields; kept short because every request carries them (see the memory figure in bench/intake).
# `rev` counts the changes a request went through (every transition adds one; absent, as in a new request and
# in records written before it existed, it is 0). Staff forms carry it, so a change is seen even within the
# second that `updated` (epoch seconds, shown to people) cannot tell apart. `returned_by` (a partner id) and
# `return_reason` only on a request a partner took over at intake and sent back to the loket. `tries`: the attempts
# staff recorded, JSON [[epoch, result, account id], ...] (no number), only once there is one.
FIELDS = ("location", "state", "channel", "topic", "language", "reply_by", "preferred", "created",
          "release", "updated", "asked", "withdraw", "phone_key", "attempts", "last_attempt", "tries",
          "next_attempt", "outcome", "handover", "assignee", "rev", "returned_by", "return_reason")

# KEYS: request, personal, phone, index, stats, arrival notice, rate ip / phone / location, audit stream,
#       audit index, arrival later. ARGV: see `intake`; the facts' field/value pairs come last.
_INTAKE = lua(audit.APPEND_FUNCTION + """
local prefix, ref, now, window = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local live = LIVE_STATES_TABLE
-- Counts limit i (1 ip, 2 phone, 3 location); true when this attempt is over it.
local function over(i)
  local limit, ttl = tonumber(ARGV[9 + 2 * i]), ARGV[10 + 2 * i]
  if limit == 0 then return false end
  local count = redis.call('INCR', KEYS[6 + i])
  if count == 1 then redis.call('EXPIRE', KEYS[6 + i], ttl) end
  return count > limit
end
-- The client address first: every attempt counts, also one that finds an existing request (that answer
-- names a reference, so trying numbers is limited).
if over(1) then return {'limited', 'ip'} end
-- A live request of this number here is always shown again: it creates nothing, so the per-number and
-- per-location limits, which guard against requests made in bulk, do not count it.
local existing = redis.call('GET', KEYS[3])
if existing then
  local h = prefix .. 'cb:' .. existing
  local st = redis.call('HGET', h, 'state')
  local created = tonumber(redis.call('HGET', h, 'created') or '0')
  if live[st] and created >= now - window then
    redis.call('HINCRBY', h, 'asked', 1)
    return {'existing', existing, st}
  end
end
if over(2) then return {'limited', 'phone'} end
if over(3) then return {'limited', 'location'} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'taken'} end
local fields = {}
for i = 20, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[7])
redis.call('SET', KEYS[3], ref, 'EX', ARGV[7])
redis.call('ZADD', KEYS[4], ARGV[8], ref)
redis.call('HINCRBY', KEYS[5], ARGV[9], 1)
audit_append(KEYS[10], KEYS[11], ARGV[17], ARGV[18], ARGV[19])
if ARGV[10] ~= '0' then
  if redis.call('SET', KEYS[6], '1', 'NX', 'EX', ARGV[10]) then
    return {'created', ref, '', '', 1}
  end
  redis.call('SET', KEYS[12], '1', 'EX', ARRIVAL_LATER_TTL_S)
end
return {'created', ref, '', '', 0}
""".replace("ARRIVAL_LATER_TTL_S", str(ARRIVAL_LATER_TTL_S)).replace("LIVE_STATES_TABLE", LIVE_LUA))

# KEYS: per location its window and its "later" marker (pairs). For each location whose window is over and that
# had arrivals since its last notice: a new window, and its place in KEYS.
_ARRIVALS_LATER = lua("""
local due = {}
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 0 and redis.call('DEL', KEYS[i + 1]) == 1 then
    redis.call('SET', KEYS[i], '1', 'EX', ARGV[1])
    due[#due + 1] = (i + 1) / 2
  end
end
return due
""")

# A finished request no longer answers to its number: its phone lookup goes (if it still points to it) and so
# does the pseudonym in its facts. The withdrawal token's hash stays (it is not personal): whoever holds the link
# hears the request is finished, anyone else that the link is wrong. A Lua function for the scripts that finish.
FORGET_PHONE_FUNCTION = """
local function forget_phone(prefix, h, loc, ref)
  local pk = redis.call('HGET', h, 'phone_key')
  if not pk then return end
  local phone = prefix .. 'cb:ph:' .. loc .. ':' .. pk
  if redis.call('GET', phone) == ref then redis.call('DEL', phone) end
  redis.call('HDEL', h, 'phone_key')
end
"""

# ARGV: prefix, ref, to, allowed-from (",a,b,"), now, personal ttl ("" keep, "0" delete, n expire),
#       facts ttl ("" keep), stats key, n, field/value pairs..., expected `rev` ("" any),
#       personal blob ("" none; else written with the personal ttl: a request handed back to the loket)
_TRANSITION = lua(FORGET_PHONE_FUNCTION + """
local prefix, ref, to, allowed, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local h = prefix .. 'cb:' .. ref
local st = redis.call('HGET', h, 'state')
if not st then return {'missing'} end
if not string.find(allowed, ',' .. st .. ',', 1, true) then return {'refused', st} end
local loc = redis.call('HGET', h, 'location')
local n = tonumber(ARGV[9])
local expected = ARGV[10 + 2 * n]
if expected ~= '' and (redis.call('HGET', h, 'rev') or '0') ~= expected then return {'stale', st} end
local fields = {'state', to, 'updated', now}
for i = 10, 9 + 2 * n do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', h, unpack(fields))
redis.call('HINCRBY', h, 'rev', 1)
redis.call('ZREM', prefix .. 'cb:waiting', ref)
redis.call('ZREM', prefix .. 'cb:active:' .. loc, ref)
if to == 'waiting' then
  redis.call('ZADD', prefix .. 'cb:waiting', redis.call('HGET', h, 'release'), ref)
elseif to == 'open' or to == 'in_progress' then
  redis.call('ZADD', prefix .. 'cb:active:' .. loc, redis.call('HGET', h, 'created'), ref)
end
local pttl = ARGV[6]
local personal = h .. ':p'
local blob = ARGV[11 + 2 * n] or ''
if blob ~= '' then
  redis.call('SET', personal, blob, 'EX', pttl)
elseif pttl == '0' then
  redis.call('DEL', personal)
elseif pttl ~= '' then
  redis.call('EXPIRE', personal, pttl)
end
if to == 'done' then redis.call('ZADD', prefix .. 'cb:done', now, ref) end
if to == 'done' or to == 'withdrawn' or to == 'expired' then
  local outcome = redis.call('HGET', h, 'outcome') or to
  -- Passed on to partners, a request can still be withdrawn by its number (INTREKKEN) until they finish: its
  -- phone lookup stays until its own TTL, or until a withdrawal (_WITHDRAWN_AFTER).
  if not (to == 'done' and outcome == 'handed_over') then forget_phone(prefix, h, loc, ref) end
  local stat = loc .. '|' .. redis.call('HGET', h, 'channel') .. '|' .. (redis.call('HGET', h, 'topic') or '') .. '|' .. outcome
  redis.call('HINCRBY', ARGV[8], stat, 1)
end
if ARGV[7] ~= '' then redis.call('EXPIRE', h, ARGV[7]) end
return {'ok', st, loc}
""")


@dataclass(frozen=True)
class IntakeResult:
    outcome: str  # "created" | "existing" | "taken" (reference in use: pick another) | "limited"
    reference: str | None = None
    state: str | None = None
    notify: bool = False  # created: this arrival should send the location's "N waiting" notice


@dataclass(frozen=True)
class IntakeLimits:
    """(attempts, per seconds) for each limit; (0, 0) switches one off. `ip_key` is the client's
    pseudonymised rate-limit identity (empty when the channel has no client address of its own, e.g. a
    Twilio webhook). `pool` names the budgets this intake counts against, the number's and the location's:
    "online" for the web form and API, "phone" for SMS, WhatsApp and voice (from the number itself)."""

    ip: tuple[int, int] = (0, 0)
    ip_key: str = ""
    phone: tuple[int, int] = (0, 0)
    location: tuple[int, int] = (0, 0)
    pool: str = "online"
    # Seconds the local clock (Europe/Amsterdam) is ahead of UTC now: windows start on local time, so "5 per
    # day" starts afresh at midnight where the citizen is, not at 01:00 (or 02:00 in summer).
    utc_offset: int = 0

    def window(self, limit: str, now: int) -> int:
        """The index of the fixed window of `limit` ("ip", "phone", "location") that `now` falls in."""
        return (now + self.utc_offset) // self.length(limit)

    def retry_after(self, limit: str, now: int) -> int:
        """Seconds from `now` until the window of `limit` that refused an intake ends, when its count starts
        afresh: the windows are fixed, so this is exact and costs no Redis call."""
        length = self.length(limit)
        return length - (now + self.utc_offset) % length

    def length(self, limit: str) -> int:
        """The window of `limit` in seconds."""
        return max({"ip": self.ip, "phone": self.phone, "location": self.location}[limit][1], 1)


class TransitionRefused(Exception):
    def __init__(self, reference: str, state: str | None):
        super().__init__(f"{reference} is {state}")
        self.reference = reference
        self.state = state


class StaleChange(TransitionRefused):
    """The request changed after the caller read it (its `rev` is not the expected one)."""


def _s(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def intake(
    r: redis.Redis,
    *,
    reference: str,
    location: str,
    phone_key: str,
    facts: dict[str, str],
    personal_blob: str,
    now: int,
    index_key: str,
    index_score: int,
    facts_ttl: int,
    personal_ttl: int,
    stats_key: str,
    stats_field: str,
    notify_window: int,
    audit_write: audit.AuditWrite,
    limits: IntakeLimits,
) -> IntakeResult:
    """Store a new request with its audit record, or find the live one of the same number here (within
    24 h): one round trip, atomic. Over a limit the outcome is "limited" and `state` names which limit
    ("ip", "phone" or "location"); the audit record is written only when the request is stored."""
    pairs = [item for pair in facts.items() for item in pair]
    keys = [REQUEST.format(reference=reference), PERSONAL.format(reference=reference),
            PHONE.format(location=location, phone_key=phone_key), index_key, stats_key,
            ARRIVAL_NOTICE.format(location=location),
            RATE.format(kind="ip", subject=limits.ip_key, window=limits.window("ip", now)),
            RATE.format(kind=f"phone-{limits.pool}", subject=phone_key, window=limits.window("phone", now)),
            RATE.format(kind=f"location-{limits.pool}", subject=location, window=limits.window("location", now)),
            *audit_write.keys(), ARRIVAL_LATER.format(location=location)]
    args = [PREFIX, reference, now, DEDUP_WINDOW_S, personal_blob, facts_ttl, personal_ttl, index_score,
            stats_field, notify_window, *limits.ip, *limits.phone, *limits.location, *audit_write.args(), *pairs]
    reply = [_s(x) if not isinstance(x, int) else x for x in _INTAKE(keys, args, client=r)]
    if reply[0] in ("taken", "limited"):
        return IntakeResult(reply[0], state=reply[1] if len(reply) > 1 else None)
    if reply[0] == "existing":
        return IntakeResult("existing", reply[1], reply[2])
    return IntakeResult("created", reply[1], notify=bool(reply[4]))


def transition(
    r: redis.Redis,
    reference: str,
    to: str,
    allowed_from: tuple[str, ...],
    *,
    now: int,
    stats_key: str,
    fields: dict[str, str] | None = None,
    personal_ttl: int | None = None,
    facts_ttl: int | None = None,
    expect_version: str | None = None,
    personal_blob: str | None = None,
) -> tuple[str, str]:
    """Move a request to `to` if its state is one of `allowed_from`; returns (previous state, location).

    personal_ttl: None keeps the personal data as is, 0 deletes it now, n makes it expire in n seconds.
    personal_blob: the encrypted personal fields to store with the move (expiring in `personal_ttl` seconds,
    which must then be positive): a request a partner hands back gets its own copy again, in the same step.
    expect_version: the `rev` the caller read ("0" when absent); any other (a change in between, also within
    the same second) raises StaleChange, so a read-modify-write (an attempt counted up) never overwrites a
    colleague's change. Every transition adds one to `rev`."""
    if personal_blob and not (personal_ttl and personal_ttl > 0):
        raise ValueError("personal data is stored with a retention: give a positive personal_ttl")
    pairs = [item for pair in (fields or {}).items() for item in pair]
    args = [PREFIX, reference, to, "," + ",".join(allowed_from) + ",", now,
            "" if personal_ttl is None else personal_ttl, "" if facts_ttl is None else facts_ttl,
            stats_key, len(fields or {}), *pairs, expect_version or "", personal_blob or ""]
    reply = [_s(x) for x in _TRANSITION([], args, client=r)]
    if reply[0] == "stale":
        raise StaleChange(reference, reply[1])
    if reply[0] != "ok":
        raise TransitionRefused(reference, reply[1] if len(reply) > 1 else None)
    return reply[1], reply[2]


def load(r: redis.Redis, reference: str, with_personal: bool = False) -> tuple[dict[str, str], str | None]:
    """The facts hash (empty when unknown) and, when asked, the encrypted personal blob (None when gone)."""
    with r.pipeline(transaction=False) as pipe:
        pipe.hgetall(REQUEST.format(reference=reference))
        if with_personal:
            pipe.get(PERSONAL.format(reference=reference))
        replies = pipe.execute()
    facts = {_s(k): _s(v) for k, v in replies[0].items()}
    return facts, (_s(replies[1]) if with_personal else None)


def load_many(r: redis.Redis, references: list[str]) -> list[dict[str, str]]:
    with r.pipeline(transaction=False) as pipe:
        for reference in references:
            pipe.hgetall(REQUEST.format(reference=reference))
        replies = pipe.execute()
    return [{_s(k): _s(v) for k, v in reply.items()} for reply in replies]


def reference_for_phone(r: redis.Redis, location: str, phone_key: str) -> str | None:
    return _s(r.get(PHONE.format(location=location, phone_key=phone_key)))


def releases(r: redis.Redis) -> list[tuple[str, int]]:
    """Every waiting request (all locations) with its planned release (epoch s), soonest first."""
    return [(_s(ref), int(score)) for ref, score in r.zrange(WAITING, 0, -1, withscores=True)]


def waiting(r: redis.Redis) -> list[str]:
    """Every waiting request (all locations; a few per location at most), soonest release first."""
    return [_s(x) for x in r.zrange(WAITING, 0, -1)]


def reschedule(r: redis.Redis, reference: str, release: int) -> None:
    """A waiting request whose location turned out closed at release time waits for the next shift."""
    with r.pipeline() as pipe:
        pipe.hset(REQUEST.format(reference=reference), "release", release)
        pipe.zadd(WAITING, {reference: release}, xx=True)
        pipe.execute()


def active(r: redis.Redis, location: str) -> list[str]:
    return [_s(x) for x in r.zrange(ACTIVE.format(location=location), 0, -1)]


def arrivals_to_tell(r: redis.Redis, locations: list[str]) -> list[str]:
    """Locations whose notice window is over with arrivals since their last notice; each starts a new window
    (one round trip for all locations)."""
    if not locations:
        return []
    keys = [key for location in locations for key in (ARRIVAL_NOTICE.format(location=location),
                                                      ARRIVAL_LATER.format(location=location))]
    return [locations[int(place) - 1] for place in _ARRIVALS_LATER(keys, [ARRIVAL_NOTICE_WINDOW_S], client=r)]


def active_locations(r: redis.Redis) -> list[str]:
    start = len(ACTIVE.format(location=""))
    return [_s(key)[start:] for key in r.scan_iter(match=ACTIVE_PATTERN, count=500)]


def live_created_before(r: redis.Redis, cutoff: int) -> list[str]:
    """Live requests (waiting, open, in progress) created before `cutoff`: candidates for expiry."""
    found: list[str] = []
    for location in active_locations(r):
        found.extend(_s(x) for x in r.zrangebyscore(ACTIVE.format(location=location), "-inf", cutoff))
    held = waiting(r)
    if held:
        created = load_many(r, held)
        found.extend(ref for ref, facts in zip(held, created) if int(facts.get("created") or 0) < cutoff)
    return found


def drop_from_indexes(r: redis.Redis, reference: str) -> None:
    """A reference whose facts are gone (their TTL passed) leaves every index."""
    with r.pipeline() as pipe:
        pipe.zrem(WAITING, reference)
        pipe.zrem(DONE, reference)
        for location in active_locations(r):
            pipe.zrem(ACTIVE.format(location=location), reference)
        pipe.execute()


def done_before(r: redis.Redis, cutoff: int) -> list[str]:
    return [_s(x) for x in r.zrangebyscore(DONE, "-inf", cutoff)]


# KEYS: request, personal, done index; ARGV: outcome, now, reference, prefix. A finished request's outcome
# changes after the fact (the citizen withdrew a request the loket had passed on) and its personal data and phone
# lookup go, in one step; its state and the day's counts stay.
_WITHDRAWN_AFTER = lua(FORGET_PHONE_FUNCTION + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'outcome', ARGV[1], 'updated', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[3])
forget_phone(ARGV[4], KEYS[1], redis.call('HGET', KEYS[1], 'location'), ARGV[3])
return 1
""")


def withdrawn_after_done(r: redis.Redis, reference: str, *, outcome: str, now: int) -> bool:
    """A done request the citizen withdrew afterwards: `outcome` noted, its personal data deleted at once (and
    nothing left for the purge job). False when its facts are gone."""
    keys = [REQUEST.format(reference=reference), PERSONAL.format(reference=reference), DONE]
    return bool(_WITHDRAWN_AFTER(keys, [outcome, now, reference, PREFIX], client=r))


def personal_kept_since(r: redis.Redis, reference: str) -> int | None:
    """When a done request whose personal data is still kept was done (its place in DONE, which the purge job
    goes by); None when its data is gone or was never kept after it ended."""
    with r.pipeline(transaction=False) as pipe:
        pipe.zscore(DONE, reference)
        pipe.exists(PERSONAL.format(reference=reference))
        done_at, kept = pipe.execute()
    return int(done_at) if done_at is not None and kept else None


def forget_personal(r: redis.Redis, references: list[str]) -> int:
    """Delete the personal data of finished requests past retention; returns how many were still there."""
    if not references:
        return 0
    with r.pipeline() as pipe:
        pipe.delete(*[PERSONAL.format(reference=ref) for ref in references])
        pipe.zrem(DONE, *references)
        deleted, _ = pipe.execute()
    return int(deleted)


def personal_keys(r: redis.Redis) -> Iterator[str]:
    for key in r.scan_iter(match=PERSONAL_PATTERN, count=500):
        yield _s(key)


def count_personal(r: redis.Redis) -> int:
    return sum(1 for _ in personal_keys(r))


def stats(r: redis.Redis, day: str) -> dict[str, int]:
    return stats_of_days(r, [day])[0]


def stats_of_days(r: redis.Redis, days: list[str]) -> list[dict[str, int]]:
    """The anonymous counts of each day ("2026-11-30"), in one round trip."""
    with r.pipeline(transaction=False) as pipe:
        for day in days:
            pipe.hgetall(STATS.format(day=day))
        return [{_s(k): int(v) for k, v in counts.items()} for counts in pipe.execute()]


def waiting_per_location(r: redis.Redis) -> Counter[str]:
    """How many requests wait for the next shift at each location (the index, then each one's location: two
    round trips; a request whose facts are gone is not counted)."""
    held = waiting(r)
    with r.pipeline(transaction=False) as pipe:
        for reference in held:
            pipe.hget(REQUEST.format(reference=reference), "location")
        locations = pipe.execute() if held else []
    return Counter(_s(location) for location in locations if location is not None)
