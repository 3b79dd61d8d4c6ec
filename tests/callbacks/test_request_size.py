"""A body over MAX_CONTENT_LENGTH is refused with 413 before anything reads it: in the one JSON error shape on
the API (also where no key is needed), as a page on the citizen's form, and nothing is stored."""

from __future__ import annotations

import pytest

from callbacks.conftest import SATURDAY
from routing.store import callbacks as store

HUGE_NOTE = "x" * (65 * 1024)


@pytest.fixture(autouse=True)
def saturday(pin_now):
    pin_now(SATURDAY)


def body(**fields):
    return {"location": "utrecht", "phone": "06 12345678", "consent": True, **fields}


def assert_too_large_in_the_one_shape(response):
    assert response.status_code == 413
    assert response.get_json() == {"code": 413, "status": "Request Entity Too Large",
                                   "message": "Wat u stuurde is te groot. Maak uw tekst korter en probeer het "
                                              "opnieuw."}


def test_a_huge_body_to_the_withdrawal_needs_no_key_to_be_refused(client, redis):
    response = client.post("/api/v1/callbacks/TB-ABCD/withdraw", json={"token": HUGE_NOTE})
    assert_too_large_in_the_one_shape(response)


def test_a_huge_callback_request_is_refused_and_nothing_is_stored(client, api_key, redis):
    headers = api_key("staff", locations=("utrecht",))
    response = client.post("/api/v1/callbacks", json=body(note=HUGE_NOTE), headers=headers)
    assert_too_large_in_the_one_shape(response)
    assert store.count_personal(redis) == 0
    # A body under the limit is read as usual: its note is just too long for the field.
    response = client.post("/api/v1/callbacks", json=body(note="x" * (60 * 1024)), headers=headers)
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"note"}


def test_a_huge_form_post_gets_a_page_that_says_what_to_do(client, redis):
    response = client.post("/l/utrecht/terugbellen", data={"phone": "06 12345678", "note": HUGE_NOTE})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "<h1>Te veel tekst</h1>" in page and "Maak uw tekst korter en probeer het opnieuw." in page
    assert store.count_personal(redis) == 0
    english = client.post("/l/utrecht/terugbellen?lang=en", data={"note": HUGE_NOTE})
    assert "Too much text" in english.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2048}])
def test_the_limit_is_a_setting(client):
    response = client.post("/api/v1/callbacks/TB-ABCD/withdraw", json={"token": "x" * 3000})
    assert_too_large_in_the_one_shape(response)


def test_the_limit_comes_from_the_environment_and_is_checked(monkeypatch):
    from config import settings

    assert settings.load("testing")["MAX_CONTENT_LENGTH"] == 64 * 1024
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "131072")
    assert settings.load("production")["MAX_CONTENT_LENGTH"] == 131072
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "10")
    problems = settings.problems_for_any_environment(settings.load("testing"))
    assert any(problem.startswith("MAX_CONTENT_LENGTH='10' is out of range") for problem in problems)
