"""Twilio webhooks: signed requests only; SMS, WhatsApp and voice as Twilio (and the caller) see them."""

from __future__ import annotations

import re

import pytest
from twilio.request_validator import RequestValidator

from callbacks.conftest import MONDAY_10, SATURDAY, TWILIO_TOKEN
from routing.callbacks import service
from routing.store import callbacks as store

BASE = "http://localhost"  # PUBLIC_BASE_URL in the test app


@pytest.fixture(autouse=True)
def saturday(pin_now):
    pin_now(SATURDAY)


def signed_post(client, path, form, base=BASE):
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(base + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def sms(client, body, sender="+31612345678", path="/hooks/twilio/sms?location=utrecht"):
    return signed_post(client, path, {"From": sender, "To": "+3197010000000", "Body": body, "MessageSid": "SM1"})


def test_unsigned_or_wrongly_signed_requests_get_403(client, redis):
    form = {"From": "+31612345678", "Body": "bel mij"}
    assert client.post("/hooks/twilio/sms?location=utrecht", data=form).status_code == 403
    bad = client.post("/hooks/twilio/sms?location=utrecht", data=form, headers={"X-Twilio-Signature": "abc"})
    assert bad.status_code == 403
    # Signed for another URL (another location) does not count either.
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(BASE + "/hooks/twilio/sms?location=enschede", form)
    moved = client.post("/hooks/twilio/sms?location=utrecht", data=form, headers={"X-Twilio-Signature": signature})
    assert moved.status_code == 403
    assert client.post("/hooks/twilio/voice?location=utrecht", data=form).status_code == 403
    assert store.count_personal(redis) == 0


def test_signature_is_checked_against_the_public_url_behind_a_proxy(app, client):
    app.config["PUBLIC_BASE_URL"] = "https://loketlijn.example.nl"
    assert sms(client, "bel mij").status_code == 403  # signed for http://localhost: not what Twilio called
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        "https://loketlijn.example.nl/hooks/twilio/sms?location=utrecht", {"From": "+31612345678", "Body": "hoi"})
    response = client.post("/hooks/twilio/sms?location=utrecht", data={"From": "+31612345678", "Body": "hoi"},
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_sms_creates_a_request_and_replies_with_reference_and_how_to_withdraw(client, redis):
    response = sms(client, "Graag terugbellen over mijn huurtoeslag")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    text = response.get_data(as_text=True)
    reference = re.search(r"TB-[A-Z2-9]{4}", text).group(0)
    assert "STOP" in text and "maandag 30 november, vanaf 9:00" in text
    request = service.get_request(redis, reference)
    assert request.channel == "sms" and request.reply_by == "sms"
    assert request.note == "Graag terugbellen over mijn huurtoeslag"

    stop = sms(client, "STOP").get_data(as_text=True)
    assert reference in stop and "ingetrokken" in stop
    assert service.get_request(redis, reference).state == "withdrawn"
    assert service.get_request(redis, reference).phone is None


def test_whatsapp_uses_the_sender_without_prefix(client, redis):
    response = signed_post(client, "/hooks/twilio/whatsapp?location=utrecht",
                           {"From": "whatsapp:+31612345678", "Body": "hallo"})
    reference = re.search(r"TB-[A-Z2-9]{4}", response.get_data(as_text=True)).group(0)
    assert service.get_request(redis, reference).phone == "+31612345678"
    assert service.get_status(redis, reference).reply_by == "whatsapp"


def test_sms_with_a_bsn_is_not_stored(client, redis):
    text = sms(client, "mijn bsn 111222333").get_data(as_text=True)
    assert "niet bewaard" in text and "BSN" in text
    assert store.count_personal(redis) == 0


def test_intrekken_without_a_request_says_so(client):
    assert "geen open terugbelverzoek" in sms(client, "intrekken").get_data(as_text=True)


def test_voice_when_nobody_is_there_offers_press_1_in_dutch_then_english(client):
    response = signed_post(client, "/hooks/twilio/voice?location=utrecht", {"From": "+31612345678"})
    twiml = response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    assert "<Gather" in twiml and 'numDigits="1"' in twiml
    dutch = twiml.index('language="nl-NL"')
    english = twiml.index('language="en-GB"')
    assert dutch < english
    assert "Druk op 1 om teruggebeld te worden op dit nummer" in twiml
    assert 'action="/hooks/twilio/voice/keuze?location=utrecht"' in twiml


def test_pressing_1_creates_a_request_from_the_caller_id(client, redis):
    response = signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht",
                           {"From": "+31612345678", "Digits": "1"})
    twiml = response.get_data(as_text=True)
    spoken = re.search(r"T, B, ([A-Z2-9], ){3}[A-Z2-9]", twiml).group(0)
    reference = "TB-" + spoken.replace(", ", "")[2:]
    request = service.get_request(redis, reference)
    assert request.channel == "voice" and request.phone == "+31612345678"


