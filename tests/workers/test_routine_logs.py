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
    with quiet_housekeeping("rq.worker", HOUSEKEEPING), quiet_housekeeping("rq.cron", HOUSEKEEPING):
        yield


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


def test_the_jobs_worker_and_the_scheduler_quiet_the_scheduled_jobs_and_only_while_they_run(app, redis, caplog):
    worker = logging.getLogger("rq.worker")
    job = Queue(queues.JOBS, connection=redis).enqueue(callback_jobs.release_waiting)
    with caplog.at_level(logging.INFO):
        JobsWorker([queues.JOBS], connection=redis).work(burst=True)
        with quiet_housekeeping("rq.cron", cron.SCHEDULE):  # as `python -m workers.cron` runs
            [sweeper] = [func for func, _queue, _every in cron.SCHEDULE if func.__name__ == "sweep_stuck"]
            CronJob(func=sweeper, queue_name=queues.JOBS, interval=60).enqueue(redis)  # the one routing.notices adds
    info = "\n".join(lines(caplog, logging.INFO))
    assert job.id not in info and "release_waiting" not in info and "Enqueued job sweep_stuck" not in info
    assert "done, quitting" in info
    # Gone again when they stop: another worker in the same process logs as rq does.
    assert not [added for added in worker.filters + logging.getLogger("rq.cron").filters
                if isinstance(added, QuietHousekeeping)]
