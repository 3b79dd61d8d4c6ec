"""Loketlijn: the routing and callback service behind the government-wide service counter."""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import settings
from routing.jsonprovider import OrjsonProvider

# Feature packages; each exposes init_app(app) that registers its blueprints, CLI and cron jobs.
FEATURES = (
    "routing.ops",
    "routing.auth",
    "routing.privacy",
    "routing.directory",
    "routing.callbacks",
    "routing.notices",
    "routing.handovers",
)


class App(Flask):
    """Flask, remembering which functions it found synchronous.

    Flask asks `ensure_sync` about every hook and view on every request (fifteen times for an API intake) and
    works the answer out with inspect each time, though a function's answer never changes. A bound method is
    remembered by its function: MethodView makes a new one for every request.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: weakref.WeakSet = weakref.WeakSet()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        function = getattr(func, "__func__", func)
        if function in self._synchronous:
            return func
        sync = super().ensure_sync(func)
        if sync is func:
            try:
                self._synchronous.add(function)
            except TypeError:  # a callable that takes no weak reference: asked about each time, as Flask does
                pass
        return sync


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = App(__name__)
    from routing import errors, extensions, http, i18n, logs, moments

    app.session_interface = extensions.CookieSessionInterface()
    app.json = OrjsonProvider(app)
    app.config.update(settings.load((config or {}).get("LOKETLIJN_ENV")))
    app.config.update(config or {})
    app.config.setdefault("RATELIMIT_STORAGE_URI", None)
    _refuse_unusable_settings(app)
    logs.init_app(app)
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    extensions.redis_connection.init_app(app)
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URI"] or extensions.limiter_storage_uri(
        app.config["REDIS_URL"]
    )
    extensions.limiter.init_app(app)
    extensions.csrf.init_app(app)
    i18n.init_app(app)
    moments.init_app(app)
    extensions.api.init_app(app)
    for name in FEATURES:
        importlib.import_module(name).init_app(app)
    app.before_request(_fresh_request_state)
    # Before every blueprint's hooks and view (authentication, limits, parsing). The CSRF check, an earlier
    # app hook, reads the form: werkzeug refuses a body it is told is too long there without reading it.
    app.before_request(http.refuse_large_body)
    app.after_request(http.security_headers)  # after every feature's own (app hooks run after blueprints')
    # After flask-smorest, whose own handler answers every HTTP error in JSON, pages included.
    errors.init_app(app)
    return app


def _fresh_request_state() -> None:
    """Per-request caches start empty even when an outer app context keeps `g` alive (tests, jobs): the
    principal, the CSRF token and Flask-Babel's locale and catalogue (its `_flask_babel` namespace; dropping
    it is what `flask_babel.refresh` does, without first building a new one through `g` on every request)."""
    from flask import g

    cached = vars(g._get_current_object())
    for name in ("principal", "csrf_token", "_flask_babel"):
        cached.pop(name, None)


def _refuse_unusable_settings(app: Flask) -> None:
    """Refuse to start with settings that cannot work (any environment: in development it is a typo as well)
    or are unsafe (production): every problem at once, one line each, no traceback.

    The message is printed once, by the SystemExit (it goes to stderr). It is not logged as well: at this
    point no logging is configured, so Python's last-resort handler would print the same lines a second time.
    """
    from routing import callbacks
    from workers import channels

    production = app.config["LOKETLIJN_ENV"] == "production"
    callbacks.load_settings(app)  # this feature's settings come from the environment too: checked with the rest
    problems = settings.problems_for_any_environment(app.config)
    if production:
        problems += settings.problems_for_production(app.config)
    problems += channels.problems(app.config, production)
    if not problems:
        return
    heading = "Refusing to start in production:" if production else "Refusing to start:"
    raise SystemExit(heading + "\n  - " + "\n  - ".join(problems))

