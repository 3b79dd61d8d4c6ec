"""A partner that takes no warm handovers at a location (no SMS number or e-mail address for the notice there):
the lookup offers no handover that cannot be sent, and says what the employee can do instead; the handover
itself, posted anyway, is refused with a message that names the organisation."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from directory.conftest import edit
from routing.directory.state import current_state

LOCATION = "amsterdam-centrum"  # no line to the RDW in the demo directory


@pytest.fixture
def app_config(demo_copy: Path) -> dict:
    edit(demo_copy / "partners.yaml", 'handover: {sms: "+31 6 1000 0009", email: loketlijn@rdw.example.org}',
         'handover: {sms: "+31 6 1000 0009", email: loketlijn@rdw.example.org}\n'
         "    handover_by_location:\n"
         f"      {LOCATION}: {{}}")
    return {"DIRECTORY_PATH": str(demo_copy)}


def _result_of(page: str, name: str) -> str:
    """The one search result about this partner (its list item)."""
    start = page.index(f">{name}</a></h3>")
    return page[start:page.index("</li>", start)]


@pytest.mark.parametrize("path", ["/directory/?q=kenteken", "/directory/results?q=kenteken"])
def test_the_lookup_offers_no_handover_that_cannot_be_sent(client, login, path):
    login(client, "staff", locations=(LOCATION,))
    result = html.unescape(_result_of(client.get(path).get_data(as_text=True), "RDW"))
    assert "/overdrachten/nieuw" not in result and "warm overdragen" not in result.lower()
    assert "Draag de vraag warm over" not in result
    assert "Geen professionallijn op deze locatie" in result
    assert "Overdragen aan RDW kan op deze locatie niet." in result
    assert "Help de inwoner zelf contact op te nemen: RDW, 0900 07 39 (lokaal tarief), of rdw.nl" in result


def test_where_the_partner_does_take_handovers_the_lookup_still_offers_one(client, login):
    login(client, "staff", locations=("utrecht",))
    result = _result_of(client.get("/directory/?q=kenteken").get_data(as_text=True), "RDW")
    assert "Inwoner warm overdragen aan RDW" in result
    assert "Draag de vraag warm over aan RDW" in html.unescape(result)


def test_the_partner_page_says_the_same(client, login):
    login(client, "staff", locations=(LOCATION,))
    page = html.unescape(client.get("/directory/partners/rdw").get_data(as_text=True))
    assert "Overdragen aan RDW kan op deze locatie niet." in page and "Draag de vraag warm over" not in page


def test_the_directory_api_says_whether_a_handover_can_be_sent(client, api_key):
    headers = api_key("staff", locations=(LOCATION,))
    results = client.get(f"/api/v1/search?location={LOCATION}&q=kenteken", headers=headers).json
    [rdw] = [r for r in results["results"] if r["partner"]["id"] == "rdw"]
    assert rdw["takes_handover"] is False and "Help de inwoner zelf contact op te nemen" in rdw["alternative"]
    results = client.get(f"/api/v1/search?location={LOCATION}&q=kinderbijslag", headers=headers).json
    assert all(r["takes_handover"] for r in results["results"])


def test_a_handover_posted_anyway_is_refused_by_name_on_the_form(client, login, redis):
    login(client, "staff", locations=(LOCATION,))
    response = client.post("/overdrachten/nieuw", data={"partner": "rdw", "phone": "06 12345678",
                                                        "consent": "yes"})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    message = ("Naar RDW kunt u vanuit Overheidsloket Amsterdam Centrum niet warm overdragen. Zoek de organisatie "
               "op bij Zoeken: daar staat wat u wel kunt doen.")
    start = page.index('class="error-summary"')
    summary = page[start:page.index("</ul>", start)]
    assert f'<a href="#field-partner">{message}</a>' in summary
    assert not redis.keys("ll:ho:*")


def test_a_handover_posted_anyway_is_refused_by_name_in_the_api(client, api_key, redis):
    response = client.post("/api/v1/handovers", headers=api_key("staff", locations=(LOCATION,)),
                           json={"location": LOCATION, "partner": ["uwv", "rdw"], "phone": "06 12345678",
                                 "consent": True})
    assert response.status_code == 422
    assert response.json["code"] == 422 and response.json["status"] == "Unprocessable Entity"
    assert response.json["errors"]["partner"] == [
        "Naar RDW kunt u vanuit Overheidsloket Amsterdam Centrum niet warm overdragen. Zoek de organisatie op bij "
        "Zoeken: daar staat wat u wel kunt doen."]
    assert not redis.keys("ll:ho:*")


def test_without_a_public_contact_the_lookup_says_whom_to_ask(app, client, login, demo_copy):
    edit(demo_copy / "partners.yaml", '    public_contact: "RDW, 0900 07 39 (lokaal tarief), of rdw.nl"\n', "")
    assert current_state().reload() is True
    login(client, "staff", locations=(LOCATION,))
    result = html.unescape(_result_of(client.get("/directory/?q=kenteken").get_data(as_text=True), "RDW"))
    assert "Overdragen aan RDW kan op deze locatie niet. Vraag uw coördinator hoe u RDW bereikt." in result
