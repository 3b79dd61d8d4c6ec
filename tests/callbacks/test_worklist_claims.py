"""The staff worklist as two colleagues meet it: who works on a request and since when, taking it over only
on purpose, giving it back, forms that came too late, how a request ended, handing over (the handover form,
never an outcome), and the list's own details."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from callbacks.conftest import MONDAY_10, at
from routing.auth.principal import Principal
from routing.callbacks import service
from routing.errors import ApiError
from routing.privacy import audit

LIST = "/loket/terugbelverzoeken"


@pytest.fixture(autouse=True)
def monday(pin_now):
    pin_now(MONDAY_10)


@pytest.fixture
def colleagues(app, login):
    """Two logged-in Utrecht employees, each with their own browser: (client, e-mail) pairs."""
    first, second = app.test_client(), app.test_client()
    return ((first, login(first, "staff", locations=("utrecht",))),
            (second, login(second, "staff", locations=("utrecht",))))


def _version(page: str) -> str:
    return re.search(r'name="updated" value="(\d+)"', page).group(1)


def test_list_and_detail_say_who_works_on_it_and_opening_does_not_take_it_over(colleagues, create, redis):
    receipt = create(now=MONDAY_10, name="Mevrouw Jansen", note="over de AOW")
    (anna, anna_email), (bert, _) = colleagues
    anna.get(f"{LIST}/{receipt.reference}")  # Anna opens it at 10:00: hers now

    listed = bert.get(LIST).get_data(as_text=True)
    assert f"{anna_email} werkt hieraan sinds maandag 30 november om 10:00." in listed
    assert "Iemand mee bezig: 1" in listed and "Open: 0" in listed

    page = bert.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert f"{anna_email} werkt hieraan sinds maandag 30 november om 10:00." in page
    assert "Bel deze inwoner niet zelf" in page and "Ik neem het over" in page
    # Bert sees the facts, not the number, and cannot record an attempt before taking it over.
    assert "tel:" not in page and "612345678" not in page and "over de AOW" not in page
    assert "Hoe ging het?" not in page
    request = service.get_status(redis, receipt.reference)
    assert request.state == "in_progress" and request.assignee != "" and anna_email not in (request.assignee or "")
    views = [r for r in audit.for_reference(redis, receipt.reference) if r["name"] == "callback.view"]
    assert len(views) == 1  # only Anna read the number
    # A crafted attempt from Bert is refused as well: Anna has it.
    response = bert.post(f"{LIST}/{receipt.reference}/poging", data={"result": "not_reached"})
    assert response.status_code == 409 and "Een collega is met dit verzoek bezig" in response.get_data(as_text=True)
    assert service.get_status(redis, receipt.reference).attempts == 0

    # Anna's own page says it is hers.
    assert "U werkt hieraan sinds maandag 30 november om 10:00." in anna.get(f"{LIST}/{receipt.reference}").get_data(
        as_text=True)


def test_taking_over_is_explicit_and_the_old_page_is_then_refused(colleagues, create, redis, pin_now):
    receipt = create(now=MONDAY_10)
    (anna, _), (bert, bert_email) = colleagues
    annas_page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    pin_now(at(2026, 11, 30, 10, 20))
    berts_page = bert.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    response = bert.post(f"{LIST}/{receipt.reference}/overnemen", data={"updated": _version(berts_page)},
                         follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"U werkt nu aan {receipt.reference}." in page
    assert 'href="tel:+31612345678"' in page and "U werkt hieraan sinds maandag 30 november om 10:20." in page

    # Anna's page is out of date: her attempt is refused with a way back, and nothing is recorded.
    pin_now(at(2026, 11, 30, 10, 25))
    response = anna.post(f"{LIST}/{receipt.reference}/poging",
                         data={"result": "reached", "outcome": "helped", "updated": _version(annas_page)})
    assert response.status_code == 409
    refused = response.get_data(as_text=True)
    assert "Dit verzoek is veranderd sinds u de pagina opende. Er is niets opgeslagen." in refused
    assert f'href="/loket/terugbelverzoeken/{receipt.reference}"' in refused
    after = service.get_status(redis, receipt.reference)
    assert after.state == "in_progress" and after.attempts == 0
    assert f"{bert_email} werkt hieraan sinds maandag 30 november om 10:20." in anna.get(
        f"{LIST}/{receipt.reference}").get_data(as_text=True)


def test_give_back_returns_it_to_open_for_anyone(colleagues, create, redis):
    receipt = create(now=MONDAY_10)
    (anna, _), (bert, _) = colleagues
    page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "Terugzetten" in page
    response = anna.post(f"{LIST}/{receipt.reference}/terugzetten", data={"updated": _version(page)},
                         follow_redirects=True)
    listed = response.get_data(as_text=True)
    assert f"{receipt.reference} staat weer open voor iedereen." in listed
    assert "werkt hieraan" not in listed and "Open: 1" in listed
    assert service.get_status(redis, receipt.reference).state == "open"
    # The next one to open it has it.
    assert 'href="tel:+31612345678"' in bert.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert service.get_status(redis, receipt.reference).state == "in_progress"


def test_a_colleague_without_a_known_account_is_a_colleague(colleagues, create, redis):
    receipt = create(now=MONDAY_10)
    (anna, anna_email), (bert, _) = colleagues
    anna.get(f"{LIST}/{receipt.reference}")
    redis.delete(f"ll:user:{anna_email}")  # the account is gone since
    redis.srem("ll:users", anna_email)
    assert "een collega werkt hieraan sinds maandag 30 november om 10:00." in bert.get(LIST).get_data(as_text=True)


def test_attempt_form_errors_come_back_on_the_page_with_the_choice_kept(client, login, create, redis):
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    response = client.post(f"{LIST}/{receipt.reference}/poging",
                           data={"result": "reached", "updated": _version(page)})
    assert response.status_code == 422
    again = response.get_data(as_text=True)
    assert "Er is iets niet goed ingevuld" in again and 'href="#field-outcome"' in again
    assert re.search(r'id="error-outcome">.*Kies een uitkomst\.', again)  # which question, by its name
    assert re.search(r'value="reached"[^>]*checked', again)
    assert 'href="tel:+31612345678"' in again  # still the request's own page
    assert service.get_status(redis, receipt.reference).state == "in_progress"


def test_the_last_not_reached_says_the_attempts_ran_out_and_the_page_says_how_it_ended(client, login, create,
                                                                                        redis, pin_now):
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    first = client.post(f"{LIST}/{receipt.reference}/poging", data={"result": "not_reached"},
                        follow_redirects=True).get_data(as_text=True)
    assert (f"Niet bereikt: {receipt.reference} blijft open. Probeer het opnieuw maandag 30 november om 12:00."
            in first)
    assert "(1 poging)" in first
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "Volgende poging" in page and "maandag 30 november om 12:00" in page
    assert "Dit is de laatste poging" not in page
    pin_now(MONDAY_10 + timedelta(hours=1))  # an hour apart, or it would not count (routing.attempts)
    client.post(f"{LIST}/{receipt.reference}/poging", data={"result": "not_reached"})
    # Before the third: the page says that "Niet bereikt" now ends the request, next to that choice.
    pin_now(MONDAY_10 + timedelta(hours=2))
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert re.search(r'<label for="result-not_reached">Niet bereikt</label></div>\s*'
                     r'<p class="hint choice__hint" id="hint-result-not_reached">Dit is de laatste poging: kiest u '
                     r'Niet bereikt, dan stopt het verzoek.</p>', page)
    assert re.search(r'value="not_reached" required\s+aria-describedby="hint-result-not_reached">', page)
    last = client.post(f"{LIST}/{receipt.reference}/poging", data={"result": "not_reached"},
                       follow_redirects=True).get_data(as_text=True)
    assert (f"{receipt.reference} is afgesloten: de inwoner is 3 keer niet bereikt. Er zijn geen pogingen meer."
            in last)
    ended = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "Hoe het afliep" in ended and "Na het hoogste aantal pogingen niet bereikt" in ended
    attempts = re.search(r"Pogingen</dt>\s*<dd><ol class=\"attempts\">(.*?)</ol>", ended, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", attempts) == [f"maandag 30 november om {hour}:00: Niet bereikt (door u)"
                                                        for hour in (10, 11, 12)]
    assert "3 pogingen" in ended and "Hoe ging het?" not in ended


def test_a_handed_over_request_names_its_handover(client, login, create, redis):
    receipt = create(now=MONDAY_10)
    service.mark_handed_over(redis, receipt.reference, "OV-7KQ4", now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "Warm overgedragen aan een partner" in page and "OV-7KQ4" in page


def test_a_missed_preferred_moment_stays_due_and_comes_first(create, redis):
    friday = at(2026, 11, 27, 10, 0)
    missed = create(now=friday, phone="0611111111", preferred=["2026-11-27:afternoon"])
    anytime = create(now=MONDAY_10, phone="0622222222")
    later = create(now=MONDAY_10, phone="0633333333", preferred=["2026-11-30:afternoon"])
    requests = {q.reference: q for q in service.worklist(redis, ["utrecht"], now=MONDAY_10)}
    assert service.due_now(requests[missed.reference], MONDAY_10)
    assert not service.due_now(requests[later.reference], MONDAY_10)
    assert service.due_now(requests[later.reference], at(2026, 11, 30, 12, 0))
    order = [q.reference for q in service.worklist(redis, ["utrecht"], now=MONDAY_10)]
    assert order == [missed.reference, anytime.reference, later.reference]


def test_an_account_that_serves_no_location_gets_a_plain_403(client, login):
    login(client, "partner", partner="uwv")  # UWV holds no counter
    response = client.get(LIST)
    assert response.status_code == 403
    assert "Uw account hoort bij geen locatie met terugbelverzoeken." in response.get_data(as_text=True)


def test_plurals_totals_and_references_that_do_not_wrap(client, login, create, pin_now):
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    client.post(f"{LIST}/{receipt.reference}/poging", data={"result": "not_reached"})
    dutch = client.get(LIST).get_data(as_text=True)
    assert "(1 poging)" in dutch and "1 pogingen" not in dutch
    assert "Open: 1" in dutch and "Iemand mee bezig: 0" in dutch and "Wacht op de volgende dienst: 0" in dutch
    assert f"class=\"reference\">{receipt.reference}<" in dutch  # loketlijn.css keeps it on one line
    english = client.get(LIST + "?lang=en").get_data(as_text=True)
    assert "(1 attempt)" in english and "1 attempts" not in english
    create(now=MONDAY_10, phone="0644444444")
    create(now=MONDAY_10, phone="0644444444")
    assert "asked 2 times" in client.get(LIST + "?lang=en").get_data(as_text=True)


def test_the_location_filter_survives_an_action(client, login, create):
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht", "enschede"))
    listed = client.get(LIST + "?location=utrecht").get_data(as_text=True)
    assert f'href="/loket/terugbelverzoeken/{receipt.reference}?location=utrecht"' in listed
    page = client.get(f"{LIST}/{receipt.reference}?location=utrecht").get_data(as_text=True)
    assert '<input type="hidden" name="location" value="utrecht">' in page
    response = client.post(f"{LIST}/{receipt.reference}/poging",
                           data={"result": "not_reached", "location": "utrecht", "updated": _version(page)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/loket/terugbelverzoeken?location=utrecht")


@pytest.mark.parametrize("reply_by", ["sms", "whatsapp", "call"])
def test_a_link_to_the_channel_the_citizen_asked_for(client, login, create, reply_by):
    receipt = create(now=MONDAY_10, reply_by=reply_by)
    login(client, "staff", locations=("utrecht",))
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert 'href="tel:+31612345678"' in page
    assert ('href="sms:+31612345678"' in page) is (reply_by == "sms")
    assert ('href="https://wa.me/31612345678"' in page) is (reply_by == "whatsapp")


def test_two_attempts_saved_at_once_never_count_as_one(create, redis, make_user, pin_now, monkeypatch):
    """A read-modify-write: the save that read the request before a colleague's change landed is refused
    instead of overwriting the count."""
    from routing.auth import service as auth
    from routing.errors import ApiError

    receipt = create(now=MONDAY_10)
    employee = auth.principal_for_user(redis, make_user("staff", ("utrecht",)))
    service.open_for_staff(redis, receipt.reference, employee, now=MONDAY_10)
    read_before = service.get_status(redis, receipt.reference)
    service.record_attempt(redis, receipt.reference, employee, "not_reached", now=MONDAY_10 + timedelta(seconds=5))
    # The second save had read the request before the first one landed.
    monkeypatch.setattr(service, "_handled_request", lambda *args: read_before)
    with pytest.raises(ApiError) as refused:
        service.record_attempt(redis, receipt.reference, employee, "not_reached",
                               now=MONDAY_10 + timedelta(seconds=6))
    assert refused.value.status == 409 and "veranderd" in refused.value.message
    assert service.get_status(redis, receipt.reference).attempts == 1


def test_a_request_a_partner_took_over_is_read_only_for_the_loket(colleagues, create, redis):
    from callbacks.conftest import SATURDAY

    receipt = create(now=SATURDAY, topic="kinderbijslag")  # nobody there: SVB has it
    (anna, _), _ = colleagues
    page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "doorgegeven aan de organisatie die over de vraag gaat" in page
    assert "tel:" not in page and 'name="result"' not in page
    refused = anna.post(f"{LIST}/{receipt.reference}/poging", data={"result": "reached", "outcome": "helped"})
    assert refused.status_code == 409 and "u hoeft niets te doen" in refused.get_data(as_text=True)
    assert service.get_status(redis, receipt.reference).state == "handed_over"


def test_a_finished_request_shows_no_number_and_counts_no_access(colleagues, create, redis):
    receipt = create(now=MONDAY_10)
    (anna, _), _ = colleagues
    anna.get(f"{LIST}/{receipt.reference}")
    anna.post(f"{LIST}/{receipt.reference}/poging", data={"result": "reached", "outcome": "helped"})
    views_before = [r for r in audit.for_reference(redis, receipt.reference) if r["name"] == "callback.view"]
    page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "tel:" not in page
    views_after = [r for r in audit.for_reference(redis, receipt.reference) if r["name"] == "callback.view"]
    assert len(views_after) == len(views_before) == 1


def test_only_who_has_it_gives_it_back_and_that_is_logged(colleagues, create, redis):
    receipt = create(now=MONDAY_10)
    (anna, _), (bert, _) = colleagues
    page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    refused = bert.post(f"{LIST}/{receipt.reference}/terugzetten", data={"updated": _version(page)})
    assert refused.status_code == 409 and service.get_status(redis, receipt.reference).state == "in_progress"
    anna.post(f"{LIST}/{receipt.reference}/terugzetten", data={"updated": _version(page)})
    assert service.get_status(redis, receipt.reference).state == "open"
    assert "callback.give_back" in [r["name"] for r in audit.for_reference(redis, receipt.reference)]


def test_staff_find_a_request_by_the_kenmerk_a_citizen_reads_out(colleagues, create, app, login):
    receipt = create(now=MONDAY_10)
    (anna, _), _ = colleagues
    typed = receipt.reference.lower().replace("-", " ")  # "tb 7kq4", as heard on the phone
    found = anna.get(f"{LIST}/zoek?kenmerk={typed}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"{LIST}/{receipt.reference}")
    # Elsewhere, or mistyped: the list again, with the same plain answer (nothing about other locations).
    other = app.test_client()
    login(other, "staff", locations=("enschede",))
    page = other.get(f"{LIST}/zoek?kenmerk={receipt.reference}", follow_redirects=True).get_data(as_text=True)
    assert f"Er is geen terugbelverzoek {receipt.reference} bij uw locaties." in page
    assert 'name="kenmerk"' in page


def test_a_change_in_the_same_second_still_makes_an_older_page_stale(colleagues, create, redis):
    """The clock stands still (MONDAY_10): every load and save below happens within the same second, so
    only a version that counts changes, not a time, tells the pages apart."""
    receipt = create(now=MONDAY_10)
    (anna, _), (bert, _) = colleagues
    annas_page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)  # Anna's first save: she has it
    berts_page = bert.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)  # after it, before her next
    response = anna.post(f"{LIST}/{receipt.reference}/poging",
                         data={"result": "not_reached", "updated": _version(annas_page)})
    assert response.status_code == 302  # Anna's second save, in the same second
    saved = service.get_status(redis, receipt.reference)
    assert saved.state == "open" and saved.attempts == 1 and saved.updated == MONDAY_10

    # Bert's page predates that save: taking over from it is refused, and nothing changed.
    response = bert.post(f"{LIST}/{receipt.reference}/overnemen", data={"updated": _version(berts_page)})
    assert response.status_code == 409
    assert ("Dit verzoek is veranderd sinds u de pagina opende. Er is niets opgeslagen."
            in response.get_data(as_text=True))
    assert service.get_status(redis, receipt.reference) == saved

    # Anna's own page from before her save is stale as well: a second attempt from it is not counted.
    response = anna.post(f"{LIST}/{receipt.reference}/poging",
                         data={"result": "reached", "outcome": "helped", "updated": _version(annas_page)})
    assert response.status_code == 409
    assert "Dit verzoek is veranderd sinds u de pagina opende." in response.get_data(as_text=True)
    assert service.get_status(redis, receipt.reference) == saved

    # A page loaded now is current and goes through, still in the same second.
    fresh = bert.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)  # opening it: his now
    response = bert.post(f"{LIST}/{receipt.reference}/poging",
                         data={"result": "reached", "outcome": "helped", "updated": _version(fresh)})
    assert response.status_code == 302
    assert service.get_status(redis, receipt.reference).state == "done"


def test_a_stale_save_between_two_moves_in_the_same_second_is_refused_by_the_store(create, redis, make_user,
                                                                                   monkeypatch):
    """The store's own check (expect_version in the transition script) is exact too: a save that read the
    request before a colleague's change in the same second is refused and counts nothing."""
    from routing.auth import service as auth
    from routing.errors import ApiError

    receipt = create(now=MONDAY_10)
    employee = auth.principal_for_user(redis, make_user("staff", ("utrecht",)))
    service.open_for_staff(redis, receipt.reference, employee, now=MONDAY_10)
    read_before = service.get_status(redis, receipt.reference)
    service.record_attempt(redis, receipt.reference, employee, "not_reached", now=MONDAY_10)
    monkeypatch.setattr(service, "_handled_request", lambda *args: read_before)
    with pytest.raises(ApiError) as refused:
        service.record_attempt(redis, receipt.reference, employee, "not_reached", now=MONDAY_10)
    assert refused.value.status == 409 and "veranderd" in refused.value.message
    assert service.get_status(redis, receipt.reference).attempts == 1


