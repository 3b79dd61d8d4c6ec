"""From create_notice to a provider and back: states, at most once, retries, fail-over, failure made visible."""

from __future__ import annotations

import json
import threading

from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from routing.notices import service
from routing.notices.service import Recipient, create_notice
from routing.store import notices as store
from workers import queues
from workers.channels import channel_for
from workers.channels.base import PermanentError, SettingsRefused, TransientError
from workers.channels.outbox import OutboxChannel
from workers.channels.twilio_sms import TwilioChannel
from workers.enqueue import enqueue_notice
from workers.jobs import send_notice

PHONE = "+31612345678"
EMAIL = "partner@example.org"


def notice(redis, nid):
    return store.get(redis, nid)


def test_without_providers_notices_go_to_the_outbox_newest_first(app, redis, client, run_jobs, notice_context):
    first = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    second = create_notice(redis, "handover_returned", Recipient(email=EMAIL), notice_context(), locale="en")
    run_jobs()
    entries = client.get("/dev/outbox.json").get_json()
    assert [(e["notice_id"], e["channel"], e["recipient"], e["state"]) for e in entries] == [
        (second, "email", EMAIL, "sent"), (first, "sms", PHONE, "sent")]
    assert entries[0]["subject"] == "Handover HO-7K3P is back at the service counter"
    assert "HO-7K3P" in entries[1]["body"] and entries[1]["subject"]
    page = client.get("/dev/outbox")
    assert page.status_code == 200 and "HO-7K3P" in page.get_data(as_text=True)


def test_an_outbox_entry_under_a_key_since_removed_is_shown_as_unreadable(app, redis, client, run_jobs,
                                                                          notice_context):
    # `keys rotate` re-encrypts what is kept, not the development outbox, which expires by itself.
    from routing.privacy import crypto

    create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    run_jobs()
    app.config["ENCRYPTION_KEYS"] = crypto.generate_key()  # the old key taken out
    app.extensions.pop("fernet")
    [entry] = client.get("/dev/outbox.json").get_json()
    assert entry["recipient"] == "(niet te lezen met de huidige sleutels)" and "HO-7K3P" in entry["body"]
    assert client.get("/dev/outbox").status_code == 200


def test_providers_are_chosen_per_channel(app):
    app.config.update(TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="token", TWILIO_FROM="+3197010000000")
    assert isinstance(channel_for("sms"), TwilioChannel)
    assert isinstance(channel_for("whatsapp"), TwilioChannel) and channel_for("whatsapp").whatsapp
    assert isinstance(channel_for("email"), OutboxChannel)


def test_dev_outbox_is_not_there_in_production(redis_url, redis):
    from routing import create_app

    production = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "DEV_PAGES": False})
    assert production.test_client().get("/dev/outbox.json").status_code == 404


def test_states_and_addresses_encrypted_until_final(app, redis, channels, run_jobs, notice_context):
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    stored = notice(redis, nid)
    assert stored["state"] == "created"
    assert PHONE not in json.dumps(stored) and PHONE.encode() not in b"".join(redis.dump(k) or b"" for k in redis.keys())
    run_jobs()
    stored = notice(redis, nid)
    assert stored["state"] == "sent" and stored["provider_id"] == "SM" + "1".zfill(32)
    assert [m.to for m in channels["sms"].sent] == [PHONE]
    assert channels["sms"].sent[0].validity_seconds > 0


def test_sent_at_most_once_when_its_job_runs_twice(app, redis, channels, run_jobs, notice_context):
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    enqueue_notice(nid)
    enqueue_notice(nid)
    run_jobs()
    send_notice(nid)
    assert len(channels["sms"].sent) == 1


def test_concurrent_runs_of_one_notice_send_once(app, redis, channels, notice_context):
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    start = threading.Barrier(8)

    def run():
        with app.app_context():
            start.wait()
            send_notice(nid)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(channels["sms"].sent) == 1


def test_transient_error_is_retried_later_with_backoff(app, redis, channels, run_jobs, clock, notice_context):
    channels["sms"].errors = [TransientError("twilio:20429")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    run_jobs()
    stored = notice(redis, nid)
    assert (stored["state"], stored["error"], stored["attempts"]) == ("created", "twilio:20429", "1")
    delay = (service._parse(stored["due_at"]) - clock.now).total_seconds()
    assert queues.RETRY_BASE_SECONDS / 2 <= delay <= queues.RETRY_BASE_SECONDS
    assert ScheduledJobRegistry(queues.NOTICES, connection=redis).count == 1
    send_notice(nid)  # the scheduled job may not run early
    assert channels["sms"].sent == []
    clock.advance(seconds=queues.RETRY_BASE_SECONDS)
    send_notice(nid)
    assert notice(redis, nid)["state"] == "sent" and channels["sms"].sent[0].attempt == 2


def test_transient_errors_past_the_budget_move_to_the_next_channel(app, redis, channels, run_jobs, clock,
                                                                   notice_context):
    channels["sms"].errors = [TransientError("twilio:timeout")] * 2
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE, email=EMAIL), notice_context())
    run_jobs()
    clock.advance(seconds=queues.FAILOVER_BUDGET_SECONDS - 1)  # e-mail after it: a quarter of an hour, not a day
    send_notice(nid)  # fails again; the next try would fall outside the budget
    run_jobs()
    stored = notice(redis, nid)
    assert (stored["state"], stored["channel"]) == ("sent", "email")
    assert [m.to for m in channels["email"].sent] == [EMAIL]


