"""The JSON API: POST /api/v1/handovers and GET /api/v1/handovers/<reference>."""

from __future__ import annotations

from handovers.helpers import E164, LOCATION, OTHER_LOCATION

BODY = {"location": LOCATION, "partner": "uwv", "phone": "06 12345678", "name": "mevrouw Jansen",
        "note": "Vraag over de WW", "urgency": "urgent", "consent": True}


def test_create_one(client, api_key, sent):
    response = client.post("/api/v1/handovers", json=BODY, headers=api_key("staff", locations=(LOCATION,)))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["reference"].startswith("WO-") and body["status"] == "sent" and body["urgency"] == "urgent"
    assert body["deadline"] and body["attempts"] == [] and "personal" not in body
    assert [n["context"]["reference"] for n in sent] == [body["reference"]]


def test_create_for_several_partners_gives_a_list(client, api_key, sent):
    response = client.post("/api/v1/handovers", json=BODY | {"partner": ["uwv", "svb", "duo"]},
                           headers=api_key("staff", locations=(LOCATION,)))
    assert response.status_code == 201
    assert [h["partner"] for h in response.json] == ["uwv", "svb", "duo"]
    assert len({h["group"] for h in response.json}) == 1 and len(sent) == 3


def test_refusals_change_nothing(client, api_key, redis, sent):
    headers = api_key("staff", locations=(LOCATION,))
    cases = [
        (BODY | {"note": "BSN 111222333"}, 422, "note"),
        (BODY | {"consent": False}, 422, "consent"),
        ({k: v for k, v in BODY.items() if k != "consent"}, 422, "consent"),
        (BODY | {"phone": "0800 1234"}, 422, "phone"),
        (BODY | {"phone": "12"}, 422, "phone"),
        (BODY | {"partner": "no-such-partner"}, 422, "partner"),
        (BODY | {"note": "x" * 501}, 422, "note"),
        (BODY | {"urgency": "asap"}, 422, "urgency"),
        (BODY | {"surprise": 1}, 422, "surprise"),
        (BODY | {"topic": "call 0612345678"}, 422, "topic"),
        (BODY | {"language": "111222333"}, 422, "language"),
    ]
    for body, status, field in cases:
        response = client.post("/api/v1/handovers", json=body, headers=headers)
        assert response.status_code == status, (body, response.json)
        assert response.json["code"] == status and field in response.json["errors"], response.json
    assert not redis.keys("ll:ho:*") and not sent


def test_only_staff_of_that_location_may_create(client, api_key, sent):
    for headers, status in ((api_key("staff", locations=(OTHER_LOCATION,)), 403),
                            (api_key("partner", partner="uwv"), 403),
                            (api_key("coordinator"), 403),
                            ({}, 401),
                            ({"Authorization": "Bearer nonsense"}, 401)):
        response = client.post("/api/v1/handovers", json=BODY, headers=headers)
        assert response.status_code == status and response.json["code"] == status
    assert not sent


def test_get_shows_personal_fields_only_to_who_may_see_them(client, api_key, make_handover, sent):
    [handover] = make_handover("uwv")
    path = f"/api/v1/handovers/{handover.reference}"
    for headers, personal in ((api_key("staff", locations=(LOCATION,)), True),
                              (api_key("partner", partner="uwv"), True),
                              (api_key("coordinator"), False),
                              (api_key("admin"), False)):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        assert response.json["status"] == "sent" and response.json["outcome"] == ""
        assert ("personal" in response.json) is personal
        if personal:
            assert response.json["personal"]["phone"] == E164
    for headers in (api_key("staff", locations=(OTHER_LOCATION,)), api_key("partner", partner="svb")):
        assert client.get(path, headers=headers).status_code == 404
    assert client.get(path).status_code == 401
    assert client.get("/api/v1/handovers/WO-NOPE2", headers=api_key("admin")).status_code == 404


def test_get_reports_attempts_and_outcome(client, api_key, make_handover, redis, sent):
    from datetime import UTC, datetime

    from routing.handovers import service

    [handover] = make_handover("uwv")
    service.record_attempt(redis, handover, "not_reached", "test", datetime.now(UTC))
    handover = service.get(redis, handover.reference)
    service.record_attempt(redis, handover, "not_reached", "test", datetime.now(UTC))  # within the hour
    service.record_outcome(redis, handover, "returned_to_loket", "test", datetime.now(UTC), note="Spreekt geen NL")
    body = client.get(f"/api/v1/handovers/{handover.reference}", headers=api_key("staff", locations=(LOCATION,))).json
    assert body["status"] == "done" and body["outcome"] == "returned_to_loket"
    assert [(a["result"], a["counted"]) for a in body["attempts"]] == [("not_reached", True), ("not_reached", False)]
    assert body["personal"]["return_note"] == "Spreekt geen NL"