def test_a_request_stored_before_versions_were_counted_still_takes_its_forms(colleagues, create, redis):
    """Records written by earlier code have no version field: they count as version 0 and work as before."""
    from routing.store import callbacks as store

    receipt = create(now=MONDAY_10)
    (anna, _), _ = colleagues
    anna.get(f"{LIST}/{receipt.reference}")
    redis.hdel(store.REQUEST.format(reference=receipt.reference), "rev")  # as an old record
    page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert _version(page) == "0"
    assert "U werkt hieraan sinds maandag 30 november om 10:00." in page
    response = anna.post(f"{LIST}/{receipt.reference}/poging",
                         data={"result": "reached", "outcome": "helped", "updated": _version(page)})
    assert response.status_code == 302
    assert service.get_status(redis, receipt.reference).state == "done"


def test_handing_over_is_the_handover_form_not_an_outcome(client, login, create, redis):
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert 'value="handed_over"' not in page and "Warm overgedragen aan een partner" not in page
    assert "Kies dan hier niets. Draag het verzoek over met de knop hieronder." in page
    button = re.search(r'<a class="button button--secondary" href="([^"]+)">Warm overdragen aan een organisatie</a>',
                       page)
    assert button and f"callback={receipt.reference}" in button.group(1).replace("&amp;", "&")

    # A form sent anyway (an old page, a crafted post) saves nothing and says what to do instead.
    response = client.post(f"{LIST}/{receipt.reference}/poging",
                           data={"result": "reached", "outcome": "handed_over", "updated": _version(page)})
    refused = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Wilt u overdragen? Gebruik dan de knop Warm overdragen aan een organisatie." in refused
    request = service.get_status(redis, receipt.reference)
    assert request.state == "in_progress" and request.attempts == 0 and request.outcome is None


