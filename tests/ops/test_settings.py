"""Settings are checked when a process starts, not when a user first hits them: every problem at once, one
line each, naming the setting; production also needs a real channel for notices (never the outbox)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from routing import create_app
from routing.notices.service import Recipient, create_notice
from routing.store import notices as store
from workers.channels import NOT_CONFIGURED, UnconfiguredChannel, channel_for
from workers.channels.outbox import OutboxChannel

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://loketlijn.example.nl"
PHONE = "+31612345678"
FERNET_KEY = Fernet.generate_key().decode()
SECRETS = {"SECRET_KEY": "s" * 40, "ENCRYPTION_KEYS": FERNET_KEY, "PSEUDONYM_KEY": "p" * 40,
           "REDIS_PERSISTENT": "1", "PUBLIC_BASE_URL": BASE}
TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "token",
          "TWILIO_FROM": "+3197010000000"}
SMTP = {"SMTP_HOST": "smtp.example.nl", "MAIL_FROM": "Loketlijn <noreply@example.nl>"}
# Everything these tests set; none may come in from the environment the tests run in.
SETTINGS = (*SECRETS, "LOKETLIJN_ENV", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_MESSAGING_SERVICE_SID",
            "TWILIO_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_SECURITY",
            "MAIL_FROM", "LOGIN_RATE_LIMIT", "AUTH_CACHE_SECONDS", "RATELIMIT_ENABLED", "CALLBACK_EXPIRE_AFTER",
            "CALLBACK_RATE_PHONE", "CALLBACK_RATE_IP", "CALLBACK_READ_RATE", "CALLBACK_ALLOWED_REGIONS",
            "HANDOVER_REMINDER_HOUR", "CALLBACK_SHARED_NETWORKS", "CALLBACK_RATE_SHARED_NETWORK")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


def start(redis_url, monkeypatch, env: str = "production", **settings: str):
    """create_app as a process starts it: its settings in the environment."""
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return create_app({"LOKETLIJN_ENV": env, "REDIS_URL": redis_url})


def refusal(redis_url, monkeypatch, env: str = "production", **settings: str) -> list[str]:
    """The problems a refused start names, one per line (the heading left out)."""
    with pytest.raises(SystemExit) as refused:
        start(redis_url, monkeypatch, env, **settings)
    heading, *lines = str(refused.value).splitlines()
    assert heading.startswith("Refusing to start")
    assert all(line.startswith("  - ") for line in lines)
    return [line.removeprefix("  - ") for line in lines]


# --- 1. production sends notices through a provider, never into the development outbox ---------------


def test_production_without_any_channel_refuses_to_start(redis_url, monkeypatch):
    # The operator's case: real secrets, the Twilio token (for the webhooks), no account SID, no SMTP.
    problems = refusal(redis_url, monkeypatch, **SECRETS, TWILIO_AUTH_TOKEN="token")
    assert len(problems) == 1
    assert problems[0].startswith("no channel for notices is configured")
    assert "TWILIO_ACCOUNT_SID" in problems[0] and "SMTP_HOST" in problems[0]


def test_twilio_for_the_webhooks_only_is_not_half_a_channel(redis_url, monkeypatch):
    # Account SID and token without a sender: Twilio serves citizens' messages and calls; e-mail sends notices.
    app = start(redis_url, monkeypatch, **SECRETS, **SMTP, TWILIO_ACCOUNT_SID="AC" + "0" * 32,
                TWILIO_AUTH_TOKEN="token")
    with app.app_context():
        assert isinstance(channel_for("sms"), UnconfiguredChannel)


@pytest.mark.parametrize(("half", "missing"), [
    ({"TWILIO_FROM": "+3197010000000"}, "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"),
    ({"TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32, "TWILIO_AUTH_TOKEN": "token"}, "TWILIO_ACCOUNT_SID"),
])
def test_production_refuses_half_configured_twilio(redis_url, monkeypatch, half, missing):
    # E-mail works, so the half Twilio is the only problem: it would fail every SMS and WhatsApp notice.
    problems = refusal(redis_url, monkeypatch, **SECRETS, **SMTP, **half)
    assert problems == [f"Twilio (SMS and WhatsApp) is half configured: missing {missing}; it needs "
                        "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM"]


@pytest.mark.parametrize(("half", "named"), [
    ({"SMTP_USERNAME": "loketlijn", "SMTP_PASSWORD": "secret"}, "SMTP_HOST"),
    ({"SMTP_HOST": "smtp.example.nl"}, "MAIL_FROM"),
    ({**SMTP, "SMTP_USERNAME": "loketlijn"}, "SMTP_PASSWORD"),
])
def test_production_refuses_half_configured_smtp(redis_url, monkeypatch, half, named):
    problems = refusal(redis_url, monkeypatch, **SECRETS, **TWILIO, **half)
    assert len(problems) == 1
    assert problems[0].startswith("SMTP (e-mail) is half configured") and named in problems[0]
    assert "secret" not in problems[0]


def test_production_names_every_problem_at_once(redis_url, monkeypatch):
    problems = refusal(redis_url, monkeypatch, **{**SECRETS, "SECRET_KEY": "x"}, TWILIO_FROM="+3197010000000",
                       SMTP_HOST="smtp.example.nl", AUTH_CACHE_SECONDS="5s")
    assert [p.split(" ")[0] for p in problems] == ["AUTH_CACHE_SECONDS='5s'", "SECRET_KEY", "Twilio", "SMTP"]


@pytest.mark.parametrize("channel", [TWILIO, SMTP], ids=["sms-only", "email-only"])
def test_production_with_one_channel_starts(redis_url, monkeypatch, channel):
    app = start(redis_url, monkeypatch, **SECRETS, **channel)
    with app.app_context():
        used = {name: channel_for(name) for name in ("sms", "whatsapp", "email")}
    assert not any(isinstance(c, OutboxChannel) for c in used.values())
    missing = ("email",) if channel is TWILIO else ("sms", "whatsapp")
    assert sorted(n for n, c in used.items() if isinstance(c, UnconfiguredChannel)) == sorted(missing)


PRODUCTION_EMAIL_ONLY = {"LOKETLIJN_ENV": "production", **SECRETS, "REDIS_PERSISTENT": True, **SMTP}


@pytest.mark.parametrize("app_config", [PRODUCTION_EMAIL_ONLY])
def test_production_notice_on_a_channel_without_provider_fails_visibly(app, redis, run_jobs, app_config):
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE),
                        {"reference": "HO-7K3P", "location": "Utrecht", "link": f"{BASE}/p/abc123"})
    run_jobs()
    stored = store.get(redis, nid)
    assert (stored["state"], stored["failure"], stored["error"]) == ("failed", "technical", NOT_CONFIGURED)
    assert store.outbox_list(redis) == []


def test_outside_production_the_outbox_is_still_used(app):
    assert all(isinstance(channel_for(name), OutboxChannel) for name in ("sms", "whatsapp", "email"))


# --- 2. invalid settings stop the start in every environment, each named ------------------------------


@pytest.mark.parametrize("env", ["development", "testing", "production"])
def test_invalid_settings_are_named_at_start_in_every_environment(redis_url, monkeypatch, env):
    secret_but_broken = "not-a-fernet-key-but-secret"
    keys = {"ENCRYPTION_KEYS": f"{FERNET_KEY},{secret_but_broken}"}  # the first key is fine
    problems = refusal(redis_url, monkeypatch, env, **{**SECRETS, **keys}, **SMTP, CALLBACK_RATE_PHONE="vijf per dag",
                       LOGIN_RATE_LIMIT="tien", CALLBACK_EXPIRE_AFTER="twee", AUTH_CACHE_SECONDS="5s")
    assert sorted(problems) == sorted([
        "AUTH_CACHE_SECONDS='5s' is not a whole number (default: 5)",
        "LOGIN_RATE_LIMIT='tien' is not a rate limit such as '10 per minute;50 per hour' "
        "(default: '10 per minute;50 per hour')",
        "CALLBACK_EXPIRE_AFTER='twee' is not a whole number (default: 14)",
        "CALLBACK_RATE_PHONE='vijf per dag' is not a rate limit such as '5 per day' (default: '5 per day')",
        "ENCRYPTION_KEYS: key 2 of 2 is not a Fernet key (44 characters of url-safe base64); generate one with "
        "`flask --app routing keys generate`",
    ])
    assert secret_but_broken not in "\n".join(problems)


@pytest.mark.parametrize(("name", "value", "says"), [
    ("CALLBACK_RATE_PHONE", "5 per day;20 per month", "holds 2 limits; this setting takes one"),
    ("CALLBACK_RATE_IP", "20 per uur", "is not a rate limit"),
    ("CALLBACK_READ_RATE", "600", "is not a rate limit"),
    ("RATELIMIT_ENABLED", "true", "is not 1 (on) or 0 (off) (default: '1')"),
    ("HANDOVER_REMINDER_HOUR", "24", "is out of range: use from 0 to 23"),
    ("CALLBACK_ALLOWED_REGIONS", "NL;BE", "holds codes that name no country (NL;BE)"),
    ("CALLBACK_SHARED_NETWORKS", "192.0.2.0/24, stadhuis", "holds something that is no network"),
    ("CALLBACK_RATE_SHARED_NETWORK", "200", "is not a rate limit"),
    ("SMTP_SECURITY", "tls", "is not one of starttls, ssl, none"),
    ("SMTP_PORT", "587a", "is not a port number"),
])
def test_each_kind_of_invalid_value_is_named(redis_url, monkeypatch, name, value, says):
    problems = refusal(redis_url, monkeypatch, "development", **{name: value})
    assert len(problems) == 1 and problems[0].startswith(f"{name}={value!r} {says}")


def test_valid_values_from_the_environment_are_used(redis_url, monkeypatch):
    app = start(redis_url, monkeypatch, "development", CALLBACK_EXPIRE_AFTER="7", AUTH_CACHE_SECONDS="0",
                CALLBACK_READ_RATE="600 per hour;20 per minute", LOGIN_RATE_LIMIT="3/minute",
                RATELIMIT_ENABLED="0", CALLBACK_ALLOWED_REGIONS="nl, be",
                CALLBACK_SHARED_NETWORKS="192.0.2.0/28, 2001:db8:5::/48")
    assert app.config["CALLBACK_EXPIRE_AFTER"] == 7 and app.config["AUTH_CACHE_SECONDS"] == 0
    assert app.config["CALLBACK_READ_RATE"] == "600 per hour;20 per minute"
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["CALLBACK_ALLOWED_REGIONS"] == ("NL", "BE")
    assert [str(net) for net in app.config["CALLBACK_SHARED_NETWORKS"]] == ["192.0.2.0/28", "2001:db8:5::/48"]


def test_production_refuses_a_short_secret_key(redis_url, monkeypatch):
    problems = refusal(redis_url, monkeypatch, **{**SECRETS, "SECRET_KEY": "x" * 31}, **SMTP)
    assert problems == ["SECRET_KEY is 31 characters long; use at least 32 random characters (see docs/deploy.md)"]


def test_unknown_environment_is_named_without_a_traceback(redis_url, monkeypatch):
    monkeypatch.setenv("LOKETLIJN_ENV", "prod")
    with pytest.raises(SystemExit) as refused:
        create_app({"REDIS_URL": redis_url})
    assert "LOKETLIJN_ENV='prod' is unknown" in str(refused.value)


# --- 3 and 4. the refusal is printed once; the command that makes the keys runs before they exist -----


def run(redis_url: str, *args: str, **settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(LOKETLIJN_ENV="production", REDIS_URL=redis_url, **settings)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_refusal_is_printed_once(redis_url):
    result = run(redis_url, "-c", "from routing import create_app; create_app()")
    assert result.returncode == 1
    assert result.stderr.count("Refusing to start in production") == 1
    assert result.stderr.count("SECRET_KEY is the development default") == 1
    assert "Traceback" not in result.stderr


def test_keys_generate_works_before_the_keys_exist(redis_url):
    made = run(redis_url, "-m", "flask", "--app", "routing", "keys", "generate", AUTH_CACHE_SECONDS="5s")
    assert made.returncode == 0, made.stderr
    Fernet(made.stdout.strip())  # a usable key, and nothing else on stdout
    # Every other command still refuses, once.
    rotate = run(redis_url, "-m", "flask", "--app", "routing", "keys", "rotate")
    assert rotate.returncode == 1
    assert rotate.stderr.count("Refusing to start in production") == 1


def test_development_commands_reach_the_redis_make_run_started(monkeypatch, tmp_path):
    """`flask --app routing users add ...` next to `make run` uses its embedded Redis, not one of the machine."""
    import socket

    from config import settings

    monkeypatch.delenv("REDIS_URL", raising=False)
    embedded = tmp_path / "redis.sock"
    monkeypatch.setattr(settings, "EMBEDDED_REDIS_SOCKET", embedded)
    assert settings.load("development")["REDIS_URL"] == settings.LOCAL_REDIS_URL  # make run is not running
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(embedded))
        assert settings.load("development")["REDIS_URL"] == f"unix://{embedded}"
        assert settings.load("production")["REDIS_URL"] == settings.LOCAL_REDIS_URL
        monkeypatch.setenv("REDIS_URL", "redis://redis.internal:6379/2")
        assert settings.load("development")["REDIS_URL"] == "redis://redis.internal:6379/2"
