"""One JSON error shape for the API, friendly pages for HTML; 500s are logged, never shown.

A Redis that does not answer (stopped, restarting, unreachable) is an outage, not a bug: 503 with Retry-After
and a message that says it is temporary. The error page itself never needs Redis (see `on_error_page`).
"""

from __future__ import annotations

import logging
import math
import traceback
from http import HTTPStatus
from typing import Any

import redis
from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/hooks/", "/dev/outbox.json", "/readyz", "/healthz")
# Redis not answering: temporary, answered 503. Not every RedisError: a script or command error is a bug (500).
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
RETRY_AFTER_SECONDS = 60
# Marks on the request itself (its WSGI environ), not on `g`: an app context kept open around several
# requests (tests, jobs) shares one `g`, and what one request found must not outlive it.
_ERROR_PAGE = "loketlijn.error_page"
_REDIS_DOWN_SEEN = "loketlijn.redis_down"


class ApiError(Exception):
    """A refusal a user caused: status, a plain message and optional per-field messages."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None, *,
                 retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}
        # Seconds until trying again can succeed (a 429's window); sent as Retry-After.
        self.retry_after = retry_after


class NotFound(ApiError):
    def __init__(self, message: str):
        super().__init__(404, message)


def flatten_field_errors(messages: Any) -> dict[str, list[str]]:
    """webargs nests errors by location ({"json": {"phone": [...]}}); the API shows fields only."""
    if not isinstance(messages, dict):
        # A whole-body problem, e.g. {"json": ["Invalid JSON body."]}: keep each message as text.
        return {"_schema": [str(m) for m in (messages if isinstance(messages, list) else [messages])]}
    if set(messages) <= {"json", "query", "form", "headers", "path", "files", "cookies"}:
        merged: dict[str, list[str]] = {}
        for by_field in messages.values():
            merged.update(flatten_field_errors(by_field))
        return merged
    flat: dict[str, list[str]] = {}
    for field, value in messages.items():
        if isinstance(value, dict):
            # Nested schema or list index: keep the path readable, e.g. "preferred.0".
            for sub, sub_messages in flatten_field_errors(value).items():
                flat[f"{field}.{sub}"] = sub_messages
        elif isinstance(value, list):
            flat[str(field)] = [str(m) for m in value]
        else:
            flat[str(field)] = [str(value)]
    return flat


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def json_error(status: int, message: str, errors: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"code": status, "status": HTTPStatus(status).phrase, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        # RFC 9110 asks every 401 to name the scheme it wants: API clients and Prometheus send a Bearer key.
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def html_error(status: int, message: str) -> tuple[str, int]:
    request.environ[_ERROR_PAGE] = True
    return render_template("errors/error.html", status=status, title=page_title(status), message=message), status


def page_title(status: int) -> str:
    """A short heading that says what happened; the message below it says what to do (a whole sentence as
    the heading made the page hard to scan, and the browser tab showed only its start)."""
    titles = {
        401: _("Log eerst in"),
        403: _("Geen toegang"),
        404: _("Pagina niet gevonden"),
        413: _("Te veel tekst"),
        429: _("Te veel pogingen"),
        503: _("Even niet beschikbaar"),
    }
    if status in titles:
        return titles[status]
    if status >= 500:
        return _("Er ging iets mis")
    return _("Dit lukte niet")


def default_message(status: int) -> str:
    messages = {
        400: _("De aanvraag klopt niet. Controleer wat u invulde en probeer het opnieuw."),
        401: _("Log eerst in."),
        403: _("U mag deze pagina niet bekijken."),
        404: _("Deze pagina bestaat niet (meer)."),
        405: _("Dit kan zo niet."),
        413: _("Wat u stuurde is te groot. Maak uw tekst korter en probeer het opnieuw."),
        415: _("Stuur de gegevens als JSON."),
        422: _("Niet alle gegevens zijn goed ingevuld."),
        429: _("U probeerde het te vaak."),
        503: _("Het lukt nu even niet. Probeer het over een paar minuten opnieuw."),
    }
    return messages.get(status, _("Er ging iets mis aan onze kant. Probeer het later opnieuw."))


def try_again_in(seconds: float) -> str:
    """"Try again in ..." for a wait of `seconds`, rounded up: a shorter wait than the real one would only
    earn the next refusal. Minutes below two hours (an hourly limit's window ends at most an hour away), hours
    up to two days (a daily limit), days beyond."""
    minutes = math.ceil(max(seconds, 1) / 60)
    if minutes == 1:
        return _("Probeer het over een minuut opnieuw.")
    if minutes == 60:
        return _("Probeer het over een uur opnieuw.")
    if minutes < 120:
        return _("Probeer het over %(num)s minuten opnieuw.", num=minutes)
    hours = math.ceil(seconds / 3600)
    if hours <= 48:
        return _("Probeer het over %(num)s uur opnieuw.", num=hours)
    return _("Probeer het over %(num)s dagen opnieuw.", num=math.ceil(seconds / 86400))


def too_many(seconds: float) -> str:
    """The message of a 429 without one of its own: that it was too often, and how long to wait."""
    return f"{default_message(429)} {try_again_in(seconds)}"


def with_retry_after(response: Response, seconds: float) -> Response:
    """Retry-After in whole seconds, rounded up (at least 1: 0 would invite an immediate retry)."""
    response.headers["Retry-After"] = str(max(1, math.ceil(seconds)))
    return response


def render_error(status: int, message: str | None = None, errors: dict[str, list[str]] | None = None):
    message = message or default_message(status)
    if wants_json():
        return json_error(status, message, errors)
    return html_error(status, message)


def handle_api_error(error: ApiError):
    response = render_error(error.status, error.message, error.errors)
    # Temporarily unavailable (no directory loaded): every 503 says when to try again.
    if error.status == 503:
        return retry_later(make_response(response))
    if error.retry_after is not None:
        return with_retry_after(make_response(response), error.retry_after)
    return response


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    data = getattr(error, "data", None) or {}
    errors = flatten_field_errors(data["messages"]) if "messages" in data else None
    # Werkzeug's default descriptions are English developer text; users get ours.
    message = data.get("message") if isinstance(data.get("message"), str) else None
    wait = _limiter_wait(error) if status == 429 else None
    if wait is not None:
        message = message or too_many(wait)
    response = render_error(status, message, errors)
    if wait is not None:
        return with_retry_after(make_response(response), wait)
    if isinstance(response, Response):
        for header, value in (error.get_headers() if status in (405, 429) else []):
            if header.lower() in ("allow", "retry-after"):
                response.headers[header] = value
    return response


def _limiter_wait(error: HTTPException) -> float | None:
    """Seconds until a Flask-Limiter refusal's limits let the client in again; None for any other 429."""
    from flask_limiter import RateLimitExceeded

    from routing.extensions import limiter

    return limiter.retry_after(error) if isinstance(error, RateLimitExceeded) else None


def handle_unexpected(error: Exception):
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, REDIS_DOWN):  # e.g. raised in an after_request hook: still an outage
        return handle_redis_down(original)
    # Type and frames only: an exception's text may carry personal data.
    log.error("unhandled %s on %s %s\n%s", type(original).__name__, request.method, request.url_rule,
              "".join(traceback.format_tb(original.__traceback__)))
    return render_error(500, default_message(500))


def on_error_page() -> bool:
    """Whether this request is rendering an error page: its layout must then not need Redis."""
    return request.environ.get(_ERROR_PAGE, False)


def redis_down_seen() -> bool:
    """Whether this request already found Redis not answering: no second wait for it while answering."""
    return request.environ.get(_REDIS_DOWN_SEEN, False)


def log_redis_down(error: Exception) -> None:
    """One line per request that hit an outage: the type and the route (never the path, nor the error's text,
    nor its traceback: the place in the code says nothing about a stopped server)."""
    if redis_down_seen():
        return
    request.environ[_REDIS_DOWN_SEEN] = True
    log.error("redis unavailable: %s on %s %s", type(error).__name__, request.method, request.url_rule)


def retry_later(response: Response) -> Response:
    """503 with Retry-After: Redis is expected back (restart, failover) within a minute or two."""
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_redis_down(error: Exception):
    log_redis_down(error)
    return retry_later(make_response(render_error(503)))


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_unexpected)
    for outage in REDIS_DOWN:
        app.register_error_handler(outage, handle_redis_down)
    app.register_error_handler(Exception, handle_unexpected)