def test_the_service_refuses_handed_over_without_a_handover(create, redis):
    receipt = create(now=MONDAY_10)
    principal = Principal(id="u-anna", kind="user", role="staff", locations=frozenset({"utrecht"}))
    with pytest.raises(ApiError) as refused:
        service.record_attempt(redis, receipt.reference, principal, "reached", "handed_over", now=MONDAY_10)
    assert refused.value.status == 422 and "Er is niets opgeslagen." in refused.value.message
    # The handover form's own path still closes it as handed over.
    service.mark_handed_over(redis, receipt.reference, "OV-7KQ4", now=MONDAY_10)
    request = service.get_status(redis, receipt.reference)
    assert request.state == "done" and request.outcome == "handed_over" and request.handover == "OV-7KQ4"


def test_wrong_number_says_it_ends_the_request_and_the_attempts_name_who_made_them(colleagues, create, redis):
    receipt = create(now=MONDAY_10)
    (anna, anna_email), (bert, _) = colleagues
    page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert re.search(r'<label for="result-wrong_number">Verkeerd nummer</label></div>\s*<p class="hint choice__hint" '
                     r'id="hint-result-wrong_number">Het verzoek stopt dan meteen. Er komt geen nieuwe poging.</p>', page)
    assert "Pogingen</dt>" not in page and "Dit is de laatste poging" not in page
    anna.post(f"{LIST}/{receipt.reference}/poging", data={"result": "not_reached", "updated": _version(page)})
    seen = bert.get(f"{LIST}/{receipt.reference}")  # open again: Bert takes it
    assert f"maandag 30 november om 10:00: Niet bereikt (door {anna_email})" in seen.get_data(as_text=True)
    bert.post(f"{LIST}/{receipt.reference}/poging",
              data={"result": "wrong_number", "updated": _version(seen.get_data(as_text=True))})
    ended = bert.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "Verkeerd nummer (door u)" in ended and f"Niet bereikt (door {anna_email})" in ended
    # Kept with the request's facts: when, result and the employee's account id; never the number.
    tries = redis.hget(f"ll:cb:{receipt.reference}", "tries").decode()
    assert "wrong_number" in tries and "612345678" not in tries and anna_email not in tries


