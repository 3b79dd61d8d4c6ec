from conftest import TEST_PASSWORD

from routing.auth import service
from routing.extensions import get_redis


def test_login_page_then_session(client, make_user):
    email = make_user("coordinator")
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "next": "/healthz"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/healthz")
    assert email in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_with_a_plain_message(client, make_user):
    email = make_user("coordinator")
    response = client.post("/login", data={"email": email, "password": "wrong"})
    assert response.status_code == 401
    assert "horen niet bij elkaar" in response.get_data(as_text=True)
    assert email not in client.get("/").get_data(as_text=True)


def test_unknown_account_gets_the_same_answer(client):
    response = client.post("/login", data={"email": "nobody@example.org", "password": "whatever-it-is"})
    assert response.status_code == 401
    assert "horen niet bij elkaar" in response.get_data(as_text=True)


def test_missing_fields_are_named(client):
    response = client.post("/login", data={"email": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="#field-password"' in body


def test_open_redirect_is_refused(client, make_user):
    email = make_user("coordinator")
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD,
                                            "next": "//evil.example/"})
    assert "evil.example" not in response.headers["Location"]


def test_logout_ends_the_session(client, login):
    email = login(client, "coordinator")
    client.post("/logout")
    assert email not in client.get("/").get_data(as_text=True)


def test_password_is_stored_as_argon2(app, make_user, redis):
    email = make_user("admin")
    stored = redis.hget(f"ll:user:{email}", "password_hash").decode()
    assert stored.startswith("$argon2")
    assert TEST_PASSWORD not in stored


def test_api_key_is_stored_hashed_and_authenticates(app, redis):
    key, record = service.create_api_key(get_redis(), "kiosk", "coordinator", [], actor="test")
    dump = b"".join(redis.dump(k) or b"" for k in redis.keys("*"))
    assert key.encode() not in dump
    principal = service.principal_for_api_key(get_redis(), key)
    assert principal.role == "coordinator" and principal.kind == "apikey"
    assert service.principal_for_api_key(get_redis(), key + "x") is None


def test_cli_users_add_reads_password_from_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "new@example.org", "--role", "coordinator"],
                           input="a-long-enough-password\n")
    assert result.exit_code == 0, result.output
    assert service.authenticate(get_redis(), "new@example.org", "a-long-enough-password").role == "coordinator"


def test_cli_users_list_names_the_id_the_audit_log_uses(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "add", "loket@example.org", "--role", "staff", "--location", "utrecht"],
                  input="a-long-enough-password\n")
    principal = service.principal_for_user(get_redis(), "loket@example.org")
    line = next(x for x in runner.invoke(args=["users", "list"]).output.splitlines() if "loket@" in x)
    assert line.split("\t") == ["loket@example.org", "staff", "utrecht", principal.id]


def test_cli_refuses_staff_without_location(app):
    result = app.test_cli_runner().invoke(args=["users", "add", "x@example.org", "--role", "staff"],
                                          input="a-long-enough-password\n")
    assert result.exit_code != 0
    assert "location" in result.output


