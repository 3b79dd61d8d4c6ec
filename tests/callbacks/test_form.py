"""The citizen's web form, as a citizen sees it."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.dates import format_date

from callbacks.conftest import MONDAY_10, SATURDAY, at, everything_in_redis
from routing.callbacks import schemas, service
from routing.store import callbacks as store

URL = "/l/utrecht/terugbellen"
CONFIRMATION = "/l/utrecht/terugbellen/bevestiging"


@pytest.fixture(autouse=True)
def saturday(pin_now):
    pin_now(SATURDAY)


def post(client, **fields):
    data = {"phone": "06 12345678", "language": "nl", "reply_by": "call", "consent": "yes", **fields}
    return client.post(URL, data=data)


def send(client, **fields):
    """Post the form and follow it to the page the citizen ends up on."""
    data = {"phone": "06 12345678", "language": "nl", "reply_by": "call", "consent": "yes", **fields}
    return client.post(URL, data=data, follow_redirects=True)


def reference_on(page: str) -> str:
    return re.search(r'class="reference">(TB-[A-Z2-9]{4})<', page).group(1)


def withdraw_link_on(page: str) -> str | None:
    found = re.search(r'href="(/l/utrecht/terugbellen/TB-[A-Z2-9]{4}/intrekken\?t=[^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_form_is_dutch_by_default_and_english_on_request(client):
    page = client.get(URL).get_data(as_text=True)
    assert "Wilt u dat wij u terugbellen?" in page
    assert "Er is nu niemand bij" in page
    assert 'name="preferred" value="2026-11-30:morning"' in page  # Monday: the next staffed day
    assert "<legend>" in page and 'for="field-phone"' in page
    assert "Schrijf hier geen burgerservicenummer (BSN)." in page  # the abbreviation spelled out, at B1
    english = client.get(URL + "?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Would you like us to call you back?" in english
    assert "Monday 30 November, morning (9:00 to 12:00)" in english


def test_day_parts_follow_the_locations_shifts(client, pin_now):
    # Den Bosch: Monday to Thursday 8:30-17:00, Friday 8:30-12:30. On Thursday evening its form offers Friday
    # morning from 8:30, and no Friday afternoon: half an hour is not a part of the day to wait for a call in.
    pin_now(at(2026, 12, 3, 18, 0))
    page = client.get("/l/den-bosch/terugbellen").get_data(as_text=True)
    assert "vrijdag 4 december, ochtend (8:30 tot 12:00)" in page
    assert "2026-12-04:afternoon" not in page
    assert "maandag 7 december, middag (12:00 tot 17:00)" in page
    # Sent anyway (a form left open since the hours changed, a hand-made post): refused, the choice named.
    fields = {"phone": "06 12345678", "language": "nl", "reply_by": "call", "consent": "yes"}
    refused = client.post("/l/den-bosch/terugbellen", data={**fields, "preferred": "2026-12-04:afternoon"})
    assert refused.status_code == 422 and "Kies een dagdeel uit de lijst." in refused.get_data(as_text=True)
    # The promise starts when the chosen part does at this location: 8:30, not 9:00.
    confirmed = client.post("/l/den-bosch/terugbellen", data={**fields, "preferred": "2026-12-07:morning"},
                            follow_redirects=True).get_data(as_text=True)
    assert "maandag 7 december, vanaf 8:30" in confirmed
    # Amsterdam-Centrum (Tuesday and Thursday, 9:00-12:30 and 13:00-16:30): its afternoon ends at 16:30.
    page = client.get("/l/amsterdam-centrum/terugbellen").get_data(as_text=True)
    assert "dinsdag 8 december, middag (12:00 tot 16:30)" in page
    # A part chosen before the hours changed (or before parts followed them) keeps what is left of it: Den
    # Bosch's Friday afternoon is 12:00-12:30 for staff, who see it missed at 12:30, not at the part's widest.
    den_bosch = service.location_for("den-bosch")
    start, end = service.slot_window(den_bosch, "2026-12-04:afternoon")
    assert (start.hour, start.minute, end.hour, end.minute) == (12, 0, 12, 30)
    start, end = service.slot_window(den_bosch, "2026-12-05:afternoon")  # a Saturday: nobody there at all
    assert (start.hour, end.hour) == (12, 18)


def test_a_request_nobody_took_up_in_time_says_so_and_how_to_ask_again(client, redis, pin_now):
    from datetime import timedelta

    page = send(client).get_data(as_text=True)
    link = withdraw_link_on(page)
    service.purge_expired(redis, now=SATURDAY + timedelta(days=14, minutes=1))
    pin_now(SATURDAY + timedelta(days=14, minutes=2))
    shown = client.get(link).get_data(as_text=True)  # the withdrawal link, kept as a bookmark
    assert "Dit verzoek is al verlopen" in shown
    assert "Wij konden u niet op tijd bellen. Uw verzoek is gestopt en uw gegevens zijn gewist." in shown
    assert "U hoeft niets meer te doen" not in shown
    assert f'<a class="link-block" href="{URL}">Heeft u nog hulp nodig? Vul dan het formulier opnieuw in.</a>' in shown


@pytest.mark.parametrize(("results", "heading", "told"), [
    (["not_reached"] * 3, "Wij hebben u niet bereikt", "Wij hebben u 3 keer gebeld, maar u nam niet op."),
    (["wrong_number"], "Wij konden u niet bereiken op dit nummer", "Het telefoonnummer dat u gaf, was niet goed"),
])
def test_a_citizen_staff_could_not_reach_is_told_so_and_how_to_ask_again(client, login, pin_now, results, heading,
                                                                       told):
    from datetime import timedelta

    pin_now(MONDAY_10)
    page = send(client).get_data(as_text=True)
    link, reference = withdraw_link_on(page), reference_on(page)
    staff = client.application.test_client()
    login(staff, "staff", locations=("utrecht",))
    for hours, result in enumerate(results):  # an hour apart: each counts
        pin_now(MONDAY_10 + timedelta(hours=hours))
        staff.get(f"/loket/terugbelverzoeken/{reference}")
        staff.post(f"/loket/terugbelverzoeken/{reference}/poging", data={"result": result})
    shown = client.get(link).get_data(as_text=True)  # the withdrawal link, kept as a bookmark
    assert f"<h1>{heading}</h1>" in shown and told in shown
    assert "U hoeft niets meer te doen" not in shown
    assert f'href="{URL}">Heeft u nog hulp nodig?' in shown


def test_a_number_from_another_country_is_refused_in_words_that_fit_a_message_too(client):
    page = post(client, phone="+48 512 345 678", reply_by="whatsapp").get_data(as_text=True)
    assert ("Op een nummer uit dit land kunnen wij geen contact met u opnemen. Dat kan alleen op nummers uit: "
            "Nederland, België, Duitsland.") in page
    assert "terugbellen. Wij bellen" not in page


def test_unknown_location_is_404(client):
    assert client.get("/l/nergens/terugbellen").status_code == 404


def test_a_landline_is_not_told_to_withdraw_by_sms(client):
    page = send(client, phone="030 123 4567").get_data(as_text=True)
    assert withdraw_link_on(page) and "INTREKKEN" not in page  # the link only: a landline cannot send an SMS
    assert "INTREKKEN" not in client.get(URL + "/bevestiging").get_data(as_text=True)  # nor after a reload


def test_a_valid_request_shows_reference_time_and_withdraw_link(client, redis):
    response = send(client, name="mevrouw Jansen", preferred="2026-11-30:afternoon")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    reference = reference_on(page)
    assert "maandag 30 november, vanaf 12:00" in page
    assert "stuur INTREKKEN naar" in page and "STOP" not in page
    link = withdraw_link_on(page)
    assert service.get_status(redis, reference).state == "waiting"

    confirm = client.get(link)
    assert "Wilt u uw verzoek intrekken?" in confirm.get_data(as_text=True)
    assert service.get_status(redis, reference).state == "waiting"  # looking at the link changes nothing
    token = link.split("t=")[1]
    done = client.post(f"/l/utrecht/terugbellen/{reference}/intrekken", data={"t": token}, follow_redirects=True)
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


def test_the_form_comes_back_without_the_bsn_so_the_next_person_at_the_tablet_does_not_see_it(client, redis):
    page = post(client, name="Sam 111 222 333", note="Vraag over WW. Mijn bsn is 111222333, bel na 3 uur",
                phone="111222333").get_data(as_text=True)
    assert "111222333" not in page and "111 222 333" not in page
    assert "Vraag over WW. Mijn bsn is , bel na 3 uur" in page and 'value="Sam"' in page
    assert "Wij hebben het nummer weggehaald. Kijk of de rest klopt en verstuur het opnieuw." in page
    assert "Dit lijkt een BSN (burgerservicenummer), geen telefoonnummer." in page
    assert store.count_personal(redis) == 0


def test_html_is_escaped(client, redis):
    response = post(client, name='<script>alert("x")</script>', note="x" * 301)
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_honeypot_stores_nothing(client, redis):
    response = post(client, website="http://spam.example")
    assert response.status_code == 400
    assert store.count_personal(redis) == 0


def test_a_field_the_form_does_not_have_is_refused_and_nothing_is_stored(client, redis):
    # "Anything else unknown is refused", as the API refuses it; the form comes back as typed.
    response = post(client, name="Sam", notify="+31699999999")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Uw verzoek kon niet worden verstuurd." in page and 'value="Sam"' in page
    assert store.count_personal(redis) == 0
    assert post(client, name="Sam").status_code == 303  # the page's own fields (and its CSRF token) go through


def test_same_number_twice_shows_the_existing_request(app, client, redis):
    first = send(client).get_data(as_text=True)
    # Another browser (no session of its own) with the same number: the request again, but no way to withdraw it.
    second = send(app.test_client(), phone="+31612345678").get_data(as_text=True)
    reference = reference_on(first)
    assert reference in second
    assert "U had al gevraagd om teruggebeld te worden" in second
    assert withdraw_link_on(second) is None
    assert "Wilt u het intrekken? Zeg het als wij contact met u opnemen." in second
    assert service.get_status(redis, reference).asked == 2


def test_present_dienstverlener_opens_the_request_at_once(client, redis, pin_now):
    pin_now(MONDAY_10)
    reference = reference_on(send(client).get_data(as_text=True))
    assert service.get_status(redis, reference).state == "open"


def test_a_topic_must_come_from_the_list(client):
    page = post(client, topic="iets-anders").get_data(as_text=True)
    assert "Kies een onderwerp uit de lijst" in page


def test_the_form_needs_a_csrf_token_and_without_one_comes_back_as_typed(app, redis, pin_now):
    # A tablet's page left open after "Klaar", an old tab, cookies switched off: not a bare 400 that loses what
    # was typed, but the form again, nothing stored, with a fresh token that goes through.
    app.config["WTF_CSRF_ENABLED"] = True
    browser = app.test_client()
    response = browser.post(URL, data={"phone": "0612345678", "name": "Sam", "note": "Over mijn WW", "consent": "yes"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Uw verzoek is nog niet verstuurd: de pagina stond te lang open, of uw browser bewaart geen cookies." in page
    assert "Stuur een sms met uw vraag naar 06" in page and "Of kom langs op" in page  # Utrecht takes walk-ins
    assert 'value="Sam"' in page and "Over mijn WW" in page and 'value="0612345678"' in page
    assert store.count_personal(redis) == 0
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    again = browser.post(URL, data={"phone": "0612345678", "consent": "yes", "csrf_token": token.group(1)})
    assert again.status_code == 303
    # Elsewhere (the staff pages) the same refusal is the plain error page.
    assert app.test_client().post("/login", data={"email": "a@example.org"}).status_code == 400


def test_form_pages_are_never_cached_nor_leak_their_address(client):
    page = client.get("/l/utrecht/terugbellen")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


# --- the language switch keeps the page (finding 1) -----------------------------------------------------

def test_the_language_switch_keeps_the_path_and_every_query_parameter(client, create):
    receipt = create()
    path = f"/l/utrecht/terugbellen/{receipt.reference}/intrekken"
    page = client.get(f"{path}?t={receipt.withdraw_token}&lang=nl&from=qr").get_data(as_text=True)
    href = re.search(r'<a href="([^"]+)" hreflang="en"', page).group(1).replace("&amp;", "&")
    assert urlsplit(href).path == path
    assert parse_qs(urlsplit(href).query) == {"t": [receipt.withdraw_token], "from": ["qr"], "lang": ["en"]}
    # Withdrawing after the switch still works: the token came along.
    english = client.get(href).get_data(as_text=True)
    assert "Do you want to withdraw your request?" in english
    token = re.search(r'name="t" value="([^"]+)"', english).group(1)
    done = client.post(path, data={"t": token}, follow_redirects=True)
    assert "Your request has been withdrawn" in done.get_data(as_text=True)


# --- the confirmation is a page of its own: POST, redirect, GET (finding 2) -----------------------------

def test_the_confirmation_survives_a_reload_a_language_switch_and_a_second_tap(client, redis):
    response = post(client)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == CONFIRMATION
    assert response.headers["Cache-Control"] == "no-store"
    shown = client.get(CONFIRMATION)
    assert shown.headers["Cache-Control"] == "no-store"
    page = shown.get_data(as_text=True)
    reference, link = reference_on(page), withdraw_link_on(page)
    assert link
    reloaded = client.get(CONFIRMATION).get_data(as_text=True)
    assert reference_on(reloaded) == reference and withdraw_link_on(reloaded) == link
    english = client.get(CONFIRMATION + "?lang=en").get_data(as_text=True)
    assert "We will call you back" in english
    assert reference_on(english) == reference and withdraw_link_on(english) == link
    # A second tap on the button: the same request, and this browser can still withdraw it.
    client.get(URL + "?lang=nl")
    again = send(client).get_data(as_text=True)
    assert "U had al gevraagd om teruggebeld te worden" in again
    assert reference_on(again) == reference and withdraw_link_on(again) == link
    assert service.get_status(redis, reference).asked == 2


def test_the_confirmation_shows_the_request_as_it_is_now(client, redis):
    page = send(client).get_data(as_text=True)
    link = withdraw_link_on(page)
    client.post(link.split("?")[0], data={"t": parse_qs(urlsplit(link).query)["t"][0]})
    after = client.get(CONFIRMATION).get_data(as_text=True)
    assert "<h1>Uw verzoek is ingetrokken</h1>" in after
    assert withdraw_link_on(after) is None and "Toch niet nodig?" not in after


def test_a_shared_tablet_forgets_the_confirmation_after_a_while(client, pin_now):
    from datetime import timedelta

    from routing.callbacks import views

    send(client)
    pin_now(SATURDAY + timedelta(seconds=views.REMEMBER_S + 1))  # the next citizen at the kiosk
    later = client.get(CONFIRMATION)
    assert later.status_code == 303 and urlsplit(later.headers["Location"]).path == URL
    # Asking again with the same number names the request, but this browser no longer has its link.
    again = send(client).get_data(as_text=True)
    assert "U had al gevraagd" in again and withdraw_link_on(again) is None


def session_in(app, client) -> dict:
    """What the browser's session cookie holds, read as anyone holding the tablet could (signed, not encrypted)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return app.session_interface.get_signing_serializer(app).loads(cookie.value) if cookie else {}


