"""Notices: kinds, templates, dispatch state, delivery receipts, the failed list and the dev outbox."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from routing.notices import views
    from workers import cron, queues
    from workers.jobs import sweep_stuck

    app.register_blueprint(views.bp)
    app.register_blueprint(views.hooks_bp)
    if app.config.get("DEV_PAGES"):
        # Development and tests only: shows rendered notices with their addresses.
        app.register_blueprint(views.dev_bp)
    if (sweep_stuck, queues.JOBS, queues.SWEEP_INTERVAL_SECONDS) not in cron.SCHEDULE:
        cron.SCHEDULE.append((sweep_stuck, queues.JOBS, queues.SWEEP_INTERVAL_SECONDS))
