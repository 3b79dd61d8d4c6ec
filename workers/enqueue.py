"""The only place the web side (and jobs) put work on a queue: ids only, never personal data."""

from __future__ import annotations

from datetime import datetime, timedelta

from rq import Queue

from routing.extensions import get_redis
from workers import queues
from workers.tracing import job_meta


def enqueue_notice(notice_id: str, at: datetime | None = None) -> None:
    """Queue one send of a notice, now or at `at` (a retry); the job re-reads the notice by id."""
    queue = Queue(queues.NOTICES, connection=get_redis())
    options = {
        "job_timeout": queues.NOTICE_JOB_TIMEOUT_SECONDS,
        # The notice record holds the outcome; a finished job (ids only) just expires. Not 0: RQ deletes
        # such a job at once, walking every registry, which costs more than letting it expire.
        "result_ttl": queues.NOTICE_RESULT_TTL_SECONDS,
        "failure_ttl": queues.FAILURE_TTL_SECONDS,
        # The request's trace goes with the job, so its audit records join the same trace.
        "meta": job_meta(),
    }
    if at is None:
        queue.enqueue("workers.jobs.send_notice", notice_id, **options)
    else:
        queue.enqueue_at(whole_second_after(at), "workers.jobs.send_notice", notice_id, **options)


def whole_second_after(at: datetime) -> datetime:
    """`at`, or the next whole second when it has a fraction. rq schedules by whole seconds, dropping the
    fraction, so a retry due at 14:39:53.54 ran at 14:39:53, found its notice not yet due, did nothing, and
    waited for the sweeper (a minute and a half)."""
    return at if not at.microsecond else at.replace(microsecond=0) + timedelta(seconds=1)
