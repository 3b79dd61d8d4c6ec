"""Staff, partner and coordinator accounts, and API keys (stored by the hash of the key only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis

from routing.store.keys import PREFIX
from routing.store.scripts import lua

USER = PREFIX + "user:{email}"
USERS = PREFIX + "users"
APIKEY = PREFIX + "apikey:{digest}"
APIKEYS = PREFIX + "apikeys"
# The account's session generation: a login's session carries the value it had then and counts only while the
# record still has it (routing.auth). Logging out and a new password add one: every earlier session ends.
SESSION_GENERATION = "session_gen"

# Save an account (replacing every field) while keeping its session generation, one higher when asked: in one
# step, so a logout at the same moment is never undone.
# KEYS: user, users; ARGV: email, bump (0|1), SESSION_GENERATION, fields...
_SAVE_USER = lua("""
local generation = tonumber(redis.call('HGET', KEYS[1], ARGV[3]) or '0') + tonumber(ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], ARGV[3], generation, unpack(ARGV, 4))
redis.call('SADD', KEYS[2], ARGV[1])
return generation
""")
# One higher, only for this account (its id: not a later one with the same address, nor a removed one).
# KEYS: user; ARGV: id, SESSION_GENERATION. Returns the new generation, or nil when there is no such account.
_END_SESSIONS = lua("""
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return false end
return redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
""")


def _decode(raw: dict[bytes, bytes]) -> dict[str, Any]:
    record: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
    if "locations" in record:
        record["locations"] = json.loads(record["locations"])
    return record


def _encode(record: dict[str, Any]) -> dict[str, str]:
    encoded = {k: v for k, v in record.items() if v is not None and k != "locations"}
    encoded["locations"] = json.dumps(sorted(record.get("locations") or []))
    return encoded


def save_user(r: redis.Redis, record: dict[str, Any], *, end_sessions: bool = False) -> int:
    """Store an account. Its session generation is the stored one (a record's own is ignored), one higher with
    `end_sessions` (a new password: every open session ends); returns it."""
    fields = _encode({k: v for k, v in record.items() if k != SESSION_GENERATION})
    pairs = [item for field in fields.items() for item in field]
    return int(_SAVE_USER([USER.format(email=record["email"]), USERS],
                          [record["email"], int(end_sessions), SESSION_GENERATION, *pairs], client=r))


def end_sessions(r: redis.Redis, email: str, account_id: str) -> int | None:
    """Every session of this account ends (logout): its generation goes one up. None when the account is gone."""
    generation = _END_SESSIONS([USER.format(email=email)], [account_id, SESSION_GENERATION], client=r)
    return None if generation is None else int(generation)


def get_user(r: redis.Redis, email: str) -> dict[str, Any] | None:
    raw = r.hgetall(USER.format(email=email))
    return _decode(raw) if raw else None


def set_password_hash(r: redis.Redis, email: str, password_hash: str) -> None:
    r.hset(USER.format(email=email), "password_hash", password_hash)


def list_users(r: redis.Redis) -> list[dict[str, Any]]:
    emails = sorted(e.decode() for e in r.smembers(USERS))
    with r.pipeline() as pipe:
        for email in emails:
            pipe.hgetall(USER.format(email=email))
        return [_decode(raw) for raw in pipe.execute() if raw]


def remove_user(r: redis.Redis, email: str) -> dict[str, Any] | None:
    """Delete an account (a leaver); returns what it was (its id names it in the audit log), or None.

    Sessions are signed cookies that name the account (address, id, session generation) and are checked
    against this record on every request (routing.auth.current_principal), so without the account they no
    longer log anyone in."""
    key = USER.format(email=email)
    with r.pipeline() as pipe:
        pipe.hgetall(key)
        pipe.delete(key)
        pipe.srem(USERS, email)
        raw, _, _ = pipe.execute()
    return _decode(raw) if raw else None


def save_api_key(r: redis.Redis, digest: str, record: dict[str, Any]) -> None:
    # When it was made (UTC, ISO 8601), for `flask apikeys list`; keys made before this have none.
    record = {"created": datetime.now(UTC).isoformat(timespec="seconds"), **record}
    with r.pipeline() as pipe:
        pipe.hset(APIKEY.format(digest=digest), mapping=_encode(record))
        pipe.hset(APIKEYS, record["id"], digest)
        pipe.execute()


def get_api_key(r: redis.Redis, digest: str) -> dict[str, Any] | None:
    raw = r.hgetall(APIKEY.format(digest=digest))
    return _decode(raw) if raw else None


def list_api_keys(r: redis.Redis) -> list[dict[str, Any]]:
    """Every key's record (id, name, role, locations, partner, created), oldest first; never the key, nor
    its digest."""
    ids = {key_id.decode(): digest.decode() for key_id, digest in r.hgetall(APIKEYS).items()}
    with r.pipeline() as pipe:
        for digest in ids.values():
            pipe.hgetall(APIKEY.format(digest=digest))
        records = [_decode(raw) for raw in pipe.execute() if raw]
    return sorted(records, key=lambda record: (record.get("created", ""), record["id"]))


def revoke_api_key(r: redis.Redis, key_id: str) -> bool:
    digest = r.hget(APIKEYS, key_id)
    if digest is None:
        return False
    with r.pipeline() as pipe:
        pipe.delete(APIKEY.format(digest=digest.decode()))
        pipe.hdel(APIKEYS, key_id)
        pipe.execute()
    return True
