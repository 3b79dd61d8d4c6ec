"""Staff work through callback requests: only their own location's, every opening audit-logged."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest

from callbacks.conftest import MONDAY_10, SATURDAY, at
from routing.callbacks import service
from routing.privacy import audit


@pytest.fixture(autouse=True)
def monday(pin_now):
    pin_now(MONDAY_10)


def test_worklist_shows_open_requests_of_my_location_only(client, login, create, redis):
    mine = create(now=MONDAY_10, preferred=["2026-11-30:afternoon"], topic="huurtoeslag")
    theirs = create(now=MONDAY_10, location="enschede")
    login(client, "staff", locations=("utrecht",))
    page = client.get("/loket/terugbelverzoeken").get_data(as_text=True)
    assert mine.reference in page and theirs.reference not in page
    assert "maandag 30 november, middag" in page
    assert "Huurtoeslag (hulp bij de huur)" in page
    assert "<td><span lang=\"nl\" dir=\"auto\">Nederlands</span></td>" in page  # by name, not its code
    # Another location's request does not exist for me: 404, not 403.
    assert client.get(f"/loket/terugbelverzoeken/{theirs.reference}").status_code == 404
    assert client.post(f"/loket/terugbelverzoeken/{theirs.reference}/poging",
                       data={"result": "reached", "outcome": "helped"}).status_code == 404
    assert service.get_status(redis, theirs.reference).state == "open"


def test_opening_shows_the_number_as_tel_link_and_is_logged(client, login, create, redis):
    receipt = create(now=MONDAY_10, name="Mevrouw Jansen", note="over de AOW")
    login(client, "staff", locations=("utrecht",))
    page = client.get(f"/loket/terugbelverzoeken/{receipt.reference}").get_data(as_text=True)
    assert 'href="tel:+31612345678"' in page and "06 12345678" in page
    assert "Mevrouw Jansen" in page and "over de AOW" in page
    records = audit.for_reference(redis, receipt.reference)
    views = [r for r in records if r["name"] == "callback.view"]
    assert len(views) == 1
    assert views[0]["attributes"]["dpl.core.data_subject_id"] and "612345678" not in str(views[0])
    assert views[0]["attributes"]["loketlijn.actor"].startswith("user:")  # as handovers name an account
    assert service.get_status(redis, receipt.reference).state == "in_progress"


@pytest.mark.parametrize(("reply_by", "badge", "told", "link"), [
    ("sms", "wil een sms", "Stuur een sms, niet bellen: daar vroeg de inwoner om.",
     '<a class="tel" href="sms:+31612345678">Stuur een sms</a>'),
    ("whatsapp", "wil WhatsApp", "Stuur een WhatsApp-bericht, niet bellen: daar vroeg de inwoner om.",
     '<a class="tel" href="https://wa.me/31612345678">Stuur een WhatsApp-bericht</a>')])
def test_a_citizen_who_asked_for_a_message_is_not_called(client, login, create, reply_by, badge, told, link):
    """Staff working down the list see who asked for a message, and the request's page says it next to the number
    (it said only 'Antwoord via: sms' below it), with a link that opens the channel asked for."""
    receipt = create(now=MONDAY_10, reply_by=reply_by)
    called = create(now=MONDAY_10, phone="06 22345678")
    login(client, "staff", locations=("utrecht",))
    rows = {row["Verzoek"].split()[0]: row for row in _tables(client.get("/loket/terugbelverzoeken").get_data(
        as_text=True))[0]}
    assert badge in rows[receipt.reference]["Verzoek"] and "wil" not in rows[called.reference]["Verzoek"]
    page = client.get(f"/loket/terugbelverzoeken/{receipt.reference}").get_data(as_text=True)
    assert told in page and "Bellen naar" not in page
    assert link in page and ("sms:" in page) == (reply_by == "sms")  # no SMS button for a WhatsApp request
    page = client.get(f"/loket/terugbelverzoeken/{called.reference}").get_data(as_text=True)
    assert "Bellen naar" in page and "niet bellen" not in page and "sms:" not in page and "wa.me" not in page


def test_not_reached_keeps_it_open_with_a_next_attempt_and_reached_finishes(client, login, create, redis):
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    client.get(f"/loket/terugbelverzoeken/{receipt.reference}")
    response = client.post(f"/loket/terugbelverzoeken/{receipt.reference}/poging", data={"result": "not_reached"},
                           follow_redirects=True)
    assert "Niet bereikt" in response.get_data(as_text=True)
    request = service.get_status(redis, receipt.reference)
    assert request.state == "open" and request.attempts == 1
    assert request.next_attempt is not None and request.next_attempt > MONDAY_10
    client.post(f"/loket/terugbelverzoeken/{receipt.reference}/poging", data={"result": "reached", "outcome": "helped"})
    done = service.get_status(redis, receipt.reference)
    assert done.state == "done" and done.outcome == "helped"
    # Off the list (the success message above it names the reference, the table no longer links it).
    assert f'href="/loket/terugbelverzoeken/{receipt.reference}' not in client.get("/loket/terugbelverzoeken").get_data(
        as_text=True)


def test_quick_not_reached_tries_do_not_use_up_the_attempts(client, login, create, redis, pin_now):
    # Three tries within minutes (or three clicks) would otherwise close it before the citizen had a fair chance.
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    path = f"/loket/terugbelverzoeken/{receipt.reference}"
    for minutes in (0, 1, 2):
        pin_now(MONDAY_10 + timedelta(minutes=minutes))
        client.get(path)
        shown = client.post(path + "/poging", data={"result": "not_reached"}, follow_redirects=True)
    assert (f"Niet bereikt: {receipt.reference} blijft open. Deze poging telt niet mee, want de vorige was minder "
            "dan een uur geleden.") in shown.get_data(as_text=True)
    request = service.get_status(redis, receipt.reference)
    assert request.state == "open" and request.attempts == 1 and len(request.tries) == 3
    page = client.get(path).get_data(as_text=True)
    assert page.count("telt niet mee: minder dan een uur na de vorige") == 2
    assert "Kiest u nu Niet bereikt, dan telt dat niet als poging. Vanaf maandag 30 november om 11:00 telt het " \
           "weer." in page
    for hours in (1, 2):  # an hour after the last one that counted, each counts again; the third closes it
        pin_now(MONDAY_10 + timedelta(hours=hours))
        client.get(path)
        client.post(path + "/poging", data={"result": "not_reached"})
    closed = service.get_status(redis, receipt.reference)
    assert closed.state == "done" and closed.outcome == "not_reached" and closed.attempts == 3


def test_reached_needs_an_outcome(client, login, create, redis):
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    response = client.post(f"/loket/terugbelverzoeken/{receipt.reference}/poging", data={"result": "reached"})
    assert response.status_code == 422
    assert service.get_status(redis, receipt.reference).state == "open"


def test_the_list_marks_only_what_says_something(client, login, create):
    """"nu" stood on every request without a preferred moment (each is due as soon as it comes in), and the
    requests waiting for the next shift each said "1 keer" under "Gevraagd"."""
    any_time = create(now=MONDAY_10)
    this_morning = create(now=MONDAY_10, phone="06 22345678", preferred=["2026-11-30:morning"])
    held_once = create(now=SATURDAY, phone="06 32345678")
    held_twice = create(now=SATURDAY, phone="06 42345678")
    create(now=SATURDAY, phone="06 42345678")
    login(client, "staff", locations=("utrecht",))
    open_rows, held_rows = _tables(client.get("/loket/terugbelverzoeken").get_data(as_text=True))
    asked = {row["Verzoek"].split()[0]: row["Verzoek"].split()[1:] for row in open_rows + held_rows}
    assert asked[any_time.reference] == [] and asked[this_morning.reference] == ["nu"]
    assert asked[held_once.reference] == [] and " ".join(asked[held_twice.reference]) == "2 keer gevraagd"
    assert "Gevraagd" not in held_rows[0]


def test_the_attempt_form_names_the_question_left_open(client, login, create):
    receipt = create(now=MONDAY_10)
    login(client, "staff", locations=("utrecht",))
    path = f"/loket/terugbelverzoeken/{receipt.reference}"
    client.get(path)
    page = client.post(path + "/poging", data={}).get_data(as_text=True)
    assert '<a href="#field-result">Kies het resultaat van de poging.</a>' in page
    page = client.post(path + "/poging", data={"result": "reached"}).get_data(as_text=True)
    assert '<a href="#field-outcome">Kies een uitkomst.</a>' in page
    assert "Kies een van de mogelijkheden." not in page


def test_asked_twice_comes_first(create, redis):
    older = create(now=MONDAY_10, phone="0611111111")
    newer = create(now=MONDAY_10, phone="0622222222")
    create(now=MONDAY_10, phone="0622222222")
    order = [q.reference for q in service.worklist(redis, ["utrecht"], now=MONDAY_10)]
    assert order == [newer.reference, older.reference]


def test_asking_again_and_again_does_not_jump_the_queue(create, redis):
    # Both asked more than once: the one waiting longer stays first, however often the other is sent again.
    first = create(now=MONDAY_10, phone="0611111111")
    create(now=MONDAY_10 + timedelta(minutes=1), phone="0611111111")
    later = create(now=MONDAY_10 + timedelta(minutes=5), phone="0622222222")
    for minute in range(6, 16):
        create(now=MONDAY_10 + timedelta(minutes=minute), phone="0622222222")
    listed = service.worklist(redis, ["utrecht"], now=MONDAY_10 + timedelta(minutes=20))
    assert [(q.reference, q.asked) for q in listed] == [(first.reference, 2), (later.reference, 11)]


def test_the_partner_holding_the_counter_sees_its_requests(client, login, create, pin_now):
    tuesday = at(2026, 12, 1, 10, 0)  # Nijmegen's support point is staffed on Tuesdays and Thursdays
    pin_now(tuesday)
    receipt = create(now=tuesday, location="nijmegen")
    login(client, "partner", partner="belastingdienst")
    assert receipt.reference in client.get("/loket/terugbelverzoeken").get_data(as_text=True)


def test_door_qr_code(client, login):
    login(client, "staff", locations=("utrecht",))
    response = client.get("/loket/terugbellen-qr/utrecht.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert client.get("/loket/terugbellen-qr/enschede.svg").status_code == 404


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_follow_the_status_without_personal_fields(client, login, api_key, create, redis, role):
    receipt = create(now=MONDAY_10, name="Mevrouw Jansen", note="over de AOW")
    login(client, role)
    assert receipt.reference in client.get("/loket/terugbelverzoeken").get_data(as_text=True)
    page = client.get(f"/loket/terugbelverzoeken/{receipt.reference}").get_data(as_text=True)
    assert "klaar om terug te bellen" in page and "ziet alleen wie dit verzoek afhandelt" in page
    assert "612345678" not in page and "Mevrouw Jansen" not in page and "over de AOW" not in page
    assert "Hoe ging het?" not in page  # no attempt form
    response = client.post(f"/loket/terugbelverzoeken/{receipt.reference}/poging", data={"result": "not_reached"})
    assert response.status_code == 403
    body = client.get(f"/api/v1/callbacks/{receipt.reference}", headers=api_key(role)).get_json()
    assert body["status"] == "open" and "phone" not in body and "name" not in body
    # Nothing personal was read, so nothing was opened and no view was logged.
    assert service.get_status(redis, receipt.reference).state == "open"
    assert not [r for r in audit.for_reference(redis, receipt.reference) if r["name"] == "callback.view"]


def test_the_partner_holding_the_counter_opens_its_requests(client, login, create, pin_now):
    tuesday = at(2026, 12, 1, 10, 0)
    pin_now(tuesday)
    receipt = create(now=tuesday, location="nijmegen")
    login(client, "partner", partner="belastingdienst")
    page = client.get(f"/loket/terugbelverzoeken/{receipt.reference}").get_data(as_text=True)
    assert 'href="tel:+31612345678"' in page and "Hoe ging het?" in page
    # Handing over is the loket's (a staff account's): no button that ends in 403, nor the hint that points at it.
    assert "/overdrachten/nieuw" not in page and "Warm overdragen" not in page and "Kies dan hier niets" not in page
    login(client, "partner", partner="uwv")
    assert client.get(f"/loket/terugbelverzoeken/{receipt.reference}").status_code == 404


def test_on_saturday_staff_see_what_waits_for_monday_without_opening_it(client, login, create, redis, pin_now):
    pin_now(SATURDAY)
    first = create(now=SATURDAY, phone="0611111111", name="Mevrouw Jansen", preferred=["2026-11-30:morning"])
    create(now=SATURDAY, phone="0611111111")  # the same number again: asked twice
    second = create(now=SATURDAY, phone="0622222222", note="over de AOW")
    third = create(now=SATURDAY, phone="0633333333")
    elsewhere = create(now=SATURDAY, location="enschede")
    login(client, "staff", locations=("utrecht",))
    page = client.get("/loket/terugbelverzoeken").get_data(as_text=True)
    assert "Er zijn nu geen open terugbelverzoeken." in page
    assert "Wacht op de volgende dienst (3)" in page
    held = page[page.index("Wacht op de volgende dienst"):]
    for receipt in (first, second, third):
        assert receipt.reference in held
        assert f'href="/loket/terugbelverzoeken/{receipt.reference}"' not in page  # not to be opened yet
    assert elsewhere.reference not in page
    assert "maandag 30 november, ochtend" in held and "2 keer" in held
    assert "maandag 30 november, vanaf 9:00" in held  # when the shift releases them
    assert "Mevrouw Jansen" not in page and "over de AOW" not in page and "611111111" not in page
    # Nor by its kenmerk (the citizen calls) or its address: the page says when; the number is read once released.
    found = client.get(f"/loket/terugbelverzoeken/zoek?kenmerk={first.reference.lower()}", follow_redirects=True)
    shown = found.get_data(as_text=True)
    assert found.status_code == 200 and first.reference in shown
    assert ("Dit verzoek wacht op de volgende dienst. Het komt vrij: maandag 30 november, vanaf 9:00. Dan kunt u "
            "het openen en de inwoner bellen.") in shown
    assert "maandag 30 november, ochtend" in shown and "Mevrouw Jansen" not in shown and "611111111" not in shown
    assert "Hoe ging het?" not in shown and "alleen wie dit verzoek afhandelt" not in shown
    assert client.post(f"/loket/terugbelverzoeken/{first.reference}/poging",
                       data={"result": "not_reached"}).status_code == 409
    assert service.get_status(redis, first.reference).state == "waiting"
    assert not [r for r in audit.for_reference(redis, first.reference) if r["name"] == "callback.view"]


def test_the_waiting_section_in_english_and_empty(client, login):
    login(client, "staff", locations=("utrecht",))
    page = client.get("/loket/terugbelverzoeken?lang=en").get_data(as_text=True)
    assert "Waiting for the next shift (0)" in page and "Nothing is waiting for the next shift." in page


def test_a_release_that_does_not_come_is_told_to_staff(client, login, create, pin_now):
    held = create(now=SATURDAY)
    pin_now(MONDAY_10)  # the shift began at 9:00, but no worker released it
    login(client, "staff", locations=("utrecht",))
    late = "nu, maar dat gebeurt niet: vraag de beheerder of de achtergrondtaken draaien"
    assert late in client.get("/loket/terugbelverzoeken").get_data(as_text=True)
    assert late in client.get(f"/loket/terugbelverzoeken/{held.reference}").get_data(as_text=True)


def test_as_the_shift_starts_a_held_request_is_on_its_way_not_stuck(client, login, create, pin_now):
    """Staff open the list as their shift starts, before the release job's next run (every minute)."""
    held = create(now=SATURDAY)
    pin_now(MONDAY_10.replace(hour=9, second=40))  # the shift began at 9:00
    login(client, "staff", locations=("utrecht",))
    for page in (client.get("/loket/terugbelverzoeken"), client.get(f"/loket/terugbelverzoeken/{held.reference}")):
        text = page.get_data(as_text=True)
        assert "zo meteen" in text and "gebeurt niet" not in text


