"""Staff worklist, warm handover, the partner link and page, and the operator pages, in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

LOCATION = "amsterdam-centrum"
FORM = f"/l/{LOCATION}/terugbellen"
PARTNER_LINK = re.compile(r"https?://[^\s]+/o/[A-Za-z0-9_-]{20,}")


@pytest.fixture
def staffed(app, monkeypatch) -> datetime:
    """The pages' clock at a moment the dienstverlener is present, so a new request is open at once."""
    from routing.callbacks import service
    from routing.directory import schedule
    from routing.directory import service as directory

    location = directory.get_location(LOCATION)
    now = datetime.now(UTC)
    moment = now if schedule.is_present(location, now) else schedule.next_shift_start(location, now) + timedelta(minutes=1)
    monkeypatch.setattr(service, "clock", lambda: moment)
    return moment


def handover_to_uwv(client, api_key, run_jobs) -> tuple[str, str]:
    """A handover made through the API and its notice sent: (reference, the partner link in the notice)."""
    created = client.post("/api/v1/handovers", headers=api_key("staff", (LOCATION,)), json={
        "location": LOCATION, "partner": "uwv", "phone": "06 12345678", "name": "meneer De Vries", "consent": True})
    assert created.status_code == 201, created.get_json()
    run_jobs()
    links = PARTNER_LINK.findall(" ".join(entry["body"] for entry in client.get("/dev/outbox.json").get_json()))
    assert len(links) == 1, links
    return created.get_json()["reference"], links[0]


def open_partner_link(page, link: str) -> None:
    """Follow the link (a page with one button, so mail filters that fetch links do not use it up) and press it."""
    response = page.goto(link)
    assert response.status == 200
    page.get_by_role("button", name="Open de overdracht").click()
    page.wait_for_load_state()


def leave_callback_request(new_context) -> str:
    """A citizen, in their own browser, asks to be called back; returns the reference."""
    citizen = new_context().new_page()
    citizen.goto(FORM)
    citizen.fill("#field-phone", "06 12345678")
    citizen.fill("#field-name", "mevrouw Jansen")
    citizen.check("#field-consent")
    citizen.click("main form button[type=submit]")
    citizen.wait_for_load_state()
    return citizen.locator("main .reference").first.inner_text().strip()


def hold_a_request(app, after: datetime) -> str:
    """A request that came in while nobody was there (the first absent hour after `after`): it waits for the
    next shift. Returns its reference."""
    from routing.callbacks import service
    from routing.directory import schedule
    from routing.directory import service as directory
    from routing.extensions import get_redis

    with app.app_context():
        location = directory.get_location(LOCATION)
        absent = next(after + timedelta(hours=h) for h in range(1, 24 * 7)
                      if not schedule.is_present(location, after + timedelta(hours=h)))
        intake = service.Intake(location=LOCATION, phone="+31687654321", channel="web")
        receipt = service.create_request(get_redis(), intake, now=absent)
    assert receipt.status == "waiting"
    return receipt.reference


def test_worklist_detail_and_an_attempt(app, staffed, new_context, page, sign_in, assert_accessible, screenshot,
                                       monkeypatch):
    from routing.callbacks import service

    reference = leave_callback_request(new_context)
    waiting = hold_a_request(app, staffed)
    sign_in(page)
    page.goto("/loket/terugbelverzoeken")
    held = page.get_by_role("table", name="Wacht op de volgende dienst (1)")
    assert waiting in held.inner_text() and held.get_by_role("link").count() == 0
    assert_accessible(page)  # both sections: the open requests and the ones waiting for the next shift
    screenshot(page, "worklist")
    page.get_by_role("link", name=reference).click()
    page.wait_for_load_state()
    assert "06 12345678" in page.locator("main a.tel").inner_text()
    assert "mevrouw Jansen" in page.locator("main").inner_text()
    assert_accessible(page)
    screenshot(page, "callback-detail")
    page.check("#result-not_reached")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_load_state()
    assert "Niet bereikt" in page.locator(".alert").inner_text()
    assert_accessible(page)
    # A second attempt (of CALLBACK_MAX_ATTEMPTS, 3), an hour later (sooner it would not count): before the last
    # one the page says what "Niet bereikt" will do, next to it; the attempts are listed.
    monkeypatch.setattr(service, "clock", lambda: staffed + timedelta(hours=1))
    page.goto(f"/loket/terugbelverzoeken/{reference}")
    assert page.locator("#hint-result-not_reached").count() == 0
    page.check("#result-not_reached")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_load_state()
    monkeypatch.setattr(service, "clock", lambda: staffed + timedelta(hours=2))
    page.goto(f"/loket/terugbelverzoeken/{reference}")
    assert "Dit is de laatste poging" in page.locator("#hint-result-not_reached").inner_text()
    assert "Niet bereikt (door u)" in page.locator("ol.attempts").inner_text()
    assert page.get_by_role("link", name="Warm overdragen aan een organisatie").is_visible()
    assert_accessible(page)
    screenshot(page, "callback-detail-last-attempt")


