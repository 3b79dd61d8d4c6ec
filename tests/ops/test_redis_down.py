"""Redis stops while the app runs: every page still answers with the app's own page, 503, saying that it is
temporary and what to do; a citizen's form comes back with what they typed; one log line per failure.

The Redis server here is this module's own (a private unix socket), started and stopped by the tests, so
stopping it touches no other test. The app runs as in production as far as errors go: exceptions are not
propagated to the test client (PROPAGATE_EXCEPTIONS off), so a handler that fails would show as gunicorn's
bare page and Flask's "Exception on ..." traceback in the log. CSRF is on, as in production: the token and
the session live in the signed cookie, so the form can be filled in and sent while Redis is down.
"""

from __future__ import annotations

import logging
import re

import pytest
from conftest import TEST_PASSWORD, PrivateRedis

from routing import create_app

UNAVAILABLE = "Het lukt nu even niet. Probeer het over een paar minuten opnieuw."
FORM = "/l/utrecht/terugbellen"  # Utrecht: walk-in, at Stadsplateau 1
WORKLIST = "/loket/terugbelverzoeken"


@pytest.fixture
def server(private_redis: PrivateRedis) -> PrivateRedis:
    private_redis.start()
    return private_redis


@pytest.fixture
def app_config() -> dict:
    # Past the few seconds a process remembers who is logged in: each page asks Redis who it is.
    return {"AUTH_CACHE_SECONDS": 0}


@pytest.fixture
def app(server: PrivateRedis, app_config: dict):
    application = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": server.url,
                              "PUBLIC_BASE_URL": "http://localhost", "PROPAGATE_EXCEPTIONS": False,
                              "WTF_CSRF_ENABLED": True, **app_config})
    with application.app_context():
        yield application


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, make_user, role: str = "staff") -> None:
    email = make_user(role, ("utrecht",))
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def failure_records(caplog) -> list[logging.LogRecord]:
    """What the app logged about failures: everything but the one access line every request writes."""
    return [record for record in caplog.records
            if record.name != "loketlijn.request" and record.levelno >= logging.WARNING]


def assert_one_outage_line(caplog, method: str, route: str) -> None:
    records = failure_records(caplog)
    assert [record.getMessage() for record in records] == [f"redis unavailable: ConnectionError on {method} {route}"]
    assert records[0].exc_info is None
    assert "Traceback" not in caplog.text


def assert_own_unavailable_page(response) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.content_type.startswith("text/html")
    assert response.headers["Retry-After"] == "60"
    assert "<title>Even niet beschikbaar · Loketlijn</title>" in page and "<h1>Even niet beschikbaar</h1>" in page
    assert f"<p>{UNAVAILABLE}</p>" in page
    assert "Traceback" not in page and "Internal Server Error" not in page
    return page


# --- staff -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", WORKLIST])
def test_a_logged_in_employee_gets_the_apps_own_page(client, make_user, server, caplog, path):
    log_in(client, make_user)
    assert client.get(path).status_code == 200
    server.stop()
    caplog.clear()
    page = assert_own_unavailable_page(client.get(path))
    assert 'href="/"' in page  # the way back, on a page that needed nothing from Redis
    assert_one_outage_line(caplog, "GET", path)  # the route pattern; these two have no variable parts


@pytest.mark.parametrize("app_config", [{"AUTH_CACHE_SECONDS": 3600}])  # who is logged in is remembered
def test_an_employee_still_remembered_keeps_the_menu_on_the_page(client, make_user, server, caplog):
    log_in(client, make_user)
    assert client.get(WORKLIST).status_code == 200  # this process now remembers who this is
    server.stop()
    caplog.clear()
    page = assert_own_unavailable_page(client.get(WORKLIST))  # the worklist's own read finds Redis down
    assert f'href="{WORKLIST}"' in page and "Uitloggen" in page  # header and menu, computed without Redis
    assert_one_outage_line(caplog, "GET", WORKLIST)


def test_in_english_too(client, make_user, server):
    log_in(client, make_user)
    server.stop()
    page = client.get(WORKLIST + "?lang=en").get_data(as_text=True)
    assert "<h1>Temporarily unavailable</h1>" in page
    assert "This is not working right now. Please try again in a few minutes." in page


def test_logging_out_still_logs_this_browser_out(client, make_user, server, caplog):
    """Logout ends every session of the account in Redis; without Redis it still ends this one and says so."""
    log_in(client, make_user)
    token = csrf_token(client.get(WORKLIST).get_data(as_text=True))  # the header's logout form
    server.stop()
    caplog.clear()
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "U bent uitgelogd op dit apparaat." in client.get("/login").get_data(as_text=True)
    assert_one_outage_line(caplog, "POST", "/logout")
    assert client.get(WORKLIST).headers["Location"].startswith("/login")


def test_an_unknown_page_is_still_a_404_page_for_who_is_logged_in(client, make_user, server, caplog):
    """The layout's "who is this" needs Redis; on an error page a lookup that fails counts as not known."""
    log_in(client, make_user)
    server.stop()
    caplog.clear()
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "<h1>Pagina niet gevonden</h1>" in response.get_data(as_text=True)
    assert failure_records(caplog) == []


# --- citizens ----------------------------------------------------------------------------------------------

