import json
import logging

import pytest

from routing import create_app


def test_factory_applies_overrides(redis_url):
    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "SOMETHING": "x"})
    assert app.config["TESTING"] is True
    assert app.config["SOMETHING"] == "x"


def test_factory_without_overrides_is_development(monkeypatch):
    monkeypatch.delenv("LOKETLIJN_ENV", raising=False)
    assert create_app().config["LOKETLIJN_ENV"] == "development"


def test_production_refuses_development_defaults(redis_url, monkeypatch):
    for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "PSEUDONYM_KEY", "REDIS_PERSISTENT", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as refused:
        create_app({"LOKETLIJN_ENV": "production", "REDIS_URL": redis_url})
    message = str(refused.value)
    for setting in ("SECRET_KEY", "ENCRYPTION_KEYS", "PSEUDONYM_KEY", "REDIS_PERSISTENT", "PUBLIC_BASE_URL"):
        assert setting in message


def test_production_starts_with_real_secrets(redis_url, monkeypatch):
    from cryptography.fernet import Fernet

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("PSEUDONYM_KEY", "p" * 40)
    monkeypatch.setenv("REDIS_PERSISTENT", "1")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://loketlijn.example.nl")
    monkeypatch.setenv("SMTP_HOST", "smtp.example.nl")  # one real channel for notices: never the outbox
    monkeypatch.setenv("MAIL_FROM", "Loketlijn <noreply@example.nl>")
    app = create_app({"LOKETLIJN_ENV": "production", "REDIS_URL": redis_url})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_when_redis_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"


def test_readyz_names_the_reason_when_redis_is_gone(redis_url, tmp_path):
    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": f"unix://{tmp_path}/nothing.sock"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert any("redis unreachable" in reason for reason in response.json["reasons"])


def test_unknown_page_is_a_friendly_html_page(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.content_type
    body = response.get_data(as_text=True)
    # A short heading that says what happened (also the tab's title); the sentence below says what to do.
    assert "<h1>Pagina niet gevonden</h1>" in body and "<title>Pagina niet gevonden · Loketlijn</title>" in body
    assert "<p>Deze pagina bestaat niet (meer).</p>" in body
    english = client.get("/no-such-page?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<h1>Page not found</h1>" in english


def test_unknown_api_path_is_json_in_the_one_shape(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["code"] == 404
    assert response.json["status"] == "Not Found"
    assert response.json["message"]


def test_english_on_request_and_remembered(client):
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in client.get("/login").get_data(as_text=True)
    assert "Inloggen" in client.get("/login?lang=nl").get_data(as_text=True)


def test_unexpected_error_shows_no_trace(app, client, caplog):
    caplog.set_level(logging.INFO)

    @app.get("/boom")
    def boom():
        number = "06" + "12345678"  # built at run time, as personal data would be
        raise RuntimeError(f"secret {number}")

    response = client.get("/boom", headers={"Accept": "text/html"})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "0612345678" not in body
    assert "<h1>Er ging iets mis</h1>" in body
    request_lines = [r for r in caplog.records if r.name == "loketlijn.request"]
    assert [(r.levelname, json.loads(r.getMessage())["level"]) for r in request_lines] == [("ERROR", "error")]
    assert "0612345678" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_metrics_need_the_token(app, client):
    app.config["METRICS_TOKEN"] = "scrape-me"
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert "log in als beheerder, of geef METRICS_TOKEN mee als Bearer-token" in refused.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    assert 'loketlijn_queue_jobs{queue="notices",state="queued"} 0.0' in response.get_data(as_text=True)


def test_metrics_count_queued_jobs(app, client, login):
    from rq import Queue

    from routing.extensions import get_redis

    Queue("notices", connection=get_redis()).enqueue("builtins.print")
    login(client, "admin")
    body = client.get("/metrics").get_data(as_text=True)
    assert 'loketlijn_queue_jobs{queue="notices",state="queued"} 1.0' in body


def test_each_request_logs_one_json_line_with_its_route_never_its_path(client, caplog):
    caplog.set_level(logging.INFO, logger="loketlijn.request")
    client.get("/l/utrecht/terugbellen/TB-7KQ4/intrekken?t=withdraw-secret")
    client.get("/healthz")  # probes are not logged
    client.get("/static/loketlijn.css")  # nor a stylesheet served, only a missing one
    client.get("/static/missing.css")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "loketlijn.request"]
    assert [line["status"] for line in lines] == [404, 404] and lines[1]["route"] == "/static/<path:filename>"
    lines = lines[:1]
    line = lines[0]
    assert (line["event"], line["method"], line["status"]) == ("request", "GET", 404)
    assert line["route"] == "/l/<location_id>/terugbellen/<reference>/intrekken"
    assert line["timestamp"].endswith("Z") and isinstance(line["ms"], float)
    assert "TB-7KQ4" not in caplog.text and "withdraw-secret" not in caplog.text


def test_the_start_page_says_what_waits_behind_each_card(app, login, redis):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from routing.callbacks import service

    staff, partner = app.test_client(), app.test_client()
    login(staff, "staff", locations=("utrecht",))
    login(partner, "partner", partner="uwv")
    assert "Geen open verzoeken" in staff.get("/").get_data(as_text=True)
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))  # staffed: open at once
    for number in ("+31611111111", "+31622222222"):
        service.create_request(redis, service.Intake(location="utrecht", phone=number, channel="web"), now=monday)
    home = staff.get("/").get_data(as_text=True)
    assert '<span class="badge badge--warn">2 open verzoeken</span>' in home
    assert "2 open requests" in staff.get("/?lang=en").get_data(as_text=True)
    assert "Geen open overdrachten" in partner.get("/").get_data(as_text=True)


