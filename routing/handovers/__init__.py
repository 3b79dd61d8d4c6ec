"""Warm handover: the loket hands a citizen to a partner employee and follows up on the result."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from routing.extensions import api
    from routing.handovers import api as handovers_api
    from routing.handovers import views

    app.register_blueprint(views.bp)
    api.register_blueprint(handovers_api.blp)