def test_handover_form_errors(page, sign_in, assert_accessible):
    sign_in(page)
    page.goto("/overdrachten/nieuw")
    assert_accessible(page)
    page.get_by_role("button", name="Overdragen").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    assert_accessible(page)


def test_handover_error_summary_links_move_focus(page, sign_in, error_links_without_focus):
    sign_in(page)
    page.goto("/overdrachten/nieuw")
    page.get_by_role("button", name="Overdragen").click()
    page.wait_for_load_state()
    assert not error_links_without_focus(page)


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js"])
def test_handover_form_keeps_what_was_typed_when_choosing_another_location(new_context, sign_in, assert_accessible,
                                                                          screenshot, javascript):
    """On a phone-sized screen, with and without JavaScript: the employee starts at Amsterdam, fills in the form,
    then chooses Utrecht. What was typed stays; Amsterdam's own team, which Utrecht cannot hand over to, is named;
    Enter in a field then hands over (from Utrecht), it does not choose the location again."""
    from browser.test_citizen import MIN_TARGET, small_targets

    page = new_context(java_script_enabled=javascript, viewport={"width": 375, "height": 800}).new_page()
    sign_in(page, locations=(LOCATION, "utrecht"))
    page.goto("/overdrachten/nieuw")
    page.get_by_label("UWV", exact=True).check()
    page.get_by_label("Gemeente Amsterdam, Geldloket en schuldhulp").check()
    page.fill("#field-phone", "06 12345678")
    page.fill("#field-name", "meneer De Vries")
    page.fill("#field-note", "Vraag over de WW-uitkering")
    page.get_by_label("Spoed").check()
    page.check("#field-consent")
    page.get_by_label("Locatie", exact=True).select_option("utrecht")
    page.get_by_role("button", name="Andere locatie kiezen").click()
    page.wait_for_load_state()

    assert "Vanuit Overheidsloket Utrecht (Stadskantoor)." in page.locator(".lead").inner_text()
    assert "Naar Gemeente Amsterdam, Geldloket en schuldhulp kunt u vanuit Overheidsloket Utrecht (Stadskantoor) " \
           "niet warm overdragen." in page.get_by_role("status").inner_text()
    assert page.get_by_label("UWV", exact=True).is_checked()
    assert page.get_by_label("Gemeente Amsterdam, Geldloket en schuldhulp").count() == 0
    assert page.input_value("#field-phone") == "06 12345678" and page.input_value("#field-name") == "meneer De Vries"
    assert page.input_value("#field-note") == "Vraag over de WW-uitkering"
    assert page.get_by_label("Spoed").is_checked() and page.is_checked("#field-consent")
    if javascript:  # axe and the measurements run as scripts in the page
        assert_accessible(page)
        too_small = small_targets(page)
        assert not too_small, f"touch targets under {MIN_TARGET}px at 375px wide: {too_small}"
        screenshot(page, "handover-another-location")

    page.press("#field-name", "Enter")
    page.wait_for_load_state()
    assert "Overgedragen aan UWV" in page.locator(".alert").inner_text()


