"""What the audit found people miss: the loket's work on a returned handover, the partner for the topic, the next
step after reaching the citizen, and finding a handover by the kenmerk the citizen knows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from handovers.helpers import LOCATION, open_link

AWAITS = "Terug bij het loket: opnieuw overdragen of zelf bellen"


def _badge_row(page: str, reference: str) -> str:
    """The list row of one handover (from its reference to the end of its row)."""
    start = page.index(f">{reference}<")
    return page[start:page.index("</tr>", start)]


def test_a_returned_handover_the_loket_must_follow_up_comes_first_and_says_what_to_do(
        app, client, login, make_handover, redis, sent):
    from routing.handovers import service

    now = datetime.now(UTC)
    [overdue] = make_handover("uwv", now=now - timedelta(days=9))
    [returned, withdrawn, again] = make_handover(["svb", "duo", "cjib"])
    for handover in (returned, withdrawn, again):
        service.record_outcome(redis, handover, "returned_to_loket", "test", now, note="Hoort hier niet")
    service.withdraw_by_citizen(redis, withdrawn.reference, now)  # nobody to call any more
    login(client, "staff", locations=(LOCATION,))
    client.post("/overdrachten/nieuw", data={"partner": "ind", "consent": "yes",
                                             "previous_reference": again.reference})

    page = client.get("/overdrachten").get_data(as_text=True)
    # Before even the overdue one: until the loket acts, nobody calls this citizen.
    assert page.index(f">{returned.reference}<") < page.index(f">{overdue.reference}<")
    assert AWAITS in _badge_row(page, returned.reference)
    assert "1 overdracht is terug bij het loket." in page and "Bovenaan staat wat terug is bij het loket" in page
    # Nothing left to do for these two: they stay among the finished ones, without the call to action.
    for done in (withdrawn, again):
        assert AWAITS not in _badge_row(page, done.reference)
        assert page.index(f">{overdue.reference}<") < page.index(f">{done.reference}<")
    assert AWAITS in client.get(f"/overdrachten/{returned.reference}").get_data(as_text=True)

    # For the partner that sent it back it is finished: the loket's next step is not theirs to read.
    partner = app.test_client()
    login(partner, "partner", partner="svb")
    page = partner.get("/overdrachten").get_data(as_text=True)
    assert returned.reference in page and AWAITS not in page and "terug bij het loket." not in page
    # What the page is for, in the partner's words: whom to call, not the loket's aftercare.
    assert "Bel ze terug en leg vast hoe het ging" in page and "Bovenaan staat wat terug is bij het loket" not in page
    home = partner.get("/").get_data(as_text=True)
    assert "Bel de inwoners die het loket aan u overdroeg." in home and "uw overdrachten gebeurde" not in home


def test_the_form_puts_the_organisation_for_the_requests_topic_first_and_chooses_it(client, login, redis, sent):
    from zoneinfo import ZoneInfo

    from routing.callbacks import service as callbacks

    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))  # the loket is there
    receipt = callbacks.create_request(redis, callbacks.Intake(
        location=LOCATION, phone="+31687654321", channel="web", topic="schulden"), now=tuesday)
    assert receipt.status == "open"
    login(client, "staff", locations=(LOCATION,))
    # The link on the request's page names only the request; its topic comes from the request itself.
    form = client.get(f"/overdrachten/nieuw?location={LOCATION}&callback={receipt.reference}").get_data(as_text=True)
    schuldhulp = form.index('value="gemeente-amsterdam-schuldhulp" checked')
    assert schuldhulp < form.index('value="belastingdienst"')  # before the alphabet
    assert "Bovenaan staat wat bij het onderwerp past: Schulden" in form
    assert form.count("Past bij het onderwerp<") == 1
    assert re.findall(r'name="partner" value="([^"]+)" checked', form) == ["gemeente-amsterdam-schuldhulp"]

    # A life event touches several organisations: all first and marked, none chosen for the employee.
    form = client.get(f"/overdrachten/nieuw?location={LOCATION}&topic=werkloos-worden").get_data(as_text=True)
    marked = [form.index(f'value="{p}"') for p in ("gemeente-amsterdam-werk-inkomen", "toeslagen", "uwv")]
    assert max(marked) < form.index('value="belastingdienst"')
    assert form.count("Past bij het onderwerp<") == 3 and not re.findall(r'name="partner" value="[^"]+" checked', form)
    # Without a topic the list is alphabetical and nothing is chosen, as before.
    form = client.get(f"/overdrachten/nieuw?location={LOCATION}").get_data(as_text=True)
    assert "Past bij het onderwerp" not in form and form.index('value="belastingdienst"') < form.index('value="uwv"')


def test_after_reaching_the_citizen_the_partner_is_sent_to_record_how_it_ended(app, make_handover, sent):
    [handover] = make_handover("uwv")
    partner = app.test_client()
    open_link(partner, sent[0])
    response = partner.post(f"/overdrachten/{handover.reference}/poging", data={"result": "reached"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#afronden")
    page = partner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Poging vastgelegd: Bereikt. Leg nu vast hoe het afliep." in page
    assert "U hebt de inwoner bereikt. Leg nu vast hoe het afliep." in page
    assert page.index('id="afronden"') < page.index('name="outcome"')  # the anchor is the outcome form's heading

    # Not reached: the next step is another attempt later, not the outcome, so the page stays where it was.
    [other] = make_handover("svb")
    open_link(partner, sent[-1])
    response = partner.post(f"/overdrachten/{other.reference}/poging", data={"result": "not_reached"})
    assert "#" not in response.headers["Location"]
    page = partner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Poging vastgelegd: Niet bereikt." in page and "Leg nu vast hoe het afliep" not in page


def test_the_callback_kenmerk_the_citizen_knows_is_on_the_partner_page_and_finds_the_handover(
        app, client, login, make_handover, redis, sent):
    from zoneinfo import ZoneInfo

    from routing.callbacks import service as callbacks
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    receipt = callbacks.create_request(redis, callbacks.Intake(
        location=LOCATION, phone="+31687654321", channel="web"), now=tuesday)
    [other] = make_handover("uwv")
    login(client, "staff", locations=(LOCATION,))
    made = client.post("/overdrachten/nieuw", data={"partner": "uwv", "consent": "yes",
                                                   "callback_reference": receipt.reference})
    reference = made.headers["Location"].rsplit("/", 1)[1]

    # The partner quotes it back to a citizen who calls about "TB-...".
    page = open_link(app.test_client(), sent[-1]).get_data(as_text=True)
    assert reference in page and "Kenmerk van de inwoner" in page and receipt.reference in page

    # Typed loosely, either kenmerk finds just that handover.
    typed = receipt.reference.lower().replace("-", " ")
    for kenmerk in (typed, reference.lower()):
        page = client.get("/overdrachten", query_string={"kenmerk": kenmerk}).get_data(as_text=True)
        assert f">{reference}<" in page and other.reference not in page
    # The loket's list links the request it came from; the partner's names it only (not theirs to open).
    listed = client.get("/overdrachten").get_data(as_text=True)
    assert f'<a href="/loket/terugbelverzoeken/{receipt.reference}">{receipt.reference}</a>' in listed
    partner = app.test_client()
    login(partner, "partner", partner="uwv")
    partner_list = partner.get("/overdrachten").get_data(as_text=True)
    assert receipt.reference in partner_list and f"/loket/terugbelverzoeken/{receipt.reference}" not in partner_list
    page = client.get("/overdrachten", query_string={"kenmerk": "TB-ZZZZ"}).get_data(as_text=True)
    assert "Geen overdracht gevonden met dit kenmerk." in page and reference not in page

    # Scoped as the list is: the partner it went to finds it; another partner or location does not.
    for role, scope, finds in (("partner", {"partner": "uwv"}, True), ("partner", {"partner": "svb"}, False),
                               ("staff", {"locations": ("utrecht",)}, False)):
        other_client = app.test_client()
        login(other_client, role, **scope)
        page = other_client.get("/overdrachten", query_string={"kenmerk": typed}).get_data(as_text=True)
        assert (f">{reference}<" in page) is finds, (role, scope)
        assert ("Geen overdracht gevonden met dit kenmerk." in page) is not finds


def test_a_kenmerk_finds_a_finished_handover_that_left_the_recent_list(app, make_handover, redis, staff_principal,
                                                                        sent):
    from routing.handovers import service

    now = datetime.now(UTC)
    [old] = make_handover("uwv", now=now - timedelta(days=3))
    service.record_outcome(redis, old, "solved", "test", now)
    make_handover("svb")
    assert [h.reference for h in service.aftercare(redis, staff_principal, now, limit=1)].count(old.reference) == 0
    found = service.aftercare(redis, staff_principal, now, limit=1, kenmerk=old.reference.lower())
    assert [h.reference for h in found] == [old.reference]


def test_the_loket_that_helped_the_citizen_itself_says_so_and_the_handover_stops_waiting(app, client, login,
                                                                                        make_handover, redis):
    """Sent back, then the loket called the citizen itself: without a way to say so it stayed at the top of the
    list, 'Niemand belt deze inwoners nu', until its data were deleted weeks later."""
    from routing.handovers import service

    [returned] = make_handover("svb")
    service.record_outcome(redis, returned, "returned_to_loket", "test", datetime.now(UTC), note="Hoort hier niet")
    login(client, "staff", locations=(LOCATION,))
    assert "1 overdracht is terug bij het loket." in client.get("/overdrachten").get_data(as_text=True)
    page = client.get(f"/overdrachten/{returned.reference}").get_data(as_text=True)
    assert "Ik heb de inwoner zelf geholpen" in page and ">Opnieuw overdragen</a>" in page and "Om wie het gaat" in page

    done = client.post(f"/overdrachten/{returned.reference}/zelf-geholpen", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Vastgelegd: het loket heeft de inwoner zelf geholpen." in text
    assert "Ik heb de inwoner zelf geholpen" not in text and "Opnieuw overdragen aan een andere" not in text
    listing = client.get("/overdrachten").get_data(as_text=True)
    assert "terug bij het loket." not in listing and AWAITS not in _badge_row(listing, returned.reference)
    assert "Zelf geholpen door het loket" in _badge_row(listing, returned.reference)
    # Once is enough: a second press (another tab) is refused with the reason.
    assert client.post(f"/overdrachten/{returned.reference}/zelf-geholpen").status_code == 409
    # Nor is it handed over again from an older page: nobody needs to call that citizen any more.
    again = client.post("/overdrachten/nieuw", data={"partner": "ind", "consent": "yes",
                                                     "previous_reference": returned.reference})
    assert again.status_code == 422
    assert "Het loket heeft deze inwoner al zelf geholpen. Er hoeft niemand meer te bellen." in again.get_data(
        as_text=True)
    # The partner that sent it back reads what became of the citizen.
    partner = app.test_client()
    login(partner, "partner", partner="svb")
    assert "Het loket heeft de inwoner zelf geholpen." in partner.get(f"/overdrachten/{returned.reference}").get_data(
        as_text=True)
