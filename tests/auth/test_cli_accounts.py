"""Operators' account commands: remove a leaver's account, list API keys, and only a person's roles offered
for people. Errors are one line, without a traceback."""

from __future__ import annotations

import json

from conftest import TEST_PASSWORD

from routing.auth import service
from routing.extensions import get_redis
from routing.privacy import audit
from routing.store import users as store

PASSWORD = "a-long-enough-password\n"


def one_line_error(result, *words: str) -> None:
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output  # handled, not a crash
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], result.output


def test_users_add_offers_only_the_roles_a_person_can_have(app):
    runner = app.test_cli_runner()
    help_text = runner.invoke(args=["users", "add", "--help"]).output
    assert "[staff|partner|coordinator|admin]" in help_text and "kiosk" not in help_text
    kiosk = runner.invoke(args=["users", "add", "k@example.org", "--role", "kiosk", "--location", "utrecht"],
                          input=PASSWORD)
    one_line_error(kiosk, "kiosk", "API keys")
    assert store.get_user(get_redis(), "k@example.org") is None
    # API keys still offer kiosk.
    assert "kiosk" in runner.invoke(args=["apikeys", "create", "--help"]).output


def test_users_remove_ends_login_and_session_and_keeps_the_audit_records(app, client, login, redis):
    email = login(client, "coordinator")
    assert client.get("/api/v1/audit/TB-AAAA").status_code == 200  # logged in (and remembered by the cache)
    account = service.principal_for_user(redis, email)
    audit.record(redis, action="callback.view", activity="callbacks", actor=account.id, subject=None,
                 reference="TB-LEFT")
    result = app.test_cli_runner().invoke(args=["users", "remove", email.upper(), "--yes"])
    assert result.exit_code == 0, result.output
    assert account.id in result.output
    assert store.get_user(redis, email) is None
    assert email not in app.test_cli_runner().invoke(args=["users", "list"]).output
    # The open session no longer counts (at once in this process), and the password no longer logs in.
    assert client.get("/api/v1/audit/TB-AAAA").status_code == 401
    assert client.get("/notices/failed").status_code == 302
    assert service.authenticate(redis, email, TEST_PASSWORD) is None
    assert client.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 401
    # What they did stays in the audit log, under their id.
    [kept] = audit.for_reference(redis, "TB-LEFT")
    assert kept["attributes"]["loketlijn.actor"] == account.id


def test_a_session_belongs_to_its_account_not_to_a_later_one_with_the_same_address(app, client, login, redis):
    email = login(client, "coordinator")
    assert client.get("/api/v1/audit/TB-AAAA").status_code == 200
    assert app.test_cli_runner().invoke(args=["users", "remove", email, "--yes"]).exit_code == 0
    # The address is given to someone else (a new account, a new id): the old browser is not logged in as them.
    service.add_user(redis, email, "another-password-5678", "coordinator", [], None, actor="test")
    assert client.get("/api/v1/audit/TB-AAAA").status_code == 401