def test_a_finished_request_says_when_its_number_is_deleted_not_that_it_is(client, login, create, redis):
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    client.post(f"{LIST}/{receipt.reference}/poging", data={"result": "reached", "outcome": "helped"})
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    # Kept for the retention (30 days after it was done), not shown: the page says so, and until when.
    assert ("U ziet het nummer niet meer: het verzoek is klaar. Het nummer, de naam en het bericht worden gewist "
            "op woensdag 30 december.") in page
    assert not re.search(r"Bellen naar</dt>\s*<dd>\s*gewist", page) and "tel:" not in page
    service.purge_expired(redis, now=at(2026, 12, 30, 10, 1))
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert re.search(r"Bellen naar</dt>\s*<dd>\s*gewist\s*</dd>", page) and "worden gewist op" not in page


def test_a_request_a_partner_took_over_says_the_partner_contacts_the_citizen(client, login, create, redis):
    receipt = create(now=at(2026, 11, 28, 14, 0))  # Saturday: waiting
    service.pass_to_partner(redis, receipt.reference, "OV-7KQ4", "svb", now=at(2026, 11, 28, 14, 0))
    login(client, "staff", locations=("utrecht",))
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "U ziet het nummer niet: de organisatie die het verzoek overnam, neemt contact op met de inwoner." in page
    assert not re.search(r"Bellen naar</dt>\s*<dd>\s*gewist", page)


