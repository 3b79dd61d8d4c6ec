"""Settings per environment, read from the process environment when the app is created.

Nothing here runs at import time: `load(env)` builds a dict from the environment on each call, so
tests and the factory can create apps with different settings in one process.

A value the environment gets wrong (a number that is no number, a rate limit that is no rate limit) does
not stop `load` at the first one: it stays in the config as an `Invalid` in its place, and the start-up
check (`problems_for_any_environment`, called by the app factory) names every such setting at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Where `make run` keeps its embedded Redis (routing/devserver.py); the default Redis of development.
EMBEDDED_REDIS_DIR = PROJECT_ROOT / "var"
EMBEDDED_REDIS_SOCKET = EMBEDDED_REDIS_DIR / "redis.sock"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"

# Development defaults: fine on a laptop, refused in production (see `problems_for_production`).
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_ENCRYPTION_KEY = "ZGV2LWVuY3J5cHRpb24ta2V5LW5vdC1mb3ItcHJvZC0="
DEV_PSEUDONYM_KEY = "dev-pseudonym-key-not-for-production"
DEV_MAIL_FROM = "Loketlijn <noreply@localhost>"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


# Production refuses a SECRET_KEY shorter than this (it signs sessions, CSRF tokens and partner links).
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class Invalid:
    """A setting the environment gives a value this process cannot use; kept in the config in its place."""

    name: str
    value: str
    expected: str
    default: Any

    def __str__(self) -> str:
        default = ("1" if self.default else "0") if isinstance(self.default, bool) else self.default
        return f"{self.name}={self.value!r} {self.expected} (default: {default!r})"


def env_int(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int | Invalid:
    """A whole number from the environment, or the default when it is not set."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return Invalid(name, raw, "is not a whole number", default)
    if value < minimum or (maximum is not None and value > maximum):
        limits = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        return Invalid(name, raw, f"is out of range: use {limits}", default)
    return value


def env_flag(name: str, default: bool) -> bool | Invalid:
    """A switch from the environment: 1 (on) or 0 (off)."""
    raw = _env(name)
    if raw is None:
        return default
    if raw.strip() not in ("0", "1"):
        return Invalid(name, raw, "is not 1 (on) or 0 (off)", default)
    return raw.strip() == "1"


def rate_problem(text: Any, single: bool = False) -> str | None:
    """What is wrong with a rate limit string (the `limits` package's notation, as Flask-Limiter reads it)."""
    from limits import parse_many

    try:
        items = parse_many(text)
    except (ValueError, TypeError):
        return "is not a rate limit such as " + ("'5 per day'" if single else "'10 per minute;50 per hour'")
    if single and len(items) != 1:
        return f"holds {len(items)} limits; this setting takes one, such as '5 per day'"
    return None


def env_rate(name: str, default: str, single: bool = False) -> str | Invalid:
    """A rate limit string from the environment; `single`: one limit only (the callback intake counts one)."""
    raw = _env(name)
    if raw is None:
        return default
    problem = rate_problem(raw, single)
    return Invalid(name, raw, problem, default) if problem else raw


