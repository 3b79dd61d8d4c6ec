"""Operator commands and Redis: an unreachable Redis is one line (its URL without the password) and exit 1, not
redis-py's traceback; `audit export --since` refuses what the audit stream cannot take or what is surely
milliseconds, instead of a traceback or a silent "0 records"."""

from __future__ import annotations

import json

import pytest

from routing import create_app
from routing.privacy import audit

UNREACHABLE = "redis://:s3cret@127.0.0.1:1/0"  # port 1: nothing listens, refused at once
COMMANDS = [
    ["users", "list"],
    ["users", "add", "someone@example.org", "--role", "admin"],
    ["users", "remove", "someone@example.org", "--yes"],
    ["users", "demo"],
    ["apikeys", "create", "kiosk-hal", "--role", "kiosk", "--location", "utrecht"],
    ["apikeys", "list"],
    ["apikeys", "revoke", "k-123"],
    ["keys", "rotate"],
    ["audit", "export"],
    ["audit", "export", "--since", "2026-11-01"],
]


@pytest.fixture
def unreachable_app():
    application = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": UNREACHABLE})
    with application.app_context():
        yield application


def the_one_error(application, args: list[str]) -> str:
    """Run a command that must fail in one line (exit 1, no traceback); that line."""
    result = application.test_cli_runner().invoke(args=args, input="a-long-enough-password\n")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output  # handled, not a crash
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_says_in_one_line_that_redis_does_not_answer(unreachable_app, args):
    error = the_one_error(unreachable_app, args)
    assert error.startswith("Error: Redis at redis://:***@127.0.0.1:1/0 does not answer: ")
    assert "s3cret" not in error


def test_making_a_key_needs_no_redis(unreachable_app):
    result = unreachable_app.test_cli_runner().invoke(args=["keys", "generate"])
    assert result.exit_code == 0 and len(result.output.strip()) == 44


@pytest.mark.parametrize(("since", "words"), [
    ("1764403200000", ["looks like epoch milliseconds", "(1764403200)"]),  # 2026-11-29 in milliseconds
    ("99999999999999999999999", ["looks like epoch milliseconds"]),
    ("0001-01-01", ["before 1970", "leave --since out"]),
    ("1969-12-31T23:59:59Z", ["before 1970"]),
    ("yesterday", ["ISO 8601", "epoch seconds"]),
])
def test_audit_export_names_what_is_wrong_with_since(app, redis, since, words):
    audit.record(redis, action="callback.view", activity="callbacks", actor="u-1", subject=None,
                 reference="TB-AAAA")
    result = app.test_cli_runner().invoke(args=["audit", "export", "--since", since])
    assert result.exit_code == 2, result.output  # a usage error: nothing was exported
    assert "Traceback" not in result.output and "--since" in result.output
    for word in words:
        assert word in result.output
    assert not [line for line in result.output.splitlines() if line.startswith("{")]


def test_audit_export_since_epoch_seconds_and_1970_still_work(app, redis):
    audit.record(redis, action="callback.view", activity="callbacks", actor="u-1", subject=None,
                 reference="TB-AAAA")
    runner = app.test_cli_runner()
    for since in ("0", "1970-01-01", "1000000000"):
        result = runner.invoke(args=["audit", "export", "--since", since])
        assert result.exit_code == 0, result.output
        assert [json.loads(line)["name"] for line in result.stdout.splitlines() if line.startswith("{")] == [
            "callback.view"]


@pytest.fixture
def development_without_redis(monkeypatch, tmp_path):
    """Development, no REDIS_URL, and no `make run` in this checkout (its socket absent)."""
    from config import settings

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(settings, "EMBEDDED_REDIS_SOCKET", tmp_path / "redis.sock")
    application = create_app({"LOKETLIJN_ENV": "development"})
    with application.app_context():
        yield application


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_in_development_a_command_never_guesses_a_redis(development_without_redis, args):
    error = the_one_error(development_without_redis, args)
    assert error.startswith("Error: no Redis: start `make run` in this checkout") and "or set REDIS_URL" in error


def test_the_web_process_and_key_generation_keep_working_without_a_redis_url(development_without_redis):
    # The web (or a worker) started by hand in development still falls back to the machine's Redis.
    from config import settings

    assert development_without_redis.config["REDIS_URL"] == settings.LOCAL_REDIS_URL
    assert development_without_redis.test_client().get("/healthz").status_code == 200
    assert development_without_redis.test_cli_runner().invoke(args=["keys", "generate"]).exit_code == 0


def test_a_redis_url_set_in_development_is_used_as_given(monkeypatch, development_without_redis):
    monkeypatch.setenv("REDIS_URL", UNREACHABLE)
    application = create_app({"LOKETLIJN_ENV": "development"})
    with application.app_context():
        result = application.test_cli_runner().invoke(args=["users", "list"])
    assert "Error: Redis at redis://:***@127.0.0.1:1/0 does not answer" in result.output  # no "no Redis"
