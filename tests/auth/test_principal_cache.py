"""Who a key or session belongs to is remembered for AUTH_CACHE_SECONDS per process: a change made in
this process counts at once, one made elsewhere (another gunicorn worker, the CLI) within that time."""

from __future__ import annotations

import pytest
from conftest import TEST_PASSWORD, MonotonicClock

from routing.auth import cache, service
from routing.extensions import get_redis
from routing.store import users as store


@pytest.fixture
def clock(app) -> MonotonicClock:
    clock = MonotonicClock()
    app.extensions[cache.EXTENSION] = cache.PrincipalCache(app.config["AUTH_CACHE_SECONDS"], timer=clock)
    return clock


def locations(client, headers) -> int:
    return client.get("/api/v1/locations", headers=headers).status_code


def test_a_key_revoked_elsewhere_stops_working_after_the_cache_time(app, client, clock):
    with app.app_context():
        key, record = service.create_api_key(get_redis(), "kiosk", "coordinator", [], actor="test")
    headers = {"Authorization": f"Bearer {key}"}
    assert locations(client, headers) == 200
    with app.app_context():  # what `apikeys revoke` in another process does to Redis
        store.revoke_api_key(get_redis(), record["id"])
    assert locations(client, headers) == 200  # this process still remembers the key
    clock.now += app.config["AUTH_CACHE_SECONDS"] + 1
    assert locations(client, headers) == 401


def test_a_key_revoked_in_this_process_stops_at_once(app, client, clock):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["apikeys", "create", "portal", "--role", "coordinator"])
    headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[0]}"}
    assert locations(client, headers) == 200
    key_id = created.stderr.split("key id ")[1].split()[0]
    assert runner.invoke(args=["apikeys", "revoke", key_id]).exit_code == 0
    assert locations(client, headers) == 401


def test_a_changed_role_counts_at_once_in_this_process(app, client, clock, login):
    email = login(client, "coordinator")
    assert client.get("/api/v1/audit/TB-AAAA").status_code == 200  # coordinators may read the audit log
    with app.app_context():
        # The same password: the session goes on, with the new role (a new password would end it).
        service.add_user(get_redis(), email, TEST_PASSWORD, "staff", ["utrecht"], actor="test")
    assert client.get("/api/v1/audit/TB-AAAA").status_code == 403


def test_an_unknown_key_is_not_remembered(app, client, clock):
    headers = {"Authorization": "Bearer ll_not-a-key"}
    assert locations(client, headers) == 401
    assert len(app.extensions[cache.EXTENSION]._entries) == 0


def test_zero_seconds_turns_the_cache_off(app, client):
    app.extensions[cache.EXTENSION] = cache.PrincipalCache(0)
    with app.app_context():
        key, record = service.create_api_key(get_redis(), "kiosk", "coordinator", [], actor="test")
        headers = {"Authorization": f"Bearer {key}"}
        assert locations(client, headers) == 200
        store.revoke_api_key(get_redis(), record["id"])
    assert locations(client, headers) == 401


def test_a_login_after_a_logout_elsewhere_is_not_refused_for_what_this_process_remembers(
        app, client, clock, make_user):
    """Another web process handled the logout: this one still remembers the account's old session generation
    for a few seconds, but a login made after the logout is newer than that: the account is read again."""
    email = make_user("coordinator")
    assert client.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 302
    assert locations(client, {}) == 200  # this process now remembers the account
    with app.app_context():  # what a logout handled by another process does to Redis
        principal = service.principal_for_user(get_redis(), email)
        store.end_sessions(get_redis(), email, principal.id)
    again = app.test_client()
    assert again.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 302
    assert locations(again, {}) == 200  # newer than what this process remembered: read again, not refused
    assert locations(client, {}) == 401  # and the old session, now that the account was read again


def test_a_login_after_the_account_was_added_again_elsewhere_is_not_refused(app, client, clock, make_user):
    """`users remove` and `users add` in another process give the account a new id: a login made after that
    belongs to the new account, whatever this process still remembers of the old one."""
    email = make_user("coordinator")
    assert client.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 302
    assert locations(client, {}) == 200  # this process now remembers the account
    with app.app_context():  # what the CLI in another process does to Redis
        record = store.get_user(get_redis(), email)
        store.remove_user(get_redis(), email)
        store.save_user(get_redis(), {**record, "id": "a-new-account"})
    again = app.test_client()
    assert again.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 302
    assert locations(again, {}) == 200
    assert locations(client, {}) == 401  # the old account's session does not carry over
