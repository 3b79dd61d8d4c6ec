"""Call languages besides Dutch and English, per location (the directory's `call_languages`): offered on the
form in their own names, accepted by the API there only, and shown to staff."""

from __future__ import annotations

import pytest

from callbacks.conftest import MONDAY_10
from callbacks.test_form import reference_on
from routing.callbacks import service

LANGUAGE_CHOICE = '<span lang="tr" dir="auto">Türkçe</span> (Turks)'


@pytest.fixture(autouse=True)
def monday(pin_now):
    pin_now(MONDAY_10)


def test_the_form_offers_the_locations_languages_each_in_its_own_name(client):
    utrecht = client.get("/l/utrecht/terugbellen").get_data(as_text=True)
    assert LANGUAGE_CHOICE in utrecht and '<span lang="ar" dir="auto">العربية</span> (Arabisch)' in utrecht
    assert '<span lang="en" dir="auto">English</span></label>' in utrecht  # named in itself: nothing beside it
    english = client.get("/l/utrecht/terugbellen?lang=en").get_data(as_text=True)
    assert '<span lang="tr" dir="auto">Türkçe</span> (Turkish)' in english
    enschede = client.get("/l/enschede/terugbellen").get_data(as_text=True)
    assert 'value="tr"' not in enschede and 'value="en"' in enschede


def test_a_request_in_turkish_reaches_staff_as_such(client, app, login, redis):
    page = client.post("/l/utrecht/terugbellen", data={"phone": "06 12345678", "language": "tr", "consent": "yes"},
                       follow_redirects=True).get_data(as_text=True)
    reference = reference_on(page)
    assert service.get_status(redis, reference).language == "tr"
    assert 'In welke taal: <span lang="tr" dir="auto">Türkçe</span> (Turks).' in page  # the citizen sees it was heard
    staff = app.test_client()
    login(staff, "staff", locations=("utrecht",))
    row = staff.get("/loket/terugbelverzoeken").get_data(as_text=True)
    assert f"<td>{LANGUAGE_CHOICE}</td>" in row
    assert LANGUAGE_CHOICE in staff.get(f"/loket/terugbelverzoeken/{reference}").get_data(as_text=True)


def test_the_api_accepts_a_language_only_where_it_is_spoken(client, api_key):
    body = {"phone": "06 12345678", "consent": True, "language": "tr"}
    refused = client.post("/api/v1/callbacks", json={**body, "location": "enschede"},
                          headers=api_key("kiosk", locations=("enschede",)))
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"language": ["Kies een taal uit de lijst: nl, en."]}
    made = client.post("/api/v1/callbacks", json={**body, "location": "utrecht"},
                       headers=api_key("kiosk", locations=("utrecht",)))
    assert made.status_code == 201, made.get_json()


def test_a_language_babel_cannot_write_in_itself_is_named_in_the_pages_language(client, api_key, monkeypatch):
    from routing.directory import service as directory

    utrecht = directory.get_location("utrecht")
    monkeypatch.setattr(type(utrecht), "all_call_languages", property(lambda location: ("nl", "en", "li", "ary")))
    page = client.get("/l/utrecht/terugbellen").get_data(as_text=True)
    assert '<label for="language-li">Limburgs</label>' in page
    assert '<label for="language-ary">Marokkaans Arabisch</label>' in page
    offer = client.get("/api/v1/callbacks/choices/utrecht", headers=api_key("kiosk", locations=("utrecht",))).get_json()
    assert {"code": "li", "name": None, "name_here": "Limburgs"} in offer["languages"]


def test_the_form_names_no_codes_when_a_language_is_refused(client):
    page = client.post("/l/enschede/terugbellen", data={"phone": "06 12345678", "language": "tr", "consent": "yes"})
    assert page.status_code == 422 and "Kies een taal uit de lijst.</" in page.get_data(as_text=True)

