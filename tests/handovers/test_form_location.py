"""Choosing another location on the handover form (staff working at more than one): what was typed stays, and a
chosen organisation that cannot get a handover from the new location is named, not silently dropped."""

from __future__ import annotations

import html
import re

from handovers.helpers import LOCATION

UTRECHT = "utrecht"
AMSTERDAM_TEAM = "gemeente-amsterdam-schuldhulp"  # a municipal team: Amsterdam's locations only
TYPED = {"phone": "06 12345678", "name": "mevrouw Jansen", "preferred": "dinsdagochtend", "language": "Turks",
         "note": "Vraag over de WW-uitkering", "urgency": "urgent", "deadline": "2099-12-01", "consent": "yes"}
NOT_IN_UTRECHT = ("Naar Gemeente Amsterdam, Geldloket en schuldhulp kunt u vanuit Overheidsloket Utrecht "
                  "(Stadskantoor) niet warm overdragen.")


def _form(page: str) -> str:
    """The handover form itself (its fields and buttons)."""
    start = page.index('<form method="post" action="/overdrachten/nieuw"')
    return page[start:page.index("</form>", start)]


def _checked(form: str) -> set[str]:
    return set(re.findall(r'name="partner" value="([^"]+)" checked', form))


def _switch(client, location: str, **fields):
    data = {"location": location, "switch_location": "yes", "partner": ["uwv", AMSTERDAM_TEAM],
            "topic": "ww"} | TYPED | fields
    return client.post("/overdrachten/nieuw", data=data)


def test_another_location_keeps_what_was_typed(client, login, redis, sent):
    login(client, "staff", locations=(LOCATION, UTRECHT))
    response = _switch(client, UTRECHT)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Vanuit Overheidsloket Utrecht (Stadskantoor)." in page
    form = _form(page)
    for name in ("phone", "name", "preferred", "language", "deadline"):
        assert f'name="{name}" type=' in form and f'value="{TYPED[name]}"' in form, name
    assert ">Vraag over de WW-uitkering</textarea>" in form
    assert 'name="urgency" value="urgent" checked' in form
    assert 'name="consent" value="yes" checked' in form
    assert '<input type="hidden" name="topic" value="ww">' in form
    assert '<option value="utrecht" selected>' in form
    # UWV works everywhere and stays chosen; Amsterdam's own team is not offered here, and the page says so.
    assert _checked(form) == {"uwv"} and AMSTERDAM_TEAM not in form
    assert NOT_IN_UTRECHT in page
    assert "Er is iets niet goed ingevuld" not in page  # not a refusal: nothing was sent yet
    assert not redis.keys("ll:ho:*") and not sent


def test_after_switching_the_handover_goes_from_the_new_location(client, login, sent):
    login(client, "staff", locations=(LOCATION, UTRECHT))
    _switch(client, UTRECHT)
    response = client.post("/overdrachten/nieuw", data={"location": UTRECHT, "partner": "uwv"} | TYPED)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Overgedragen aan UWV" in page
    [notice] = sent
    assert notice["context"]["location"] == "Overheidsloket Utrecht (Stadskantoor)"


def test_switching_back_offers_the_location_s_own_teams_again(client, login):
    login(client, "staff", locations=(LOCATION, UTRECHT))
    form = _form(_switch(client, LOCATION).get_data(as_text=True))
    assert _checked(form) == {"uwv", AMSTERDAM_TEAM}
    assert "niet warm overdragen" not in form


def test_the_switch_works_without_javascript_inside_the_form(client, login):
    """The location and its button belong to the form with the fields, so a plain browser sends what was typed;
    Enter in a field still hands over (the form's first submit button is a hidden copy of "Overdragen")."""
    login(client, "staff", locations=(LOCATION, UTRECHT))
    page = client.get("/overdrachten/nieuw").get_data(as_text=True)
    form = _form(page)
    assert '<label for="field-location">Locatie</label>' in form and 'name="location"' in form
    buttons = re.findall(r"<button[^>]*>([^<]*)</button>", form)
    assert buttons == ["Overdragen", "Andere locatie kiezen", "Overdragen"]
    assert 'name="switch_location"' in form and "<script" not in page


def test_one_location_only_has_nothing_to_choose(client, login):
    login(client, "staff", locations=(LOCATION,))
    form = _form(client.get("/overdrachten/nieuw").get_data(as_text=True))
    assert "Andere locatie kiezen" not in form
    assert f'<input type="hidden" name="location" value="{LOCATION}">' in form


def test_a_handover_from_a_callback_request_keeps_its_location(client, login, redis):
    """The request belongs to its location: a handover of it goes from there, so there is no location to choose."""
    from routing.callbacks import service as callbacks

    login(client, "staff", locations=(LOCATION, UTRECHT))
    receipt = callbacks.create_request(redis, callbacks.Intake(location=LOCATION, phone="+31687654321",
                                                               channel="web"))
    form = _form(client.get(f"/overdrachten/nieuw?location={LOCATION}&callback={receipt.reference}")
                 .get_data(as_text=True))
    assert receipt.reference in form and "Andere locatie kiezen" not in form
    assert f'<input type="hidden" name="location" value="{LOCATION}">' in form


def test_switching_to_a_location_that_is_not_mine_is_refused(client, login, redis, sent):
    login(client, "staff", locations=(LOCATION, UTRECHT))
    assert _switch(client, "enschede").status_code == 403


def test_a_link_naming_an_organisation_that_cannot_get_a_handover_here_says_so(client, login):
    login(client, "staff", locations=(UTRECHT,))
    page = html.unescape(client.get(f"/overdrachten/nieuw?partner=uwv&partner={AMSTERDAM_TEAM}")
                         .get_data(as_text=True))
    assert _checked(_form(page)) == {"uwv"} and NOT_IN_UTRECHT in page


def test_consent_is_asked_again_when_no_chosen_organisation_can_get_it_from_the_new_location(client, login):
    login(client, "staff", locations=(LOCATION, UTRECHT))
    page = html.unescape(_switch(client, UTRECHT, partner=[AMSTERDAM_TEAM]).get_data(as_text=True))
    form = _form(page)
    assert _checked(form) == set() and NOT_IN_UTRECHT in page
    assert "Vraag de inwoner opnieuw of het goed is dat u de gegevens doorgeeft aan de organisatie die u nu kiest." \
        in page
    assert 'name="consent" value="yes" checked' not in form and 'name="consent" value="yes"' in form
    assert 'value="mevrouw Jansen"' in form  # the rest stays


def test_a_link_to_hand_over_a_callback_request_without_a_location_opens_at_the_request_s_location(client, login,
                                                                                                redis):
    from routing.callbacks import service as callbacks

    login(client, "staff", locations=(LOCATION, UTRECHT))  # the first of them, Amsterdam, is the default
    receipt = callbacks.create_request(redis, callbacks.Intake(location=UTRECHT, phone="+31687654321",
                                                               channel="web"))
    page = html.unescape(client.get(f"/overdrachten/nieuw?callback={receipt.reference}").get_data(as_text=True))
    assert "Vanuit Overheidsloket Utrecht (Stadskantoor)." in page
    assert f'<input type="hidden" name="location" value="{UTRECHT}">' in _form(page)
