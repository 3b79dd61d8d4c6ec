"""Helpers for the callback tests: pinned Amsterdam times, quick requests, and a look at everything in Redis."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

AMS = ZoneInfo("Europe/Amsterdam")
TWILIO_TOKEN = "test-twilio-auth-token"
# Utrecht: dienstverlener present Monday to Friday 09:00-17:00.
SATURDAY = datetime(2026, 11, 28, 14, 0, tzinfo=AMS)
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=AMS)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


@pytest.fixture
def app_config() -> dict:
    return {"TWILIO_AUTH_TOKEN": TWILIO_TOKEN}


@pytest.fixture
def pin_now(monkeypatch):
    """pin_now(moment): pages and webhooks see this as the current time."""
    from routing.callbacks import service

    def pin(moment: datetime) -> None:
        monkeypatch.setattr(service, "clock", lambda: moment)

    return pin


@pytest.fixture
def create(app, redis):
    """create(now=..., **fields) → Receipt, through the same checks as every channel."""
    from routing.callbacks import schemas, service

    def make(now: datetime = SATURDAY, channel: str = "api", **fields):
        data = {"location": "utrecht", "phone": "06 12345678", "consent": True, **fields}
        intake = schemas.load_intake(data, channel=channel, now=now)
        return service.create_request(redis, intake, now=now)

    return make


def everything_in_redis(redis) -> bytes:
    """Every key and every value in our private Redis, as one blob to search for plaintext."""
    chunks: list[bytes] = []
    for key in redis.scan_iter(count=1000):
        chunks.append(key)
        kind = redis.type(key)
        if kind == b"string":
            chunks.append(redis.get(key) or b"")
        elif kind == b"hash":
            for field, value in redis.hgetall(key).items():
                chunks += [field, value]
        elif kind == b"list":
            chunks += redis.lrange(key, 0, -1)
        elif kind == b"set":
            chunks += list(redis.smembers(key))
        elif kind == b"zset":
            chunks += [member for member, _ in redis.zrange(key, 0, -1, withscores=True)]
        elif kind == b"stream":
            for _, fields in redis.xrange(key):
                for field, value in fields.items():
                    chunks += [field, value]
    return b"\n".join(chunks)
