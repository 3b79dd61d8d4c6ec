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
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "Voor dit telefoonnummer zijn al te veel terugbelverzoeken gedaan" in page
    # The other way in: texting from one's own phone (its own budget, below); Amsterdam-Centrum takes no
    # walk-ins, so coming by is not offered.
    assert "Of stuur een sms met uw vraag naar 06\u00a010000301" in page and "kom langs" not in page
    # Another number from the same address: the per-address limit (4 posts, every attempt counts) is used up.
    refused = post(client, "06 87654321")
    assert refused.status_code == 429
    assert "te veel verzoeken van dit apparaat of netwerk" in refused.get_data(as_text=True)
    # Limit keys hold neither the number nor the client address, only pseudonyms.
    assert not [k for k in redis.scan_iter() if b"612345678" in k or b"127.0.0.1" in k]
    assert [k for k in redis.scan_iter() if k.startswith(b"ll:cb:rl:ip:")]


def test_the_daily_per_number_limit_starts_afresh_at_midnight_in_amsterdam(client, pin_now):
    from datetime import datetime

    from callbacks.conftest import AMS

    # 23:50 and 00:05 Amsterdam time are the same day in UTC (22:50 and 23:05): a window on UTC would
    # keep refusing until 01:00.
    pin_now(datetime(2026, 11, 28, 23, 50, tzinfo=AMS))
    assert post(client, "06 12345678").status_code == 200
    assert post(client, "06 12345678", "enschede").status_code == 200
    refused = post(client, "06 12345678", "amsterdam-centrum")
    assert refused.status_code == 429 and "Probeer het over 10 minuten opnieuw." in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == "600"
    pin_now(datetime(2026, 11, 29, 0, 5, tzinfo=AMS))
    assert post(client, "06 12345678", "amsterdam-centrum").status_code == 200


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
    assert "heel veel terugbelverzoeken tegelijk" in replies[2]


def test_status_reads_are_limited_per_client(app, client, api_key):
    app.config["CALLBACK_READ_RATE"] = "3 per minute"
    headers = api_key("staff", locations=("utrecht",))
    codes = [client.get(f"/api/v1/callbacks/TB-ZZZ{i}", headers=headers).status_code for i in range(4)]
    assert codes == [404, 404, 404, 429]
    # Another client has its own count.
    assert client.get("/api/v1/callbacks/TB-ZZZZ", headers=api_key("coordinator")).status_code == 404


# --- who counts as one client: an IPv6 client by its /64, never by its address in clear --------------------

