from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify, render_template, url_for
from werkzeug.routing import BuildError

from routing.auth import current_principal
from routing.extensions import get_redis

bp = Blueprint("ops", __name__)


def url_if_exists(endpoint: str, **values: object) -> str | None:
    """A link only to what this build has, so the menu never points at a missing page."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.get("/")
def home():
    return render_template("home.html", principal=current_principal())


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    reasons = []
    try:
        get_redis().ping()
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
