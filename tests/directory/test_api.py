"""The JSON API: what a client of /api/v1 gets for locations and searches."""

from __future__ import annotations

from datetime import datetime

from routing.directory import schedule, service
from routing.store import lookups

TZ = schedule.TZ


def search(client, headers, location, q):
    return client.get("/api/v1/search", query_string={"location": location, "q": q}, headers=headers)


def by_partner(body):
    return {r["partner"]["id"]: r for r in body["results"]}


def test_api_requires_a_key(client):
    for url in ("/api/v1/locations", "/api/v1/locations/utrecht", "/api/v1/search?location=utrecht&q=aow"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json["code"] == 401 and response.json["message"]


def test_a_wrong_key_is_refused(client):
    response = client.get("/api/v1/locations", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_partner_keys_may_not_search(client, api_key):
    response = search(client, api_key("partner", partner="svb"), "utrecht", "aow")
    assert response.status_code == 403


def test_search_in_amsterdam_shows_the_line(client, api_key):
    response = search(client, api_key("staff", locations=("amsterdam-centrum",)), "amsterdam-centrum", "aow")
    assert response.status_code == 200
    first = response.json["results"][0]
    assert first["partner"] == {"id": "svb", "name": "Sociale Verzekeringsbank"}
    assert first["line"]["number"] == "+31880000104"
    assert first["line"]["fallback_number"] == "+31880009904"
    assert isinstance(first["line"]["open_now"], bool)
    assert first["line"]["open_now"] or first["line"]["next_open"]
    assert first["alternative"] is None
    assert first["topics"][0]["id"] == "aow"


def test_utrecht_has_no_uwv_or_belastingdienst_line(client, api_key):
    headers = api_key("staff", locations=("utrecht", "amsterdam-centrum"))
    utrecht = by_partner(search(client, headers, "utrecht", "WW").json)
    assert utrecht["uwv"]["line"] is None
    assert "Geen professionallijn" in utrecht["uwv"]["alternative"]
    amsterdam = by_partner(search(client, headers, "amsterdam-centrum", "WW").json)
    assert amsterdam["uwv"]["line"]["number"] == "+31880000103"
    belasting = by_partner(search(client, headers, "utrecht", "inkomstenbelasting").json)
    assert belasting["belastingdienst"]["line"] is None


def test_life_event_lists_every_partner_involved(client, api_key):
    body = search(client, api_key("staff", locations=("amsterdam-centrum",)), "amsterdam-centrum", "18 worden").json
    found = by_partner(body)
    assert {"toeslagen", "duo", "svb", "belastingdienst", "cjib"} <= set(found)
    assert all(found[p]["line"] for p in ("toeslagen", "duo", "svb", "belastingdienst", "cjib"))


def test_municipal_teams_only_at_their_own_municipality(client, api_key):
    headers = api_key("coordinator")
    utrecht = by_partner(search(client, headers, "utrecht", "bijstand").json)
    assert set(utrecht) == {"gemeente-utrecht-werk-inkomen"}
    den_bosch = by_partner(search(client, headers, "den-bosch", "bijstand").json)
    assert den_bosch["weener-xl"]["line"]["number"] == "+31880000718"


def test_best_match_first(client, api_key):
    body = search(client, api_key("coordinator"), "enschede", "toeslag").json
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert body["results"][0]["partner"]["id"] == "toeslagen"


def test_unknown_location_is_404(client, api_key):
    response = search(client, api_key("coordinator"), "atlantis", "aow")
    assert response.status_code == 404
    assert response.json["message"] == "Locatie 'atlantis' bestaat niet."
    assert client.get("/api/v1/locations/atlantis", headers=api_key("coordinator")).status_code == 404


def test_malformed_query_is_422_with_field_errors(client, api_key):
    headers = api_key("coordinator")
    missing = client.get("/api/v1/search?location=utrecht", headers=headers)
    assert missing.status_code == 422 and "q" in missing.json["errors"]
    too_long = search(client, headers, "utrecht", "x" * 101)
    assert too_long.status_code == 422 and "q" in too_long.json["errors"]
    bad_id = search(client, headers, "../etc", "aow")
    assert bad_id.status_code == 422 and "location" in bad_id.json["errors"]
    bad_limit = client.get("/api/v1/search?location=utrecht&q=aow&limit=0", headers=headers)
    assert bad_limit.status_code == 422 and "limit" in bad_limit.json["errors"]


def test_limit(client, api_key):
    headers = api_key("coordinator")
    response = client.get("/api/v1/search?location=enschede&q=18+worden&limit=2", headers=headers)
    assert len(response.json["results"]) == 2


def test_staff_see_only_their_own_locations(client, api_key):
    headers = api_key("staff", locations=("enschede",))
    listed = client.get("/api/v1/locations", headers=headers).json["locations"]
    assert [loc["id"] for loc in listed] == ["enschede"]
    assert search(client, headers, "utrecht", "aow").status_code == 403
    assert client.get("/api/v1/locations/utrecht", headers=headers).status_code == 403


def test_coordinators_see_every_location(client, api_key):
    listed = client.get("/api/v1/locations", headers=api_key("coordinator")).json["locations"]
    assert len(listed) == 7
    assert {"present_now", "next_shift", "walk_in"} <= set(listed[0])


def test_location_detail_lists_its_lines(client, api_key):
    body = client.get("/api/v1/locations/enschede", headers=api_key("staff", locations=("enschede",))).json
    with_line = {r["partner"]["id"] for r in body["lines"] if r["line"]}
    assert {"toeslagen", "svb", "duo", "ind", "cak", "cjib", "rdw"} <= with_line
    assert body["walk_in"] is True


def test_answers_have_the_documented_shape(client, api_key):
    from routing.directory.api import LocationDetailSchema, LocationListSchema, SearchResponseSchema

    headers = api_key("coordinator")
    for schema, url in [
        (SearchResponseSchema(), "/api/v1/search?location=utrecht&q=18+worden"),
        (LocationListSchema(), "/api/v1/locations"),
        (LocationDetailSchema(), "/api/v1/locations/enschede"),
    ]:
        body = client.get(url, headers=headers).json
        assert schema.validate(body) == {}, url
        assert schema.dump(schema.load(body)) == body, url


def test_openapi_documents_the_directory(client):
    spec = client.get("/api/v1/openapi.json").json
    params = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {"location", "q"} <= params
    assert "SearchResponse" in spec["components"]["schemas"]
    assert "/api/v1/locations/{location_id}" in spec["paths"]


def test_lines_shown_are_counted_anonymously(client, api_key, redis):
    headers = api_key("coordinator")
    search(client, headers, "amsterdam-centrum", "aow")
    search(client, headers, "amsterdam-centrum", "aow")
    search(client, headers, "utrecht", "inkomstenbelasting")  # no line there: nothing to count
    today = datetime.now(TZ).date()
    counts = lookups.counts_on(redis, today)
    assert counts[("amsterdam-centrum", "svb")] == 2
    assert not any(loc == "utrecht" and p == "belastingdienst" for loc, p in counts)


def test_lookup_open_now_and_next_opening_at_a_pinned_time(app):
    tuesday_morning = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)
    result = service.lookup("amsterdam-centrum", "aow", tuesday_morning)[0]
    assert result.open_now and result.next_open is None
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=TZ)
    result = service.lookup("amsterdam-centrum", "aow", saturday)[0]
    assert not result.open_now
    assert result.next_open == datetime(2026, 12, 7, 8, 30, tzinfo=TZ)


def test_on_site_today(app):
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)  # SVB sits in Amsterdam Centrum on Tuesdays
    assert service.lookup("amsterdam-centrum", "aow", tuesday)[0].on_site_today
    assert not service.lookup("amsterdam-centrum", "aow", datetime(2026, 12, 2, 10, 0, tzinfo=TZ))[0].on_site_today


def test_partner_channels_prefer_the_location_override(app):
    assert service.partner_channels("belastingdienst", "nijmegen").email == "steunpunt-nijmegen@belastingdienst.example.org"
    assert service.partner_channels("belastingdienst", "utrecht").email == "loketlijn@belastingdienst.example.org"


def test_citizen_topics_are_those_served_at_the_location(app):
    labels = [t.citizen_label for t in service.citizen_topics("utrecht")]
    assert "Huurtoeslag (hulp bij de huur)" in labels
    assert labels == sorted(labels, key=str.lower)
