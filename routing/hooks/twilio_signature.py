"""Checks that a webhook request really comes from Twilio (X-Twilio-Signature).

Twilio signs the URL it called plus the POSTed form fields with our auth token. Behind a proxy or load
balancer the URL Flask sees differs from the public one, so when PUBLIC_BASE_URL is set the signature is
checked against PUBLIC_BASE_URL + path (+ query string). Anything that does not validate gets 403."""

from __future__ import annotations

import logging
from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from routing.errors import REDIS_DOWN
from routing.extensions import get_redis
from routing.store import webhooks

log = logging.getLogger(__name__)


def signed_url() -> str:
    """The URL Twilio called, as Twilio saw it."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def is_valid_twilio_request() -> bool:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(signed_url(), request.form, signature)


def _count_refusal() -> None:
    """One more refusal for /metrics (loketlijn_twilio_webhooks_refused_total), under the hook's name: the part
    of the path after /hooks/twilio/ (voice/keuze counts as voice). The answer stays 403 while Redis is down."""
    hook = request.path.removeprefix("/hooks/twilio/").partition("/")[0]
    try:
        webhooks.count_refused(get_redis(), hook)
    except REDIS_DOWN:
        pass  # the warning above is logged anyway; the count is only missing this one


def twilio_signed(view):
    """Decorator for Twilio webhook views: 403 unless the signature is valid."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not is_valid_twilio_request():
            # What an operator needs to find a wrong PUBLIC_BASE_URL or token; the URL holds no personal data.
            log.warning("Twilio webhook refused: %s (checked against %s)",
                        "no TWILIO_AUTH_TOKEN set" if not current_app.config.get("TWILIO_AUTH_TOKEN")
                        else "signature does not match", signed_url())
            _count_refusal()
            abort(403)
        return view(*args, **kwargs)

    return wrapper
