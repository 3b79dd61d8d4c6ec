"""Extensions, unbound at import time; `create_app` binds each with `init_app(app)`."""

from __future__ import annotations

import redis
from flask import Flask, current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from flask_wtf import CSRFProtect

from routing.openapi import CommonResponses

api = Api(spec_kwargs={"extra_plugins": [CommonResponses()]})
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, strategy="moving-window")


def limiter_storage_uri(redis_url: str) -> str:
    """The `limits` package spells a unix-socket Redis as redis+unix://."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


class RedisConnection:
    """One `redis.Redis` per app, built from REDIS_URL; bytes in, bytes out."""

    def init_app(self, app: Flask) -> None:
        app.extensions["redis"] = redis.Redis.from_url(
            app.config["REDIS_URL"], health_check_interval=30, socket_timeout=5, socket_connect_timeout=5
        )


redis_connection = RedisConnection()


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]