def test_the_last_channel_keeps_trying_for_a_day(app, redis, channels, run_jobs, clock, notice_context):
    channels["sms"].errors = [TransientError("twilio:timeout")] * 2
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    run_jobs()
    budget = service._parse(notice(redis, nid)["budget_until"]) - clock.now
    assert budget.total_seconds() == min(queues.RETRY_BUDGET_SECONDS,
                                         (service._parse(notice(redis, nid)["valid_until"]) - clock.now)
                                         .total_seconds())
    clock.advance(seconds=queues.FAILOVER_BUDGET_SECONDS)
    send_notice(nid)  # fails again: no other channel, so it keeps trying
    stored = notice(redis, nid)
    assert (stored["state"], stored["channel_index"], stored["attempts"]) == ("created", "0", "2")


def test_every_failed_send_is_logged_and_a_settings_error_loudly(app, redis, channels, run_jobs, notice_context,
                                                                 caplog):
    import logging

    channels["sms"].errors = [SettingsRefused("twilio:20003")]  # Twilio: authentication failed
    channels["email"].errors = [TransientError("smtp:421")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE, email=EMAIL), notice_context())
    with caplog.at_level(logging.WARNING, logger="workers.jobs"):
        run_jobs()
    lines = [(record.levelname, record.getMessage()) for record in caplog.records if record.name == "workers.jobs"]
    assert lines == [
        ("ERROR", f"notice {nid}: twilio:20003 on sms (attempt 1): check that channel's settings (docs/deploy.md)"),
        ("WARNING", f"notice {nid}: smtp:421 on email (attempt 1)")]
    assert PHONE not in caplog.text and EMAIL not in caplog.text


def test_permanent_sms_error_fails_over_to_email(app, redis, channels, run_jobs, notice_context):
    channels["sms"].errors = [PermanentError("twilio:21211")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE, email=EMAIL), notice_context())
    run_jobs()
    assert notice(redis, nid)["state"] == "sent"
    (mail,) = channels["email"].sent
    assert mail.subject == "Nieuwe doorverwijzing HO-7K3P van Utrecht" and mail.html and "HO-7K3P" in mail.text


def test_failing_every_channel_is_visible_and_told(app, redis, channels, run_jobs, client, login, notice_context):
    app.config["NOTICE_FAILED_EMAIL"] = "coordinator@example.org"
    channels["sms"].errors = [PermanentError("twilio:21610")]
    channels["whatsapp"].errors = [PermanentError("twilio:30006")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE, whatsapp=PHONE), notice_context())
    run_jobs()
    stored = notice(redis, nid)
    assert (stored["state"], stored["failure"], stored["error"]) == ("failed", "permanent", "twilio:30006")
    assert "recipient" not in stored  # addresses go as soon as they are of no more use
    (told,) = channels["email"].sent
    assert told.to == "coordinator@example.org" and "HO-7K3P" in told.subject
    assert "http://localhost/notices/failed" in told.text
    [failed] = service.failed_notices(redis)
    assert (failed.id, failed.reference, failed.failure) == (nid, "HO-7K3P", "permanent")
    login(client, "coordinator")
    page = client.get("/notices/failed").get_data(as_text=True)
    assert "HO-7K3P" in page and "Adres werkt niet" in page


def test_staff_see_failed_notices_of_their_own_locations(app, redis, channels, run_jobs, client, login,
                                                         notice_context):
    from routing.directory import service as directory

    channels["sms"].errors = [PermanentError("twilio:21211")]
    name = directory.get_location("amsterdam-centrum").name
    create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context(location=name))
    channels["sms"].errors.append(PermanentError("twilio:21211"))
    create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context(reference="HO-OTHER"))
    run_jobs()
    login(client, "staff", locations=("amsterdam-centrum",))
    page = client.get("/notices/failed").get_data(as_text=True)
    assert "HO-7K3P" in page and "HO-OTHER" not in page
    assert client.get("/notices/failed?lang=en").status_code == 200


