"""Where the callback limits are counted.

Intake counts all three limits (CALLBACK_RATE_IP per client address, CALLBACK_RATE_PHONE per number,
CALLBACK_RATE_LOCATION per location) inside its own script (routing.store.callbacks), so they cost no extra
round trip, and their keys hold the address and the number only pseudonymised. Withdrawal, far rarer, is
limited per client address by Flask-Limiter on Redis with the same CALLBACK_RATE_IP.
"""

from __future__ import annotations

from flask import current_app


def per_ip() -> str:
    return current_app.config["CALLBACK_RATE_IP"]
