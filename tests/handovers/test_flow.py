"""A handover end to end: the loket makes it, the partner opens the link, calls, and records the outcome."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from handovers.helpers import E164, LOCATION, ON_DUTY_SMS, UWV_SMS, link_path, open_link
from routing.handovers import service, views


def test_staff_hand_over_and_the_partner_gets_only_a_link(client, login, sent, redis):
    login(client, "staff", locations=(LOCATION,))
    page = client.get("/overdrachten/nieuw")
    assert page.status_code == 200
    assert "UWV" in page.get_data(as_text=True)

    response = client.post("/overdrachten/nieuw", data={
        "partner": "uwv", "phone": "06 12345678", "name": "mevrouw Jansen", "note": "Vraag over de WW-uitkering",
        "urgency": "normal", "consent": "yes"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Overgedragen aan UWV" in page
    assert "tel:+31612345678" in page  # the loket that made it sees the number

    [notice] = sent
    assert notice["kind"] == "handover_new"
    assert notice["recipient"].sms == UWV_SMS
    assert set(notice["context"]) == {"reference", "location", "topic", "deadline", "link"}
    # (Not "WW" alone: the link's random token may hold those two letters.)
    assert "Jansen" not in str(notice) and "12345678" not in str(notice) and "WW-uitkering" not in str(notice)
    # Nothing personal in Redis in plain text.
    dump = b"".join(redis.dump(key) or b"" for key in redis.keys("*"))
    assert b"Jansen" not in dump and E164.encode() not in dump


def test_partner_opens_the_link_once_and_records_the_outcome(app, make_handover, sent):
    [handover] = make_handover("uwv")
    partner = app.test_client()
    page = open_link(partner, sent[0])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "tel:+31612345678" in text and "mevrouw Jansen" in text and "dinsdagochtend" in text
    assert page.headers["Cache-Control"] == "no-store"

    # The session is scoped to this one handover: the partner can work on it without logging in.
    response = partner.post(f"/overdrachten/{handover.reference}/poging", data={"result": "reached"})
    assert response.status_code == 302
    response = partner.post(f"/overdrachten/{handover.reference}/uitkomst",
                            data={"outcome": "referred_on", "referred_to": "Schuldhulp gemeente"})
    assert response.status_code == 302
    page = partner.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "Doorverwezen" in page and "Schuldhulp gemeente" in page
    # Finished: no longer "Wie belt u?" above the number, as if there were still someone to call.
    assert "Om wie het ging" in page and "Wie belt u?" not in page

    # Final states never change.
    again = partner.post(f"/overdrachten/{handover.reference}/uitkomst", data={"outcome": "solved"},
                         follow_redirects=True)
    assert "al afgerond" in again.get_data(as_text=True)


def test_the_partner_is_told_before_that_a_wrong_number_ends_it_at_once(app, make_handover, sent):
    [handover] = make_handover("uwv")
    partner = app.test_client()
    page = open_link(partner, sent[0]).get_data(as_text=True)
    assert "Verkeerd nummer: de overdracht gaat meteen terug naar het loket." in page
    partner.post(f"/overdrachten/{handover.reference}/poging", data={"result": "wrong_number"})
    page = partner.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "Terug naar het loket" in page and "Poging vastleggen" not in page  # as it said: nothing more to do


def test_three_times_not_reached_returns_it_to_the_loket(app, make_handover, sent, login, monkeypatch):
    [handover] = make_handover("uwv")
    partner = app.test_client()
    open_link(partner, sent[0])
    start = datetime.now(UTC)
    for hours in range(3):  # an hour apart: each counts (routing.attempts)
        monkeypatch.setattr(views, "_now", lambda hours=hours: start + timedelta(hours=hours))
        partner.post(f"/overdrachten/{handover.reference}/poging", data={"result": "not_reached"})
    returned = [n for n in sent if n["kind"] == "handover_returned"]
    assert len(returned) == 1
    assert returned[0]["recipient"].sms == ON_DUTY_SMS
    assert returned[0]["context"]["reference"] == handover.reference

    staff = app.test_client()
    login(staff, "staff", locations=(LOCATION,))
    page = staff.get("/overdrachten").get_data(as_text=True)
    assert handover.reference in page and "Terug bij het loket: opnieuw overdragen of zelf bellen" in page


def test_quick_not_reached_tries_do_not_send_it_back(app, make_handover, sent, redis, monkeypatch):
    # Three tries within minutes (or three clicks) would otherwise send it back before the citizen had a fair chance.
    [handover] = make_handover("uwv")
    partner = app.test_client()
    open_link(partner, sent[0])
    start = datetime.now(UTC)
    path = f"/overdrachten/{handover.reference}"
    for minutes in (0, 1, 2):
        monkeypatch.setattr(views, "_now", lambda minutes=minutes: start + timedelta(minutes=minutes))
        page = partner.post(path + "/poging", data={"result": "not_reached"}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Poging vastgelegd: Niet bereikt. Deze poging telt niet mee, want de vorige was minder dan een uur " \
           "geleden." in text
    assert text.count("(telt niet mee: minder dan een uur na de vorige)") == 2
    assert "Poging vastleggen" in text
    assert "telt Niet bereikt weer mee." in text  # from when, an hour after the first
    assert not [n for n in sent if n["kind"] == "handover_returned"]
    after = service.get(redis, handover.reference)
    assert after.status == "in_progress" and after.not_reached_count == 1 and len(after.attempts) == 3
    monkeypatch.setattr(views, "_now", lambda: start + timedelta(hours=1))
    partner.post(path + "/poging", data={"result": "not_reached"})
    assert service.get(redis, handover.reference).not_reached_count == 2


def test_a_bsn_in_the_note_is_refused_and_nothing_is_stored(client, login, sent, redis):
    login(client, "staff", locations=(LOCATION,))
    response = client.post("/overdrachten/nieuw", data={
        "partner": "uwv", "phone": "06 12345678", "note": "mijn bsn is 111222333", "consent": "yes"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "burgerservicenummer" in text
    assert "111222333" in text  # the value is kept in the form for correcting ...
    assert not redis.keys("ll:ho:*") and not sent  # ... but nothing was stored or sent


def test_the_form_names_every_problem_at_once(client, login, sent, redis):
    """Staff at the counter, the citizen waiting: every problem on the first refusal, not one more after each
    correction (the schema's own refusals, consent and organisation, and the service's, number, BSN, date)."""
    login(client, "staff", locations=(LOCATION,))
    response = client.post("/overdrachten/nieuw", data={
        "phone": "0900 1234", "name": "mevrouw Jansen", "note": "mijn bsn is 111222333", "deadline": "2020-01-01"})
    assert response.status_code == 400
    summary = _error_summary(response.get_data(as_text=True))
    assert [href for href, _ in summary] == ["#field-partner", "#field-phone", "#field-note", "#field-deadline",
                                             "#field-consent"], summary
    messages = " ".join(text for _, text in summary)
    assert "burgerservicenummer" in messages and "in het verleden" in messages and "Vraag eerst" in messages
    assert not redis.keys("ll:ho:*") and not sent
    # A number left empty for a callback request is taken over from it, so not asked for.
    response = client.post("/overdrachten/nieuw", data={"callback_reference": "TB-ABCD", "partner": "uwv"})
    assert [href for href, _ in _error_summary(response.get_data(as_text=True))] == ["#field-consent"]


def _error_summary(page: str) -> list[tuple[str, str]]:
    """The error summary's links: (target, text)."""
    summary = page[page.index('class="error-summary'):]
    summary = summary[:summary.index("</ul>")]
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', summary)