def test_a_form_saved_after_the_citizen_withdrew_says_so(colleagues, create, redis):
    receipt = create(now=MONDAY_10)
    (anna, _), (bert, _) = colleagues
    page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)  # Anna has the page open...
    service.withdraw(redis, receipt.reference, receipt.withdraw_token, now=MONDAY_10)  # ...the citizen withdraws
    response = anna.post(f"{LIST}/{receipt.reference}/poging", data={"result": "reached", "outcome": "helped",
                                                                    "updated": _version(page)})
    refused = response.get_data(as_text=True)
    assert response.status_code == 409 and "<h1>Niet opgeslagen</h1>" in refused
    assert "De inwoner heeft het verzoek ingetrokken. U hoeft niet meer te bellen. Er is niets opgeslagen." in refused
    assert "veranderd sinds" not in refused
    request = service.get_status(redis, receipt.reference)
    assert request.state == "withdrawn" and request.attempts == 0
    # Giving it back from the same page: the same answer.
    response = anna.post(f"{LIST}/{receipt.reference}/terugzetten", data={"updated": _version(page)})
    assert "De inwoner heeft het verzoek ingetrokken." in response.get_data(as_text=True)


def test_a_form_that_meets_a_finished_or_expired_request_names_how_it_ended(colleagues, create, redis):
    finished, stale = create(now=MONDAY_10), create(now=MONDAY_10, phone="0687654321")
    (anna, _), (bert, _) = colleagues
    annas = anna.get(f"{LIST}/{finished.reference}").get_data(as_text=True)
    anna.post(f"{LIST}/{finished.reference}/terugzetten", data={"updated": _version(annas)})
    berts = bert.get(f"{LIST}/{finished.reference}").get_data(as_text=True)
    bert.post(f"{LIST}/{finished.reference}/poging", data={"result": "wrong_number", "updated": _version(berts)})
    response = bert.post(f"{LIST}/{finished.reference}/poging",
                         data={"result": "not_reached", "updated": _version(berts)})
    assert "Dit verzoek is al afgehandeld. U hoeft niet meer te bellen." in response.get_data(as_text=True)

    page = anna.get(f"{LIST}/{stale.reference}").get_data(as_text=True)
    service.purge_expired(redis, now=at(2026, 12, 14, 10, 1))  # CALLBACK_EXPIRE_AFTER (14 days) unpicked
    response = anna.post(f"{LIST}/{stale.reference}/poging", data={"result": "not_reached",
                                                                   "updated": _version(page)})
    assert "Dit verzoek is verlopen: het wachtte te lang. U hoeft niet meer te bellen." in response.get_data(
        as_text=True)


