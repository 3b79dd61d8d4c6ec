"""Twilio's delivery receipts: signed with the official RequestValidator; final states never go backwards."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from routing.notices.service import Recipient, create_notice
from routing.store import notices as store
from workers.channels.base import PermanentError

TOKEN = "receipt-test-token"
PUBLIC = "https://loketlijn.example.org"
URL = PUBLIC + "/hooks/twilio/status"
PHONE = "+31612345678"


@pytest.fixture
def app_config():
    return {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": PUBLIC}


def post_receipt(client, sid, status, error_code=None, *, token=TOKEN, url=URL, signature=None):
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if error_code:
        form["ErrorCode"] = str(error_code)
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, form)
    # The app sits behind a proxy: it sees http://localhost, Twilio signed the public URL.
    return client.post("/hooks/twilio/status", data=form, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def sent(app, redis, channels, run_jobs, notice_context):
    def make(recipient=Recipient(sms=PHONE)) -> tuple[str, str]:
        nid = create_notice(redis, "handover_new", recipient, notice_context(link=PUBLIC + "/p/abc"))
        run_jobs()
        stored = store.get(redis, nid)
        assert stored["state"] == "sent"
        return nid, stored["provider_id"]

    return make


def test_delivered_receipt_finishes_the_notice(client, redis, sent):
    nid, sid = sent()
    assert post_receipt(client, sid, "delivered").status_code == 204
    stored = store.get(redis, nid)
    assert stored["state"] == "delivered" and "recipient" not in stored


@pytest.mark.parametrize("late", [("delivered", None), ("sent", None), ("queued", None), ("failed", 30006),
                                  ("undelivered", 30003)])
def test_late_and_duplicate_receipts_change_nothing(client, redis, sent, late):
    nid, sid = sent()
    post_receipt(client, sid, "delivered")
    before = store.get(redis, nid)
    assert post_receipt(client, sid, *late).status_code == 204
    assert store.get(redis, nid) == before


def test_undelivered_moves_to_the_next_channel(client, redis, channels, run_jobs, sent):
    nid, sid = sent(Recipient(sms=PHONE, email="partner@example.org"))
    post_receipt(client, sid, "undelivered", 30006)
    run_jobs()
    stored = store.get(redis, nid)
    assert (stored["state"], stored["channel"], stored["error"]) == ("sent", "email", "twilio:30006")
    assert [m.to for m in channels["email"].sent] == ["partner@example.org"]
    # The SMS's own receipt arriving again now is about a message that is no longer the current one.
    assert post_receipt(client, sid, "delivered").status_code == 204
    assert store.get(redis, nid)["state"] == "sent"


def test_undelivered_with_nothing_left_fails_temporary_or_permanent(client, redis, sent):
    nid, sid = sent()
    post_receipt(client, sid, "undelivered", 30003)
    assert (store.get(redis, nid)["state"], store.get(redis, nid)["failure"]) == ("failed", "temporary")
    nid, sid = sent()
    post_receipt(client, sid, "failed", 21610)
    assert store.get(redis, nid)["failure"] == "permanent"


def test_unknown_message_is_acknowledged_and_ignored(client, redis):
    assert post_receipt(client, "SM" + "9" * 32, "delivered").status_code == 204
    assert redis.keys("ll:notice:*") == []


@pytest.mark.parametrize("how", ["unsigned", "wrong token", "other url", "tampered"])
def test_receipts_without_a_valid_signature_are_refused(client, redis, sent, how):
    nid, sid = sent()
    kwargs = {
        "unsigned": {"signature": ""},
        "wrong token": {"token": "not-the-token"},
        "other url": {"url": "http://localhost/hooks/twilio/status"},
        "tampered": {"signature": RequestValidator(TOKEN).compute_signature(URL, {"MessageSid": sid})},
    }[how]
    assert post_receipt(client, sid, "delivered", **kwargs).status_code == 403
    assert store.get(redis, nid)["state"] == "sent"


def test_without_an_auth_token_every_receipt_is_refused(app, client, sent):
    _, sid = sent()
    app.config["TWILIO_AUTH_TOKEN"] = None
    assert post_receipt(client, sid, "delivered").status_code == 403


def test_a_failed_receipt_cannot_undo_a_permanent_failure(client, redis, channels, run_jobs, notice_context):
    channels["sms"].errors = [PermanentError("twilio:21211")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context(link=PUBLIC + "/p/abc"))
    run_jobs()
    assert post_receipt(client, "SM" + "1".zfill(32), "delivered").status_code == 204
    assert store.get(redis, nid)["state"] == "failed"