def test_the_form_starts_at_the_location_the_employee_chose_today(client, login):
    """Working at two locations and at Utrecht today (chosen in the directory): 'Nieuwe overdracht' hands over from
    Utrecht, not from the first location in the alphabet, which the partner would be told."""
    login(client, "staff", locations=(LOCATION, "utrecht"))
    assert "Vanuit Overheidsloket Amsterdam Centrum." in client.get("/overdrachten/nieuw").get_data(as_text=True)
    client.post("/directory/locations", data={"location": "utrecht"})
    page = client.get("/overdrachten/nieuw").get_data(as_text=True)
    assert "Vanuit Overheidsloket Utrecht (Stadskantoor)." in page
    assert '<option value="utrecht" selected>' in page


def test_without_consent_nothing_happens(client, login, sent, redis):
    login(client, "staff", locations=(LOCATION,))
    response = client.post("/overdrachten/nieuw", data={"partner": "uwv", "phone": "06 12345678"})
    assert response.status_code == 400
    assert "Vraag eerst of de inwoner" in response.get_data(as_text=True)
    assert not redis.keys("ll:ho:*") and not sent


def test_several_partners_make_linked_handovers_each_with_its_own_status(app, make_handover, sent):
    made = make_handover(["uwv", "svb"])
    assert len(made) == 2 and made[0].group == made[1].group
    assert {n["context"]["reference"] for n in sent} == {h.reference for h in made}
    partner = app.test_client()
    open_link(partner, sent[0])
    partner.post(f"/overdrachten/{made[0].reference}/uitkomst", data={"outcome": "solved"})
    from routing.extensions import get_redis
    from routing.handovers import service

    assert service.get(get_redis(), made[0].reference).status == "done"
    assert service.get(get_redis(), made[1].reference).status == "sent"