def test_the_citizen_withdrawing_between_reading_and_saving_is_named_too(create, redis):
    """Withdrawn before the attempt is written, with no form version that tells (as between the service reading
    the request and writing the attempt): the store's script refuses the move, and the employee hears why."""
    receipt = create(now=MONDAY_10)
    anna = Principal(id="u-anna", kind="user", role="staff", locations=frozenset({"utrecht"}))
    service.withdraw(redis, receipt.reference, receipt.withdraw_token, now=MONDAY_10)
    with pytest.raises(ApiError) as refused:
        service.record_attempt(redis, receipt.reference, anna, "not_reached", now=MONDAY_10)
    assert refused.value.status == 409
    assert refused.value.message.startswith("De inwoner heeft het verzoek ingetrokken. U hoeft niet meer te bellen.")


@pytest.mark.parametrize("result", ["not_reached", "wrong_number"])
def test_an_outcome_with_not_reached_is_refused_not_dropped(client, login, create, redis, result):
    """'Geholpen' with 'Niet bereikt' is a slip in one of the two: nothing is saved, the employee is told the
    outcome goes with Bereikt only, and the outcome comes back unchosen (a radio cannot be unchosen without JS)."""
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    page = client.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "Uitkomst (alleen bij Bereikt)" in page
    response = client.post(f"{LIST}/{receipt.reference}/poging",
                           data={"result": result, "outcome": "helped", "updated": _version(page)})
    assert response.status_code == 422
    again = response.get_data(as_text=True)
    assert "Er is niets opgeslagen: een uitkomst hoort alleen bij Bereikt." in again
    assert 'href="#field-outcome"' in again
    assert re.search(rf'value="{result}"[^>]*checked', again) and not re.search(r'value="helped"[^>]*checked', again)
    after = service.get_status(redis, receipt.reference)
    assert after.state == "in_progress" and after.attempts == 0 and not after.tries
    # Answered again without the outcome, it is saved.
    response = client.post(f"{LIST}/{receipt.reference}/poging",
                           data={"result": result, "updated": _version(again)})
    assert response.status_code == 302 and service.get_status(redis, receipt.reference).attempts == 1


