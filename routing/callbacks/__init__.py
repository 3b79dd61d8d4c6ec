"""Callback requests (terugbelverzoeken): web form, JSON API, Twilio SMS/WhatsApp/voice, staff worklist."""

from __future__ import annotations

import os

from flask import Flask

# Settings of this feature with their defaults; the environment may override each (same name).
DEFAULTS = {
    "CALLBACK_EXPIRE_AFTER": 14,  # days a request may wait for someone to pick it up
    "CALLBACK_RETENTION_DONE": 30,  # days personal data stays after a request is done
    "CALLBACK_ALLOWED_REGIONS": "NL,BE,DE",  # countries whose numbers we call back
    "CALLBACK_MAX_ATTEMPTS": 3,
    "CALLBACK_RATE_IP": "20 per hour",  # per client address: the web form
    "CALLBACK_RATE_API_KEY": "1000 per hour",  # per API key: kiosks and partner portals, many citizens each
    "CALLBACK_READ_RATE": "600 per hour",  # status reads per API client (references are short: no probing)
    "CALLBACK_RATE_PHONE": "5 per day",
    "CALLBACK_RATE_LOCATION": "300 per hour",
    "TWILIO_AUTH_TOKEN": None,
}


def _configure(app: Flask) -> None:
    for name, default in DEFAULTS.items():
        if name not in app.config:
            app.config[name] = os.environ.get(name) or default
    regions = app.config["CALLBACK_ALLOWED_REGIONS"]
    if isinstance(regions, str):
        app.config["CALLBACK_ALLOWED_REGIONS"] = tuple(c.strip().upper() for c in regions.split(",") if c.strip())


def init_app(app: Flask) -> None:
    from routing.callbacks import api, hooks, views
    from routing.extensions import api as smorest_api
    from routing.privacy import keys as keys_group
    from routing.privacy.rotate import rotate

    _configure(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(hooks.bp)
    smorest_api.register_blueprint(api.blp)
    keys_group.add_command(rotate)