def test_the_notice_reaches_the_outbox_with_the_link_and_nothing_personal(app, client, make_handover, sent,
                                                                         run_jobs):
    [handover] = make_handover("uwv")
    run_jobs()
    outbox = client.get("/dev/outbox.json").json
    bodies = [item for item in (outbox if isinstance(outbox, list) else outbox.get("notices", []))]
    texts = " ".join(str(item) for item in bodies)
    assert handover.reference in texts and link_path(sent[0]) in texts
    assert "Jansen" not in texts and "12345678" not in texts and "WW-uitkering" not in texts


def test_staff_start_a_handover_from_a_lookup_result_or_a_callback_request(app, client, login, redis, sent):
    from routing.callbacks import service as callbacks

    login(client, "staff", locations=(LOCATION,))
    results = client.get(f"/directory/?location={LOCATION}&q=WW-uitkering").get_data(as_text=True)
    assert "Inwoner warm overdragen aan UWV" in results
    form = client.get(f"/overdrachten/nieuw?location={LOCATION}&partner=uwv").get_data(as_text=True)
    assert 'value="uwv" checked' in form

    receipt = callbacks.create_request(redis, callbacks.Intake(location=LOCATION, phone="+31687654321",
                                                               channel="web", name="meneer De Vries"))
    callbacks.store.transition(redis, receipt.reference, "open", callbacks.states.allowed_from("open"),
                               now=0, stats_key="ll:test:stats")
    detail = client.get(f"/loket/terugbelverzoeken/{receipt.reference}").get_data(as_text=True)
    assert f"callback={receipt.reference}" in detail
    form = client.get(f"/overdrachten/nieuw?location={LOCATION}&callback={receipt.reference}").get_data(as_text=True)
    assert receipt.reference in form
    response = client.post("/overdrachten/nieuw", data={"partner": "cjib", "consent": "yes",
                                                        "callback_reference": receipt.reference})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "meneer De Vries" in page and "tel:+31687654321" in page
    assert callbacks.get_status(redis, receipt.reference).state == "done"


@pytest.mark.parametrize(("reply_by", "link", "other"), [
    ("whatsapp", '<a class="tel" href="https://wa.me/31687654321">Stuur een WhatsApp-bericht</a>', "sms:"),
    ("sms", '<a class="tel" href="sms:+31687654321">Stuur een sms</a>', "wa.me")])
def test_a_citizen_who_asked_for_a_message_gets_a_link_to_that_channel(app, client, login, redis, sent, reply_by,
                                                                       link, other):
    """A WhatsApp request handed over offered only an SMS button, to the loket and to the partner alike."""
    from routing.callbacks import service as callbacks

    login(client, "staff", locations=(LOCATION,))
    receipt = callbacks.create_request(redis, callbacks.Intake(location=LOCATION, phone="+31687654321",
                                                               channel="web", reply_by=reply_by))
    response = client.post("/overdrachten/nieuw", data={"partner": "uwv", "consent": "yes",
                                                        "callback_reference": receipt.reference})
    loket_page = client.get(response.headers["Location"]).get_data(as_text=True)
    partner_page = open_link(app.test_client(), sent[0]).get_data(as_text=True)
    for page in (loket_page, partner_page):
        assert "niet bellen: daar vroeg de inwoner om." in page
        assert link in page and other not in page


