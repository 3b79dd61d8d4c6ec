"""The only place the web side (and jobs) put work on a queue: ids only, never personal data."""

from __future__ import annotations

from datetime import datetime

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
        queue.enqueue_at(at, "workers.jobs.send_notice", notice_id, **options)