def test_users_remove_asks_first(app, make_user, redis):
    email = make_user("staff", ("utrecht",))
    runner = app.test_cli_runner()
    declined = runner.invoke(args=["users", "remove", email], input="n\n")
    assert declined.exit_code != 0 and "Remove " + email in declined.output
    assert store.get_user(redis, email) is not None
    confirmed = runner.invoke(args=["users", "remove", email], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert store.get_user(redis, email) is None


def test_users_remove_of_an_unknown_account_is_one_line(app, make_user, redis):
    other = make_user("staff", ("utrecht",))
    result = app.test_cli_runner().invoke(args=["users", "remove", "nobody@example.org", "--yes"])
    one_line_error(result, "nobody@example.org")
    assert store.get_user(redis, other) is not None  # nobody else removed


def test_apikeys_list_shows_what_revoke_needs_and_never_the_key(app, redis):
    runner = app.test_cli_runner()
    door = runner.invoke(args=["apikeys", "create", "door", "--role", "kiosk", "--location", "utrecht",
                               "--location", "enschede"])
    portal = runner.invoke(args=["apikeys", "create", "portal", "--role", "coordinator"])
    assert door.exit_code == portal.exit_code == 0, door.output + portal.output
    secrets = [made.stdout.strip().splitlines()[0] for made in (door, portal)]
    ids = [made.stderr.split("key id ")[1].split()[0] for made in (door, portal)]

    listed = runner.invoke(args=["apikeys", "list"])
    assert listed.exit_code == 0, listed.output
    # By name: both were made within the same second.
    rows = sorted((line.split("\t") for line in listed.output.splitlines()), key=lambda row: row[1])
    assert [row[:4] for row in rows] == [[ids[0], "door", "kiosk", "enschede,utrecht"],
                                         [ids[1], "portal", "coordinator", "-"]]
    assert all(row[4].endswith("+00:00") for row in rows)  # created, UTC
    for secret in secrets:
        assert secret not in listed.output and service.key_digest(secret) not in listed.output

    assert runner.invoke(args=["apikeys", "revoke", ids[0]]).exit_code == 0
    assert [line.split("\t")[0] for line in runner.invoke(args=["apikeys", "list"]).output.splitlines()] == [ids[1]]


def test_apikeys_list_without_keys_says_so_on_stderr(app):
    """Standard output stays a clean list for scripts (empty); the person at the terminal is told why."""
    result = app.test_cli_runner().invoke(args=["apikeys", "list"])
    assert result.exit_code == 0 and result.stdout == ""
    assert "No API keys yet" in result.stderr


def test_apikeys_create_needs_a_name_that_tells_the_key_apart(app, redis):
    runner = app.test_cli_runner()
    for empty in ("", "   "):
        result = runner.invoke(args=["apikeys", "create", empty, "--role", "coordinator"])
        one_line_error(result, "give the key a name")
        assert service.API_KEY_PREFIX not in result.output  # no key printed
    assert store.list_api_keys(redis) == []

    first = runner.invoke(args=["apikeys", "create", "kiosk-hal", "--role", "kiosk", "--location", "utrecht"])
    assert first.exit_code == 0, first.output
    key_id = first.stderr.split("key id ")[1].split()[0]
    # The same name again, in other case or with spaces around it: refused, naming the key that has it.
    again = runner.invoke(args=["apikeys", "create", " Kiosk-Hal ", "--role", "kiosk", "--location", "utrecht"])
    one_line_error(again, key_id, "'kiosk-hal'", f"apikeys revoke {key_id}")
    assert [record["name"] for record in store.list_api_keys(redis)] == ["kiosk-hal"]
    # Once that key is revoked, its name is free again.
    assert runner.invoke(args=["apikeys", "revoke", key_id]).exit_code == 0
    reused = runner.invoke(args=["apikeys", "create", "kiosk-hal", "--role", "kiosk", "--location", "utrecht"])
    assert reused.exit_code == 0, reused.output


def test_account_and_key_changes_are_in_the_audit_log(app, client, login, redis):
    """Who gave whom access, or took it away: each command is an audit record naming the account or key by its id
    (no e-mail address, password or key), in the export and on the Logboek."""
    runner = app.test_cli_runner()
    email = "nieuw@example.org"
    assert runner.invoke(args=["users", "add", email, "--role", "staff", "--location", "utrecht"],
                         input=PASSWORD).exit_code == 0
    account_id = store.get_user(redis, email)["id"]
    runner.invoke(args=["users", "add", email, "--role", "staff", "--location", "enschede"], input=PASSWORD)
    runner.invoke(args=["users", "add", email, "--role", "staff", "--location", "enschede"],
                  input="another-long-password\n")
    created = runner.invoke(args=["apikeys", "create", "kiosk-utrecht-hal", "--role", "kiosk", "--location", "utrecht"])
    key = created.stdout.strip()
    [key_record] = store.list_api_keys(redis)
    assert runner.invoke(args=["apikeys", "revoke", key_record["id"]]).exit_code == 0
    assert runner.invoke(args=["users", "remove", email, "--yes"]).exit_code == 0
    # What did not change is not recorded.
    runner.invoke(args=["apikeys", "revoke", key_record["id"]])
    runner.invoke(args=["users", "remove", email, "--yes"])

    exported = runner.invoke(args=["audit", "export"]).stdout
    records = [json.loads(line) for line in exported.splitlines() if line.startswith("{")]
    account, api_key = f"user:{account_id}", f"apikey:{key_record['id']}"
    assert [(r["name"], r["attributes"]["loketlijn.target"]) for r in records] == [
        ("account.create", account), ("account.update", account), ("account.update.password", account),
        ("apikey.create", api_key), ("apikey.revoke", api_key), ("account.remove", account)]
    for record in records:
        assert record["attributes"]["loketlijn.actor"] == "cli" and record["status_code"] == "STATUS_CODE_OK"
        assert record["attributes"]["dpl.core.processing_activity_id"] == "loketlijn-beheer"
        assert record["attributes"]["dpl.core.data_subject_id"] is None
    for secret in (email, "a-long-enough-password", "another-long-password", key, service.key_digest(key)):
        assert secret not in exported

    coordinator = login(client, "coordinator")
    page = client.get("/logboek").get_data(as_text=True)
    assert "API-sleutel ingetrokken <small><code>apikey.revoke</code></small>" in page
    assert "Nieuw wachtwoord voor een account; de sessies ervan zijn beëindigd" in page
    assert f"<td>{api_key}</td>" in page  # revoked: its name is gone with it
    assert "Een beheerder, met een opdracht op de server <small>(cli)</small>" in page
    # Newest first; an account still there by its address (the login fixture's own account is the newest).
    assert page.index("account.create") < page.index("account.remove") < page.index("apikey.create")
    coordinator_id = store.get_user(redis, coordinator)["id"]
    assert f"{coordinator} <small>(user:{coordinator_id})</small>" in page