def test_a_callback_left_while_the_loket_is_closed_goes_straight_to_the_one_partner(app, redis, sent):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from routing.callbacks import service as callbacks
    from routing.directory import service as directory
    from routing.handovers import service

    location = directory.get_location(LOCATION)
    assert location.handover_when_absent
    topic = next(t for t in directory.get_directory().topics.values()
                 if [p for p in t.partners if directory.serves(directory.get_partner(p), location)] == ["duo"])
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))  # the loket is there tue/thu
    receipt = callbacks.create_request(redis, callbacks.Intake(
        location=LOCATION, phone="+31687654321", channel="web", topic=topic.id), now=monday)
    assert receipt.status == "handed_over"  # live until the partner finishes: the citizen can still withdraw
    handover_ref = callbacks.get_status(redis, receipt.reference).handover
    handover = service.get(redis, handover_ref)
    assert handover.partner == "duo" and handover.callback_reference == receipt.reference
    assert handover.topic == topic.id
    assert [n["kind"] for n in sent] == ["handover_new"] and sent[0]["context"]["topic"] == topic.name_nl


def test_the_partner_page_speaks_english_on_request(app, make_handover, sent):
    make_handover("uwv")
    page = open_link(app.test_client(), sent[0], "?lang=en").get_data(as_text=True)
    assert "Who do you call?" in page and "Record a call attempt" in page and "Wie belt u?" not in page


def test_the_partner_is_told_what_is_missing_and_nothing_changes(app, make_handover, sent):
    [handover] = make_handover("uwv")
    partner = app.test_client()
    open_link(partner, sent[0])
    cases = (({"outcome": "referred_on"}, "Vul in naar wie u hebt doorverwezen."),
             ({"outcome": "returned_to_loket"}, "Schrijf kort op waarom"),
             ({"outcome": "solved?"}, "Kies een uitkomst."),
             ({}, "Kies een uitkomst."),
             ({"outcome": "referred_on", "referred_to": "BSN 111222333"}, "burgerservicenummer"))
    for data, message in cases:
        response = partner.post(f"/overdrachten/{handover.reference}/uitkomst", data=data)
        assert response.status_code in (400, 422) and message in response.get_data(as_text=True)
    response = partner.post(f"/overdrachten/{handover.reference}/poging", data={})
    # Named in the error summary too, away from the question: which one is meant.
    assert response.status_code == 400 and "Kies het resultaat van de poging." in response.get_data(as_text=True)
    from routing.extensions import get_redis
    from routing.handovers import service

    assert service.get(get_redis(), handover.reference).status == "opened"


def test_aftercare_shows_overdue_first_and_only_what_is_yours(app, client, login, make_handover, redis, sent):
    from datetime import UTC, datetime, timedelta

    from routing.handovers import service

    [old] = make_handover("uwv", now=datetime.now(UTC) - timedelta(days=9))
    [fresh, done] = make_handover(["svb", "duo"])
    service.record_outcome(redis, done, "solved", "test", datetime.now(UTC))
    login(client, "staff", locations=(LOCATION,))
    page = client.get("/overdrachten").get_data(as_text=True)
    assert page.index(old.reference) < page.index(fresh.reference) < page.index(done.reference)
    assert "Te laat" in page
    partner = app.test_client()
    login(partner, "partner", partner="svb")
    page = partner.get("/overdrachten").get_data(as_text=True)
    assert fresh.reference in page and old.reference not in page and done.reference not in page


def test_staff_at_several_locations_choose_where_they_hand_over_from(client, login, sent):
    login(client, "staff", locations=(LOCATION, "utrecht"))
    page = client.get("/overdrachten/nieuw?location=utrecht").get_data(as_text=True)
    assert '<option value="utrecht" selected>' in page and "Vanuit Overheidsloket Utrecht (Stadskantoor)." in page
    assert client.get("/overdrachten/nieuw?location=enschede").status_code == 403


def test_the_deadline_reads_as_a_day_in_words(app, client, login, make_handover, sent):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    [handover] = make_handover("uwv", now=datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))
    login(client, "staff", locations=(LOCATION,))
    # The year only when it is not this one (tests/test_moments.py).
    assert "woensdag 2 december" in client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "Wednesday 2 December" in client.get(f"/overdrachten/{handover.reference}?lang=en").get_data(
        as_text=True)