def test_handover_from_loket_to_partner_page(new_context, page, sign_in, run_jobs, assert_accessible, screenshot):
    # The loket hands the citizen over to UWV.
    sign_in(page)
    page.goto("/overdrachten/nieuw")
    page.get_by_label("UWV", exact=True).check()
    page.fill("#field-phone", "06 12345678")
    page.fill("#field-name", "meneer De Vries")
    page.fill("#field-note", "Vraag over de WW-uitkering")
    page.check("#field-consent")
    page.get_by_role("button", name="Overdragen").click()
    page.wait_for_load_state()
    reference = page.locator("h1 .reference").inner_text().strip()
    assert "Overgedragen" in page.locator(".alert").inner_text()
    assert_accessible(page)
    page.goto("/overdrachten")
    assert reference in page.locator("main").inner_text()
    assert_accessible(page)
    screenshot(page, "aftercare")

    # The notice goes out (development outbox): a link, nothing personal.
    run_jobs()
    outbox = new_context().new_page()
    outbox.goto("/dev/outbox")
    assert_accessible(outbox)
    text = outbox.locator("main").inner_text()
    assert "meneer De Vries" not in text and "12345678" not in text
    links = PARTNER_LINK.findall(text)
    assert links, text

    # A mail filter fetches the link first; that does not use it up.
    scanner = new_context().new_page()
    assert scanner.goto(links[0]).status == 200
    assert "meneer De Vries" not in scanner.locator("main").inner_text()

    # The partner employee follows the link in their own browser, presses the button and sees who to call.
    partner = new_context().new_page()
    partner.goto(links[0])
    assert "meneer De Vries" not in partner.locator("main").inner_text()
    assert_accessible(partner)
    screenshot(partner, "partner-link")
    partner.get_by_role("button", name="Open de overdracht").click()
    partner.wait_for_load_state()
    assert reference in partner.locator("h1").inner_text()
    assert "meneer De Vries" in partner.locator("main").inner_text()
    assert_accessible(partner)
    screenshot(partner, "partner-page")
    partner.check("#result-not_reached")
    partner.get_by_role("button", name="Poging vastleggen").click()
    partner.wait_for_load_state()
    assert partner.locator(".alert").is_visible()
    assert_accessible(partner)

    # The link is single-use: opened again elsewhere, it explains what to do and shows nothing personal.
    again = new_context().new_page()
    response = again.goto(links[0])
    assert response.status == 410
    assert "meneer De Vries" not in again.locator("main").inner_text()
    assert_accessible(again)


def test_expired_partner_link_explains_and_offers_a_new_one(new_context, client, api_key, run_jobs, monkeypatch,
                                                            assert_accessible):
    _, link = handover_to_uwv(client, api_key, run_jobs)
    from routing.handovers import views

    later = datetime.now(UTC) + timedelta(days=90)  # long past the deadline and the link's margin
    monkeypatch.setattr(views, "_now", lambda: later)
    page = new_context().new_page()
    response = page.goto(link)
    assert response.status == 410
    assert "verlopen" in page.locator("main").inner_text()
    assert "meneer De Vries" not in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Stuur mij een nieuwe link").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "We hebben een nieuwe link gestuurd"
    assert_accessible(page)


def test_partner_returns_a_handover_to_the_loket(new_context, client, api_key, run_jobs, assert_accessible):
    reference, link = handover_to_uwv(client, api_key, run_jobs)
    page = new_context().new_page()
    open_partner_link(page, link)
    page.get_by_role("radio", name="Terug naar het loket").check()
    page.get_by_role("button", name="Uitkomst vastleggen").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()  # returning needs a note for the loket
    assert_accessible(page)
    page.get_by_role("radio", name="Terug naar het loket").check()
    page.fill("#field-note", "Inwoner heeft een vraag voor de gemeente")
    page.get_by_role("button", name="Uitkomst vastleggen").click()
    page.wait_for_load_state()
    assert "Terug naar het loket" in page.locator("main").inner_text()
    assert page.locator("#field-note").count() == 0  # done: nothing more to record
    assert_accessible(page)


