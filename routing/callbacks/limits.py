"""The per-client-IP limit on intake and withdrawal (Flask-Limiter on Redis, CALLBACK_RATE_IP).

The per-number and per-location limits (CALLBACK_RATE_PHONE, CALLBACK_RATE_LOCATION) are counted inside
the intake script itself (routing.store.callbacks), so they cost no extra round trip and their keys hold
only the pseudonymised number.
"""

from __future__ import annotations

from flask import current_app


def per_ip() -> str:
    return current_app.config["CALLBACK_RATE_IP"]
