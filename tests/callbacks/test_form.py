"""The citizen's web form, as a citizen sees it."""

from __future__ import annotations

import re

import pytest

from callbacks.conftest import MONDAY_10, SATURDAY, everything_in_redis
from routing.callbacks import service
from routing.store import callbacks as store

URL = "/l/utrecht/terugbellen"


@pytest.fixture(autouse=True)
def saturday(pin_now):
    pin_now(SATURDAY)


def post(client, **fields):
    data = {"phone": "06 12345678", "language": "nl", "reply_by": "call", "consent": "yes", **fields}
    return client.post(URL, data=data)


def test_form_is_dutch_by_default_and_english_on_request(client):
    page = client.get(URL).get_data(as_text=True)
    assert "Wilt u dat wij u terugbellen?" in page
    assert "Er is nu niemand bij" in page
    assert 'name="preferred" value="2026-11-30:morning"' in page  # Monday: the next staffed day
    assert "<legend>" in page and 'for="field-phone"' in page
    english = client.get(URL + "?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Would you like us to call you back?" in english
    assert "Monday 30 November, morning (9:00 to 12:00)" in english


def test_unknown_location_is_404(client):
    assert client.get("/l/nergens/terugbellen").status_code == 404


def test_a_valid_request_shows_reference_time_and_withdraw_link(client, redis):
    response = post(client, name="mevrouw Jansen", preferred="2026-11-30:afternoon")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    reference = re.search(r'class="reference">(TB-[A-Z2-9]{4})<', page).group(1)
    assert "maandag 30 november, vanaf 12:00" in page
    assert "STOP" in page
    link = re.search(r'href="(/l/utrecht/terugbellen/TB-[A-Z2-9]{4}/intrekken\?t=[^"]+)"', page).group(1)
    assert service.get_status(redis, reference).state == "waiting"

    confirm = client.get(link.replace("&amp;", "&"))
    assert "Wilt u uw terugbelverzoek intrekken?" in confirm.get_data(as_text=True)
    assert service.get_status(redis, reference).state == "waiting"  # looking at the link changes nothing
    token = link.split("t=")[1]
    done = client.post(f"/l/utrecht/terugbellen/{reference}/intrekken", data={"t": token})
    assert "Uw verzoek is ingetrokken" in done.get_data(as_text=True)
    assert service.get_request(redis, reference).phone is None


def test_errors_are_named_next_to_each_field_and_values_are_kept(client, redis):
    response = post(client, phone="0900 1234567", name="Ahmed", note="x" * 301, consent="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in page
    assert 'href="#field-phone"' in page and 'href="#field-note"' in page and 'href="#field-consent"' in page
    assert "Naar dit nummer kunnen wij niet terugbellen" in page
    assert "Gebruik hooguit 300 tekens." in page
    assert 'value="Ahmed"' in page and 'value="0900 1234567"' in page
    assert 'aria-describedby="hint-phone error-phone"' in page
    assert store.count_personal(redis) == 0


def test_invalid_and_not_callable_numbers_get_different_explanations(client):
    invalid = post(client, phone="06 123").get_data(as_text=True)
    assert "Dit telefoonnummer klopt niet" in invalid
    for number in ("0800 1234", "14 030", "1400"):
        assert "Naar dit nummer kunnen wij niet terugbellen" in post(client, phone=number).get_data(as_text=True)


def test_a_bsn_in_the_note_is_refused_and_nothing_is_stored(client, redis):
    response = post(client, note="mijn bsn is 111222333")
    assert response.status_code == 422
    assert "Deel hier geen BSN" in response.get_data(as_text=True)
    assert store.count_personal(redis) == 0
    assert b"111222333" not in everything_in_redis(redis)


def test_html_is_escaped(client, redis):
    response = post(client, name='<script>alert("x")</script>', note="x" * 301)
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_honeypot_stores_nothing(client, redis):
    response = post(client, website="http://spam.example")
    assert response.status_code == 400
    assert store.count_personal(redis) == 0


def test_same_number_twice_shows_the_existing_request(client, redis):
    first = post(client).get_data(as_text=True)
    second = post(client, phone="+31612345678").get_data(as_text=True)
    reference = re.search(r'class="reference">(TB-\w{4})<', first).group(1)
    assert reference in second
    assert "U had al gevraagd om teruggebeld te worden" in second
    assert service.get_status(redis, reference).asked == 2


def test_present_dienstverlener_opens_the_request_at_once(client, redis, pin_now):
    pin_now(MONDAY_10)
    page = post(client).get_data(as_text=True)
    reference = re.search(r'class="reference">(TB-\w{4})<', page).group(1)
    assert service.get_status(redis, reference).state == "open"


def test_a_topic_must_come_from_the_list(client):
    page = post(client, topic="iets-anders").get_data(as_text=True)
    assert "Kies een onderwerp uit de lijst" in page


def test_the_form_needs_a_csrf_token(app, redis, pin_now):
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post(URL, data={"phone": "0612345678", "consent": "yes"})
    assert response.status_code == 400
    assert store.count_personal(redis) == 0


def test_form_pages_are_never_cached_nor_leak_their_address(client):
    page = client.get("/l/utrecht/terugbellen")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
