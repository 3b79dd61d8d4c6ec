"""Partner links: `/o/<token>` with 256 random bits, kept in Redis only as an HMAC of the token.

The HMAC key is derived from SECRET_KEY, so a copy of Redis alone cannot be turned into working links.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import redis
from flask import current_app

from routing.store import tokens as store

# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet; anything else is not ours.
_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")

VALID, USED, EXPIRED, UNKNOWN = "valid", "used", "expired", "unknown"


@dataclass(frozen=True)
class TokenCheck:
    state: str  # VALID, USED, EXPIRED or UNKNOWN
    reference: str | None = None
    expires_at: int = 0


def _digest(token: str) -> str:
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"handover-link-token", hashlib.sha256).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def issue(r: redis.Redis, reference: str, expires_at: int) -> str:
    token = secrets.token_urlsafe(32)
    store.save(r, _digest(token), reference, expires_at)
    return token


def _check(r: redis.Redis, token: str, now_ts: int) -> tuple[TokenCheck, str | None]:
    if not _SHAPE.fullmatch(token or ""):
        return TokenCheck(UNKNOWN), None
    digest = _digest(token)
    record = store.get(r, digest)
    if record is None:
        return TokenCheck(UNKNOWN), None
    reference, expires_at = record["subject"], int(record["expires_at"])
    if "used_at" in record:
        return TokenCheck(USED, reference, expires_at), None
    if now_ts >= expires_at:
        return TokenCheck(EXPIRED, reference, expires_at), None
    return TokenCheck(VALID, reference, expires_at), digest


def inspect(r: redis.Redis, token: str, now_ts: int) -> TokenCheck:
    """What the token is, without using it up."""
    return _check(r, token, now_ts)[0]


def redeem(r: redis.Redis, token: str, now_ts: int) -> TokenCheck:
    """Use the token: VALID only for the first caller; later callers see USED."""
    check, digest = _check(r, token, now_ts)
    if check.state != VALID or digest is None:
        return check
    if not store.consume(r, digest, now_ts):
        return TokenCheck(USED, check.reference, check.expires_at)
    return check