def test_from_a_callback_request_the_details_are_taken_over(client, api_key, redis, sent):
    from routing.callbacks import service as callbacks
    from routing.store import audit as audit_store

    receipt = callbacks.create_request(redis, callbacks.Intake(
        location=LOCATION, phone="+31687654321", channel="web", name="meneer De Vries", note="Brief van CJIB",
        language="en"))
    response = client.post("/api/v1/handovers", headers=api_key("staff", locations=(LOCATION,)), json={
        "location": LOCATION, "partner": "cjib", "consent": True, "callback_reference": receipt.reference})
    assert response.status_code == 201, response.json
    body = client.get(f"/api/v1/handovers/{response.json['reference']}",
                      headers=api_key("partner", partner="cjib")).json
    assert body["callback_reference"] == receipt.reference
    assert body["personal"]["phone"] == "+31687654321" and body["personal"]["name"] == "meneer De Vries"
    assert body["personal"]["note"] == "Brief van CJIB" and body["personal"]["language"] == "Engels"
    assert callbacks.get_status(redis, receipt.reference).state == "done"
    # A request of another location cannot be taken over.
    other = callbacks.create_request(redis, callbacks.Intake(location=OTHER_LOCATION, phone="+31611112222",
                                                             channel="web"))
    staff = api_key("staff", locations=(LOCATION,))  # made first: a new key is an audit record of its own
    audit_before = redis.xlen(audit_store.STREAM)
    refused = client.post("/api/v1/handovers", headers=staff, json={
        "location": LOCATION, "partner": "cjib", "consent": True, "callback_reference": other.reference})
    unknown = client.post("/api/v1/handovers", headers=staff, json={
        "location": LOCATION, "partner": "cjib", "consent": True, "callback_reference": "TB-ZZZZ"})
    # The same answer as for a reference that does not exist, and nobody read the other location's request.
    assert refused.status_code == unknown.status_code == 422
    assert refused.json["errors"] == unknown.json["errors"] == {
        "callback_reference": ["Dit terugbelverzoek is niet gevonden bij deze locatie."]}
    assert redis.xlen(audit_store.STREAM) == audit_before
    assert callbacks.get_status(redis, other.reference).state == "waiting"


def test_a_partner_portal_records_attempts_and_the_outcome(client, api_key, make_handover, sent):
    [handover] = make_handover("uwv")
    own = api_key("partner", partner="uwv")
    base = f"/api/v1/handovers/{handover.reference}"
    response = client.post(base + "/attempts", json={"result": "not_reached"}, headers=own)
    assert response.status_code == 200 and response.json["status"] == "in_progress"
    assert "personal" not in response.json
    missing = client.post(base + "/outcome", json={"outcome": "referred_on"}, headers=own)
    assert missing.status_code == 422 and "referred_to" in missing.json["errors"]
    done = client.post(base + "/outcome", json={"outcome": "referred_on", "referred_to": "Juridisch Loket"},
                       headers=own)
    assert done.status_code == 200 and done.json["outcome"] == "referred_on"
    again = client.post(base + "/attempts", json={"result": "reached"}, headers=own)
    assert again.status_code == 409 and again.json["code"] == 409
    for headers, status in ((api_key("partner", partner="svb"), 404), (api_key("staff", locations=(LOCATION,)), 403),
                            (api_key("coordinator"), 403), ({}, 401)):
        assert client.post(base + "/attempts", json={"result": "reached"}, headers=headers).status_code == status


FORM = "application/x-www-form-urlencoded"


def _refused_as_not_json(response) -> None:
    """415 in the one JSON error shape, with the same words as the callbacks API."""
    assert response.status_code == 415, response.get_data(as_text=True)
    assert response.content_type.startswith("application/json")
    assert response.json == {"code": 415, "status": "Unsupported Media Type", "message": "Stuur de gegevens als JSON."}


def test_a_body_that_is_not_json_is_refused_and_stores_nothing(client, api_key, redis, sent):
    """A form-encoded or plain-text body would read as empty ("every field is missing"): 415 instead."""
    headers = api_key("staff", locations=(LOCATION,))
    for content_type in (FORM, "text/plain"):
        _refused_as_not_json(client.post("/api/v1/handovers", data="a=b", content_type=content_type,
                                         headers=headers))
    assert not redis.keys("ll:ho:*") and not sent


def test_a_partner_recording_work_without_json_is_refused_and_changes_nothing(client, api_key, redis,
                                                                              make_handover):
    handover = make_handover()[0]
    partner = api_key("partner", partner="uwv")
    before = client.get(f"/api/v1/handovers/{handover.reference}", headers=partner).json
    for path in ("attempts", "outcome"):
        _refused_as_not_json(client.post(f"/api/v1/handovers/{handover.reference}/{path}", data="a=b",
                                         content_type=FORM, headers=partner))
    after = client.get(f"/api/v1/handovers/{handover.reference}", headers=partner).json
    assert after == before and after["status"] == "sent" and after["attempts"] == []
    assert not redis.llen(f"ll:ho:{handover.reference}:attempts")
