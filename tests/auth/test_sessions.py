"""A login's session is a signed cookie the browser keeps: a copy of it must stop working when the login ends
(logout, a new password) and after LOGIN_MAX_HOURS, whoever holds it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import TEST_PASSWORD

from routing.auth import service
from routing.extensions import get_redis

PAGE = "/directory/"  # a staff page: a session that does not count is sent to the login page
START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def pin_now(monkeypatch):
    """pin_now(moment): logins start and age by this clock."""

    def pin(moment: datetime) -> None:
        monkeypatch.setattr(service, "clock", lambda: moment)

    pin(START)
    return pin


def copy_of(app, client):
    """Another browser with a copy of this one's session cookie (a stolen or left-behind cookie)."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    return other


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def login_page(client) -> str:
    return client.get("/login").get_data(as_text=True)


def test_a_session_copied_before_logout_is_refused_after_it(app, client, login, pin_now):
    login(client, "staff")
    thief = copy_of(app, client)
    assert thief.get(PAGE).status_code == 200
    assert sent_to_login(client.post("/logout"))
    assert "U bent uitgelogd. Was u met dit account ook op een ander apparaat ingelogd?" in login_page(client)
    assert sent_to_login(thief.get(PAGE))
    assert thief.get("/api/v1/locations").status_code == 401
    assert "U bent uitgelogd omdat u met dit account op een ander apparaat bent uitgelogd" in login_page(thief)


def test_logout_ends_the_accounts_other_sessions_too_and_a_new_login_works(app, client, make_user, pin_now):
    email = make_user("staff")
    desk, laptop = app.test_client(), app.test_client()
    for browser in (desk, laptop):
        assert browser.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 302
    desk.post("/logout")
    assert sent_to_login(laptop.get(PAGE))
    assert laptop.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 302
    assert laptop.get(PAGE).status_code == 200


def test_a_new_password_ends_the_old_sessions(app, client, login, pin_now):
    email = login(client, "staff")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "add", email, "--role", "staff", "--location", "amsterdam-centrum"],
                           input="a-brand-new-password\n")
    assert result.exit_code == 0, result.output
    assert sent_to_login(client.get(PAGE))
    assert "omdat uw wachtwoord is veranderd" in login_page(client)
    assert client.post("/login", data={"email": email, "password": "a-brand-new-password"}).status_code == 302
    assert client.get(PAGE).status_code == 200


def test_the_same_password_again_keeps_the_sessions(app, client, login, pin_now):
    """`users add` for a new role or scope with the password unchanged: the session goes on with it."""
    email = login(client, "staff")
    service.add_user(get_redis(), email, TEST_PASSWORD, "staff", ["utrecht"], actor="test")
    assert client.get(PAGE).status_code == 200


def test_a_login_ends_after_login_max_hours(app, client, login, pin_now):
    assert app.config["LOGIN_MAX_HOURS"] == 12
    login(client, "staff")
    pin_now(START + timedelta(hours=12))
    assert client.get(PAGE).status_code == 200  # a working day still counts
    pin_now(START + timedelta(hours=12, seconds=1))
    assert sent_to_login(client.get(PAGE))
    assert "U bent uitgelogd omdat u langer dan 12 uur geleden bent ingelogd. Log opnieuw in." in login_page(client)
    assert "U bent uitgelogd" not in login_page(client)  # told once


def test_the_reason_is_told_in_english_too(app, client, login, pin_now):
    login(client, "staff")
    pin_now(START + timedelta(hours=13))
    client.get(PAGE)
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "You were logged out because you logged in more than 12 hours ago. Please log in again." in english


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_HOURS": 1}])
def test_login_max_hours_is_a_setting(app, client, login, pin_now):
    login(client, "staff")
    pin_now(START + timedelta(minutes=61))
    assert client.get("/api/v1/locations").status_code == 401
    assert "langer dan 1 uur geleden" in login_page(client)


@pytest.mark.parametrize("value", ["0", "twelve", "1000"])
def test_a_login_max_hours_that_cannot_work_is_named_at_start(monkeypatch, redis_url, value):
    from routing import create_app

    monkeypatch.setenv("LOGIN_MAX_HOURS", value)
    with pytest.raises(SystemExit) as refused:
        create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url})
    assert f"LOGIN_MAX_HOURS={value!r}" in str(refused.value)


def test_a_removed_account_is_not_brought_back_by_a_logout(app, client, login, redis, pin_now):
    email = login(client, "staff")
    thief = copy_of(app, client)
    service.remove_user(get_redis(), email, actor="test")
    thief.post("/logout")
    assert not redis.exists(f"ll:user:{email}")


def test_logout_keeps_the_language(app, client, login, pin_now):
    login(client, "staff")
    client.get("/login?lang=en")
    client.post("/logout")
    assert "You are logged out." in login_page(client)