class Base:
    ENV_NAME = "development"

    def default_redis_url(self) -> str:
        return LOCAL_REDIS_URL

    def values(self) -> dict[str, Any]:
        return {
            "LOKETLIJN_ENV": self.ENV_NAME,
            "SECRET_KEY": _env("SECRET_KEY", DEV_SECRET_KEY),
            # Comma-separated Fernet keys, newest first (MultiFernet encrypts with the first).
            "ENCRYPTION_KEYS": _env("ENCRYPTION_KEYS", DEV_ENCRYPTION_KEY),
            # Key for pseudonyms (HMAC of phone numbers) in audit records and dedup lookups.
            "PSEUDONYM_KEY": _env("PSEUDONYM_KEY", DEV_PSEUDONYM_KEY),
            "REDIS_URL": _env("REDIS_URL", self.default_redis_url()),
            # Fell back to LOCAL_REDIS_URL: a development web process or worker may (`guessed_redis_problem`),
            # an operator command and production may not (`problems_for_production`).
            "REDIS_URL_GUESSED": _env("REDIS_URL") is None and self.default_redis_url() == LOCAL_REDIS_URL,
            # Set by `make run` / the operator when Redis keeps its data (AOF or RDB).
            "REDIS_PERSISTENT": env_flag("REDIS_PERSISTENT", False),
            "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL"),
            # Proxies in front of the app whose X-Forwarded-* headers are trusted (client IP for limits).
            "TRUSTED_PROXY_HOPS": env_int("TRUSTED_PROXY_HOPS", 0),
            # Bytes a request body may have; more is refused with 413 before it is read (`http.refuse_large_body`).
            # Real bodies (a form, an API call, a Twilio webhook with a 1600-character SMS) are a few KiB; the
            # limit keeps anyone from making a worker read and parse megabytes, also where no login is needed.
            "MAX_CONTENT_LENGTH": env_int("MAX_CONTENT_LENGTH", 64 * 1024, minimum=1024),
            "DIRECTORY_PATH": _env("DIRECTORY_PATH", str(PROJECT_ROOT / "config" / "directory")),
            # How often (seconds) a process checks the directory files for changes; 0 = only at start.
            "DIRECTORY_RELOAD_SECONDS": env_int("DIRECTORY_RELOAD_SECONDS", 10),
            # Seconds a process adds up its lookup counts before writing them (0 = write each one at once).
            "LOOKUP_COUNT_FLUSH_SECONDS": env_int("LOOKUP_COUNT_FLUSH_SECONDS", 2),
            "TIMEZONE": "Europe/Amsterdam",
            "BABEL_DEFAULT_LOCALE": "nl",
            "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
            "LANGUAGES": ("nl", "en"),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": env_flag("SESSION_COOKIE_SECURE", False),
            "PERMANENT_SESSION_LIFETIME": env_int("SESSION_LIFETIME_SECONDS", 8 * 3600),
            "WTF_CSRF_TIME_LIMIT": None,
            "RATELIMIT_ENABLED": env_flag("RATELIMIT_ENABLED", True),
            # X-RateLimit-* headers cost a Redis round trip per limited request; nobody reads them here.
            "RATELIMIT_HEADERS_ENABLED": False,
            # Seconds a process remembers who a key or session belongs to (a revoked key stops this late).
            "AUTH_CACHE_SECONDS": env_int("AUTH_CACHE_SECONDS", 5),
            "LOGIN_RATE_LIMIT": env_rate("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
            # Hours a login counts, however busy (a working day): then staff log in again. Idle sessions end
            # sooner (SESSION_LIFETIME_SECONDS after the last request).
            "LOGIN_MAX_HOURS": env_int("LOGIN_MAX_HOURS", 12, minimum=1, maximum=7 * 24),
            "AUDIT_RETENTION_DAYS": env_int("AUDIT_RETENTION_DAYS", 400),
            "API_TITLE": "Loketlijn",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": None,
            "DEV_PAGES": True,
            # Notices (issue 4). Without Twilio or SMTP, that channel's notices go to the development outbox;
            # production never uses it (workers.channels: it refuses to start without any channel).
            "TWILIO_ACCOUNT_SID": _env("TWILIO_ACCOUNT_SID"),
            "TWILIO_AUTH_TOKEN": _env("TWILIO_AUTH_TOKEN"),
            "TWILIO_MESSAGING_SERVICE_SID": _env("TWILIO_MESSAGING_SERVICE_SID"),
            "TWILIO_FROM": _env("TWILIO_FROM"),
            "TWILIO_API_BASE_URL": _env("TWILIO_API_BASE_URL", "https://api.twilio.com"),
            "SMTP_HOST": _env("SMTP_HOST"),
            # Default by SMTP_SECURITY: 587 for starttls, 465 for ssl, 25 for none.
            "SMTP_PORT": _env("SMTP_PORT"),
            "SMTP_USERNAME": _env("SMTP_USERNAME"),
            "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
            "SMTP_SECURITY": _env("SMTP_SECURITY", "starttls"),
            "MAIL_FROM": _env("MAIL_FROM", DEV_MAIL_FROM),
            # Told when a notice fails on every channel and its sender named nobody to tell.
            "NOTICE_FAILED_EMAIL": _env("NOTICE_FAILED_EMAIL"),
            # Bearer token for Prometheus scraping /metrics (admins may also look while logged in).
            "METRICS_TOKEN": _env("METRICS_TOKEN"),
            # Warm handover (issue 5): default deadline (Spoed: its own), attempts before it returns to the loket,
            # and when the personal fields go: days after it is done, and at the latest days after it was made.
            "HANDOVER_DEADLINE_WORKING_DAYS": env_int("HANDOVER_DEADLINE_WORKING_DAYS", 2),
            "HANDOVER_URGENT_DEADLINE_WORKING_DAYS": env_int("HANDOVER_URGENT_DEADLINE_WORKING_DAYS", 1),
            "HANDOVER_MAX_ATTEMPTS": env_int("HANDOVER_MAX_ATTEMPTS", 3),
            "HANDOVER_RETENTION_DAYS": env_int("HANDOVER_RETENTION_DAYS", 30),
            "HANDOVER_MAX_RETENTION_DAYS": env_int("HANDOVER_MAX_RETENTION_DAYS", 90),
            # A partner link is valid until the end of the deadline day plus this margin.
            "HANDOVER_LINK_MARGIN_HOURS": env_int("HANDOVER_LINK_MARGIN_HOURS", 48),
            # Reminders and the overdue overview go out from this hour (Europe/Amsterdam) on working days.
            "HANDOVER_REMINDER_HOUR": env_int("HANDOVER_REMINDER_HOUR", 7, maximum=23),
            # With office hours on, a handover made from this hour on, or on a day off, reaches the partner at the
            # next working day's HANDOVER_REMINDER_HOUR: a team phone does not buzz on a Sunday evening.
            "HANDOVER_NOTICE_OFFICE_HOURS": env_flag("HANDOVER_NOTICE_OFFICE_HOURS", True),
            "HANDOVER_NOTICE_UNTIL_HOUR": env_int("HANDOVER_NOTICE_UNTIL_HOUR", 18, maximum=24),
        }