def test_the_citizens_form_comes_back_as_typed_and_sends_once_redis_is_back(client, server, caplog):
    server.stop()
    opened = client.get(FORM)  # the form itself needs no Redis: CSRF token and session are in the cookie
    assert opened.status_code == 200
    typed = {"phone": "06 87654321", "name": "Ahmed", "note": "over toeslag", "language": "en",
             "reply_by": "sms", "consent": "yes", "csrf_token": csrf_token(opened.get_data(as_text=True))}
    caplog.clear()
    response = client.post(FORM, data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert response.headers["Cache-Control"] == "no-store"  # the typed number is on this page
    message = ("Het lukt nu even niet om uw verzoek te versturen. Wat u invulde staat er nog. Probeer het over "
               "een paar minuten opnieuw. Of kom langs op Stadsplateau 1, 3521 AZ Utrecht als er een medewerker is.")
    assert f'<div class="alert alert--error" role="alert">{message}</div>' in page
    assert page.index(message) < page.index('id="callback-form"')  # at the top
    assert 'value="06 87654321"' in page and 'value="Ahmed"' in page and "over toeslag</textarea>" in page
    assert re.search(r'value="sms" checked', page) and re.search(r'value="en" checked', page)
    assert re.search(r'name="consent" value="yes" checked', page)
    assert_one_outage_line(caplog, "POST", "/l/<location_id>/terugbellen")
    assert "87654321" not in caplog.text and "Ahmed" not in caplog.text

    server.start()  # a minute later: the same form, sent again as it came back
    again = client.post(FORM, data={**typed, "csrf_token": csrf_token(page)})
    assert again.status_code == 303 and again.headers["Location"].endswith(FORM + "/bevestiging")
    assert "TB-" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_a_location_without_walk_in_names_no_address(client, server):
    server.stop()
    url = "/l/amsterdam-centrum/terugbellen"
    token = csrf_token(client.get(url).get_data(as_text=True))
    page = client.post(url, data={"phone": "06 87654321", "consent": "yes", "reply_by": "call", "language": "nl",
                                  "csrf_token": token}).get_data(as_text=True)
    assert "Het lukt nu even niet om uw verzoek te versturen." in page and "Of kom langs" not in page


def test_a_citizens_page_that_needs_redis_points_to_coming_by(client, server, caplog):
    opened = client.get(FORM).get_data(as_text=True)
    sent = client.post(FORM, data={"phone": "06 87654321", "consent": "yes", "reply_by": "call", "language": "nl",
                                   "csrf_token": csrf_token(opened)})
    assert sent.status_code == 303
    server.stop()
    caplog.clear()
    page = assert_own_unavailable_page(client.get(FORM + "/bevestiging"))
    assert "Of kom langs op Stadsplateau 1, 3521 AZ Utrecht als er een medewerker is." in page
    assert f'href="{FORM}"' in page  # the citizen's way back: their form, not the staff start page
    assert_one_outage_line(caplog, "GET", "/l/<location_id>/terugbellen/bevestiging")


# --- API and probes ----------------------------------------------------------------------------------------

def test_the_api_answers_503_in_the_one_json_shape(client, api_key, server, caplog):
    headers = api_key("kiosk", ("utrecht",))
    server.stop()
    caplog.clear()
    response = client.post("/api/v1/callbacks", headers=headers,
                           json={"location": "utrecht", "phone": "06 87654321", "consent": True})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert response.json == {"code": 503, "status": "Service Unavailable", "message": UNAVAILABLE}
    assert_one_outage_line(caplog, "POST", "/api/v1/callbacks")
    caplog.clear()  # the next failure is logged again: one line per failing request, not one per outage
    assert client.get("/api/v1/callbacks/TB-ABCD", headers=headers).status_code == 503
    assert_one_outage_line(caplog, "GET", "/api/v1/callbacks/<reference>")


def _signed(client, path: str, form: dict):
    from twilio.request_validator import RequestValidator

    signature = RequestValidator("twilio-token").compute_signature("http://localhost" + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize(("path", "form", "said"), [
    ("/hooks/twilio/sms?location=utrecht", {"From": "+31612345678", "Body": "Graag terugbellen"},
     "<Message>Het lukt nu even niet om uw bericht te bewaren. Stuur het over een paar minuten opnieuw.</Message>"),
    ("/hooks/twilio/whatsapp?location=utrecht", {"From": "whatsapp:+31612345678", "Body": "Please call me back"},
     "<Message>We cannot keep your message just now. Please send it again in a few minutes.</Message>"),
    ("/hooks/twilio/voice/keuze?location=utrecht", {"From": "+31612345678", "Digits": "1"},
     '<Say language="nl-NL">Het lukt nu niet om een terugbelverzoek te maken. Probeer het later opnieuw. '
     "Tot ziens.</Say>"),
], ids=["sms", "whatsapp", "voice"])
def test_twilio_hooks_answer_the_citizen_in_twiml(app, client, server, caplog, path, form, said):
    # Twilio sends neither a message nor a key press again, and reads an error page out as "an application error".
    app.config["TWILIO_AUTH_TOKEN"] = "twilio-token"
    server.stop()
    caplog.clear()
    response = _signed(client, path, form)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert said in response.get_data(as_text=True)
    assert len(failure_records(caplog)) == 1 and "redis unavailable: ConnectionError" in caplog.text


def test_probes_keep_their_answers(client, server):
    server.stop()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and any("redis unreachable" in reason for reason in ready.json["reasons"])


def test_a_script_error_is_a_bug_and_stays_500(app, client, caplog):
    """Only Redis not answering is an outage; an error Redis answers with is ours to fix."""

    def broken():
        from routing.extensions import get_redis

        get_redis().eval("return redis.call('NO-SUCH-COMMAND')", 0)

    app.add_url_rule("/test-broken-script", view_func=broken)
    response = client.get("/test-broken-script", headers={"Accept": "text/html"})
    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert "<h1>Er ging iets mis</h1>" in response.get_data(as_text=True)
    assert [r.getMessage().split("\n")[0] for r in failure_records(caplog)] == [
        "unhandled ResponseError on GET /test-broken-script"]
