"""Every response carries the security headers (one after-request hook, routing.http.security_headers); JSON API
answers are never stored by a cache and send no referrer."""

from __future__ import annotations

import pytest

from routing.http import CONTENT_SECURITY_POLICY

CALLBACK = {"location": "utrecht", "phone": "06 12345678", "consent": True}
HANDOVER = {"location": "amsterdam-centrum", "partner": "uwv", "phone": "06 12345678", "name": "mevrouw Jansen",
            "note": "Vraag over de WW", "urgency": "urgent", "consent": True}


def assert_security_headers(response, referrer: str = "same-origin") -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    for part in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'",
                 "object-src 'none'"):
        assert part in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers.getlist("Referrer-Policy") == [referrer]


def assert_not_stored(response) -> None:
    assert response.headers.getlist("Cache-Control") == ["no-store"]
    assert_security_headers(response, referrer="no-referrer")


@pytest.mark.parametrize("path", ["/", "/login", "/static/loketlijn.css", "/healthz"])
def test_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_security_headers(response)


def test_error_pages_and_staff_pages_too(client, login):
    assert_security_headers(client.get("/no-such-page", headers={"Accept": "text/html"}))
    login(client, "staff")
    page = client.get("/directory/")
    assert page.status_code == 200
    assert_security_headers(page)


def test_a_stricter_referrer_policy_stays(client):
    """The citizen's pages are private (no-store, no-referrer: a withdrawal token can be in the address)."""
    form = client.get("/l/utrecht/terugbellen")
    assert form.headers["Cache-Control"] == "no-store"
    assert_security_headers(form, referrer="no-referrer")


def test_the_callback_api_is_never_stored(client, api_key):
    headers = api_key("staff", locations=("utrecht",))
    created = client.post("/api/v1/callbacks", json=CALLBACK, headers=headers)
    assert created.status_code == 201
    assert_not_stored(created)
    status = client.get(f"/api/v1/callbacks/{created.get_json()['reference']}", headers=headers)
    assert status.status_code == 200  # personal data, or (waiting for the next shift) whether the reference exists
    assert_not_stored(status)


def test_the_handover_api_is_never_stored(client, api_key):
    headers = api_key("staff", locations=("amsterdam-centrum",))
    created = client.post("/api/v1/handovers", json=HANDOVER, headers=headers)
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    shown = client.get(f"/api/v1/handovers/{reference}", headers=headers)
    assert shown.status_code == 200
    assert_not_stored(shown)


@pytest.mark.parametrize("path", ["/api/v1/locations", "/api/v1/callbacks/TB-AAAA", "/api/v1/handovers/WO-NOPE2",
                                  "/api/v1/no-such-thing", "/api/v1/openapi.json"])
def test_every_api_answer_is_never_stored_errors_included(client, api_key, path):
    for headers in ({}, api_key("coordinator")):
        assert_not_stored(client.get(path, headers=headers))
