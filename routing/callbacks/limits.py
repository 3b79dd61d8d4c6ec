"""Where the callback limits are counted.

Intake counts all three limits (per client: CALLBACK_RATE_IP per address for the web form,
CALLBACK_RATE_API_KEY per key for API clients; CALLBACK_RATE_PHONE per number; CALLBACK_RATE_LOCATION per
location, once for the web form and API together and once, separately, for SMS, WhatsApp and voice) inside
its own script (routing.store.callbacks), so they cost no extra round trip, and their keys hold the address
and the number only pseudonymised. Withdrawal, far rarer, is limited per client address by Flask-Limiter on
Redis with the same CALLBACK_RATE_IP; status reads per API client with CALLBACK_READ_RATE, so nobody can
try references one after another. "Per address" is always `routing.privacy.clients.rate_limit_id`: a keyed
pseudonym of the address, an IPv6 client counted by its /64.
"""

from __future__ import annotations

from flask import current_app

from routing.privacy import clients


def per_ip() -> str:
    return current_app.config["CALLBACK_RATE_IP"]


def reads() -> str:
    return current_app.config["CALLBACK_READ_RATE"]


def client() -> str:
    """The API client (its key or account) when it is known, else its address (as a keyed pseudonym)."""
    from routing.auth import current_principal

    principal = current_principal()
    if principal is not None:
        return f"principal:{principal.id}"
    return f"address:{clients.current_rate_limit_id()}"