def test_after_reached_the_partner_lands_on_the_outcome_form(new_context, client, api_key, run_jobs,
                                                            assert_accessible):
    _, link = handover_to_uwv(client, api_key, run_jobs)
    page = new_context().new_page()
    open_partner_link(page, link)
    page.get_by_role("radio", name="Bereikt", exact=True).check()
    page.get_by_role("button", name="Poging vastleggen").click()
    page.wait_for_load_state()
    assert page.url.endswith("#afronden")
    # The focus is on the outcome form's heading: the next Tab reaches its first choice, not the top of the page.
    assert page.evaluate("document.activeElement.id") == "afronden"
    assert "Leg nu vast hoe het afliep" in page.locator("main").inner_text()
    assert_accessible(page)


def test_coordinator_sees_who_accessed_a_reference(new_context, page, client, api_key, run_jobs, sign_in,
                                                   assert_accessible):
    reference, link = handover_to_uwv(client, api_key, run_jobs)
    open_partner_link(new_context().new_page(), link)  # the partner's view is logged
    sign_in(page, "coordinator")
    page.goto("/logboek")
    page.fill("input[name=reference]", reference)
    page.press("input[name=reference]", "Enter")
    page.wait_for_load_state()
    assert page.locator("main table tbody tr").count() >= 1
    assert_accessible(page)


def test_unknown_partner_link(page, assert_accessible):
    response = page.goto("/o/" + "A" * 43)
    assert response.status == 404
    assert_accessible(page)


def test_partner_employee_sees_their_handovers(page, sign_in, assert_accessible):
    sign_in(page, "partner", (), "uwv")
    page.goto("/overdrachten")
    assert_accessible(page)


def test_failed_notices_page(page, sign_in, assert_accessible):
    sign_in(page)
    page.goto("/notices/failed")
    assert page.locator("h1").is_visible()
    assert_accessible(page)


def test_audit_page(page, sign_in, assert_accessible):
    sign_in(page, "coordinator")
    page.goto("/logboek")
    assert page.locator("h1").is_visible()
    assert_accessible(page)


def test_empty_dev_outbox(page, assert_accessible):
    page.goto("/dev/outbox")
    assert "leeg" in page.locator("main").inner_text()
    assert_accessible(page)


def test_a_colleagues_request_warns_and_is_taken_over_on_purpose(staffed, new_context, page, sign_in,
                                                                   assert_accessible, screenshot):
    reference = leave_callback_request(new_context)
    colleague = new_context().new_page()
    colleague_email = sign_in(colleague)
    colleague.goto(f"/loket/terugbelverzoeken/{reference}")  # the colleague opens it first: theirs
    sign_in(page)
    page.goto("/loket/terugbelverzoeken")
    assert f"{colleague_email} werkt hieraan sinds" in page.locator("main table").first.inner_text()
    page.get_by_role("link", name=reference).click()
    page.wait_for_load_state()
    warning = page.get_by_role("alert")
    assert colleague_email in warning.inner_text() and page.locator("main a.tel").count() == 0
    assert_accessible(page)
    screenshot(page, "callback-detail-colleague")
    page.get_by_role("button", name="Ik neem het over").click()
    page.wait_for_load_state()
    assert "06 12345678" in page.locator("main a.tel").first.inner_text()
    # "Bereikt" without an outcome: the page again, the choice kept, the problem next to the field.
    page.check("#field-result")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_load_state()
    assert page.is_checked("#field-result")
    assert "Kies een uitkomst." in page.locator("#error-outcome").inner_text()
    assert_accessible(page)
    # The colleague's page is out of date now: their attempt is refused with a way back.
    colleague.check("#result-not_reached")
    colleague.get_by_role("button", name="Opslaan").click()
    colleague.wait_for_load_state()
    assert "Niet opgeslagen" in colleague.locator("h1").inner_text()
    # Taken over since their page was loaded: refused as out of date, whoever changed it (a change count, not
    # the second it happened, so also within the same second).
    assert "Dit verzoek is veranderd sinds u de pagina opende" in colleague.get_by_role("alert").inner_text()
    assert_accessible(colleague)
    colleague.get_by_role("link", name=f"Open {reference} opnieuw").click()
    colleague.wait_for_load_state()
    assert "werkt hieraan sinds" in colleague.get_by_role("alert").inner_text()


