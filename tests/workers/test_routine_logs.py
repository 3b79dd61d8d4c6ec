"""The scheduler's housekeeping jobs run every minute without rq's INFO lines saying so; a failure of one, a
retry, and every other job's lines stay as rq writes them."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator

import pytest
from rq import Queue, Retry
from rq.cron import CronJob

from workers import callback_jobs, cron, queues
from workers.__main__ import JobsWorker
from workers.routine_logs import QuietHousekeeping, quiet_housekeeping

# Jobs without arguments, as the scheduler's are: one that works and one that fails (math.floor() needs one).
HOUSEKEEPING = [(time.time, queues.JOBS, 60), (math.floor, queues.JOBS, 60)]


@pytest.fixture
def quiet() -> Iterator[None]:
    filters = [QuietHousekeeping(HOUSEKEEPING) for _ in ("rq.worker", "rq.cron")]
    for name, added in zip(("rq.worker", "rq.cron"), filters):
        logging.getLogger(name).addFilter(added)
    yield
    for name, added in zip(("rq.worker", "rq.cron"), filters):
        logging.getLogger(name).removeFilter(added)


def lines(caplog, level: int) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == level]


def test_a_housekeeping_job_that_ran_writes_no_line_and_anything_else_does(app, redis, caplog, quiet):
    queue = Queue(queues.JOBS, connection=redis)
    ran = queue.enqueue(time.time)
    other = queue.enqueue(time.monotonic)  # not one of the scheduler's: as rq writes it
    failed = queue.enqueue(math.floor, retry=Retry(max=1))
    with caplog.at_level(logging.INFO):
        JobsWorker([queue], connection=redis).work(burst=True)
        CronJob(func=time.time, queue_name=queues.JOBS, interval=60).enqueue(redis)
    info = "\n".join(lines(caplog, logging.INFO))
    assert ran.id not in info and "time.time()" not in info and "Enqueued job time" not in info
    assert f"time.monotonic() ({other.id})" in info and f"Job OK ({other.id})" in info
    assert "Successfully completed time.monotonic() job" in info
    assert f"Job {failed.id}: enqueued for retry, 0 remaining" in info  # a retry: still said
    errors = "\n".join(lines(caplog, logging.ERROR))
    assert errors.count(f"job {failed.id}: exception raised while executing (math.floor)") == 2  # both tries
    assert "started with PID" in info  # start and stop too
    assert "result is kept" not in info  # for no job: the same line every time, about results nobody reads


def test_they_are_debug_lines_where_debug_is_on(app, redis, caplog, quiet):
    queue = Queue(queues.JOBS, connection=redis)
    ran = queue.enqueue(time.time)
    with caplog.at_level(logging.DEBUG, logger="rq.worker"):  # (its level back afterwards)
        JobsWorker([queue], connection=redis).work(burst=True, logging_level="DEBUG")
    debug = "\n".join(lines(caplog, logging.DEBUG))
    assert f"Job OK ({ran.id})" in debug and f"time.time() ({ran.id})" in debug


def test_the_processes_quiet_the_scheduled_jobs_by_the_description_rq_gives_them(app, redis):
    queue = Queue(queues.JOBS, connection=redis)
    job = queue.enqueue(callback_jobs.release_waiting)
    assert job.description in QuietHousekeeping(cron.SCHEDULE).descriptions
    assert "Enqueued job sweep_stuck to queue jobs" in QuietHousekeeping(cron.SCHEDULE).enqueued  # the notices'
    logger = logging.getLogger("rq.cron")
    try:
        quiet_housekeeping("rq.cron", cron.SCHEDULE)
        quiet_housekeeping("rq.cron", cron.SCHEDULE)
        assert sum(isinstance(added, QuietHousekeeping) for added in logger.filters) == 1
    finally:
        for added in [added for added in logger.filters if isinstance(added, QuietHousekeeping)]:
            logger.removeFilter(added)
