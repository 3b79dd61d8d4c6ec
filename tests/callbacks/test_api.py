"""The JSON API for kiosks, staff and integrations."""

from __future__ import annotations

import pytest

from callbacks.conftest import MONDAY_10, SATURDAY
from routing.callbacks import service
from routing.store import callbacks as store


@pytest.fixture(autouse=True)
def saturday(pin_now):
    pin_now(SATURDAY)


def body(**fields):
    return {"location": "utrecht", "phone": "06 12345678", "consent": True, **fields}


def test_create_returns_201_with_reference_status_and_expected_callback(client, api_key, redis):
    response = client.post("/api/v1/callbacks", json=body(name="Sam", reply_by="sms",
                                                          preferred=["2026-12-01:morning"]),
                           headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["reference"].startswith("TB-") and data["status"] == "waiting"
    assert data["expected_callback"].startswith("2026-12-01T09:00:00")
    assert data["withdraw_token"]

    withdrawn = client.post(f"/api/v1/callbacks/{data['reference']}/withdraw", json={"token": data["withdraw_token"]})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert service.get_request(redis, data["reference"]).phone is None


def test_refusals_use_the_one_error_shape(client, api_key, redis):
    response = client.post("/api/v1/callbacks", json=body(phone="0900-1234567", note="bsn 111222333",
                                                          consent=False, reply_by="fax", recipient="x@x.nl"),
                           headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 422
    data = response.get_json()
    assert data["code"] == 422 and data["message"]
    assert set(data["errors"]) == {"phone", "note", "consent", "reply_by", "recipient"}
    assert all(isinstance(m, list) and m for m in data["errors"].values())
    assert store.count_personal(redis) == 0


def test_missing_fields_are_named(client, api_key):
    response = client.post("/api/v1/callbacks", json={"location": "utrecht"},
                           headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 422
    assert {"phone", "consent"} <= set(response.get_json()["errors"])


def test_a_key_is_needed_and_must_belong_to_the_location(client, api_key):
    assert client.post("/api/v1/callbacks", json=body()).status_code == 401
    other = client.post("/api/v1/callbacks", json=body(), headers=api_key("staff", locations=("enschede",)))
    assert other.status_code == 403


def test_status_shows_personal_fields_only_to_staff_of_the_location(client, api_key, pin_now):
    pin_now(MONDAY_10)  # someone is there: the request is open at once
    created = client.post("/api/v1/callbacks", json=body(name="Sam"),
                          headers=api_key("staff", locations=("utrecht",))).get_json()
    url = f"/api/v1/callbacks/{created['reference']}"
    own = client.get(url, headers=api_key("staff", locations=("utrecht",))).get_json()
    assert own["status"] == "open" and own["phone"] == "+31612345678" and own["name"] == "Sam"
    for follower in (api_key("kiosk", locations=("utrecht",)), api_key("coordinator")):
        status = client.get(url, headers=follower).get_json()
        assert status["status"] == "open" and "phone" not in status and "name" not in status
    # Anyone else learns nothing, not even that the reference exists.
    assert client.get(url, headers=api_key("staff", locations=("enschede",))).status_code == 404
    assert client.get(url, headers=api_key("partner", partner="uwv")).status_code == 404


def test_a_request_in_the_queue_shows_no_personal_fields_before_the_shift(client, api_key):
    headers = api_key("staff", locations=("utrecht",))
    created = client.post("/api/v1/callbacks", json=body(name="Sam"), headers=headers).get_json()
    status = client.get(f"/api/v1/callbacks/{created['reference']}", headers=headers).get_json()
    assert status["status"] == "waiting" and "phone" not in status
    # It says when they can be read: at the release, the start of the next shift (as the citizen was told).
    assert status["personal_from"] == status["expected_callback"] == created["expected_callback"]
    kiosk = client.get(f"/api/v1/callbacks/{created['reference']}", headers=api_key("kiosk", locations=("utrecht",)))
    assert "personal_from" not in kiosk.get_json()


def test_a_kiosk_key_creates_requests_for_its_locations_only(client, api_key):
    kiosk = api_key("kiosk", locations=("utrecht",))
    assert client.post("/api/v1/callbacks", json=body(), headers=kiosk).status_code == 201
    assert client.post("/api/v1/callbacks", json=body(location="enschede"), headers=kiosk).status_code == 403


def test_api_clients_are_limited_per_key_not_per_address(app, client, api_key):
    # A partner portal sends for many citizens from one address: the web form's per-address limit does
    # not apply to it; its own per-key limit does.
    app.config.update(RATELIMIT_ENABLED=True, CALLBACK_RATE_IP="2 per hour", CALLBACK_RATE_API_KEY="3 per hour")
    portal, other = api_key("staff", locations=("utrecht",)), api_key("staff", locations=("utrecht",))
    codes = [client.post("/api/v1/callbacks", json=body(phone=f"06 1234567{i}"), headers=portal).status_code
             for i in range(4)]
    assert codes == [201, 201, 201, 429]
    assert client.post("/api/v1/callbacks", json=body(phone="06 22222222"), headers=other).status_code == 201


def test_a_body_that_is_not_json_is_refused_as_such(client, api_key):
    response = client.post("/api/v1/callbacks", data='{"location": "utrecht"}', content_type="text/plain",
                           headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 415 and response.get_json()["message"] == "Stuur de gegevens als JSON."


def test_withdraw_with_a_wrong_token_changes_nothing(client, api_key, redis):
    created = client.post("/api/v1/callbacks", json=body(),
                          headers=api_key("staff", locations=("utrecht",))).get_json()
    response = client.post(f"/api/v1/callbacks/{created['reference']}/withdraw", json={"token": "not-the-token"})
    assert response.status_code == 404
    assert service.get_status(redis, created["reference"]).state == "waiting"


def test_unknown_reference_is_404(client, api_key):
    response = client.get("/api/v1/callbacks/TB-ZZZZ", headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 404 and response.get_json()["code"] == 404


def test_a_reference_may_be_typed_loosely(client, api_key):
    created = client.post("/api/v1/callbacks", json=body(),
                          headers=api_key("staff", locations=("utrecht",))).get_json()
    loose = created["reference"].lower().replace("-", " ")
    response = client.get(f"/api/v1/callbacks/{loose}", headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 200 and response.get_json()["reference"] == created["reference"]


def test_a_preferred_day_part_the_location_is_closed_is_refused(client, api_key):
    headers = api_key("staff", locations=("utrecht",))
    # Saturday 5 December: Utrecht has no shift; Tuesday 1 December it has.
    closed = client.post("/api/v1/callbacks", json=body(preferred=["2026-12-05:morning"]), headers=headers)
    assert closed.status_code == 422 and "open is" in closed.get_json()["errors"]["preferred"][0]
    open_day = client.post("/api/v1/callbacks", json=body(preferred=["2026-12-01:morning"]), headers=headers)
    assert open_day.status_code == 201


@pytest.mark.parametrize("unclear", ["yes", 1, "true"])
def test_consent_must_be_json_true(client, api_key, unclear):
    response = client.post("/api/v1/callbacks", json=body(consent=unclear),
                           headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 422 and response.get_json()["errors"]["consent"] == ["Geef true of false."]


def test_withdrawing_twice_says_it_is_withdrawn_already(client, api_key):
    created = client.post("/api/v1/callbacks", json=body(), headers=api_key("staff", locations=("utrecht",))).get_json()
    url = f"/api/v1/callbacks/{created['reference']}/withdraw"
    assert client.post(url, json={"token": created["withdraw_token"]}).status_code == 200
    again = client.post(url, json={"token": created["withdraw_token"]})
    assert again.status_code == 409 and "al ingetrokken" in again.get_json()["message"]
    # Without the token nobody learns that much.
    assert client.post(url, json={"token": "not-the-token"}).status_code == 404


def test_the_withdraw_page_says_nothing_without_the_link(client, api_key):
    created = client.post("/api/v1/callbacks", json=body(), headers=api_key("staff", locations=("utrecht",))).get_json()
    page = f"/l/utrecht/terugbellen/{created['reference']}/intrekken"
    assert client.get(f"{page}?t=not-the-token").status_code == 404
    assert client.get(f"{page}?t={created['withdraw_token']}").status_code == 200


def test_a_bsn_in_the_phone_field_is_named_as_such(client, api_key, redis):
    headers = api_key("staff", locations=("utrecht",))
    response = client.post("/api/v1/callbacks", json=body(phone="111 222 333"), headers=headers)
    assert response.status_code == 422 and "BSN" in response.get_json()["errors"]["phone"][0]
    assert store.count_personal(redis) == 0
    # Numbers written internationally are numbers, even when their last nine digits pass the eleven-test.
    assert client.post("/api/v1/callbacks", json=body(phone="+31 612345671"), headers=headers).status_code == 201


@pytest.mark.parametrize("hidden", ["Sam\u0000", "Sam\u202eevil", "\u001b[31mSam"])
def test_hidden_control_characters_are_refused(client, api_key, hidden):
    response = client.post("/api/v1/callbacks", json=body(name=hidden), headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 422 and "teken" in response.get_json()["errors"]["name"][0]


def test_a_number_from_a_country_we_do_not_call_names_those_we_do(client, api_key):
    headers = api_key("staff", locations=("utrecht",))
    dutch = client.post("/api/v1/callbacks", json=body(phone="+44 7911 123456"), headers=headers).get_json()
    assert "Nederland, België, Duitsland" in dutch["errors"]["phone"][0]
    english = client.post("/api/v1/callbacks", json=body(phone="+44 7911 123456"),
                          headers={**headers, "Accept-Language": "en"}).get_json()
    assert "Netherlands, Belgium, Germany" in english["errors"]["phone"][0]
    # It already starts with + and a country code: no advice to add one.
    assert "landcode" not in dutch["errors"]["phone"][0]
    # Someone from Belgium who left the country code out is told how to write it.
    belgian = client.post("/api/v1/callbacks", json=body(phone="0470 12 34 56"), headers=headers).get_json()
    assert "Begin een buitenlands nummer met + en de landcode, bijvoorbeeld +32." in belgian["errors"]["phone"][0]
    assert client.post("/api/v1/callbacks", json=body(phone="+32 470 12 34 56"), headers=headers).status_code == 201
    empty = client.post("/api/v1/callbacks", json=body(phone=""), headers=headers).get_json()
    assert empty["errors"]["phone"] == ["Vul uw telefoonnummer in, bijvoorbeeld 06 12345678."]


def test_missing_consent_says_what_to_do(client, api_key):
    response = client.post("/api/v1/callbacks", json={"location": "utrecht", "phone": "06 12345678"},
                           headers=api_key("staff", locations=("utrecht",)))
    assert response.get_json()["errors"]["consent"] == ["Geef toestemming, anders kunnen wij geen contact met u opnemen."]


def test_a_body_that_is_not_valid_json_is_named_in_the_readers_language(client, api_key):
    headers = {**api_key("staff", locations=("utrecht",)), "Content-Type": "application/json"}
    dutch = client.post("/api/v1/callbacks", data='{"location": "utrecht",', headers=headers)
    assert dutch.status_code == 400 and dutch.get_json()["errors"]["_schema"] == [
        "Dit is geen geldige JSON. Kijk de haakjes, komma's en aanhalingstekens na."]
    english = client.post("/api/v1/callbacks", data="{", headers={**headers, "Accept-Language": "en"})
    assert english.get_json()["errors"]["_schema"] == ["This is not valid JSON. Check the brackets, commas and "
                                                        "quotation marks."]


def test_a_kiosk_can_tell_the_citizen_a_partner_will_call(client, api_key):
    created = client.post("/api/v1/callbacks", json=body(topic="kinderbijslag"),
                          headers=api_key("kiosk", locations=("utrecht",))).get_json()
    assert created["status"] == "handed_over" and created["expected_callback"] is None
    assert created["withdraw_token"]
    status = client.get(f"/api/v1/callbacks/{created['reference']}",
                        headers=api_key("kiosk", locations=("utrecht",))).get_json()
    assert status["status_text"] == "doorgegeven aan de organisatie die over de vraag gaat"


@pytest.mark.parametrize("reply_by,text", [("call", "klaar om terug te bellen"),
                                           ("sms", "klaar om een bericht te sturen"),
                                           ("whatsapp", "klaar om een bericht te sturen")])
def test_a_kiosk_shows_a_status_that_fits_the_reply_chosen(client, api_key, pin_now, reply_by, text):
    pin_now(MONDAY_10)  # someone is there: open at once
    headers = api_key("kiosk", locations=("utrecht",))
    created = client.post("/api/v1/callbacks", json=body(reply_by=reply_by), headers=headers).get_json()
    status = client.get(f"/api/v1/callbacks/{created['reference']}", headers=headers).get_json()
    assert status["status"] == "open" and status["status_text"] == text


def test_a_phone_number_in_the_note_is_not_taken_for_a_bsn(client, api_key):
    # 612345671 passes the eleven-test, but after a country code it is a phone number.
    headers = api_key("staff", locations=("utrecht",))
    assert client.post("/api/v1/callbacks", json=body(note="Liever op +31 612345671"), headers=headers).status_code == 201
    refused = client.post("/api/v1/callbacks", json=body(phone="06 22222222", note="bsn 612345671"), headers=headers)
    assert refused.status_code == 422 and "BSN" in refused.get_json()["errors"]["note"][0]


def test_a_form_encoded_body_is_refused_in_the_one_shape_and_stores_nothing(client, api_key, redis):
    headers = api_key("staff", locations=("utrecht",))
    response = client.post("/api/v1/callbacks", data="a=b", content_type="application/x-www-form-urlencoded",
                           headers=headers)
    assert response.status_code == 415 and response.content_type.startswith("application/json")
    assert response.get_json() == {"code": 415, "status": "Unsupported Media Type",
                                   "message": "Stuur de gegevens als JSON."}
    assert not redis.keys("ll:cb:*")

    # Withdrawing likewise: the request stays as it was.
    created = client.post("/api/v1/callbacks", json=body(), headers=headers).get_json()
    response = client.post(f"/api/v1/callbacks/{created['reference']}/withdraw", data="a=b",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.get_json()["message"] == "Stuur de gegevens als JSON."
    assert service.get_status(redis, created["reference"]).state == "waiting"


def test_a_kiosk_asks_what_to_offer_and_what_it_offers_is_accepted(client, api_key):
    kiosk = api_key("kiosk", locations=("utrecht",))
    choices = client.get("/api/v1/callbacks/choices/utrecht", headers=kiosk)
    assert choices.status_code == 200
    offer = choices.get_json()
    # Saturday afternoon: nobody there, called from Monday's shift; the same day parts as the form.
    assert offer["present_now"] is False and offer["expected_callback"].startswith("2026-11-30T09:00:00")
    assert offer["preferred"][0] == {"value": "2026-11-30:morning",
                                     "label": "maandag 30 november, ochtend (9:00 tot 12:00)"}
    assert {"code": "tr", "name": "Türkçe", "name_here": "Turks"} in offer["languages"]
    assert {"code": "nl", "name": "Nederlands", "name_here": None} in offer["languages"]
    assert offer["reply_by"] == ["call", "sms", "whatsapp"] and offer["max_note"] == 300
    topic = offer["topics"][0]["id"]
    made = client.post("/api/v1/callbacks", headers=kiosk, json=body(
        preferred=[offer["preferred"][-1]["value"]], topic=topic, language="tr", reply_by="sms"))
    assert made.status_code == 201, made.get_json()
    # In English when asked, and only for the kiosk's own location.
    english = client.get("/api/v1/callbacks/choices/utrecht?lang=en", headers=kiosk).get_json()
    assert english["preferred"][0]["label"] == "Monday 30 November, morning (9:00 to 12:00)"
    assert {"code": "tr", "name": "Türkçe", "name_here": "Turkish"} in english["languages"]
    refused = client.get("/api/v1/callbacks/choices/enschede?lang=nl", headers=kiosk)
    assert refused.status_code == 403 and refused.get_json()["message"] == "Deze sleutel hoort niet bij deze locatie."
    assert client.get("/api/v1/callbacks/choices/nergens", headers=kiosk).status_code == 404
    assert client.get("/api/v1/callbacks/choices/utrecht").status_code == 401


def test_an_api_client_asking_for_english_gets_no_cookie(client, api_key):
    answer = client.get("/api/v1/callbacks/choices/utrecht?lang=en", headers=api_key("kiosk", locations=("utrecht",)))
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers


def test_every_moment_in_the_answers_is_to_the_second_with_its_offset(client, api_key, pin_now):
    from datetime import timedelta

    # Someone is there: the call is expected "now", which the clock gives with microseconds.
    pin_now(MONDAY_10 + timedelta(seconds=7, microseconds=654321))
    headers = api_key("staff", locations=("utrecht",))
    created = client.post("/api/v1/callbacks", json=body(), headers=headers).get_json()
    assert created["expected_callback"] == "2026-11-30T10:00:07+01:00"
    status = client.get(f"/api/v1/callbacks/{created['reference']}", headers=headers).get_json()
    assert status["expected_callback"] == "2026-11-30T10:00:07+01:00"
    assert status["created"] == "2026-11-30T10:00:07+01:00"
    choices = client.get("/api/v1/callbacks/choices/utrecht", headers=headers).get_json()
    assert choices["expected_callback"] == "2026-11-30T10:00:07+01:00"
    withdrawn = client.post(f"/api/v1/callbacks/{created['reference']}/withdraw",
                            json={"token": created["withdraw_token"]}).get_json()
    assert withdrawn["created"] == "2026-11-30T10:00:07+01:00" and withdrawn["expected_callback"] is None


def test_a_request_the_loket_is_done_with_shows_its_facts_but_no_number_any_more(client, api_key, pin_now, redis,
                                                                                 make_user):
    # As the worklist's page ("U ziet het nummer niet meer: het verzoek is klaar"), until the purge deletes it.
    from routing.auth import service as auth

    pin_now(MONDAY_10)
    headers = api_key("staff", locations=("utrecht",))
    created = client.post("/api/v1/callbacks", json=body(name="Sam", topic="kinderbijslag"), headers=headers).get_json()
    employee = auth.principal_for_user(redis, make_user("staff", ("utrecht",)))
    service.open_for_staff(redis, created["reference"], employee, now=MONDAY_10)
    service.record_attempt(redis, created["reference"], employee, "reached", "helped", now=MONDAY_10)
    status = client.get(f"/api/v1/callbacks/{created['reference']}", headers=headers).get_json()
    assert status["status"] == "done" and status["attempts"] == 1 and status["topic"] == "kinderbijslag"
    assert not {"phone", "name", "note"} & set(status)
    assert service.get_request(redis, created["reference"]).phone == "+31612345678"  # kept until its retention


def test_after_a_call_that_did_not_reach_them_the_call_is_expected_at_the_next_attempt(client, api_key, pin_now,
                                                                                      redis, make_user):
    from routing.auth import service as auth

    pin_now(MONDAY_10)
    headers = api_key("staff", locations=("utrecht",))
    created = client.post("/api/v1/callbacks", json=body(), headers=headers).get_json()
    assert created["expected_callback"].startswith("2026-11-30T10:00:00")  # now: someone is there
    employee = auth.principal_for_user(redis, make_user("staff", ("utrecht",)))
    service.open_for_staff(redis, created["reference"], employee, now=MONDAY_10)
    missed = service.record_attempt(redis, created["reference"], employee, "not_reached", now=MONDAY_10)
    assert missed.next_attempt > MONDAY_10
    status = client.get(f"/api/v1/callbacks/{created['reference']}", headers=headers).get_json()
    assert status["expected_callback"] == missed.next_attempt.astimezone(MONDAY_10.tzinfo).isoformat()
    # The same number asking again is told that moment too.
    again = client.post("/api/v1/callbacks", json=body(), headers=headers).get_json()
    assert again["existing"] and again["expected_callback"] == status["expected_callback"]


def test_the_audit_record_of_an_api_request_names_the_key_that_made_it(app, client, login, redis):
    """Which kiosk or portal sent a request is in its audit record (the export, the API and the Logboek): the key's
    id, never the key."""
    from routing.auth import service as auth
    from routing.privacy import audit

    key, record = auth.create_api_key(redis, "kiosk-utrecht-hal", "kiosk", ["utrecht"], actor="test")
    made = client.post("/api/v1/callbacks", json=body(), headers={"Authorization": f"Bearer {key}"})
    form = client.post("/l/utrecht/terugbellen", data={"phone": "06 87654321", "consent": "yes"})
    assert made.status_code == 201 and form.status_code == 303
    [created] = audit.for_reference(redis, made.get_json()["reference"])
    assert created["attributes"]["loketlijn.actor"] == "citizen:api"
    assert created["attributes"]["loketlijn.client"] == f"apikey:{record['id']}"
    exported = app.test_cli_runner().invoke(args=["audit", "export"]).stdout
    assert f'"loketlijn.client":"apikey:{record["id"]}"' in exported and key not in exported
    # The form has no client of its own to name (its address is never in the log).
    assert sum('"citizen:web"' in line and "loketlijn.client" not in line for line in exported.splitlines()) == 1

    login(client, "coordinator")
    page = client.get(f"/logboek?reference={made.get_json()['reference']}").get_data(as_text=True)
    assert f"via API-sleutel kiosk-utrecht-hal <small>(apikey:{record['id']})</small>" in page
    assert "De inwoner zelf <small>(citizen:api)</small>" in page