class Development(Base):
    ENV_NAME = "development"

    def default_redis_url(self) -> str:
        # `flask --app routing users add ...` in this checkout reaches the Redis `make run` started, not a
        # Redis that runs on this machine for something else.
        return f"unix://{EMBEDDED_REDIS_SOCKET}" if EMBEDDED_REDIS_SOCKET.is_socket() else LOCAL_REDIS_URL


def guessed_redis_problem(config: dict[str, Any]) -> str | None:
    """Why an operator command must not use the Redis development fell back to, or None.

    Development without REDIS_URL and without `make run`'s embedded Redis falls back to LOCAL_REDIS_URL, so a
    web process or worker started by hand still finds a Redis. An operator command there would write accounts
    and keys into whatever Redis runs on this machine for something else: it asks for a Redis instead."""
    if not config.get("REDIS_URL_GUESSED") or config.get("REDIS_URL") != LOCAL_REDIS_URL:
        return None  # set in the environment, the embedded Redis, or one the app was given (tests)
    return (f"no Redis: start `make run` in this checkout (its Redis is {EMBEDDED_REDIS_SOCKET}) or set "
            f"REDIS_URL; this command does not guess {LOCAL_REDIS_URL}")


class Testing(Base):
    ENV_NAME = "testing"

    def values(self) -> dict[str, Any]:
        values = super().values()
        # Tests send at once whatever the day or hour they run; the ones about limits or office hours turn them on.
        values.update(TESTING=True, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False, LOOKUP_COUNT_FLUSH_SECONDS=0,
                      HANDOVER_NOTICE_OFFICE_HOURS=False)
        return values