def test_with_two_locations_each_request_says_where_in_a_column_of_its_own(client, login, create):
    create(now=MONDAY_10, topic="huurtoeslag")
    create(now=MONDAY_10, location="enschede", phone="06 22345678")
    create(now=SATURDAY, location="enschede", phone="06 32345678")  # held for Monday's shift there
    login(client, "staff", locations=("utrecht", "enschede"))
    open_rows, held_rows = _tables(client.get("/loket/terugbelverzoeken").get_data(as_text=True))
    names = {"utrecht": "Overheidsloket Utrecht (Stadskantoor)", "enschede": "Overheidsloket Enschede (Stadskantoor)"}
    assert sorted(row["Locatie"] for row in open_rows) == sorted(names.values())
    # The topic column holds the topic, nothing else (the location used to be put under it).
    assert {row["Onderwerp"] for row in open_rows} == {"Huurtoeslag (hulp bij de huur)", ""}
    assert [row["Locatie"] for row in held_rows] == [names["enschede"]]
    assert all(row["Verzoek"].startswith("TB-") and "Overheidsloket" not in row["Verzoek"] for row in held_rows)


class _TableReader(HTMLParser):
    """Each table of a page as rows of {column heading: cell text}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _tables(page: str) -> list[list[dict[str, str]]]:
    reader = _TableReader()
    reader.feed(page)
    return [[dict(zip(rows[0], row, strict=True)) for row in rows[1:]] for rows in reader.tables]