def test_hidden_caller_id_is_asked_to_use_sms_or_the_form(client, redis):
    twiml = signed_post(client, "/hooks/twilio/voice?location=utrecht",
                        {"From": "anonymous"}).get_data(as_text=True)
    assert "<Gather" not in twiml and "Stuur een sms" in twiml and "website" in twiml
    assert store.count_personal(redis) == 0


def test_voice_when_present_says_where_to_go(client, pin_now):
    pin_now(MONDAY_10)
    twiml = signed_post(client, "/hooks/twilio/voice?location=utrecht",
                        {"From": "+31612345678"}).get_data(as_text=True)
    assert "<Gather" not in twiml and "Er is nu een medewerker, tot 17:00 uur" in twiml


def test_webhooks_need_no_csrf_token_but_a_signature(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    assert sms(client, "bel mij").status_code == 200


def _to(number: str) -> dict[str, str]:
    return {"From": "+31612345678", "To": number, "Body": "bel mij", "MessageSid": "SM2"}


@pytest.mark.parametrize(("path", "to"), [("/hooks/twilio/sms", "+31610000305"),
                                          ("/hooks/twilio/whatsapp", "whatsapp:+31610000305")])
def test_the_number_that_was_called_names_the_location(client, redis, path, to):
    """Every location's number points at the same URL; Twilio's `To` says which location it is."""
    text = signed_post(client, path, _to(to)).get_data(as_text=True)
    reference = re.search(r"TB-[A-Z2-9]{4}", text).group(0)
    assert service.get_status(redis, reference).location == "utrecht"


def test_voice_finds_the_location_by_the_called_number(client):
    twiml = signed_post(client, "/hooks/twilio/voice", {"From": "+31612345678", "To": "+31610000305"}).get_data(
        as_text=True)
    assert "Overheidsloket Utrecht" in twiml and 'action="/hooks/twilio/voice/keuze?location=utrecht"' in twiml


def test_location_in_the_url_wins_for_a_shared_number(client, redis):
    text = signed_post(client, "/hooks/twilio/sms?location=enschede", _to("+31610000305")).get_data(as_text=True)
    reference = re.search(r"TB-[A-Z2-9]{4}", text).group(0)
    assert service.get_status(redis, reference).location == "enschede"


@pytest.mark.parametrize("path", ["/hooks/twilio/sms", "/hooks/twilio/whatsapp", "/hooks/twilio/sms?location=nergens"])
def test_a_number_of_no_location_gets_a_polite_answer_and_nothing_is_stored(client, redis, path):
    response = signed_post(client, path, _to("+31687654321"))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert "Dit nummer hoort niet bij een loket" in response.get_data(as_text=True)
    assert store.count_personal(redis) == 0 and not list(redis.scan_iter(match="ll:cb:*"))


@pytest.mark.parametrize("form", [{"From": "+31612345678", "To": "+31687654321"}, {"From": "+31612345678"}])
def test_voice_to_a_number_of_no_location_says_so(client, redis, form):
    response = signed_post(client, "/hooks/twilio/voice", form)
    twiml = response.get_data(as_text=True)
    assert response.status_code == 200 and "Dit nummer hoort niet bij een loket" in twiml
    assert "does not belong to a service desk" in twiml and "<Gather" not in twiml
    assert not list(redis.scan_iter(match="ll:cb:*"))