def test_an_outcome_with_not_reached_is_refused_and_every_handover_is_listed(app, staffed, new_context, page,
                                                                            sign_in, assert_accessible):
    from routing.auth.principal import Principal
    from routing.extensions import get_redis
    from routing.handovers import service as handovers
    from routing.handovers.schemas import CreateSchema

    reference = leave_callback_request(new_context)
    sign_in(page)
    page.goto(f"/loket/terugbelverzoeken/{reference}")
    # "Niet bereikt" and "Geholpen" together: nothing saved, the outcome unchosen, the problem named at the field.
    page.check("#result-not_reached")
    page.check("#field-outcome")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_load_state()
    assert "een uitkomst hoort alleen bij Bereikt" in page.locator("#error-outcome").inner_text()
    assert page.is_checked("#result-not_reached") and not page.is_checked("#field-outcome")
    assert_accessible(page)
    page.locator(".error-summary a").first.click()
    assert page.evaluate("() => document.activeElement.id") == "field-outcome"

    # Handed over to two organisations at once: the request's page names both, each with its status.
    with app.app_context():
        staff = Principal(id="s1", kind="user", role="staff", locations=frozenset({LOCATION}), email="s@example.org")
        data = CreateSchema().load({"location": LOCATION, "partner": ["uwv", "svb"], "consent": True,
                                    "callback_reference": reference})
        made = handovers.create(get_redis(), staff, data, staffed)
    page.goto(f"/loket/terugbelverzoeken/{reference}")
    listed = page.locator("ul.handovers-made").inner_text()
    assert all(h.reference in listed for h in made) and len(made) == 2
    assert "Sociale Verzekeringsbank" in listed and "UWV" in listed
    assert_accessible(page)


@pytest.mark.parametrize("width", [360, 320])
def test_a_partners_handover_list_fits_a_phone(new_context, client, api_key, run_jobs, sign_in, assert_accessible,
                                               width):
    """The partner's employee opens their list on a phone: the page itself does not scroll sideways (the table
    does, in its own region, with no column for their own organisation) and the first handover is in sight."""
    reference, _ = handover_to_uwv(client, api_key, run_jobs)
    page = new_context(viewport={"width": width, "height": 740}).new_page()
    sign_in(page, "partner", (), "uwv")
    page.goto("/overdrachten")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert "Organisatie" not in page.locator("main table thead").inner_text()
    link = page.get_by_role("link", name=reference)
    box = link.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width
    assert_accessible(page)
    link.click()
    page.wait_for_load_state()
    assert reference in page.locator("h1").inner_text()


def test_the_worklist_search_and_location_filter_do_not_run_into_each_other(page, sign_in):
    # Each inline form ran on into the next: the 'Zoek' button sat against the 'Locatie' label on one line.
    sign_in(page, locations=("amsterdam-centrum", "utrecht"))
    page.goto("/loket/terugbelverzoeken")
    search = page.get_by_role("button", name="Zoek", exact=True).bounding_box()
    label = page.locator("label[for=location]").bounding_box()
    assert label["y"] >= search["y"] + search["height"]  # the filter starts below the search


def test_the_worklist_fits_a_tablet(app, staffed, new_context, sign_in, assert_accessible):
    """At 768px the worklist ran past the page's edge and cut its Status column off (rows with badges, a long
    topic, a location column): its tables scroll in their own region now, as the Overdrachten list does, and the
    page itself does not scroll sideways."""
    from routing.callbacks import service
    from routing.directory import service as directory
    from routing.extensions import get_redis

    with app.app_context():
        topics = sorted(directory.get_directory().topics.values(), key=lambda t: -len(t.name_nl))[:3]
        for n, topic in enumerate(topics):
            for _twice in range(2):
                service.create_request(get_redis(), service.Intake(
                    location=LOCATION, phone=f"+3162222222{n}", channel="web", topic=topic.id, reply_by="whatsapp",
                    language="tr"), now=staffed)
    hold_a_request(app, staffed)
    page = new_context(viewport={"width": 768, "height": 1024}).new_page()
    sign_in(page, "staff", (LOCATION, "amsterdam-zuidoost"))
    page.goto("/loket/terugbelverzoeken")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768
    for region in ("worklist-caption", "held"):
        assert "Verzoek" in page.locator(f'.table-scroll[aria-labelledby="{region}"]').inner_text()
    assert_accessible(page)