def token_in(link: str) -> str:
    return parse_qs(urlsplit(link).query)["t"][0]


@pytest.mark.parametrize("next_citizen", ["opens the form", "sends the form"])
def test_a_shared_tablet_drops_the_previous_citizens_token_from_its_cookie(app, client, pin_now, next_citizen):
    from datetime import timedelta

    from routing.callbacks import views

    earlier = token_in(withdraw_link_on(send(client).get_data(as_text=True)))
    assert earlier in str(session_in(app, client)[views.SESSION_TOKENS])
    pin_now(SATURDAY + timedelta(seconds=views.REMEMBER_S + 1))  # the next citizen at the kiosk
    if next_citizen == "opens the form":
        client.get(URL)
        left = session_in(app, client)
        assert views.SESSION_TOKENS not in left and views.SESSION_CONFIRMED not in left
        return
    own = token_in(withdraw_link_on(send(client, phone="06 87654321").get_data(as_text=True)))
    left = session_in(app, client)
    assert [token for _ref, token, _at in left[views.SESSION_TOKENS]] == [own]
    assert earlier not in str(left)


def test_the_confirmation_page_without_a_request_from_this_browser_leads_to_the_form(app, client):
    send(client)
    stranger = app.test_client().get(CONFIRMATION)
    assert stranger.status_code == 303 and urlsplit(stranger.headers["Location"]).path == URL
    # Nor does a request at another location show up here.
    assert client.get("/l/enschede/terugbellen/bevestiging").status_code == 303