def test_a_forgotten_claim_stops_keeping_colleagues_off_after_the_claim_hours(colleagues, create, redis, pin_now):
    """Anna opened it at 10:00 and went home. Before CALLBACK_CLAIM_HOURS (2) it is still hers; after, the list
    says she was on it (expired), counts it as open, and Bert opening it takes it: the number, his time."""
    receipt = create(now=MONDAY_10)
    (anna, anna_email), (bert, _) = colleagues
    annas_page = anna.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)

    pin_now(at(2026, 11, 30, 11, 55))
    assert f"{anna_email} werkt hieraan sinds maandag 30 november om 10:00." in bert.get(LIST).get_data(as_text=True)
    page = bert.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert "Ik neem het over" in page and "tel:" not in page

    pin_now(at(2026, 11, 30, 12, 5))
    listed = bert.get(LIST).get_data(as_text=True)
    assert f"{anna_email} was hiermee bezig sinds maandag 30 november om 10:00 (verlopen)." in listed
    assert "werkt hieraan" not in listed and "Open: 1" in listed and "Iemand mee bezig: 0" in listed
    assert "U was hiermee bezig sinds maandag 30 november om 10:00 (verlopen)." in anna.get(LIST).get_data(
        as_text=True)
    page = bert.get(f"{LIST}/{receipt.reference}").get_data(as_text=True)
    assert 'href="tel:+31612345678"' in page and "Ik neem het over" not in page
    assert "U werkt hieraan sinds maandag 30 november om 12:05." in page
    assert [r["name"] for r in audit.for_reference(redis, receipt.reference)].count("callback.take_over") == 1
    # Anna's page from this morning no longer saves anything.
    response = anna.post(f"{LIST}/{receipt.reference}/poging",
                         data={"result": "reached", "outcome": "helped", "updated": _version(annas_page)})
    assert response.status_code == 409 and service.get_status(redis, receipt.reference).attempts == 0


def test_the_claim_hours_are_a_setting(app, colleagues, create, pin_now):
    app.config["CALLBACK_CLAIM_HOURS"] = 4
    receipt = create(now=MONDAY_10)
    (anna, anna_email), (bert, _) = colleagues
    anna.get(f"{LIST}/{receipt.reference}")
    pin_now(at(2026, 11, 30, 13, 0))
    assert f"{anna_email} werkt hieraan sinds maandag 30 november om 10:00." in bert.get(LIST).get_data(as_text=True)
    pin_now(at(2026, 11, 30, 14, 0))
    assert f"{anna_email} was hiermee bezig sinds maandag 30 november om 10:00 (verlopen)." in bert.get(
        LIST).get_data(as_text=True)