def test_cli_apikeys_create_prints_key_once(app):
    result = app.test_cli_runner().invoke(args=["apikeys", "create", "portal", "--role", "coordinator"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[0]
    assert key.startswith("ll_")
    assert service.principal_for_api_key(get_redis(), key) is not None


def test_kiosk_is_a_role_for_api_keys_of_a_location(app):
    runner = app.test_cli_runner()
    person = runner.invoke(args=["users", "add", "k@example.org", "--role", "kiosk", "--location", "utrecht"],
                           input="a-long-enough-password\n")
    assert person.exit_code != 0 and "API keys" in person.output
    assert runner.invoke(args=["apikeys", "create", "door", "--role", "kiosk"]).exit_code != 0
    made = runner.invoke(args=["apikeys", "create", "door", "--role", "kiosk", "--location", "utrecht"])
    assert made.exit_code == 0, made.output
    principal = service.principal_for_api_key(get_redis(), made.stdout.strip().splitlines()[0])
    assert principal.role == "kiosk" and principal.locations == {"utrecht"}


def test_login_is_throttled(redis_url, redis):
    from routing import create_app

    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "RATELIMIT_ENABLED": True,
                      "LOGIN_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    codes = [client.post("/login", data={"email": "a@example.org", "password": "x"}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_login_limits_count_an_ipv6_client_by_its_64_and_name_neither_address_nor_email(redis_url, redis, caplog,
                                                                                       capsys):
    import hashlib
    import logging

    from routing import create_app

    caplog.set_level(logging.DEBUG)
    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "RATELIMIT_ENABLED": True,
                      "LOGIN_RATE_LIMIT": "2 per minute"})
    client = app.test_client()

    def attempt(address: str, email: str) -> int:
        return client.post("/login", data={"email": email, "password": "x"},
                           environ_base={"REMOTE_ADDR": address}).status_code

    # Per address: three addresses of one /64 are one client; another /64 is another.
    codes = [attempt(f"2001:db8:5:6::{i}", f"person{i}@example.org") for i in (1, 2, 3)]
    assert codes == [401, 401, 429]
    assert attempt("2001:db8:5:7::1", "person4@example.org") == 401
    # Per e-mail address, whatever the address (and however it is typed).
    assert [attempt(f"192.0.2.{i}", email) for i, email in
            enumerate(["Target@Example.org", " target@example.org", "target@example.org"])] == [401, 401, 429]
    keys = b"\n".join(redis.keys("*")).lower()
    assert b"login-ip:" in keys and b"login-email:" in keys
    captured = capsys.readouterr()
    written = (caplog.text + captured.out + captured.err).lower()
    for secret in ("2001:db8:5:", "192.0.2.", "target@example.org", "person3@example.org"):
        assert secret.encode() not in keys, secret
        assert secret not in written, secret
    # No unkeyed digest of the e-mail address either.
    assert hashlib.sha256(b"target@example.org").hexdigest()[:32].encode() not in keys


def test_cli_apikeys_revoke_stops_the_key(app):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["apikeys", "create", "portal", "--role", "coordinator"])
    key = created.stdout.strip().splitlines()[0]
    key_id = created.stderr.split("key id ")[1].split()[0]
    assert runner.invoke(args=["apikeys", "revoke", key_id]).exit_code == 0
    assert service.principal_for_api_key(get_redis(), key) is None
    unknown = runner.invoke(args=["apikeys", "revoke", "nope"])
    assert unknown.exit_code != 0 and "no key with id nope" in unknown.output


def test_default_limits_still_apply_when_configured(redis_url, redis):
    """Loketlijn's limiter skips Flask-Limiter's per-request check only while no app-wide limits exist."""
    from routing import create_app
    from routing.extensions import limiter

    try:
        app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_DEFAULT": "2 per minute"})
        client = app.test_client()
        assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 429]
    finally:  # the limiter is one object for every app of this process: later apps must not inherit this
        limiter.limit_manager.set_default_limits([])


def test_rate_limit_headers_when_switched_on(redis_url, redis):
    """Loketlijn's limiter leaves out Flask-Limiter's after-request hook only while the headers are off."""
    from routing import create_app
    from routing.extensions import limiter

    def login_answer(headers_on: bool):
        # The limiter is one object for every app of this process and takes the setting from the first app
        # it serves: make it read this app's.
        limiter._headers_enabled = None
        app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_HEADERS_ENABLED": headers_on, "LOGIN_RATE_LIMIT": "5 per minute"})
        return app.test_client().post("/login", data={"email": f"{headers_on}@example.org", "password": "x"})

    try:
        assert "X-RateLimit-Limit" not in login_answer(False).headers
        shown = login_answer(True)
        assert shown.status_code == 401 and shown.headers["X-RateLimit-Limit"] == "5"
    finally:
        limiter._headers_enabled = False  # what every app here is configured with
