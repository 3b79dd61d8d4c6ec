"""The app, request and `g` of this request themselves, for code that runs on every request.

Flask's `current_app`, `request` and `g` are werkzeug proxies. A proxy finds an attribute only after Python's
own lookup on the proxy has failed, which builds an AttributeError, message and all, and drops it: several
microseconds for each `current_app.config` or `request.headers`, dozens of times per request. Code on every
request's path (app hooks, authentication, the intake) reads them through these instead; elsewhere the
proxies are fine.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, current_app, g, request


def app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def this_request() -> Request:
    return request._get_current_object()  # type: ignore[attr-defined]


def request_globals() -> Any:
    """Flask's `g` (an app-context object)."""
    return g._get_current_object()  # type: ignore[attr-defined]