class Production(Base):
    ENV_NAME = "production"

    def values(self) -> dict[str, Any]:
        values = super().values()
        values.update(DEV_PAGES=False, SESSION_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")
        return values


ENVIRONMENTS: dict[str, type[Base]] = {
    "development": Development,
    "testing": Testing,
    "production": Production,
}


def load(env: str | None = None) -> dict[str, Any]:
    name = env or _env("LOKETLIJN_ENV", "development")
    if name not in ENVIRONMENTS:
        raise SystemExit(f"Refusing to start:\n  - LOKETLIJN_ENV={name!r} is unknown; use one of "
                         f"{', '.join(ENVIRONMENTS)}")
    return ENVIRONMENTS[name]().values()


def problems_for_any_environment(config: dict[str, Any]) -> list[str]:
    """What keeps a start from working in any environment (development too: there it is a typo as well)."""
    found = [str(value) for value in config.values() if isinstance(value, Invalid)]
    found.extend(_encryption_key_problems(config.get("ENCRYPTION_KEYS")))
    return found


def encryption_keys(value: Any) -> list[str]:
    """The keys in an ENCRYPTION_KEYS value, newest first (comma-separated; spaces and empty entries ignored)."""
    return [k.strip() for k in str(value or "").split(",") if k.strip()]


def _encryption_key_problems(value: Any) -> list[str]:
    """Every key in ENCRYPTION_KEYS opens as a Fernet key (the message never shows a key: they are secret)."""
    from cryptography.fernet import Fernet

    keys = encryption_keys(value)
    if not keys:
        return ["ENCRYPTION_KEYS holds no key; generate one with `flask --app routing keys generate`"]
    found = []
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            found.append(f"ENCRYPTION_KEYS: key {number} of {len(keys)} is not a Fernet key (44 characters of "
                         "url-safe base64); generate one with `flask --app routing keys generate`")
    return found


def problems_for_production(config: dict[str, Any]) -> list[str]:
    """What keeps a production start from being safe; empty when all is well."""
    problems = []
    if config["SECRET_KEY"] == DEV_SECRET_KEY:
        problems.append("SECRET_KEY is the development default; set a long random value")
    elif len(str(config["SECRET_KEY"] or "")) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY is {len(str(config['SECRET_KEY'] or ''))} characters long; use at least "
                        f"{MIN_SECRET_KEY_LENGTH} random characters (see docs/deploy.md)")
    if DEV_ENCRYPTION_KEY in encryption_keys(config["ENCRYPTION_KEYS"]):
        problems.append("ENCRYPTION_KEYS contains the development key; generate one with "
                        "`flask --app routing keys generate`")
    if config["PSEUDONYM_KEY"] == DEV_PSEUDONYM_KEY:
        problems.append("PSEUDONYM_KEY is the development default; set a long random value")
    if not str(config.get("PUBLIC_BASE_URL") or "").startswith("https://"):
        problems.append("PUBLIC_BASE_URL is not set to the service's public https address; links in notices "
                        "and Twilio's signatures depend on it (see docs/deploy.md)")
    if config.get("REDIS_URL_GUESSED") and config.get("REDIS_URL") == LOCAL_REDIS_URL:
        problems.append(f"REDIS_URL is not set; production does not guess {LOCAL_REDIS_URL} (see docs/deploy.md)")
    if not config["REDIS_PERSISTENT"]:
        problems.append("Redis persistence is not confirmed; enable AOF/RDB on the server and set "
                        "REDIS_PERSISTENT=1 (see docs/deploy.md)")
    return problems
