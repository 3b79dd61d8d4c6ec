"""The figures page: anonymous counts per location, of what came in through which channel and how it ended."""

from __future__ import annotations

import re

import pytest

from callbacks.conftest import MONDAY_10, SATURDAY
from routing.callbacks import service

FIGURES = "/loket/terugbelverzoeken/cijfers"


@pytest.fixture(autouse=True)
def monday(pin_now):
    pin_now(MONDAY_10)


def column(page: str, table_id: str, name: str) -> list[str]:
    """The cells of one location's column of a table (by its heading's id), top to bottom, as the page shows them
    (the kinds are the rows: channels or outcomes)."""
    table = page[page.index(f'<h2 id="{table_id}">'):]
    table = table[:table.index("</table>")]
    headings = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', table)
    assert name in headings, f"no column {name!r} in {table_id}: {headings}"
    rows = re.findall(r"<tr[^>]*><th scope=\"row\">[^<]*</th>(.*?)</tr>", table, re.S)
    return [re.findall(r"<td[^>]*>([^<]*)</td>", cells)[headings.index(name) - 1] for cells in rows]


@pytest.fixture
def week(client, login, create, redis):
    """Saturday: one request by the API at Utrecht (withdrawn since). Monday: two at Utrecht, one called back
    ("helped"), and one at Enschede."""
    withdrawn = create(now=SATURDAY, phone="0611111111", topic="huurtoeslag")
    service.withdraw(redis, withdrawn.reference, withdrawn.withdraw_token, now=MONDAY_10)
    helped = create(now=MONDAY_10, phone="0622222222", channel="web", topic="huurtoeslag")
    create(now=MONDAY_10, phone="0633333333", channel="sms")
    create(now=MONDAY_10, phone="0644444444", location="enschede")
    login(client, "staff", locations=("utrecht",))
    client.get(f"/loket/terugbelverzoeken/{helped.reference}")
    client.post(f"/loket/terugbelverzoeken/{helped.reference}/poging", data={"result": "reached", "outcome": "helped"},
                follow_redirects=True)  # the page after it shows (and so clears) the "saved" message
    assert service.get_status(redis, helped.reference).outcome == "helped"


def test_staff_see_their_locations_figures_per_channel_and_ending(client, week):
    page = client.get(FIGURES).get_data(as_text=True)
    assert "Cijfers terugbelverzoeken" in page and "Vanaf dinsdag 24 november, vandaag meegeteld." in page
    # Total, then web form, kiosk or portal, SMS, WhatsApp, phone.
    assert column(page, "received", "Overheidsloket Utrecht (Stadskantoor)") == ["3", "1", "1", "1", "0", "0"]
    # Helped, referred, handed over, other, wrong number, not reached, withdrawn, expired.
    assert column(page, "ended", "Overheidsloket Utrecht (Stadskantoor)") == ["1", "0", "0", "0", "0", "0", "1", "0"]
    assert "Enschede" not in page and "Samen" not in page  # only their own location
    topics = page[page.index('<h2 id="topics">'):]
    assert re.search(r'<th scope="row">[^<]*[Hh]uurtoeslag[^<]*</th><td>2</td>', topics)
    assert '<th scope="row">Geen onderwerp gekozen</th><td>1</td>' in topics
    # Nothing personal: no number, no reference.
    assert "0622222222" not in page and "+31622" not in page and "TB-" not in page


def test_today_only_and_a_coordinator_sees_every_location_together(app, login, week):
    today = app.test_client()
    login(today, "staff", locations=("utrecht",))
    page = today.get(f"{FIGURES}?dagen=1").get_data(as_text=True)
    assert "Vanaf maandag 30 november" in page and 'aria-current="page">\n      Vandaag' in page
    assert column(page, "received", "Overheidsloket Utrecht (Stadskantoor)")[0] == "2"  # Saturday's is not today's
    coordinator = app.test_client()
    login(coordinator, "coordinator")
    page = coordinator.get(FIGURES).get_data(as_text=True)
    assert column(page, "received", "Samen")[0] == "4"
    assert column(page, "received", next(n for n in re.findall(r'<th scope="col">([^<]*Enschede[^<]*)</th>', page)))[0] \
        == "1"


def test_an_account_without_a_location_is_told_why(client, login):
    login(client, "partner", partner="uwv")
    refused = client.get(FIGURES)
    assert refused.status_code == 403 and "hoort bij geen locatie" in refused.get_data(as_text=True)


def test_a_location_gone_from_the_directory_keeps_its_history_for_coordinators(client, login, redis):
    from routing.store import callbacks as store

    redis.hincrby(store.STATS.format(day="2026-11-27"), "gesloten-loket|web||received", 3)
    login(client, "coordinator")
    assert column(client.get(FIGURES).get_data(as_text=True), "received", "gesloten-loket")[0] == "3"
    staff = client.application.test_client()
    login(staff, "staff", locations=("utrecht",))
    assert "gesloten-loket" not in staff.get(FIGURES).get_data(as_text=True)


def test_the_counts_per_day_as_csv_for_a_spreadsheet(client, week):
    page = client.get(FIGURES).get_data(as_text=True)
    assert 'href="/loket/terugbelverzoeken/cijfers.csv?dagen=7" download' in page
    answer = client.get("/loket/terugbelverzoeken/cijfers.csv?dagen=7")
    assert answer.mimetype == "text/csv"
    assert 'filename="terugbelverzoeken-2026-11-24-2026-11-30.csv"' in answer.headers["Content-Disposition"]
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == "datum,locatie,kanaal,onderwerp,uitkomst,aantal"
    assert lines[1:] == ["2026-11-28,utrecht,api,huurtoeslag,received,1",
                         "2026-11-30,utrecht,api,huurtoeslag,withdrawn,1",
                         "2026-11-30,utrecht,sms,,received,1",
                         "2026-11-30,utrecht,web,huurtoeslag,helped,1",
                         "2026-11-30,utrecht,web,huurtoeslag,received,1"]  # Utrecht's only: no Enschede
