"""Structured application logs. They never carry personal data: log ids, states and counts only."""

from __future__ import annotations

import logging
import sys
import time

import orjson
import structlog
from flask import Flask, Response, g, request

log = structlog.get_logger("loketlijn.request")
# Probes poll every few seconds; logging them would bury the requests people make.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def _json(event: dict, **_: object) -> str:
    return orjson.dumps(event).decode()


def init_app(app: Flask) -> None:
    level = logging.DEBUG if app.debug else logging.INFO
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    # Every request writes one line, so it should cost little. No format here or in gunicorn and rq shows
    # the caller's file and line or the multiprocessing name, so they are not collected (the logging
    # docs' "Optimization" section); gunicorn's format does show the process id, which stays.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logMultiprocessing = False
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=_json),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        # The route pattern, never the path: paths can hold references and tokens.
        started = g.pop("request_started", None)
        route = str(request.url_rule or "-")
        if route in QUIET_ROUTES:
            return response
        log.info("request", method=request.method, route=route,
                 status=response.status_code,
                 ms=round((time.perf_counter() - started) * 1000, 1) if started else None)
        return response
