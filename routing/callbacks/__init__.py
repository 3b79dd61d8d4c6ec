"""Callback requests (terugbelverzoeken): web form, JSON API, Twilio SMS/WhatsApp/voice, staff worklist."""

from __future__ import annotations

import ipaddress
import os

from flask import Flask

from config import settings

# Settings of this feature with their defaults; the environment may override each (same name).
DEFAULTS = {
    "CALLBACK_EXPIRE_AFTER": 14,  # days a request may wait for someone to pick it up
    "CALLBACK_RETENTION_DONE": 30,  # days personal data stays after a request is done
    "CALLBACK_ALLOWED_REGIONS": "NL,BE,DE",  # countries whose numbers we call back
    "CALLBACK_MAX_ATTEMPTS": 3,
    # Hours after which a request someone opened (in progress) no longer keeps colleagues off: a forgotten claim
    # (the employee went home) is taken by the next one to open it.
    "CALLBACK_CLAIM_HOURS": 2,
    "CALLBACK_RATE_IP": "20 per hour",  # per client address (an IPv6 one by its /64): the web form
    "CALLBACK_RATE_API_KEY": "1000 per hour",  # per API key: kiosks and partner portals, many citizens each
    # Networks many citizens share (a town hall's guest Wi-Fi and its kiosk tablets behind one address): each
    # counts as one client with CALLBACK_RATE_SHARED_NETWORK instead of CALLBACK_RATE_IP. Comma-separated.
    "CALLBACK_SHARED_NETWORKS": "",
    "CALLBACK_RATE_SHARED_NETWORK": "200 per hour",
    "CALLBACK_READ_RATE": "600 per hour",  # status reads per API client (references are short: no probing)
    "CALLBACK_RATE_PHONE": "5 per day",
    # New requests per location, counted twice apart: web form and API together, and SMS, WhatsApp and voice
    # together, each this many, so a flood through the form cannot stop a citizen who texts or calls.
    "CALLBACK_RATE_LOCATION": "300 per hour",
    "TWILIO_AUTH_TOKEN": None,
}


# How the environment's values are read: whole numbers (with their minimum) and rate limits. The intake
# counts one limit per setting in its own script (routing.store.callbacks): True, one limit only; the status
# reads go through Flask-Limiter, which takes several ("600 per hour;20 per minute").
_NUMBERS = {"CALLBACK_EXPIRE_AFTER": 1, "CALLBACK_RETENTION_DONE": 0, "CALLBACK_MAX_ATTEMPTS": 1,
            "CALLBACK_CLAIM_HOURS": 1}
_RATES = {"CALLBACK_RATE_IP": True, "CALLBACK_RATE_API_KEY": True, "CALLBACK_RATE_SHARED_NETWORK": True,
          "CALLBACK_RATE_PHONE": True,
          "CALLBACK_RATE_LOCATION": True, "CALLBACK_READ_RATE": False}


def _regions(text: str) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def _networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | settings.Invalid:
    try:
        return tuple(ipaddress.ip_network(item.strip()) for item in text.split(",") if item.strip())
    except ValueError as error:
        return settings.Invalid("CALLBACK_SHARED_NETWORKS", text, f"holds something that is no network ({error}); "
                                "use addresses or prefixes such as 192.0.2.0/24, separated by commas", "")


def load_settings(app: Flask) -> None:
    """Each setting from the environment, else its default. A value that cannot be used goes in as a
    settings.Invalid, which the start-up check names; the app factory calls this before that check, and
    init_app again (then it changes nothing)."""
    for name, default in DEFAULTS.items():
        if name in app.config:
            continue
        if name in _NUMBERS:
            app.config[name] = settings.env_int(name, default, minimum=_NUMBERS[name])
        elif name in _RATES:
            app.config[name] = settings.env_rate(name, default, single=_RATES[name])
        else:
            app.config[name] = os.environ.get(name) or default
    if isinstance(app.config["CALLBACK_SHARED_NETWORKS"], str):
        app.config["CALLBACK_SHARED_NETWORKS"] = _networks(app.config["CALLBACK_SHARED_NETWORKS"])
    regions = app.config["CALLBACK_ALLOWED_REGIONS"]
    if isinstance(regions, str):
        import phonenumbers

        unknown = [code for code in _regions(regions) if code not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            app.config["CALLBACK_ALLOWED_REGIONS"] = settings.Invalid(
                "CALLBACK_ALLOWED_REGIONS", regions, f"holds codes that name no country ({', '.join(unknown)}); "
                "use two-letter ISO codes separated by commas", DEFAULTS["CALLBACK_ALLOWED_REGIONS"])
        else:
            app.config["CALLBACK_ALLOWED_REGIONS"] = _regions(regions)


def init_app(app: Flask) -> None:
    from routing.callbacks import api, hooks, views
    from routing.extensions import api as smorest_api

    load_settings(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(hooks.bp)
    smorest_api.register_blueprint(api.blp)
