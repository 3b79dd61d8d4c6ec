"""The citizen can read again, after the form, what happens to their data: linked from the confirmation and the
withdrawal page, and there for who asked by SMS, WhatsApp or phone."""

from __future__ import annotations

import pytest

from callbacks.conftest import SATURDAY

PRIVACY = "/l/utrecht/terugbellen/privacy"


@pytest.fixture(autouse=True)
def saturday(pin_now):
    pin_now(SATURDAY)


def test_it_says_what_the_consent_step_said_and_how_to_withdraw(client):
    page = client.get(PRIVACY).get_data(as_text=True)
    assert "<h1>Wat wij met uw gegevens doen</h1>" in page
    assert "De medewerkers van deze locatie zien uw gegevens." in page
    assert "Is uw verzoek klaar? Dan wissen wij uw gegevens na 30 dagen." in page
    assert "uw keuzes (wanneer, hoe en in welke taal" in page and "hierboven" not in page
    assert "Stuurt u ons een sms of WhatsApp-bericht" in page
    # A photo of a letter sent by WhatsApp is never opened: said here as in the reply to it.
    assert "Foto's, spraakberichten en bestanden openen en bewaren wij niet." in page
    assert "Of stuur INTREKKEN naar 06\u00a010000305" in page
    english = client.get(PRIVACY + "?lang=en").get_data(as_text=True)
    assert "What we do with your details" in english and "Wat wij" not in english


def test_the_partner_holding_the_counter_is_named(client):
    page = client.get("/l/nijmegen/terugbellen/privacy").get_data(as_text=True)
    assert "De medewerkers van Belastingdienst op deze locatie zien uw gegevens." in page


def test_the_confirmation_links_to_it(client):
    page = client.post("/l/utrecht/terugbellen", data={"phone": "06 12345678", "consent": "yes"},
                       follow_redirects=True).get_data(as_text=True)
    assert f'<a class="link-block" href="{PRIVACY}">Wat wij met uw gegevens doen</a>' in page
    assert client.get("/l/nergens/terugbellen/privacy").status_code == 404
