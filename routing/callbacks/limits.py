"""Rate limits on intake (Flask-Limiter on Redis): per client IP, per phone number, per location.

Limits come from settings (CALLBACK_RATE_*). Limiter keys never hold a phone number: the per-number key
is the same keyed HMAC the dedup uses.
"""

from __future__ import annotations

from flask import current_app, request

from routing.callbacks import service
from routing.privacy import phone


def per_ip() -> str:
    return current_app.config["CALLBACK_RATE_IP"]


def per_phone() -> str:
    return current_app.config["CALLBACK_RATE_PHONE"]


def per_location() -> str:
    return current_app.config["CALLBACK_RATE_LOCATION"]


def _submitted(name: str) -> str:
    if request.form:
        return request.form.get(name, "")
    body = request.get_json(silent=True)
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def phone_key() -> str:
    raw = _submitted("phone") or _submitted("From")  # Twilio: the sender
    try:
        number = phone.normalise(raw, current_app.config["CALLBACK_ALLOWED_REGIONS"])
    except phone.PhoneRefused:
        number = "".join(ch for ch in raw if ch.isdigit())[-12:]
    return "cb-phone:" + service.phone_key(number)


def location_key() -> str:
    location = (request.view_args or {}).get("location_id") or _submitted("location")
    return "cb-location:" + location[:64]
