"""Operator endpoints (health, readiness, metrics) and the home page."""

from flask import Flask


def init_app(app: Flask) -> None:
    from routing.ops import metrics, views

    app.register_blueprint(views.bp)
    app.after_request(metrics.count_response)
    app.jinja_env.globals["url_if_exists"] = views.url_if_exists
    app.jinja_env.globals["allowed_url"] = views.allowed_url