def test_a_failed_handover_notice_names_the_organisation_and_links_the_handover(app, redis, channels, run_jobs,
                                                                               client, login, api_key):
    """"Contact the recipient yourself": the page says who that is, and links the handover."""
    for channel in channels.values():
        channel.errors = [PermanentError("twilio:21211")] * 3
    made = client.post("/api/v1/handovers", headers=api_key("staff", ("amsterdam-centrum",)), json={
        "location": "amsterdam-centrum", "partner": "uwv", "phone": "06 12345678", "consent": True})
    reference = made.get_json()["reference"]
    run_jobs()
    login(client, "staff", locations=("amsterdam-centrum",))
    page = client.get("/notices/failed").get_data(as_text=True)
    assert f'<a class="reference" href="/overdrachten/{reference}">{reference}</a><br>Overdracht aan UWV' in page


def test_the_sender_named_escalation_goes_first_and_failures_do_not_cascade(app, redis, channels, run_jobs,
                                                                            notice_context):
    app.config["NOTICE_FAILED_EMAIL"] = "coordinator@example.org"
    channels["sms"].errors = [PermanentError("twilio:21211"), PermanentError("twilio:21211")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context(),
                        escalate_to=Recipient(sms="+31687654321"))
    run_jobs()
    # The escalation itself failed too: it is on the failed list, and nobody is told about it in turn.
    assert {n.kind for n in service.failed_notices(redis)} == {"handover_new", "notice_failed"}
    assert channels["email"].sent == [] and notice(redis, nid)["state"] == "failed"


def test_an_unexpected_error_fails_the_notice_and_keeps_the_job(app, redis, channels, run_jobs, notice_context):
    channels["sms"].errors = [RuntimeError("bug")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    run_jobs()
    stored = notice(redis, nid)
    assert (stored["state"], stored["failure"]) == ("failed", "technical")
    assert FailedJobRegistry(queues.NOTICES, connection=redis).count == 1


def test_a_notice_past_its_useful_life_is_not_sent(app, redis, channels, run_jobs, clock, notice_context):
    nid = create_notice(redis, "callbacks_waiting", Recipient(sms=PHONE), {"count": 3, "location": "Utrecht"},
                        valid_for=60)
    clock.advance(seconds=61)
    run_jobs()
    stored = notice(redis, nid)
    assert (stored["state"], stored["failure"], stored["error"]) == ("failed", "temporary", "expired")
    assert channels["sms"].sent == []


def test_notices_queue_carries_ids_only(app, redis, notice_context):
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE, email=EMAIL), notice_context())
    (job,) = Queue(queues.NOTICES, connection=redis).jobs
    assert job.args == (nid,) and job.kwargs == {}
    assert job.timeout == queues.NOTICE_JOB_TIMEOUT_SECONDS


def test_the_failed_page_in_english(app, redis, channels, run_jobs, client, login, notice_context):
    channels["sms"].errors = [PermanentError("twilio:21211")]
    create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    run_jobs()
    login(client, "coordinator")
    page = client.get("/notices/failed?lang=en").get_data(as_text=True)
    assert "These messages could not be delivered on any channel" in page and "Address does not work" in page


def test_addresses_go_once_the_last_channel_has_the_message(app, redis, channels, run_jobs, notice_context):
    first = create_notice(redis, "handover_new", Recipient(sms=PHONE, email=EMAIL), notice_context())
    last = create_notice(redis, "handover_new", Recipient(email=EMAIL), notice_context())
    run_jobs()
    assert notice(redis, first)["state"] == notice(redis, last)["state"] == "sent"
    assert "recipient" in notice(redis, first)  # a failed SMS receipt may still move it to e-mail
    assert "recipient" not in notice(redis, last)


def test_the_failed_index_forgets_what_outlived_its_record(app, redis, channels, run_jobs, notice_context):
    """Failures older than the notices' retention are trimmed when a new one fails, page opened or not."""
    redis.zadd(store.FAILED, {"long-gone": 1.0})  # failed in 1970: its record expired long ago
    channels["sms"].errors = [PermanentError("twilio:21610")]
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    run_jobs()
    assert [raw.decode() for raw in redis.zrange(store.FAILED, 0, -1)] == [nid]


def test_a_retry_is_scheduled_no_earlier_than_it_is_due(app, redis):
    # rq schedules by whole seconds, dropping the fraction: a retry due at .54 ran before it was due, did nothing,
    # and waited for the sweeper.
    from datetime import UTC, datetime

    from rq.registry import ScheduledJobRegistry

    from workers import queues

    due = datetime(2026, 11, 30, 13, 39, 53, 540000, tzinfo=UTC)
    enqueue_notice("n-retry", at=due)
    [(_job, runs_at)] = redis.zrange(ScheduledJobRegistry(queues.NOTICES, connection=redis).key, 0, -1,
                                     withscores=True)
    assert runs_at >= due.timestamp()
