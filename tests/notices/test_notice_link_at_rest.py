"""A notice's link (a partner link `/o/<token>` stands in for a login) is never readable at rest: it is
encrypted until the notice has no more use for it, then deleted; the message itself still carries it."""

from __future__ import annotations

import secrets

import pytest
from cryptography.fernet import Fernet

from routing.notices import service
from routing.notices.service import Recipient, create_notice
from routing.privacy import crypto
from routing.store import notices as store
from workers.channels.base import PermanentError, TransientError
from workers.jobs import send_notice

PHONE = "+31612345678"
EMAIL = "partner@example.org"


@pytest.fixture
def partner_link() -> tuple[str, str]:
    """(link, token) as routing.handovers makes them."""
    token = secrets.token_urlsafe(32)
    return f"http://localhost/o/{token}", token


def readable(redis, pattern: str = "*") -> bytes:
    """Everything Redis holds under the pattern, as a backup would read it (values, fields, members)."""
    parts: list[bytes] = []
    for key in redis.scan_iter(match=pattern):
        parts.append(key)
        kind = redis.type(key)
        if kind == b"hash":
            for field, value in redis.hgetall(key).items():
                parts += [field, value]
        elif kind == b"string":
            parts.append(redis.get(key))
        elif kind == b"list":
            parts += redis.lrange(key, 0, -1)
        elif kind == b"set":
            parts += redis.smembers(key)
        elif kind == b"zset":
            parts += redis.zrange(key, 0, -1)
        elif kind == b"stream":
            parts += [repr(entry).encode() for entry in redis.xrange(key)]
    return b"\n".join(parts)


def assert_not_readable(redis, nid: str, token: str) -> None:
    notice_keys = readable(redis, "ll:notice:*") + readable(redis, "ll:notices:*")
    assert nid.encode() in notice_keys  # the notice is there ...
    assert b"/o/" not in notice_keys  # ... without its link
    assert token.encode() not in readable(redis)  # nor is the token anywhere else


def test_the_link_is_encrypted_until_sent_and_gone_after(app, redis, channels, run_jobs, notice_context,
                                                         partner_link):
    link, token = partner_link
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context(link=link))
    assert_not_readable(redis, nid, token)
    stored = store.get(redis, nid)
    assert crypto.decrypt(stored["link"]) == link and "link" not in stored["context"]
    run_jobs()
    (sms,) = channels["sms"].sent
    assert link in sms.text  # the partner still gets a working link
    stored = store.get(redis, nid)
    assert stored["state"] == "sent" and "link" not in stored and "recipient" not in stored
    assert_not_readable(redis, nid, token)


def test_retries_and_the_next_channel_still_render_the_link(app, redis, channels, run_jobs, clock,
                                                            notice_context, partner_link):
    link, token = partner_link
    channels["sms"].errors = [TransientError("twilio:20429"), PermanentError("twilio:21211")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE, email=EMAIL), notice_context(link=link))
    run_jobs()
    assert store.get(redis, nid)["state"] == "created" and "link" in store.get(redis, nid)  # kept for the retry
    assert_not_readable(redis, nid, token)
    clock.advance(hours=1)
    send_notice(nid)  # the retry fails for good on SMS: on to e-mail
    run_jobs()
    (mail,) = channels["email"].sent
    assert link in mail.text and link in mail.html
    assert "link" not in store.get(redis, nid)
    assert_not_readable(redis, nid, token)


def test_a_failed_receipt_moves_on_with_the_link_and_delivered_forgets_it(app, redis, channels, run_jobs,
                                                                          notice_context, partner_link):
    link, token = partner_link
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE, email=EMAIL), notice_context(link=link))
    run_jobs()
    stored = store.get(redis, nid)
    assert stored["state"] == "sent" and "link" in stored  # SMS may still bounce to e-mail
    assert service.record_receipt(redis, stored["provider_id"], "undelivered", False, "twilio:30006",
                                  service.utcnow())
    run_jobs()
    (mail,) = channels["email"].sent
    assert link in mail.text
    assert "link" not in store.get(redis, nid)

    other = create_notice(redis, "handover_new", Recipient(sms=PHONE, email=EMAIL), notice_context(link=link))
    run_jobs()
    assert service.record_receipt(redis, store.get(redis, other)["provider_id"], "delivered", False, "",
                                  service.utcnow())
    stored = store.get(redis, other)
    assert stored["state"] == "delivered" and "link" not in stored and "recipient" not in stored
    assert_not_readable(redis, other, token)


def test_a_failed_notice_keeps_what_the_failed_page_needs_and_not_the_link(app, redis, channels, run_jobs,
                                                                          client, login, notice_context,
                                                                          partner_link):
    link, token = partner_link
    app.config["NOTICE_FAILED_EMAIL"] = "coordinator@example.org"
    channels["sms"].errors = [PermanentError("twilio:21610")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context(link=link))
    run_jobs()
    stored = store.get(redis, nid)
    assert stored["state"] == "failed" and "link" not in stored and "recipient" not in stored
    assert_not_readable(redis, nid, token)
    (told,) = channels["email"].sent  # the escalation has a link of its own, to the failed list
    assert "http://localhost/notices/failed" in told.text and token not in told.text
    [failed] = service.failed_notices(redis)
    assert (failed.id, failed.reference, failed.location) == (nid, "HO-7K3P", "Utrecht")
    login(client, "coordinator")
    page = client.get("/notices/failed").get_data(as_text=True)
    assert "HO-7K3P" in page and "Adres werkt niet" in page and token not in page


def test_keys_rotate_reencrypts_the_link(app, redis, channels, run_jobs, notice_context, partner_link):
    link, token = partner_link
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context(link=link))
    before = store.get(redis, nid)["link"]
    old_key = app.config["ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()
    app.config["ENCRYPTION_KEYS"] = f"{new_key},{old_key}"
    app.extensions.pop("fernet", None)
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    after = store.get(redis, nid)["link"]
    assert after != before
    app.config["ENCRYPTION_KEYS"] = new_key  # the old key is gone now
    app.extensions.pop("fernet", None)
    assert Fernet(new_key.encode()).decrypt(after.encode()).decode() == link
    run_jobs()
    (sms,) = channels["sms"].sent
    assert link in sms.text
    assert_not_readable(redis, nid, token)
