"""Extensions, unbound at import time; `create_app` binds each with `init_app(app)`."""

from __future__ import annotations

import logging
import time
from functools import partial

import redis
from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel
from flask_limiter import Limiter, RateLimitExceeded
from flask_smorest import Api
from flask_wtf import CSRFProtect

from routing import current
from routing.openapi import CommonResponses

log = logging.getLogger(__name__)


class RouteLimiter(Limiter):
    """Flask-Limiter with limits on routes only (``@limiter.limit``), which those routes check themselves.

    Flask-Limiter also checks every request before the view for application-wide and default limits.
    Loketlijn has none, so that check only costs time: on a bare API call it was a quarter of the
    request's CPU. It still runs if such limits are ever configured.
    """

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and not self._has_request_wide_limits():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _has_request_wide_limits(self) -> bool:
        manager = self.limit_manager
        return bool(manager.application_limits or manager.default_limits or manager._blueprint_limits)

    def retry_after(self, refusal: RateLimitExceeded) -> float:
        """Seconds until every limit this request broke lets the client in again, for Retry-After and the
        message. Read from the limiter's storage (a moving window frees a place when its oldest hit is a window
        old): one more read, but only on a refusal. If that read fails, the broken limit's whole window, which
        is never too short."""
        try:
            # The window's own reset time, not `reset_at`, which adds a second (an hour's wait would read 61 min).
            resets = [limit.window[0] for limit in self.current_limits if limit.breached]
        except Exception as error:  # storage gone between the check and this read
            log.warning("rate limit reset time unavailable (%s); answering with the whole window",
                        type(error).__name__)
            resets = []
        if not resets:
            return float(refusal.limit.limit.get_expiry())
        return max(resets) - time.time()

    def init_app(self, app: Flask) -> None:
        """Also drops the two hooks Flask-Limiter runs after every request while they have nothing to do.

        One adds the X-RateLimit headers (off: RATELIMIT_HEADERS_ENABLED) and settles `deduct_when` limits
        (Loketlijn has none); the other resets the limiter's state on the request context, which is thrown
        away with the request anyway. Together they were a twentieth of an API call's work.
        """
        super().init_app(app)
        if self._headers_enabled:
            return
        after = app.after_request_funcs.get(None, [])  # partial(Limiter.__inject_headers, self)
        after[:] = [hook for hook in after if not (isinstance(hook, partial) and hook.args == (self,))]
        teardown = app.teardown_request_funcs.get(None, [])  # self.__release_context
        teardown[:] = [hook for hook in teardown if getattr(hook, "__self__", None) is not self]


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session that skips building its signer when the request has no cookie.

    API clients and first visits send none; Flask would build a signing serializer for each of them anyway.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


api = Api(spec_kwargs={"extra_plugins": [CommonResponses()]})
babel = Babel()
csrf = CSRFProtect()


def client_rate_limit_id() -> str:
    """Flask-Limiter's key for per-address limits: the client's keyed pseudonym (an IPv6 client by its
    /64), never its address (`routing.privacy.clients`; imported here late, that package imports this one)."""
    from routing.privacy.clients import current_rate_limit_id

    return current_rate_limit_id()


limiter = RouteLimiter(key_func=client_rate_limit_id, strategy="moving-window")


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
    return current.app().extensions["redis"]
