"""Staff, partner and coordinator accounts, and API keys (stored by the hash of the key only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis

from routing.store.keys import PREFIX

USER = PREFIX + "user:{email}"
USERS = PREFIX + "users"
APIKEY = PREFIX + "apikey:{digest}"
APIKEYS = PREFIX + "apikeys"


def _decode(raw: dict[bytes, bytes]) -> dict[str, Any]:
    record: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
    if "locations" in record:
        record["locations"] = json.loads(record["locations"])
    return record


def _encode(record: dict[str, Any]) -> dict[str, str]:
    encoded = {k: v for k, v in record.items() if v is not None and k != "locations"}
    encoded["locations"] = json.dumps(sorted(record.get("locations") or []))
    return encoded


def save_user(r: redis.Redis, record: dict[str, Any]) -> None:
    with r.pipeline() as pipe:
        pipe.delete(USER.format(email=record["email"]))
        pipe.hset(USER.format(email=record["email"]), mapping=_encode(record))
        pipe.sadd(USERS, record["email"])
        pipe.execute()


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

    Sessions are signed cookies that hold only the e-mail address and are looked up here on every request
    (routing.auth.current_principal), so without the account they no longer log anyone in."""
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
