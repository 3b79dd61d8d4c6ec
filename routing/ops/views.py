from __future__ import annotations

import hmac

import redis
from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.routing import BuildError

from routing.auth import current_principal, may_open
from routing.errors import ApiError
from routing.extensions import get_redis
from routing.ops.metrics import registry_for
from routing.store import server

bp = Blueprint("ops", __name__)


def allowed_url(endpoint: str, **values: object) -> str | None:
    """A link (the menu's, a page's) only to a page this build has and this account may open: no link that ends
    in 403, as a coordinator's 'hand over' in the search results or a counter partner's on a callback request."""
    view = current_app.view_functions.get(endpoint)
    return url_for(endpoint, **values) if view is not None and may_open(view) else None


def url_if_exists(endpoint: str, **values: object) -> str | None:
    """A link only to what this build has, so the menu never points at a missing page."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.get("/")
def home():
    return render_template("home.html", principal=current_principal(), at_a_glance=at_a_glance)


def at_a_glance(endpoint: str) -> tuple[str, str] | None:
    """A page's state for its card on the start page ((text, badge kind), from its view's own `at_a_glance`),
    so staff see what waits without opening each page."""
    view = current_app.view_functions.get(endpoint)
    status = getattr(view, "at_a_glance", None)
    return status() if status else None


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    reasons = []
    try:
        get_redis().ping()
        if current_app.config["REDIS_PERSISTENT"]:
            reasons += server.durability_problems(get_redis())
    except redis.RedisError as error:
        reasons.append(f"redis unreachable: {type(error).__name__}")
    status_of_directory = current_app.extensions.get("directory_status")
    if status_of_directory is not None:
        problem = status_of_directory()
        if problem:
            reasons.append(problem)
    if reasons:
        return jsonify(status="unavailable", reasons=reasons), 503
    return jsonify(status="ready")


@bp.get("/metrics")
def metrics():
    """For the operator's Prometheus: METRICS_TOKEN as a Bearer token, or an admin session."""
    token = current_app.config["METRICS_TOKEN"] or ""
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    token_ok = bool(token) and hmac.compare_digest(offered.encode(), token.encode())
    # The token is checked first: looking up a principal needs Redis, and a scrape must answer (with
    # loketlijn_redis_up 0) while Redis is down.
    if not token_ok:
        principal = current_principal()
        if principal is None or principal.role != "admin":
            raise ApiError(401, _("De meetwaarden zijn voor de beheerder: log in als beheerder, of geef METRICS_TOKEN "
                                  "mee als Bearer-token."))
    registry = current_app.extensions.get("metrics_registry")
    if registry is None:
        from routing.directory.state import EXTENSION as DIRECTORY_EXTENSION

        registry = current_app.extensions["metrics_registry"] = registry_for(
            get_redis, lambda: current_app.extensions.get(DIRECTORY_EXTENSION))
    # content_type, not mimetype: CONTENT_TYPE_LATEST already names its charset, which mimetype= adds again.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