def test_a_partner_does_not_learn_which_other_organisations_the_citizen_went_to(app, client, login, make_handover,
                                                                                   sent):
    made = make_handover(["uwv", "ind"])
    partner_page = open_link(app.test_client(), sent[0]).get_data(as_text=True)
    assert made[1].reference not in partner_page and "IND" not in partner_page
    login(client, "staff", locations=(LOCATION,))
    loket_page = client.get(f"/overdrachten/{made[0].reference}").get_data(as_text=True)
    assert made[1].reference in loket_page and "IND" in loket_page


def test_a_returned_handover_can_go_to_another_organisation_without_retyping(app, client, login, make_handover,
                                                                             redis, sent):
    from datetime import UTC, datetime

    from routing.handovers import service

    [first] = make_handover("uwv")
    service.record_outcome(redis, first, "returned_to_loket", "test", datetime.now(UTC), note="Hoort bij SVB")
    login(client, "staff", locations=(LOCATION,))
    page = client.get(f"/overdrachten/{first.reference}").get_data(as_text=True)
    assert f"again={first.reference}" in page
    assert first.reference in client.get(f"/overdrachten/nieuw?location={LOCATION}&again={first.reference}").get_data(
        as_text=True)
    response = client.post("/overdrachten/nieuw", data={"partner": "svb", "consent": "yes",
                                                        "previous_reference": first.reference})
    assert response.status_code == 302
    second = response.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/overdrachten/{second}").get_data(as_text=True)
    assert "tel:+31612345678" in page and "mevrouw Jansen" in page and first.reference in page

    [open_one] = make_handover("duo")
    refused = client.post("/overdrachten/nieuw", data={"partner": "svb", "consent": "yes",
                                                       "previous_reference": open_one.reference})
    assert refused.status_code == 422 and "terug is bij het loket" in refused.get_data(as_text=True)
    other = app.test_client()
    login(other, "staff", locations=("utrecht",))
    refused = other.post("/overdrachten/nieuw", data={"location": "utrecht", "partner": "svb", "consent": "yes",
                                                      "previous_reference": first.reference})
    assert refused.status_code == 422 and "hoort niet bij deze locatie" in refused.get_data(as_text=True)


def test_loket_staff_read_whom_the_organisation_calls_the_partner_whom_it_calls(app, client, login, make_handover,
                                                                                sent):
    [handover] = make_handover("uwv")
    login(client, "staff", locations=(LOCATION,))
    page = client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "Wie de organisatie belt" in page and "Wie belt u?" not in page
    partner_page = open_link(app.test_client(), sent[0]).get_data(as_text=True)
    assert "Wie belt u?" in partner_page and "Wie de organisatie belt" not in partner_page


def test_without_a_number_staff_are_asked_for_the_citizen_s_number(client, login, sent):
    login(client, "staff", locations=(LOCATION,))
    response = client.post("/overdrachten/nieuw", data={"partner": "uwv", "consent": "yes"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vul het telefoonnummer van de inwoner in, bijvoorbeeld 06 12345678." in page
    assert "Vul uw telefoonnummer in" not in page and not sent


def test_the_form_and_a_handover_s_page_lead_back(app, client, login, redis, make_handover, sent):
    from routing.callbacks import service as callbacks

    login(client, "staff", locations=(LOCATION,))
    cancel = '">Annuleren</a>'
    assert 'href="/overdrachten' + cancel in client.get("/overdrachten/nieuw").get_data(as_text=True)
    receipt = callbacks.create_request(redis, callbacks.Intake(location=LOCATION, phone="+31687654321",
                                                               channel="web"))
    form = client.get(f"/overdrachten/nieuw?callback={receipt.reference}").get_data(as_text=True)
    assert f'href="/loket/terugbelverzoeken/{receipt.reference}' + cancel in form
    [handover] = make_handover("uwv")
    back = 'href="/overdrachten">Terug naar de overdrachten</a>'
    assert back in client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    # A partner who came by the link, without logging in, would only meet the login page there.
    assert back not in open_link(app.test_client(), sent[0]).get_data(as_text=True)
