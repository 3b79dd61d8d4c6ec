"""The sweeper: what a killed worker or a lost job left behind goes out again, once."""

from __future__ import annotations

from rq import Queue

from routing.notices import service
from routing.notices.service import Recipient, create_notice
from routing.store import notices as store
from workers import cron, queues
from workers.jobs import sweep_stuck

PHONE = "+31612345678"


def test_the_sweeper_runs_every_minute_from_cron(app):
    assert (sweep_stuck, queues.JOBS, queues.SWEEP_INTERVAL_SECONDS) in cron.SCHEDULE
    assert queues.SWEEP_INTERVAL_SECONDS == 60
    # A killed worker's notice is handed out again within two minutes of its claim.
    assert queues.CLAIM_LEASE_SECONDS + queues.SWEEP_INTERVAL_SECONDS < 120
    # ... and never while a live worker may still be waiting on a provider.
    from workers.channels import smtp_email, twilio_sms

    assert max(twilio_sms.HTTP_TIMEOUT_SECONDS, smtp_email.TIMEOUT_SECONDS) < queues.CLAIM_LEASE_SECONDS


def abandoned_claim(redis, clock, notice_context) -> str:
    """A worker claimed the notice, then died before it could record anything."""
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    Queue(queues.NOTICES, connection=redis).empty()
    assert service.claim(redis, nid, clock.now) is not None
    return nid


def test_a_dead_workers_claim_is_handed_out_again_after_its_lease(app, redis, channels, run_jobs, clock,
                                                                  notice_context):
    nid = abandoned_claim(redis, clock, notice_context)
    clock.advance(seconds=queues.CLAIM_LEASE_SECONDS - 1)
    assert sweep_stuck() == []
    clock.advance(seconds=2)
    assert sweep_stuck() == [nid]
    run_jobs()
    stored = store.get(redis, nid)
    assert (stored["state"], stored["recoveries"]) == ("sent", "1")
    assert len(channels["sms"].sent) == 1
    clock.advance(minutes=5)
    assert sweep_stuck() == []


def test_a_notice_that_keeps_killing_workers_fails_as_technical(app, redis, channels, clock, notice_context):
    nid = abandoned_claim(redis, clock, notice_context)
    for _ in range(queues.MAX_RECOVERIES):
        clock.advance(seconds=queues.CLAIM_LEASE_SECONDS + 1)
        assert sweep_stuck() == [nid]
        Queue(queues.NOTICES, connection=redis).empty()
        assert service.claim(redis, nid, clock.now) is not None
    clock.advance(seconds=queues.CLAIM_LEASE_SECONDS + 1)
    assert sweep_stuck() == []
    stored = store.get(redis, nid)
    assert (stored["state"], stored["failure"], stored["error"]) == ("failed", "technical", "worker-lost")


def test_a_lost_job_is_enqueued_again(app, redis, channels, run_jobs, clock, notice_context):
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    Queue(queues.NOTICES, connection=redis).empty()  # the job is lost
    clock.advance(seconds=queues.STUCK_CREATED_SECONDS - 1)
    assert sweep_stuck() == []
    clock.advance(seconds=2)
    assert sweep_stuck() == [nid]
    run_jobs()
    assert store.get(redis, nid)["state"] == "sent"


def test_while_the_queue_has_a_backlog_waiting_notices_are_left_alone_longer(app, redis, channels, clock,
                                                                            notice_context):
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    clock.advance(seconds=queues.STUCK_CREATED_SECONDS + 1)
    assert sweep_stuck() == []  # its job is still queued
    clock.advance(seconds=queues.STUCK_BACKLOG_SECONDS)
    assert sweep_stuck() == [nid]


def test_the_sweeper_fails_notices_past_their_useful_life(app, redis, channels, clock, notice_context):
    app.config["NOTICE_FAILED_EMAIL"] = "coordinator@example.org"
    nid = create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context(), valid_for=120)
    Queue(queues.NOTICES, connection=redis).empty()
    clock.advance(seconds=121)
    sweep_stuck()
    assert store.get(redis, nid)["failure"] == "temporary"
    assert [n.kind for n in service.failed_notices(redis)] == ["handover_new"]


def test_sent_and_final_notices_leave_the_sweep_index(app, redis, channels, run_jobs, clock, notice_context):
    create_notice(redis, "handover_new", Recipient(sms=PHONE), notice_context())
    run_jobs()
    assert redis.zcard(store.PENDING) == 0
    clock.advance(hours=1)
    assert sweep_stuck() == []
