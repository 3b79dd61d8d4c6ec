"""The JSON API for kiosks, staff and integrations."""

from __future__ import annotations

import pytest

from callbacks.conftest import SATURDAY
from routing.callbacks import service
from routing.store import callbacks as store


@pytest.fixture(autouse=True)
def saturday(pin_now):
    pin_now(SATURDAY)


def body(**fields):
    return {"location": "utrecht", "phone": "06 12345678", "consent": True, **fields}


def test_create_returns_201_with_reference_status_and_expected_callback(client, api_key, redis):
    response = client.post("/api/v1/callbacks", json=body(name="Sam", reply_by="sms",
                                                          preferred=["2026-12-01:morning"]),
                           headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["reference"].startswith("TB-") and data["status"] == "waiting"
    assert data["expected_callback"].startswith("2026-12-01T09:00:00")
    assert data["withdraw_token"]

    withdrawn = client.post(f"/api/v1/callbacks/{data['reference']}/withdraw", json={"token": data["withdraw_token"]})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert service.get_request(redis, data["reference"]).phone is None


def test_refusals_use_the_one_error_shape(client, api_key, redis):
    response = client.post("/api/v1/callbacks", json=body(phone="0900-1234567", note="bsn 111222333",
                                                          consent=False, reply_by="fax", recipient="x@x.nl"),
                           headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 422
    data = response.get_json()
    assert data["code"] == 422 and data["message"]
    assert set(data["errors"]) == {"phone", "note", "consent", "reply_by", "recipient"}
    assert all(isinstance(m, list) and m for m in data["errors"].values())
    assert store.count_personal(redis) == 0


def test_missing_fields_are_named(client, api_key):
    response = client.post("/api/v1/callbacks", json={"location": "utrecht"},
                           headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 422
    assert {"phone", "consent"} <= set(response.get_json()["errors"])


def test_a_key_is_needed_and_must_belong_to_the_location(client, api_key):
    assert client.post("/api/v1/callbacks", json=body()).status_code == 401
    other = client.post("/api/v1/callbacks", json=body(), headers=api_key("staff", locations=("enschede",)))
    assert other.status_code == 403


def test_status_shows_personal_fields_only_to_staff_of_the_location(client, api_key):
    created = client.post("/api/v1/callbacks", json=body(name="Sam"),
                          headers=api_key("staff", locations=("utrecht",))).get_json()
    url = f"/api/v1/callbacks/{created['reference']}"
    own = client.get(url, headers=api_key("staff", locations=("utrecht",))).get_json()
    assert own["status"] == "waiting" and own["phone"] == "+31612345678" and own["name"] == "Sam"
    other = client.get(url, headers=api_key("staff", locations=("enschede",))).get_json()
    assert other["status"] == "waiting" and "phone" not in other and "name" not in other


def test_withdraw_with_a_wrong_token_changes_nothing(client, api_key, redis):
    created = client.post("/api/v1/callbacks", json=body(),
                          headers=api_key("staff", locations=("utrecht",))).get_json()
    response = client.post(f"/api/v1/callbacks/{created['reference']}/withdraw", json={"token": "not-the-token"})
    assert response.status_code == 404
    assert service.get_status(redis, created["reference"]).state == "waiting"


def test_unknown_reference_is_404(client, api_key):
    response = client.get("/api/v1/callbacks/TB-ZZZZ", headers=api_key("staff", locations=("utrecht",)))
    assert response.status_code == 404 and response.get_json()["code"] == 404


def test_a_reference_may_be_typed_loosely(client, api_key):
    created = client.post("/api/v1/callbacks", json=body(),
                          headers=api_key("staff", locations=("utrecht",))).get_json()
    loose = created["reference"].lower().replace("-", " ")
    response = client.get(f"/api/v1/callbacks/{loose}", headers=api_key("staff", locations=("enschede",)))
    assert response.status_code == 200 and response.get_json()["reference"] == created["reference"]
