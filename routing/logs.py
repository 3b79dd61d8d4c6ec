"""Structured application logs. They never carry personal data: log ids, states and counts only."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime

import orjson
from flask import Flask, Response, g

from routing import current

log = logging.getLogger("loketlijn.request")
# Probes poll every few seconds; logging them would bury the requests people make. (Nor does
# loketlijn_http_responses_total count them: /readyz answers 503 while unready, which has alerts of its own.)
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def init_app(app: Flask) -> None:
    level = logging.DEBUG if app.debug else logging.INFO
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    # Every request writes one line, so it should cost little. No format here or in gunicorn and rq shows
    # the caller's file and line or the multiprocessing name, so they are not collected (the logging
    # docs' "Optimization" section); gunicorn's format does show the process id, which stays.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logMultiprocessing = False
    # Flask-Limiter logs each refusal ("ratelimit 20 per 1 hour (<key>) exceeded at endpoint: ..."), with the
    # key it counted by. Our keys are pseudonyms, but a refusal is already our own request line (route and
    # status 429), so its line is left out; its warnings and errors (storage unreachable) stay.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        # The route pattern, never the path: paths can hold references and tokens.
        started = current.request_globals().pop("request_started", None)  # not through the proxies
        this = current.this_request()
        route = str(this.url_rule or "-")
        # A stylesheet or icon served (or not modified) says nothing a page's own line does not: only its errors.
        if route in QUIET_ROUTES or (this.endpoint == "static" and response.status_code < 400):
            return response
        # A server error is an error in the log too, so alerting on the level finds it.
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        if log.isEnabledFor(level):
            log.log(level, request_line(this.method, route, response.status_code,
                                        round((time.perf_counter() - started) * 1000, 1) if started else None,
                                        logging.getLevelName(level).lower()))
        return response


def request_line(method: str, route: str, status: int, ms: float | None, level: str = "info") -> str:
    """One JSON object per request, for log shippers. Built with orjson and handed to the standard logging
    module (which gunicorn and rq configure too): a structured-logging pipeline per line cost a tenth of
    a lookup's time."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return orjson.dumps({"method": method, "route": route, "status": status, "ms": ms, "event": "request",
                         "level": level, "timestamp": now}).decode()
