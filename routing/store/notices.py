"""Notices in Redis: one hash per notice, a sweep index, a failed index, and the development outbox.

States: created → sending → sent → delivered | failed. Every change goes through `_update`, which
checks the transition against TRANSITIONS inside a WATCH/MULTI transaction, so a final state never
goes backwards and two workers (or a worker and a late receipt) cannot both win.

The recipient's addresses and the notice's link (a partner link `/o/<token>` stands in for a login) are
stored encrypted (routing.privacy.crypto), in fields of their own (SECRET_FIELDS), and deleted as soon as
the notice reaches a final state; the rest (kind, context without its link, state, provider id) holds no
personal data and expires after RETENTION_SECONDS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from routing.store.keys import PREFIX
from routing.store.scripts import lua

NOTICE = PREFIX + "notice:{id}"
# Provider message id (Twilio's MessageSid) → notice id, for delivery receipts.
BY_PROVIDER_ID = PREFIX + "notice:pid:{pid}"
# Notices not yet in a final state, scored by when the sweeper should look at them (epoch seconds).
PENDING = PREFIX + "notices:pending"
# Notices that failed on every channel, scored by when (epoch seconds): for staff and the coordinator.
FAILED = PREFIX + "notices:failed"
# Rendered notices when no provider is configured for a channel (newest first), capped.
OUTBOX = PREFIX + "outbox"
OUTBOX_MAX = 500
OUTBOX_TTL_SECONDS = 7 * 86_400
# Encrypted fields: the addresses, whom to tell on failure, and the link (taken out of `context`). They
# go when the notice is final (and recipient and link when the last channel has the message).
SECRET_FIELDS = ("recipient", "escalate", "link")
# For `flask keys rotate` (the pattern also matches BY_PROVIDER_ID strings; only hashes are rotated).
ENCRYPTED_HASH_FIELDS = {PREFIX + "notice:*": SECRET_FIELDS}
# What is left of a notice (no personal data) is kept this long after its last change.
RETENTION_SECONDS = 7 * 86_400

CREATED, SENDING, SENT, DELIVERED, FAILED_STATE = "created", "sending", "sent", "delivered", "failed"
FINAL_STATES = frozenset({DELIVERED, FAILED_STATE})
TRANSITIONS: dict[str, frozenset[str]] = {
    CREATED: frozenset({SENDING, FAILED_STATE}),
    # Back to created: a retry later, the next channel, or a sweep after a worker died mid-send.
    SENDING: frozenset({SENT, CREATED, FAILED_STATE}),
    # Back to created: a failed delivery receipt moves the notice to the recipient's next channel.
    SENT: frozenset({DELIVERED, FAILED_STATE, CREATED}),
    DELIVERED: frozenset(),
    FAILED_STATE: frozenset(),
}
FAILURE_CLASSES = ("temporary", "permanent", "technical")


def timestamp(moment: datetime) -> str:
    """How times are stored: UTC, ISO 8601, fixed width, so that the scripts below compare them as text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class Change:
    """What one transition writes: hash fields, and where the notice stands in the indexes."""

    fields: dict[str, str]
    # Epoch seconds at which the sweeper should look at the notice again; None: it need not (sent).
    sweep_at: float | None = None
    provider_id: str | None = None


