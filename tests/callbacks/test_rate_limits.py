"""Rate limits on intake, with the limiter switched on (Redis storage: the private test server)."""

from __future__ import annotations

import pytest

from callbacks.conftest import SATURDAY, TWILIO_TOKEN


@pytest.fixture
def app_config() -> dict:
    return {"TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "RATELIMIT_ENABLED": True, "CALLBACK_RATE_PHONE": "2 per day",
            "CALLBACK_RATE_IP": "4 per hour"}


def post(client, phone):
    return client.post("/l/utrecht/terugbellen", data={"phone": phone, "consent": "yes"})


def test_per_number_then_per_ip(client, pin_now, redis):
    pin_now(SATURDAY)
    assert [post(client, "06 12345678").status_code for _ in range(3)] == [200, 200, 429]
    # Another number from the same address: allowed until the per-IP limit (4 posts) is used up.
    assert post(client, "06 87654321").status_code == 200
    assert post(client, "06 11223344").status_code == 429
    # Limit keys hold neither the number nor the client address, only pseudonyms.
    assert not [k for k in redis.scan_iter() if b"612345678" in k or b"127.0.0.1" in k]
    assert [k for k in redis.scan_iter() if k.startswith(b"ll:cb:rl:ip:")]


def test_per_location_limit_over_sms(app, client, pin_now, redis):
    from callbacks.test_hooks import sms

    pin_now(SATURDAY)
    app.config["CALLBACK_RATE_LOCATION"] = "2 per hour"
    replies = [sms(client, "bel mij", sender=f"+3161234567{i}").get_data(as_text=True) for i in range(3)]
    assert "TB-" in replies[0] and "TB-" in replies[1]
    assert "te veel verzoeken" in replies[2]
