"""Rate limits on intake, with the limiter switched on (Redis storage: the private test server)."""

from __future__ import annotations

import pytest

from callbacks.conftest import SATURDAY, TWILIO_TOKEN


@pytest.fixture
def app_config() -> dict:
    return {"TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "RATELIMIT_ENABLED": True, "CALLBACK_RATE_PHONE": "2 per day",
            "CALLBACK_RATE_IP": "4 per hour"}


def post(client, phone, location="utrecht"):
    return client.post(f"/l/{location}/terugbellen", data={"phone": phone, "consent": "yes"}, follow_redirects=True)


def test_per_number_then_per_ip(client, pin_now, redis):
    pin_now(SATURDAY)
    assert post(client, "06 12345678").status_code == 200
    # The same number here again finds its live request, which is shown again: no limit but the
    # per-address one counts that.
    again = post(client, "06 12345678")
    assert again.status_code == 200 and "al gevraagd" in again.get_data(as_text=True)
    # New requests for one number, elsewhere: the per-number limit (2 a day) stops the third.
    assert post(client, "06 12345678", "enschede").status_code == 200
    refused = post(client, "06 12345678", "amsterdam-centrum")
    assert refused.status_code == 429 and "voor dit nummer" in refused.get_data(as_text=True)
    # Another number from the same address: the per-address limit (4 posts, every attempt counts) is used up.
    refused = post(client, "06 87654321")
    assert refused.status_code == 429 and "te vaak" in refused.get_data(as_text=True)
    # Limit keys hold neither the number nor the client address, only pseudonyms.
    assert not [k for k in redis.scan_iter() if b"612345678" in k or b"127.0.0.1" in k]
    assert [k for k in redis.scan_iter() if k.startswith(b"ll:cb:rl:ip:")]


def test_a_live_request_is_shown_again_past_the_per_number_limit(app, client, pin_now):
    from callbacks.test_hooks import sms

    pin_now(SATURDAY)
    replies = [sms(client, "bel mij", sender="+31612345670").get_data(as_text=True) for _ in range(4)]
    reference = replies[0].split("TB-")[1][:4]
    assert all(f"TB-{reference}" in reply for reply in replies)
    assert not any("te veel" in reply for reply in replies)


def test_per_location_limit_over_sms(app, client, pin_now, redis):
    from callbacks.test_hooks import sms

    pin_now(SATURDAY)
    app.config["CALLBACK_RATE_LOCATION"] = "2 per hour"
    replies = [sms(client, "bel mij", sender=f"+3161234567{i}").get_data(as_text=True) for i in range(3)]
    assert "TB-" in replies[0] and "TB-" in replies[1]
    assert "te veel verzoeken" in replies[2]


def test_status_reads_are_limited_per_client(app, client, api_key):
    app.config["CALLBACK_READ_RATE"] = "3 per minute"
    headers = api_key("staff", locations=("utrecht",))
    codes = [client.get(f"/api/v1/callbacks/TB-ZZZ{i}", headers=headers).status_code for i in range(4)]
    assert codes == [404, 404, 404, 429]
    # Another client has its own count.
    assert client.get("/api/v1/callbacks/TB-ZZZZ", headers=api_key("coordinator")).status_code == 404