def _text(raw: dict[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def create(r: redis.Redis, notice: dict[str, str], sweep_at: float, ttl_seconds: int) -> None:
    key = NOTICE.format(id=notice["id"])
    with r.pipeline() as pipe:
        pipe.hset(key, mapping=notice)
        pipe.expire(key, ttl_seconds)
        pipe.zadd(PENDING, {notice["id"]: sweep_at})
        pipe.execute()


def get(r: redis.Redis, notice_id: str) -> dict[str, str] | None:
    raw = r.hgetall(NOTICE.format(id=notice_id))
    return _text(raw) if raw else None


def id_for_provider_id(r: redis.Redis, provider_id: str) -> str | None:
    raw = r.get(BY_PROVIDER_ID.format(pid=provider_id))
    return raw.decode() if raw else None


def update(
    r: redis.Redis, notice_id: str, decide: Callable[[dict[str, str]], Change | None], now: datetime
) -> tuple[dict[str, str], Change] | None:
    """Apply decide(current) atomically; None when decide declines or the transition is not allowed."""
    key = NOTICE.format(id=notice_id)
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                current = _text(pipe.hgetall(key))
                change = decide(current) if current else None
                target = change.fields.get("state", current.get("state")) if change else None
                if change is None or (target != current["state"] and target not in TRANSITIONS[current["state"]]):
                    pipe.unwatch()
                    return None
                pipe.multi()
                pipe.hset(key, mapping={**change.fields, "updated_at": timestamp(now)})
                if target in FINAL_STATES:  # the addresses and the link are of no more use
                    pipe.hdel(key, *SECRET_FIELDS)
                    pipe.zrem(PENDING, notice_id)
                    pipe.expire(key, RETENTION_SECONDS)
                elif change.sweep_at is not None:
                    pipe.zadd(PENDING, {notice_id: change.sweep_at})
                else:
                    pipe.zrem(PENDING, notice_id)
                if target == FAILED_STATE:
                    pipe.zadd(FAILED, {notice_id: now.timestamp()})
                    # Entries older than the records they name are gone: trim here, not only when the
                    # failed-notices page is opened, so the index cannot grow without end.
                    pipe.zremrangebyscore(FAILED, "-inf", now.timestamp() - RETENTION_SECONDS)
                if change.provider_id:
                    pipe.set(BY_PROVIDER_ID.format(pid=change.provider_id), notice_id, ex=RETENTION_SECONDS)
                pipe.execute()
                return {**current, **change.fields}, change
            except redis.WatchError:
                continue


# The two transitions every notice takes, each as one script (one round trip instead of a WATCH, a read
# and a transaction). They follow TRANSITIONS: created → sending, and sending (or created, when the
# sweeper reclaimed a slow send that went out after all) → sent, both guarded as `update` would be.
EXPIRED = "expired"
_CLAIM = lua("""
local h = redis.call('HMGET', KEYS[1], 'state', 'due_at', 'valid_until', 'attempts')
if h[1] ~= 'created' or h[2] > ARGV[1] then return false end
if h[3] <= ARGV[1] then return 'expired' end
redis.call('HSET', KEYS[1], 'state', 'sending', 'claim', ARGV[2], 'claimed_at', ARGV[1], 'updated_at', ARGV[1],
           'attempts', tonumber(h[4]) + 1)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return redis.call('HGETALL', KEYS[1])
""")
_SENT = lua("""
local h = redis.call('HMGET', KEYS[1], 'state', 'claim')
if (h[1] ~= 'sending' and h[1] ~= 'created') or h[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'sent', 'provider_id', ARGV[2], 'channel', ARGV[3], 'sent_at', ARGV[4],
           'updated_at', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[5])
redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[6])
if ARGV[7] == '1' then redis.call('HDEL', KEYS[1], 'recipient', 'link') end
return 1
""")


def claim(r: redis.Redis, notice_id: str, token: str, now: datetime, lease_until: float) -> dict[str, str] | str | None:
    """created → sending when due: the notice as claimed; EXPIRED when past its useful life; else None."""
    result = _CLAIM([NOTICE.format(id=notice_id), PENDING], [timestamp(now), token, lease_until, notice_id],
                    client=r)
    if not result:
        return None
    if result == EXPIRED.encode():
        return EXPIRED
    return {result[i].decode(): result[i + 1].decode() for i in range(0, len(result), 2)}


def mark_sent(r: redis.Redis, notice_id: str, token: str, provider_id: str, channel: str, now: datetime,
              forget_address: bool) -> bool:
    """sending → sent for the holder of the claim; False when the claim is no longer theirs. With
    forget_address the addresses and the link go at once (no channel is left to fail over to, so the
    message is not rendered again; `escalate` stays for a failed receipt)."""
    return bool(_SENT(
        [NOTICE.format(id=notice_id), PENDING, BY_PROVIDER_ID.format(pid=provider_id)],
        [token, provider_id, channel, timestamp(now), notice_id, RETENTION_SECONDS, "1" if forget_address else "0"],
        client=r))


def due_for_sweep(r: redis.Redis, now: datetime, limit: int = 1000) -> list[str]:
    return [raw.decode() for raw in r.zrangebyscore(PENDING, "-inf", now.timestamp(), start=0, num=limit)]


def forget_pending(r: redis.Redis, notice_id: str) -> None:
    """Drop a notice from the sweep index (it expired or reached a final state)."""
    r.zrem(PENDING, notice_id)


def counts(r: redis.Redis, now: datetime, overdue_after: float) -> tuple[int, int, int]:
    """(pending, failed within the retention, pending more than `overdue_after` s past their sweep time), for
    /metrics: from the two sorted sets kept anyway, no scan, three O(log n) commands."""
    with r.pipeline(transaction=False) as pipe:
        pipe.zcard(PENDING)
        pipe.zcount(FAILED, now.timestamp() - RETENTION_SECONDS, "+inf")
        pipe.zcount(PENDING, "-inf", now.timestamp() - overdue_after)
        pending, failed_recently, overdue = pipe.execute()
    return pending, failed_recently, overdue


def failed(r: redis.Redis, limit: int = 200) -> list[dict[str, str]]:
    """The most recently failed notices, newest first (expired records are pruned on the way)."""
    ids = [raw.decode() for raw in r.zrevrange(FAILED, 0, limit - 1)]
    with r.pipeline(transaction=False) as pipe:
        for notice_id in ids:
            pipe.hgetall(NOTICE.format(id=notice_id))
        records = pipe.execute()
    gone = [notice_id for notice_id, raw in zip(ids, records, strict=True) if not raw]
    if gone:
        r.zrem(FAILED, *gone)
    return [_text(raw) for raw in records if raw]


def outbox_add(r: redis.Redis, entry: dict[str, Any]) -> None:
    with r.pipeline() as pipe:
        pipe.lpush(OUTBOX, json.dumps(entry))
        pipe.ltrim(OUTBOX, 0, OUTBOX_MAX - 1)
        pipe.expire(OUTBOX, OUTBOX_TTL_SECONDS)
        pipe.execute()


def outbox_list(r: redis.Redis, limit: int = 100) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in r.lrange(OUTBOX, 0, limit - 1)]