# --- the language button on the form keeps what was typed (finding 3) -----------------------------------

def test_the_form_offers_its_language_switch_as_a_button_of_the_form(client):
    page = client.get(URL).get_data(as_text=True)
    button = re.search(r'<button type="submit" form="callback-form" formnovalidate name="lang" value="en"[^>]*>'
                       r'English</button>', page)
    assert button, "no language button tied to the form"
    assert 'id="callback-form"' in page and 'href="/l/utrecht/terugbellen?lang=en"' not in page


def test_switching_language_on_the_form_keeps_what_was_typed_and_stores_nothing(client, redis):
    typed = {"phone": "06 123", "name": "Ahmed", "note": "Over mijn\r\nhuurtoeslag", "preferred": "2026-11-30:morning",
             "language": "nl", "reply_by": "sms", "consent": "yes"}
    response = client.post(URL, data={**typed, "lang": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in page and "Would you like us to call you back?" in page
    assert 'value="06 123"' in page and 'value="Ahmed"' in page and "Over mijn\r\nhuurtoeslag</textarea>" in page
    assert re.search(r'value="2026-11-30:morning"\s*checked', page)
    assert re.search(r'id="reply_by-sms" name="reply_by" value="sms" checked', page)
    assert re.search(r'id="field-consent" name="consent" value="yes" checked', page)
    # The call's language was still the page's own (Nederlands): it follows to English.
    assert re.search(r'name="language" value="en"\s*checked', page)
    assert 'class="error-summary"' not in page and 'class="field-error"' not in page
    assert 'name="lang" value="nl"' in page  # and back again
    assert store.count_personal(redis) == 0
    # The choice is remembered like ?lang=en.
    assert "Would you like us to call you back?" in client.get(URL).get_data(as_text=True)


def test_switching_language_after_an_error_shows_the_form_without_the_errors(client):
    refused = post(client, phone="0900 1234567", consent="")
    assert refused.status_code == 422
    switched = post(client, phone="0900 1234567", consent="", lang="en").get_data(as_text=True)
    assert 'value="0900 1234567"' in switched
    assert 'class="error-summary"' not in switched and "Would you like us to call you back?" in switched


# --- line breaks count once, as the browser counted them (finding 4) ------------------------------------

def test_a_full_note_with_line_breaks_is_taken_as_the_browser_counted_it(client, redis):
    note = "\n".join(["a" * 99, "b" * 99, "c" * 100])
    assert len(note) == schemas.MAX_NOTE  # the most the hint allows
    response = post(client, note=note.replace("\n", "\r\n"))  # what the browser sends: 302 characters
    assert response.status_code == 303
    reference = reference_on(client.get(CONFIRMATION).get_data(as_text=True))
    assert service.get_request(redis, reference).note == note


def test_every_text_field_takes_cr_and_crlf_as_one_line_break(app):
    with app.test_request_context():
        intake = schemas.load_intake({"location": "utrecht", "phone": "06 12345678", "consent": True,
                                      "name": "Ahmed\r", "note": "een\rtwee\r\ndrie"}, channel="api")
    assert intake.note == "een\ntwee\ndrie" and intake.name == "Ahmed"


# --- too many requests: the form again, as typed (finding 5) --------------------------------------------

def test_too_many_requests_brings_the_form_back_with_the_values_and_the_reason(app, client, redis, pin_now):
    pin_now(SATURDAY)  # 14:00 sharp: the hourly window has a whole hour to go
    app.config.update(RATELIMIT_ENABLED=True, CALLBACK_RATE_IP="1 per hour")
    assert post(client).status_code == 303
    refused = post(client, phone="06 87654321", name="Ahmed", note="over toeslag", reply_by="sms")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert refused.headers["Cache-Control"] == "no-store"
    # How long, in words and for the browser or a script (Retry-After), instead of "later".
    assert refused.headers["Retry-After"] == "3600"
    reason = "Er kwamen te veel verzoeken van dit apparaat of netwerk. Probeer het over een uur opnieuw."
    assert re.search(r'<div class="alert alert--error" role="alert">' + re.escape(reason), page)
    assert page.index(reason) < page.index('id="callback-form"')  # at the top
    # What else works: texting the location (a budget of its own), coming by (Utrecht takes walk-ins).
    assert "Of stuur een sms met uw vraag naar 06\u00a010000305." in page and "Of kom langs op Stadsplateau 1" in page
    assert 'value="06 87654321"' in page and 'value="Ahmed"' in page and "over toeslag</textarea>" in page
    assert re.search(r'value="sms" checked', page)
    assert store.count_personal(redis) == 1


# --- what the confirmation says (finding 7) -------------------------------------------------------------

@pytest.mark.parametrize("reply_by,heading", [("call", "Wij bellen u terug"), ("sms", "Wij sturen u een bericht"),
                                              ("whatsapp", "Wij sturen u een bericht")])
def test_the_confirmation_names_how_where_and_the_kenmerk(client, reply_by, heading):
    page = send(client, reply_by=reply_by).get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in page
    assert "Overheidsloket Utrecht (Stadskantoor)" in page
    assert re.search(r'Uw kenmerk: <span class="reference">TB-', page) and "nummer van dit verzoek" not in page
    # INTREKKEN (not STOP, which Twilio takes as an opt-out), and where to send it (the number on one line).
    assert "stuur INTREKKEN naar 06\u00a010000305, vanaf het telefoonnummer dat u ons gaf." in page


def test_without_an_sms_number_the_confirmation_offers_no_sms(client, monkeypatch):
    location_for = service.location_for
    monkeypatch.setattr(service, "location_for",
                        lambda location_id: dataclasses.replace(location_for(location_id), inbound_number=None))
    page = send(client).get_data(as_text=True)
    assert reference_on(page) and withdraw_link_on(page)
    assert "STOP" not in page and "INTREKKEN" not in page and " sms" not in page


# --- the withdraw page of a finished or unknown request (finding 8) -------------------------------------

def test_the_withdraw_page_of_a_withdrawn_request_says_so(client, create, redis):
    receipt = create()
    path = f"/l/utrecht/terugbellen/{receipt.reference}/intrekken"
    posted = client.post(path, data={"t": receipt.withdraw_token})
    assert posted.status_code == 303  # to the link's own page: reload, Back and a language switch show this
    # A second tap (or the link opened again, in English) shows the same outcome, never the question again.
    again = client.post(path, data={"t": receipt.withdraw_token}, follow_redirects=True).get_data(as_text=True)
    english = client.get(f"{path}?t={receipt.withdraw_token}&lang=en").get_data(as_text=True)
    for page in (again, english):
        assert receipt.reference in page and "Ja, trek mijn verzoek in" not in page
    assert "<h1>Uw verzoek is ingetrokken</h1>" in again and "<h1>Your request has been withdrawn</h1>" in english
    # Under another location's address the link does nothing.
    other = create(phone="0687654321")
    assert client.post(f"/l/enschede/terugbellen/{other.reference}/intrekken",
                       data={"t": other.withdraw_token}).status_code == 404
    assert service.get_status(redis, other.reference).state == "waiting"


def test_the_withdraw_page_of_an_unknown_reference_is_404(client, create):
    assert client.get("/l/utrecht/terugbellen/TB-ZZZZZ/intrekken?t=whatever").status_code == 404
    receipt = create()  # at Utrecht
    # Its link under another location's address leads to the request where it is; a POST there changes nothing.
    elsewhere = f"/l/enschede/terugbellen/{receipt.reference}/intrekken?t={receipt.withdraw_token}"
    page = client.get(elsewhere, follow_redirects=True)
    assert page.request.path == f"/l/utrecht/terugbellen/{receipt.reference}/intrekken"
    assert "Ja, trek mijn verzoek in" in page.get_data(as_text=True)
    assert client.post(elsewhere).status_code == 404
    assert "Ja, trek mijn verzoek in" in client.get(elsewhere, follow_redirects=True).get_data(as_text=True)
    # Without the right token, nothing.
    assert client.get(f"/l/enschede/terugbellen/{receipt.reference}/intrekken?t=wrong").status_code == 404


def test_the_consent_step_says_who_sees_the_details_and_for_how_long(client):
    utrecht = client.get(URL).get_data(as_text=True)
    assert "De medewerkers van deze locatie zien uw gegevens." in utrecht
    # Staff can pass any request on to a partner (a warm handover): the page says so, not "only us".
    # "wij" pass it on (not "zij": the other organisation), and they contact the citizen as asked (not only a call).
    assert "Alleen" not in utrecht and "Dan kunnen wij uw verzoek aan die organisatie doorgeven. Een medewerker " \
        "daar ziet dan uw gegevens en neemt contact met u op." in utrecht
    assert "Dan geven wij uw verzoek meteen aan die organisatie." in utrecht  # handover_when_absent
    # How long, as the retention jobs do it: 30 days after it is finished, also when nobody was reached
    # (closed after the last attempt); at once when nobody picked it up in 14 days; a handover by its own terms.
    assert "Dan wissen wij uw gegevens na 30 dagen. Dat geldt ook als wij u niet konden bereiken." in utrecht
    assert "Heeft niemand uw verzoek binnen 14 dagen opgepakt? Dan wissen wij uw gegevens na die 14 dagen." in utrecht
    assert "wist de andere organisatie uw gegevens 30 dagen nadat zij klaar is, en uiterlijk 90 dagen" in utrecht
    nijmegen = client.get("/l/nijmegen/terugbellen").get_data(as_text=True)
    assert "De medewerkers van Belastingdienst op deze locatie zien uw gegevens." in nijmegen


def test_a_request_a_partner_takes_over_can_still_be_withdrawn(client, redis):
    from routing.handovers import service as handovers

    page = send(client, topic="kinderbijslag").get_data(as_text=True)
    assert "<h1>Uw vraag is doorgegeven</h1>" in page
    assert "Uw vraag hoort bij: Sociale Verzekeringsbank." in page and "Een medewerker van die organisatie belt u." in page
    link = withdraw_link_on(page)
    assert link
    handover_ref = service.get_status(redis, reference_on(page)).handover
    client.post(link.split("?")[0], data={"t": parse_qs(urlsplit(link).query)["t"][0]})
    assert service.get_status(redis, reference_on(page)).state == "withdrawn"
    assert handovers.find(redis, handover_ref).outcome == "withdrawn_by_citizen"


def test_someone_else_typing_the_same_number_is_not_told_what_the_question_is_about(app, client, redis):
    first = send(client, topic="kinderbijslag").get_data(as_text=True)
    assert "Sociale Verzekeringsbank" in first
    other_browser = app.test_client()
    page = send(other_browser, topic="").get_data(as_text=True)
    assert reference_on(page) == reference_on(first)  # the existing request is shown again, as the issue asks
    assert "<h1>Uw vraag is doorgegeven</h1>" in page and "Sociale Verzekeringsbank" not in page
    assert "Een medewerker van de organisatie die over uw vraag gaat, belt u terug." in page
    assert withdraw_link_on(page) is None


def test_a_citizen_is_never_sent_to_the_staff_start_page(client, api_key):
    created = client.post("/api/v1/callbacks", json={"location": "utrecht", "phone": "06 12345678", "consent": True},
                          headers=api_key("staff", locations=("utrecht",))).get_json()
    wrong_link = client.get(f"/l/utrecht/terugbellen/{created['reference']}/intrekken?t=not-the-token")
    page = wrong_link.get_data(as_text=True)
    assert wrong_link.status_code == 404 and 'href="/l/utrecht/terugbellen"' in page
    assert "Naar het formulier om teruggebeld te worden" in page and "Naar de startpagina" not in page
    unknown = client.get("/l/nergens/terugbellen").get_data(as_text=True)
    assert "Naar de startpagina" not in unknown and 'class="site-header__brand" href="/"' not in unknown


def test_a_landline_cannot_take_a_text_message(client, redis):
    page = send(client, phone="030 234 5678", reply_by="sms", note="Ik ben doof")
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Op een vast nummer kunnen wij geen sms of WhatsApp-bericht sturen." in text
    assert 'value="030 234 5678"' in text and "Ik ben doof" in text  # kept, to correct
    assert store.count_personal(redis) == 0
    assert "Wij sturen u een bericht" in send(client, phone="06 12345678", reply_by="sms").get_data(as_text=True)
    assert "Wij bellen u terug" in send(client, phone="030 234 5679", reply_by="call").get_data(as_text=True)


def test_a_partner_that_takes_over_a_request_for_a_message_is_told_not_to_call(app, client, redis, login):
    from routing.handovers import service as handovers

    page = send(client, topic="kinderbijslag", reply_by="sms").get_data(as_text=True)
    assert "Een medewerker van die organisatie stuurt u een bericht." in page and "belt u" not in page
    handover = handovers.find(redis, service.get_status(redis, reference_on(page)).handover)
    # When, by the handover's own deadline, in words: the same words for the citizen and the partner.
    day = format_date(handover.deadline, "EEEE d MMMM", locale="nl")
    assert f"Dat gebeurt uiterlijk {day}." in page
    partner = app.test_client()
    login(partner, "partner", partner="svb")
    seen = partner.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "Stuur een sms, niet bellen: daar vroeg de inwoner om." in seen
    assert f"<dt>Contact opnemen</dt><dd>uiterlijk {day}</dd>" in seen
    # Not the words of a call: contact attempts, how the contact went.
    assert "Contactpogingen" in seen and "Hoe ging het contact?" in seen and "Wie stuurt u een bericht?" in seen
    assert [said for said in ("bellen op", "Belpoging", "belpoging", "Liefst gebeld", "Hoe ging het gesprek?")
            if said in seen] == []
    # The withdrawal link names who has it, and does not promise that "we" will not call.
    withdraw_page = client.get(withdraw_link_on(page)).get_data(as_text=True)
    assert "Wij hebben uw vraag doorgegeven aan Sociale Verzekeringsbank." in withdraw_page
    assert "neemt niemand nog contact met u op" in withdraw_page


def test_while_nobody_is_there_the_form_says_when_someone_is_back(client):
    page = client.get(URL).get_data(as_text=True)  # Saturday afternoon: back on Monday morning
    assert "Laat uw nummer achter. De medewerker is er weer op maandag 30 november, vanaf 9:00. Dan bellen wij u " \
           "terug." in page


def test_a_repeat_request_says_that_what_was_filled_in_now_was_not_kept(app, client):
    first = send(client, note="Bel mij").get_data(as_text=True)
    again = send(client, note="Toch liever een sms", reply_by="sms").get_data(as_text=True)
    assert reference_on(again) == reference_on(first)
    assert "Wat u nu invulde, hebben wij niet bewaard." in again
    # This browser holds the withdrawal link: withdraw, then ask again.
    assert "Trek dan dit verzoek hieronder in. Vul daarna het formulier opnieuw in." in again
    assert withdraw_link_on(again)
    # Someone else typing the number gets no link, and is pointed to INTREKKEN from the number itself.
    other = send(app.test_client(), note="Nog een keer").get_data(as_text=True)
    assert "Wat u nu invulde, hebben wij niet bewaard." in other and withdraw_link_on(other) is None
    assert "Stuur dan INTREKKEN naar" in other and "vanaf het nummer dat u invulde" in other


def test_klaar_makes_the_tablet_forget_the_request(client, redis):
    page = send(client).get_data(as_text=True)
    reference = reference_on(page)
    assert "Gebruikt u een tablet van het loket? Druk dan op Klaar." in page
    done = client.post("/l/utrecht/terugbellen/klaar")
    assert done.status_code == 303 and done.headers["Location"].endswith(URL)
    # The next visitor's Back button or the confirmation's address shows the empty form, not the request.
    next_visitor = client.get(CONFIRMATION, follow_redirects=True).get_data(as_text=True)
    assert reference not in next_visitor and "Wilt u dat wij u terugbellen?" in next_visitor
    assert service.get_status(redis, reference).state == "waiting"  # the request itself is untouched
    # From now on this is a shared tablet: the browser neither offers nor puts back what a visitor typed.
    assert 'autocomplete="tel"' not in next_visitor and 'id="callback-form" novalidate autocomplete="off"' in next_visitor
    assert 'autocomplete="tel"' in client.application.test_client().get(URL).get_data(as_text=True)


@pytest.mark.parametrize("typed", ["/l/Utrecht/terugbellen", "/l/UTRECHT/terugbellen/privacy", "/l/utrecht",
                                   "/l/Utrecht/"])
def test_an_address_with_capitals_or_without_the_form_part_finds_the_form(client, typed):
    page = client.get(typed, follow_redirects=True)
    assert page.status_code == 200 and page.request.path.startswith("/l/utrecht/terugbellen")


def test_a_mistyped_location_offers_the_one_that_was_meant(client):
    page = client.get("/l/utreht/terugbellen")
    text = page.get_data(as_text=True)
    assert page.status_code == 404
    assert 'Bedoelt u: <a href="/l/utrecht/terugbellen">Overheidsloket Utrecht (Stadskantoor)</a>?' in text
    assert "Bedoelt u" not in client.get("/l/qqqqqqq/terugbellen").get_data(as_text=True)


def test_the_consent_step_says_it_in_short_and_keeps_the_whole_text_one_tap_away(client):
    page = client.get(URL).get_data(as_text=True)
    short = re.search(r'<div id="consent-text">(.*?)</div>', page, re.S).group(1)
    assert "Wij bewaren uw telefoonnummer en wat u hier invult, beveiligd." in short
    # "uw gegevens", not "ze": what is deleted is named, not pointed back to.
    assert "Wij wissen uw gegevens 30 dagen nadat uw verzoek klaar is, of meteen als u het intrekt." in short
    assert "Is er niemand op het loket? Dan doen wij dat meteen." in short  # Utrecht passes requests on then
    whole = re.search(r'<details class="details">(.*?)</details>', page, re.S).group(1)
    assert "Meer over uw gegevens: wie ze ziet en wanneer wij ze wissen" in whole
    assert "Elke keer dat iemand uw gegevens bekijkt, schrijven wij dat op." in whole


def test_choosing_a_topic_says_it_may_go_to_that_organisation_at_once(client, pin_now):
    hint = "Hoort uw onderwerp bij één organisatie, zoals SVB? Dan geven wij uw verzoek nu meteen aan die organisatie."
    assert hint in client.get(URL).get_data(as_text=True)  # Saturday: nobody there, so it would
    pin_now(MONDAY_10)
    assert hint not in client.get(URL).get_data(as_text=True)  # staffed: the loket calls itself


def test_the_confirmation_shows_the_number_once_so_a_typo_can_be_put_right(client):
    page = send(client, phone="06 22223360").get_data(as_text=True)
    assert "Uw telefoonnummer: <strong>06\u00a022223360</strong>. Klopt dit nummer niet? Trek dit verzoek dan in" in page
    # Not kept for later: a reload (or the next visitor at a tablet) no longer shows it, nor does the cookie hold it.
    assert "22223360" not in client.get(CONFIRMATION).get_data(as_text=True)
    with client.session_transaction() as session:
        assert "22223360" not in str(dict(session))


# --- second audit: what a citizen reads fits what they asked for ---------------------------------------

def text_of(page: str) -> str:
    """The page as read: tags gone, white space as one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("reply_by,status", [("call", "Status: een medewerker gaat u bellen."),
                                             ("sms", "Status: een medewerker gaat u een bericht sturen."),
                                             ("whatsapp", "Status: een medewerker gaat u een bericht sturen.")])
def test_the_status_on_the_confirmation_fits_the_reply_asked_for(client, pin_now, reply_by, status):
    pin_now(MONDAY_10)  # someone is there: the request is open at once
    page = text_of(send(client, reply_by=reply_by).get_data(as_text=True))
    assert status in page
    if reply_by != "call":  # asked for a message: nothing on the page says we will call
        assert "terug te bellen" not in page and "Wanneer wij bellen" not in page


def test_the_status_in_english_fits_the_reply_too(client, pin_now):
    pin_now(MONDAY_10)
    send(client, reply_by="whatsapp")
    page = text_of(client.get(CONFIRMATION + "?lang=en").get_data(as_text=True))
    assert "Status: a staff member is going to send you a message." in page and "called back" not in page


def test_asking_again_for_a_message_is_not_offered_a_message_instead_of_a_call(app, client):
    send(client, reply_by="sms")
    again = text_of(send(client, reply_by="sms").get_data(as_text=True))
    assert "Bijvoorbeeld bellen in plaats van een bericht, of een andere dag?" in again
    assert "een sms in plaats van bellen" not in again
    assert "Trek dan dit verzoek hieronder in. Vul daarna het formulier opnieuw in." in again
    # Who asked for a call is offered the other way round, in English as well.
    other = app.test_client()
    send(other, phone="06 87654321")
    called = send(other, phone="06 87654321")
    assert "Bijvoorbeeld een sms in plaats van bellen, of een andere dag?" in text_of(called.get_data(as_text=True))
    english = text_of(other.get(CONFIRMATION + "?lang=en").get_data(as_text=True))
    assert "For example a text message instead of a call, or another day?" in english


def test_after_withdrawing_the_page_leads_back_to_the_form(client):
    # The confirmation says: wrong number? Withdraw, then fill in the form again. The page after it offers that.
    page = send(client).get_data(as_text=True)
    withdrawn = client.post(withdraw_link_on(page), follow_redirects=True).get_data(as_text=True)
    assert "<h1>Uw verzoek is ingetrokken</h1>" in withdrawn
    assert "Wilt u toch dat wij contact met u opnemen, bijvoorbeeld op een ander nummer?" in withdrawn
    assert f'<a class="link-block" href="{URL}">Vul het formulier opnieuw in</a>' in withdrawn


@pytest.mark.parametrize("moment,lead", [
    # Utrecht is staffed until 17:00: at 16:50 there is no time left to call, so not "we call you back" today.
    (at(2026, 11, 30, 16, 50), "Er is nog even een medewerker bij Overheidsloket Utrecht (Stadskantoor), maar niet "
                               "lang genoeg om u nu te bellen. Laat uw nummer achter. Wij bellen u terug op dinsdag "
                               "1 december, vanaf 9:00."),
    (at(2026, 11, 30, 16, 0), "Er is vandaag een medewerker bij Overheidsloket Utrecht (Stadskantoor). Laat uw "
                              "nummer achter, dan bellen wij u terug."),
])
def test_the_form_says_when_we_call_when_the_shift_is_nearly_over(client, pin_now, moment, lead):
    pin_now(moment)
    assert lead in text_of(client.get(URL).get_data(as_text=True))


def test_the_error_summary_says_which_text_is_too_long_and_asks_consent_for_any_reply(client):
    page = text_of(post(client, reply_by="sms", name="x" * 61, note="x" * 301, consent="").get_data(as_text=True))
    summary = page[page.index("Er is iets niet goed ingevuld"):page.index("Uw telefoonnummer")]
    assert "Wat u invulde bij uw naam is te lang. Gebruik hooguit 60 tekens." in summary
    assert "Uw bericht is te lang. Gebruik hooguit 300 tekens." in summary
    # Asked for an SMS: the consent is needed for any contact, not only a call.
    assert "Geef toestemming, anders kunnen wij geen contact met u opnemen." in summary
    assert "terugbellen" not in summary
    english = text_of(client.post(URL + "?lang=en", data={"phone": "06 12345678", "reply_by": "sms", "note": "x" * 301})
                      .get_data(as_text=True))
    assert "Your message is too long. Use at most 300 characters." in english
    assert "Please give your consent, otherwise we cannot contact you." in english


def test_a_location_that_takes_walk_ins_says_so_above_the_form(client):
    # Utrecht takes walk-ins: who would rather not fill in a form reads where to come by. Amsterdam Centrum sees
    # citizens by referral only: no address to come by.
    lead = re.search(r'<p class="lead">(.*?)</p>', client.get(URL).get_data(as_text=True), re.S).group(1)
    assert "Of kom langs op Stadsplateau 1, 3521 AZ Utrecht als er een medewerker is." in text_of(lead)
    other = client.get("/l/amsterdam-centrum/terugbellen").get_data(as_text=True)
    assert "Of kom langs" not in other and "Amstel 1" not in other


def test_the_withdraw_question_says_that_doing_nothing_keeps_the_request(client, redis):
    page = send(client).get_data(as_text=True)
    question = text_of(client.get(withdraw_link_on(page)).get_data(as_text=True))
    assert "Ja, trek mijn verzoek in" in question
    assert "Wilt u het toch niet intrekken? Dan hoeft u niets te doen. Uw verzoek blijft staan." in question
    assert service.get_status(redis, reference_on(page)).state == "waiting"


def test_the_error_summary_names_the_problems_in_the_order_of_the_form(client):
    # A wrong number, a note too long and no consent: the summary reads top to bottom like the page.
    page = post(client, phone="0900 1234567", note="x" * 301, consent="", reply_by="whatsapp").get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    assert re.findall(r'href="#field-(\w+)"', summary) == ["phone", "note", "consent"]


def test_a_withdrawal_link_that_is_wrong_points_to_intrekken_by_sms(client, create):
    receipt = create()
    for link in (f"/l/utrecht/terugbellen/{receipt.reference}/intrekken?t=cut-sho",
                 "/l/utrecht/terugbellen/TB-ZZZZ/intrekken?t=whatever"):
        page = client.get(link)
        # The same answer for a wrong token and an unknown reference: nobody learns whether it exists.
        assert page.status_code == 404
        assert "Deze link om in te trekken klopt niet. U kunt het verzoek ook intrekken met een sms: stuur " \
               "INTREKKEN naar 06\u00a010000305, vanaf het telefoonnummer dat u ons gaf." in page.get_data(as_text=True)


# --- a request for a text message is not called a call -------------------------------------------------

CALL_WORDS = re.compile(r"\b(bel\w*|terugbel\w*|gebeld|call\w*)\b", re.IGNORECASE)


def said_about_the_request(page: str) -> str:
    """The page's main part as read, without the header and footer every page has."""
    return text_of(re.search(r"<main\b.*</main>", page, re.DOTALL).group(0))


def test_the_send_button_is_true_for_every_way_of_contact(client):
    page = client.get(URL).get_data(as_text=True)
    # Both buttons of the form: the one under it, and the hidden copy in front of the language switch.
    buttons = re.findall(r'<button type="submit"(?: form="callback-form" class="visually-hidden"[^>]*)?>'
                         r'([^<]*)</button>', page)
    assert buttons == ["Verzoek versturen", "Verzoek versturen"]
    english = client.get(URL + "?lang=en").get_data(as_text=True)
    assert english.count(">Send request</button>") == 2


@pytest.mark.parametrize("reply_by", ["sms", "whatsapp"])
def test_who_asked_for_a_message_is_not_told_of_a_call_on_the_confirmation(app, client, pin_now, reply_by):
    pin_now(MONDAY_10)
    page = said_about_the_request(send(client, reply_by=reply_by).get_data(as_text=True))
    assert "Wij sturen u een bericht" in page and not CALL_WORDS.search(page), CALL_WORDS.findall(page)
    # Taken over by a partner, and seen again from another browser (which is not told which partner).
    pin_now(SATURDAY)
    send(client, phone="06 87654321", topic="kinderbijslag", reply_by=reply_by)
    again = said_about_the_request(send(app.test_client(), phone="06 87654321", reply_by=reply_by)
                                   .get_data(as_text=True))
    assert "Uw vraag is doorgegeven" in again
    assert "Een medewerker van de organisatie die over uw vraag gaat, stuurt u een bericht." in again
    # The other way of contact is offered as a change ("bellen in plaats van een bericht"); nothing else calls.
    assert CALL_WORDS.findall(again.replace("Bijvoorbeeld bellen in plaats van een bericht", "")) == []


def test_who_asked_for_a_message_is_not_told_of_a_call_on_the_withdraw_pages(client, redis, pin_now):
    from datetime import timedelta

    page = send(client, reply_by="sms").get_data(as_text=True)
    link = withdraw_link_on(page)
    asking = said_about_the_request(client.get(link).get_data(as_text=True))
    assert "Wilt u uw verzoek intrekken?" in asking and not CALL_WORDS.search(asking), CALL_WORDS.findall(asking)
    service.purge_expired(redis, now=SATURDAY + timedelta(days=14, minutes=1))
    pin_now(SATURDAY + timedelta(days=14, minutes=2))
    expired = said_about_the_request(client.get(link).get_data(as_text=True))
    assert "Wij konden u niet op tijd een bericht sturen." in expired
    assert not CALL_WORDS.search(expired), CALL_WORDS.findall(expired)


def test_who_asked_by_whatsapp_is_told_to_withdraw_by_whatsapp_on_the_confirmation(client, create):
    create(channel="whatsapp", reply_by="call")
    page = said_about_the_request(send(client, note="Nog een keer").get_data(as_text=True))
    assert "Wat u nu invulde, hebben wij niet bewaard." in page  # the request from WhatsApp, found by its number
    assert "Stuur dan INTREKKEN in uw WhatsApp-gesprek met 06 10000305. Vul daarna het formulier opnieuw in." \
           in page
    assert "U kunt het verzoek ook intrekken via WhatsApp: stuur INTREKKEN in uw WhatsApp-gesprek met " \
           "06 10000305." in page
    assert "intrekken met een sms" not in page and "vanaf het nummer dat u invulde" not in page
    english = said_about_the_request(client.get(CONFIRMATION + "?lang=en").get_data(as_text=True))
    assert "Then send INTREKKEN (Dutch for 'withdraw') in your WhatsApp chat with 06 10000305." in english
    assert "by WhatsApp: send INTREKKEN (Dutch for 'withdraw') in your WhatsApp chat with" in english
    assert "by text message" not in english and "text INTREKKEN" not in english


def test_the_english_pages_call_the_loket_the_service_counter(client):
    send(client, topic="kinderbijslag")
    page = said_about_the_request(client.get(CONFIRMATION + "?lang=en").get_data(as_text=True))
    assert "There is nobody at the service counter now." in page
    assert "Are you using a tablet at the service counter?" in page
    assert not re.search(r"\bloket\b", page)  # the location's own name ("Overheidsloket Utrecht") stays as it is


def test_a_browser_set_to_english_still_gets_the_dutch_form_with_the_switch(client):
    page = client.get(URL, headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert 'lang="nl"' in page and "Verzoek versturen" in page
    assert 'name="language" value="nl" checked' in page  # the call language too
    assert 'name="lang" value="en"' in page and ">English</button>" in page  # the switch, keeping what was typed
