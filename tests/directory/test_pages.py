"""Staff pages: what a loket employee sees when looking up a partner and its line."""

from __future__ import annotations

import html


def test_directory_pages_require_a_login(client):
    for url in ("/directory/", "/directory/locations", "/directory/partners/svb", "/directory/results?q=aow"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_partner_employees_may_not_use_the_directory(client, login):
    login(client, "partner", partner="svb")
    assert client.get("/directory/").status_code == 403


def test_search_shows_the_line_for_my_location(client, login):
    login(client, "staff", locations=("amsterdam-centrum",))
    page = client.get("/directory/?q=aow").get_data(as_text=True)
    assert "Overheidsloket Amsterdam Centrum" in page
    assert "Sociale Verzekeringsbank" in page
    assert 'href="tel:+31880000104"' in page
    assert "088 000 0104" in page  # as staff dial it
    assert "Nu open" in page or "Opent" in page
    assert "Geen gehoor? Bel" in page


def test_search_form_works_without_javascript(client, login):
    login(client, "staff", locations=("utrecht",))
    page = client.get("/directory/").get_data(as_text=True)
    assert 'method="get"' in page and 'name="q"' in page
    assert "directory/search.js" in page  # enhancement only


def test_partner_without_a_line_says_what_to_do_instead(client, login):
    login(client, "staff", locations=("utrecht",))
    page = client.get("/directory/?q=inkomstenbelasting").get_data(as_text=True)
    assert "Belastingdienst" in page
    assert "Geen professionallijn op deze locatie" in page
    assert "BelastingTelefoon" in page


def test_life_event_lists_all_partners(client, login):
    login(client, "staff", locations=("amsterdam-centrum",))
    page = client.get("/directory/?q=18+worden").get_data(as_text=True)
    for name in ("Dienst Toeslagen", "DUO", "Sociale Verzekeringsbank", "Belastingdienst", "CJIB"):
        assert name in page


def test_typo_still_finds_the_topic(client, login):
    login(client, "staff", locations=("enschede",))
    page = client.get("/directory/?q=huurtoeslg").get_data(as_text=True)
    assert "Dienst Toeslagen" in page and 'href="tel:+31880000402"' in page


def test_nothing_found_says_so(client, login):
    login(client, "staff", locations=("enschede",))
    page = client.get("/directory/?q=xqzvw").get_data(as_text=True)
    assert "Niets gevonden" in page


def test_too_long_query_gets_a_clear_message(client, login):
    login(client, "staff", locations=("enschede",))
    response = client.get("/directory/?q=" + "x" * 101)
    assert response.status_code == 400
    assert "hoogstens 100 tekens" in response.get_data(as_text=True)


def test_location_choice_is_remembered(client, login):
    login(client, "staff", locations=("utrecht", "enschede"))
    response = client.get("/directory/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/directory/locations")
    choice = client.get("/directory/locations").get_data(as_text=True)
    assert "Overheidsloket Utrecht" in choice and "Overheidsloket Enschede" in choice
    assert "Amsterdam" not in choice  # not bound to it
    assert client.post("/directory/locations", data={"location": "enschede"}).status_code == 302
    page = client.get("/directory/?q=rijbewijs").get_data(as_text=True)
    assert "Overheidsloket Enschede" in page and 'href="tel:+31880000409"' in page


def test_choosing_a_location_i_am_not_bound_to_is_refused(client, login):
    login(client, "staff", locations=("utrecht",))
    response = client.post("/directory/locations", data={"location": "enschede"})
    assert response.status_code == 403
    assert client.post("/directory/locations", data={"location": "atlantis"}).status_code == 404


def test_coordinator_may_pick_any_location(client, login):
    login(client, "coordinator")
    choice = client.get("/directory/locations").get_data(as_text=True)
    assert choice.count('name="location"') == 7


def test_the_hand_over_link_only_for_who_may_hand_over(app, client, login):
    """Loket staff hand a citizen over from a result; a coordinator, who may not, gets no link that ends in 403."""
    staff, coordinator = client, app.test_client()
    login(staff, "staff", locations=("utrecht",))
    login(coordinator, "coordinator")
    for path in ("/directory/?location=utrecht&q=toeslag", "/directory/results?location=utrecht&q=toeslag"):
        assert "Inwoner warm overdragen aan Dienst Toeslagen" in staff.get(path).get_data(as_text=True)
        page = coordinator.get(path).get_data(as_text=True)
        assert "Dienst Toeslagen" in page and "/overdrachten/nieuw" not in page and "warm overdragen" not in page


def test_results_fragment_for_results_as_you_type(client, login):
    login(client, "staff", locations=("utrecht",))
    fragment = client.get("/directory/results?q=verblijf").get_data(as_text=True)
    assert "IND" in fragment and "<html" not in fragment


def test_partner_detail_page(client, login):
    login(client, "staff", locations=("amsterdam-centrum",))
    page = client.get("/directory/partners/svb").get_data(as_text=True)
    assert "Sociale Verzekeringsbank" in page
    assert 'href="tel:+31880000104"' in page
    assert "08:30-17:00" in page
    assert "AOW" in page and "Kinderbijslag" in page
    assert "Op locatie op: dinsdag" in page


def test_unknown_partner_page_is_404(client, login):
    login(client, "staff", locations=("amsterdam-centrum",))
    response = client.get("/directory/partners/atlantis")
    assert response.status_code == 404
    assert "Partner 'atlantis' bestaat niet." in html.unescape(response.get_data(as_text=True))


def test_english(client, login):
    login(client, "staff", locations=("amsterdam-centrum",))
    page = client.get("/directory/?q=aow&lang=en").get_data(as_text=True)
    assert "Find the right organisation" in page
    assert "No answer? Call" in page
    assert "State pension (AOW)" in page


def test_lines_shown_on_pages_are_counted(client, login, redis):
    from datetime import datetime

    from routing.directory.schedule import TZ
    from routing.store import lookups

    login(client, "staff", locations=("enschede",))
    client.get("/directory/?q=rijbewijs")
    client.get("/directory/partners/rdw")
    counts = lookups.counts_on(redis, datetime.now(TZ).date())
    assert counts == {("enschede", "rdw"): 2}