def post_from(client, address, phone, location="utrecht"):
    return client.post(f"/l/{location}/terugbellen", data={"phone": phone, "consent": "yes"},
                       environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("address, expected", [
    ("203.0.113.8", "203.0.113.8"),
    ("::ffff:203.0.113.8", "203.0.113.8"),  # IPv4-mapped (a dual-stack socket): the IPv4 address
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    ("", "unknown"),
    (None, "unknown"),
])
def test_a_client_counts_by_its_ipv4_address_or_its_ipv6_64(address, expected):
    from routing.privacy import clients

    assert clients.network(address) == expected


def test_two_ipv6_addresses_in_one_64_share_the_per_address_limit(client, pin_now, redis):
    pin_now(SATURDAY)
    # CALLBACK_RATE_IP is 4 per hour here; every address below is in one /64 and a new one each time.
    codes = [post_from(client, f"2001:db8:1:2::{i + 1:x}", f"06 1234567{i}").status_code for i in range(4)]
    assert codes == [303, 303, 303, 303]
    refused = post_from(client, "2001:db8:1:2:ffff:ffff:ffff:fffe", "06 12345679")
    assert refused.status_code == 429
    assert "te veel verzoeken van dit apparaat of netwerk" in refused.get_data(as_text=True)
    # Another /64 has a count of its own.
    assert post_from(client, "2001:db8:1:3::1", "06 12345679").status_code == 303
    # An IPv4 client and the same address mapped into IPv6 are one client.
    assert [post_from(client, "203.0.113.8", f"06 2234567{i}").status_code for i in range(2)] == [303, 303]
    assert [post_from(client, "::ffff:203.0.113.8", f"06 2234567{i}").status_code for i in range(2, 5)] == [
        303, 303, 429]


def test_a_shared_network_counts_as_one_client_with_its_own_budget(app, client, pin_now):
    # A town hall: its guest Wi-Fi and kiosk tablets reach us from addresses in 192.0.2.0/28. Without the
    # setting each address had 4 an hour (CALLBACK_RATE_IP here); the network has 6 an hour for all of them.
    import ipaddress

    pin_now(SATURDAY)
    app.config["CALLBACK_SHARED_NETWORKS"] = (ipaddress.ip_network("192.0.2.0/28"),)
    app.config["CALLBACK_RATE_SHARED_NETWORK"] = "6 per hour"
    codes = [post_from(client, "192.0.2.5", f"06 3234567{i}").status_code for i in range(5)]
    codes += [post_from(client, "::ffff:192.0.2.9", "06 32345675").status_code]
    assert codes == [303] * 6
    refused = post_from(client, "192.0.2.14", "06 32345676")
    assert refused.status_code == 429
    assert "te veel verzoeken van dit apparaat of netwerk" in refused.get_data(as_text=True)
    # An address outside it keeps its own per-address count.
    assert post_from(client, "192.0.2.16", "06 32345676").status_code == 303


def test_the_withdrawal_limit_counts_an_ipv6_client_behind_the_proxy_by_its_64(redis_url, redis):
    from routing import create_app

    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "RATELIMIT_ENABLED": True,
                      "TRUSTED_PROXY_HOPS": 1, "CALLBACK_RATE_IP": "2 per hour"})
    client = app.test_client()

    def withdraw(forwarded_for: str) -> int:
        # The proxy's own address is REMOTE_ADDR; ProxyFix takes the client from X-Forwarded-For.
        return client.post("/l/utrecht/terugbellen/TB-ZZZZ/intrekken?t=wrong",
                           headers={"X-Forwarded-For": forwarded_for},
                           environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code

    assert [withdraw(f"2001:db8:aa:1::{i}") for i in (1, 2, 3)] == [404, 404, 429]
    assert withdraw("2001:db8:aa:2::1") == 404
    assert withdraw("10.0.0.9") == 404  # not the proxy's count either
    assert not [k for k in redis.keys("*") if b"2001:db8" in k or b"10.0.0." in k]


def test_no_client_address_in_redis_or_the_logs_after_a_refusal(app, client, pin_now, redis, caplog, capsys):
    import logging

    caplog.set_level(logging.DEBUG)
    pin_now(SATURDAY)
    app.config["CALLBACK_RATE_IP"] = "1 per hour"
    addresses = ["198.51.100.23", "2001:db8:77:1::5"]
    for address in addresses:
        assert post_from(client, address, "06 12345678").status_code == 303
        assert post_from(client, address, "06 87654321").status_code == 429
        # Withdrawal: Flask-Limiter's own keys (and its refusal).
        codes = [client.post("/l/utrecht/terugbellen/TB-ZZZZ/intrekken?t=x",
                             environ_base={"REMOTE_ADDR": address}).status_code for _ in range(2)]
        assert codes == [404, 429]
        # Status reads without a key.
        client.get("/api/v1/callbacks/TB-ZZZZ", environ_base={"REMOTE_ADDR": address})
    captured = capsys.readouterr()
    written = caplog.text + captured.out + captured.err
    keys = b"\n".join(redis.keys("*"))
    assert keys.count(b"LIMITS:LIMITER/") >= 2  # the limits were counted, under pseudonyms
    for address in addresses + ["2001:db8:77:1::", "2001:db8:77:1:"]:
        assert address.encode() not in keys, address
        assert address not in written, address
    assert not [r for r in caplog.records if r.name == "flask-limiter" and r.levelno < logging.WARNING]


# --- the phone channels have a location budget of their own ---------------------------------------------

def test_a_flood_through_the_form_does_not_stop_a_citizen_who_texts_or_calls(app, client, pin_now, redis, api_key):
    from callbacks.test_hooks import signed_post, sms

    pin_now(SATURDAY)
    app.config["CALLBACK_RATE_LOCATION"] = "2 per hour"
    codes = [post_from(client, f"198.51.100.{i}", f"06 1234567{i}").status_code for i in range(3)]
    assert codes == [303, 303, 429]
    # The API shares the web form's budget: used up.
    headers = api_key("staff", locations=("utrecht",))
    assert client.post("/api/v1/callbacks", json={"location": "utrecht", "phone": "06 55555555", "consent": True},
                       headers=headers).status_code == 429
    # A signed SMS and a call each still make a request: the phone channels' budget is their own.
    assert "TB-" in sms(client, "bel mij", sender="+31612345680").get_data(as_text=True)
    call = signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht", {"From": "+31612345681", "Digits": "1"})
    assert "T, B, " in call.get_data(as_text=True)
    # ...one budget for SMS, WhatsApp and voice together (the same CALLBACK_RATE_LOCATION): now used up.
    whatsapp = signed_post(client, "/hooks/twilio/whatsapp?location=utrecht",
                           {"From": "whatsapp:+31612345682", "To": "whatsapp:+3197010000000",
                            "Body": "bel mij", "MessageSid": "SM2"})
    assert "heel veel terugbelverzoeken tegelijk" in whatsapp.get_data(as_text=True)
    assert [k for k in redis.keys("ll:cb:rl:location-online:utrecht:*")]
    assert [k for k in redis.keys("ll:cb:rl:location-phone:utrecht:*")]


# --- someone who types another person's number cannot stop that person texting or calling ----------------

def test_a_number_used_up_through_the_form_can_still_text_and_call(app, client, pin_now, redis):
    from callbacks.test_hooks import signed_post, sms

    pin_now(SATURDAY)
    victim = "+31612345690"
    # Someone else uses up the number's requests of the day (2 here) through the form.
    assert post(client, "06 12345690", "utrecht").status_code == 200
    assert post(client, "06 12345690", "amsterdam-centrum").status_code == 200
    refused = post(client, "06 12345690", "enschede")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    # Enschede takes walk-ins, and has an SMS number: the refusal names both.
    assert "Of stuur een sms met uw vraag naar 06\u00a010000304" in page
    assert "Of kom langs op Hengelosestraat 51, 7514 AD Enschede" in page
    # The owner texts from the number, and calls: requests of their own, each with its reference.
    reply = sms(client, "bel mij over mijn toeslag", sender=victim, path="/hooks/twilio/sms?location=den-bosch")
    assert "Uw kenmerk: TB-" in reply.get_data(as_text=True)
    call = signed_post(client, "/hooks/twilio/voice/keuze?location=nijmegen", {"From": victim, "Digits": "1"})
    assert "T, B, " in call.get_data(as_text=True)
    # The phone channels' own per-number budget (2 a day) holds as well; the refusal does not suggest
    # texting to someone who is texting already.
    third = sms(client, "bel mij", sender=victim, path="/hooks/twilio/sms?location=amsterdam-nieuw-west")
    assert "Voor dit telefoonnummer zijn al te veel terugbelverzoeken gedaan" in third.get_data(as_text=True)
    assert "sms met uw vraag" not in third.get_data(as_text=True)
    assert redis.keys("ll:cb:rl:phone-online:*") and redis.keys("ll:cb:rl:phone-phone:*")


# --- every 429 says how long: Retry-After, and the message in words ------------------------------------------

def test_an_intake_refusal_says_when_its_window_ends(app, client, pin_now, redis, api_key):
    from datetime import timedelta

    from callbacks.test_hooks import sms

    # 14:37 in Amsterdam: the hourly windows end in 23 minutes, the daily ones at midnight there.
    pin_now(SATURDAY + timedelta(minutes=37))
    # The per-number limit (2 a day): the form, in Dutch and in English.
    assert post(client, "06 12345678").status_code == 200
    assert post(client, "06 12345678", "enschede").status_code == 200
    refused = post(client, "06 12345678", "amsterdam-centrum")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(9 * 3600 + 23 * 60)
    # A daily window ends at midnight: "tomorrow" rather than "in 10 hours".
    assert "Probeer het morgen opnieuw." in refused.get_data(as_text=True)
    # (Another browser, from the same address: the session would remember the language.)
    english = app.test_client().post("/l/amsterdam-centrum/terugbellen?lang=en",
                                     data={"phone": "06 12345678", "consent": "yes"})
    assert english.status_code == 429
    assert "Please try again tomorrow." in english.get_data(as_text=True)
    # The per-address limit (4 an hour; every attempt counts, these four included): the hour's window.
    refused = post(client, "06 87654321")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(23 * 60)
    assert "Probeer het over 23 minuten opnieuw." in refused.get_data(as_text=True)
    # The API: the same header on the one JSON error shape.
    app.config["CALLBACK_RATE_API_KEY"] = "1 per hour"
    headers = api_key("staff", locations=("utrecht",))
    intake = {"location": "utrecht", "phone": "06 33333333", "consent": True}
    assert client.post("/api/v1/callbacks", json=intake, headers=headers).status_code == 201
    answer = client.post("/api/v1/callbacks", json={**intake, "phone": "06 44444444"}, headers=headers)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == str(23 * 60)
    assert answer.get_json()["message"].startswith("Er kwamen te veel verzoeken van dit apparaat of netwerk. "
                                                   "Probeer het over 23 minuten opnieuw.")
    # An SMS refusal says it in its reply (Twilio's answer is not the citizen's to read headers of).
    app.config["CALLBACK_RATE_LOCATION"] = "1 per hour"
    assert "TB-" in sms(client, "bel mij", sender="+31612345601").get_data(as_text=True)
    reply = sms(client, "bel mij", sender="+31612345602").get_data(as_text=True)
    assert "heel veel terugbelverzoeken tegelijk binnen. Probeer het over 23 minuten opnieuw." in reply


def test_a_limiter_refusal_says_when_a_place_frees_up(app, client, api_key):
    # Flask-Limiter's limits (status reads here; withdrawal, login and new partner links alike) count in a
    # moving window: a place frees up a window after the oldest counted request.
    app.config["CALLBACK_READ_RATE"] = "2 per minute"
    headers = api_key("staff", locations=("utrecht",))
    codes = [client.get(f"/api/v1/callbacks/TB-ZZZ{i}", headers=headers).status_code for i in range(2)]
    assert codes == [404, 404]
    refused = client.get("/api/v1/callbacks/TB-ZZZZ", headers=headers)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert refused.get_json()["message"] == "U probeerde het te vaak. Probeer het over een minuut opnieuw."
    english = client.get("/api/v1/callbacks/TB-ZZZZ", headers={**headers, "Accept-Language": "en"})
    assert english.get_json()["message"] == "You tried too often. Please try again in a minute."
    assert english.headers["Retry-After"]


def test_a_refused_withdrawal_page_says_how_long(redis_url, redis):
    from routing import create_app

    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "RATELIMIT_ENABLED": True,
                      "CALLBACK_RATE_IP": "1 per hour"})
    client = app.test_client()
    assert client.post("/l/utrecht/terugbellen/TB-ZZZZ/intrekken?t=x").status_code == 404
    refused = client.post("/l/utrecht/terugbellen/TB-ZZZZ/intrekken?t=x")
    assert refused.status_code == 429
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3601
    assert "Probeer het over een uur opnieuw." in refused.get_data(as_text=True)


@pytest.mark.parametrize("seconds, words", [
    (0, "Probeer het over een minuut opnieuw."),
    (60, "Probeer het over een minuut opnieuw."),
    (61, "Probeer het over 2 minuten opnieuw."),
    (23 * 60, "Probeer het over 23 minuten opnieuw."),
    (3600, "Probeer het over een uur opnieuw."),
    (3601, "Probeer het over 61 minuten opnieuw."),
    (2 * 3600, "Probeer het over 2 uur opnieuw."),
    (10 * 3600 + 1, "Probeer het over 11 uur opnieuw."),
    (86400, "Probeer het over 24 uur opnieuw."),
    (7 * 86400, "Probeer het over 7 dagen opnieuw."),
])
def test_how_long_in_words_never_says_less_than_the_wait(app, seconds, words):
    from routing.errors import try_again_in

    with app.test_request_context():
        assert try_again_in(seconds) == words