def test_the_menu_offers_only_what_the_account_may_open(app, login):
    staff, partner = app.test_client(), app.test_client()
    login(staff, "staff", locations=("utrecht",))
    login(partner, "partner", partner="uwv")  # UWV holds no counter: no worklist, no directory search
    for client, shown, hidden in ((staff, ("/directory/", "/loket/terugbelverzoeken", "/overdrachten"), ()),
                                  (partner, ("/overdrachten",), ("/directory/", "/loket/terugbelverzoeken"))):
        home = client.get("/").get_data(as_text=True)
        for path in shown:
            assert f'href="{path}"' in home
        for path in hidden:
            assert f'href="{path}"' not in home


def test_the_figures_and_the_audit_log_are_in_the_menu_for_who_may_read_them(app, login):
    """A coordinator or privacy officer reaches the audit log and the figures from every page, not by knowing
    their addresses; loket staff the figures of their locations."""
    figures, audit_log = "/loket/terugbelverzoeken/cijfers", "/logboek"
    coordinator, staff, partner = app.test_client(), app.test_client(), app.test_client()
    login(coordinator, "coordinator")
    login(staff, "staff", locations=("utrecht",))
    login(partner, "partner", partner="uwv")
    for client, shown, hidden in ((coordinator, (figures, audit_log), ()), (staff, (figures,), (audit_log,)),
                                  (partner, (), (figures, audit_log))):
        for page in ("/", "/overdrachten"):
            menu = client.get(page).get_data(as_text=True).split('class="main-nav"')[1].split("</nav>")[0]
            assert all(f'href="{path}"' in menu for path in shown), (page, menu)
            assert not any(f'href="{path}"' in menu for path in hidden), (page, menu)
        home = client.get("/").get_data(as_text=True)
        assert home.count(f'href="{audit_log}"') == (2 if audit_log in shown else 0)  # the menu and a card


def test_production_does_not_guess_a_redis(monkeypatch):
    from cryptography.fernet import Fernet

    monkeypatch.delenv("REDIS_URL", raising=False)
    for name, value in {"SECRET_KEY": "s" * 40, "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                        "PSEUDONYM_KEY": "p" * 40, "REDIS_PERSISTENT": "1",
                        "PUBLIC_BASE_URL": "https://loketlijn.example.nl", "SMTP_HOST": "smtp.example.nl",
                        "MAIL_FROM": "Loketlijn <noreply@example.nl>"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as refused:
        create_app({"LOKETLIJN_ENV": "production"})
    assert "REDIS_URL is not set; production does not guess redis://127.0.0.1:6379/0" in str(refused.value)


def test_readyz_refuses_a_redis_that_keeps_nothing_though_redis_persistent_says_it_does(private_redis):
    # The operator's REDIS_PERSISTENT=1 was believed: a Redis without an append-only file or save points then
    # lost every request at its next restart.
    private_redis.start()  # as tests start theirs: --save "" --appendonly no
    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": private_redis.url, "REDIS_PERSISTENT": True})
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["reasons"] == [
        "redis keeps nothing on disk (appendonly no, no save points), though REDIS_PERSISTENT=1 says it does: a "
        "restart loses every request (see docs/deploy.md)"]
    with private_redis.client() as r:
        r.config_set("appendonly", "yes")
        assert client.get("/readyz").status_code == 200
        r.config_set("maxmemory", "100mb")
        r.config_set("maxmemory-policy", "volatile-lru")  # our keys all have TTLs: this one may take them
        response = client.get("/readyz")
        assert response.status_code == 503 and "maxmemory-policy volatile-lru" in response.json["reasons"][0]
        r.config_set("maxmemory-policy", "noeviction")
        assert client.get("/readyz").status_code == 200
        r.config_set("appendonly", "no")  # as it started: its stop does not wait for an append-only file


def test_readyz_does_not_ask_a_redis_nobody_said_keeps_data(private_redis):
    private_redis.start()
    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": private_redis.url})  # REDIS_PERSISTENT off
    assert app.test_client().get("/readyz").status_code == 200
