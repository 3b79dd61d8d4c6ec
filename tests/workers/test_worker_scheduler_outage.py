"""rq's scheduler process inside the workers (`python -m workers jobs|notices`, as in the Procfile) through a
Redis outage: one line per try, never a traceback, and scheduled jobs (enqueue_at, enqueue_in, retries with
an interval) go onto their queue again as soon as Redis is back.

rq's own scheduler process ended on the first Redis error with its traceback printed twice (some 140 lines),
and the worker started a new one only at its next maintenance round, up to ten minutes later.

The process tests use a redis-server of their own (a private unix socket), stopped and started by the test.
Nothing sleeps a fixed time: every wait is on a condition, bounded.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import PrivateRedis, wait_until
from rq import Queue
from rq.job import JobStatus
from rq.scheduler import RQScheduler

from workers import cron, queues
from workers.rq_scheduler import PatientScheduler

ROOT = Path(__file__).resolve().parents[2]
# Bounds for waiting on a server or process (start-up included) on a busy machine; not timing assertions.
LIMIT_SECONDS = 120


class WorkerProcess:
    """`python -m workers QUEUE` on the private server, its stderr kept in a file (read while it runs)."""

    def __init__(self, queue: str, server: PrivateRedis, folder: Path) -> None:
        self.queue = queue
        self.stderr_path = folder / f"worker-{queue}.stderr"
        env = {**os.environ, "LOKETLIJN_ENV": "testing", "REDIS_URL": server.url,
               "PUBLIC_BASE_URL": "http://localhost"}
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen([sys.executable, "-m", "workers", queue], cwd=ROOT, env=env,
                                            stdout=subprocess.DEVNULL, stderr=stderr)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def lines_about_the_scheduler(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith(f"rq scheduler for {self.queue}:")]

    def wait_for(self, condition: Callable[[], object], what: str) -> None:
        wait_until(lambda: condition() or self.process.poll() is not None, LIMIT_SECONDS,
                   lambda: f"{what}; stderr so far:\n{self.stderr}")
        assert self.process.poll() is None, f"the worker ended while waiting for {what}:\n{self.stderr}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=LIMIT_SECONDS)


@pytest.fixture
def start_worker(private_redis, tmp_path) -> Iterator[Callable[[str], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(queue: str) -> WorkerProcess:
        worker = WorkerProcess(queue, private_redis, tmp_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(timeout=30)


def run_a_scheduled_job(server: PrivateRedis, worker: WorkerProcess) -> None:
    """A job scheduled for a moment already past: only rq's scheduler process moves it onto the queue
    (the worker itself never looks at the scheduled registry once it runs), and then the worker runs it."""
    with server.client() as client:
        job = Queue(worker.queue, connection=client).enqueue_at(datetime.now(UTC) - timedelta(seconds=1),
                                                                "os.getpid")
        worker.wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED,
                        f"the scheduled job to run on {worker.queue}")


def assert_quiet(worker: WorkerProcess) -> None:
    stderr = worker.stderr
    assert "Traceback" not in stderr, stderr
    assert "raised an exception" not in stderr, stderr  # rq's `run` logs a failed scheduler process so


def wait_for_the_outage_line(worker: WorkerProcess) -> None:
    """Until the scheduler says Redis is unavailable, or a traceback shows up (rq's scheduler: it fails at once)."""
    worker.wait_for(lambda: "Traceback" in worker.stderr or any(
        "redis unavailable" in line for line in worker.lines_about_the_scheduler()),
        "the scheduler to say Redis is unavailable")
    assert_quiet(worker)


@pytest.mark.parametrize("queue", [queues.JOBS, queues.NOTICES])
def test_the_workers_scheduler_waits_out_an_outage_in_one_line_a_try_and_resumes(private_redis, start_worker,
                                                                                   queue):
    private_redis.start()
    worker = start_worker(queue)
    run_a_scheduled_job(private_redis, worker)  # the scheduler process runs

    private_redis.stop()
    wait_for_the_outage_line(worker)
    private_redis.start()  # empty: as a Redis that lost its data, or another one after a failover
    worker.wait_for(lambda: f"rq scheduler for {queue}: redis answers again; resuming"
                    in worker.lines_about_the_scheduler(), "the scheduler to resume")
    run_a_scheduled_job(private_redis, worker)  # in the same scheduler process: rq's would be gone

    assert worker.stop() == 0, worker.stderr
    assert_quiet(worker)
    about = worker.lines_about_the_scheduler()
    unavailable = [line for line in about if "redis unavailable" in line]
    assert unavailable and all(
        re.fullmatch(rf"rq scheduler for {queue}: redis unavailable \(ConnectionError\); trying again in [\d.]+ s",
                     line) for line in unavailable), about


@pytest.mark.parametrize("queue", [queues.JOBS, queues.NOTICES])
def test_a_worker_stopped_while_its_scheduler_waits_for_redis_stops_quietly(private_redis, start_worker, queue):
    private_redis.start()
    worker = start_worker(queue)
    run_a_scheduled_job(private_redis, worker)

    private_redis.stop()
    wait_for_the_outage_line(worker)
    # The worker joins its scheduler process before it ends: it ending at all means the wait was cut short.
    assert worker.stop() == 1  # the worker's own goodbye to Redis fails: its one line (workers/__main__.py)
    assert_quiet(worker)
    assert worker.stderr.splitlines()[-1] == f"worker for {queue}: stopped while redis was unavailable " \
                                             "(ConnectionError)"
    if queue == queues.JOBS:  # the notices worker logs warnings only
        assert f"rq scheduler for {queue}: stopped while waiting for redis" in worker.lines_about_the_scheduler()


def running(pid: int) -> bool:
    """Whether a process runs (a zombie, ended but not yet reaped by whoever adopted it, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_scheduler_of_a_killed_worker_ends_when_redis_goes(private_redis, start_worker):
    """A worker killed with SIGKILL leaves its scheduler process behind (rq's too); rq's ended at the first
    Redis error, ours must not wait for Redis forever instead."""
    private_redis.start()
    worker = start_worker(queues.JOBS)
    run_a_scheduled_job(private_redis, worker)
    started = re.search(r"Scheduler for jobs started with PID (\d+)", worker.stderr)
    assert started, worker.stderr
    scheduler_pid = int(started.group(1))
    try:
        worker.process.kill()
        worker.process.wait(timeout=LIMIT_SECONDS)
        assert running(scheduler_pid)

        private_redis.stop()
        wait_until(lambda: not running(scheduler_pid), LIMIT_SECONDS,
                   lambda: f"the orphaned scheduler process to end; stderr so far:\n{worker.stderr}")
        assert "rq scheduler for jobs: its worker is gone; stopping" in worker.lines_about_the_scheduler()
        assert_quiet(worker)
    finally:
        if running(scheduler_pid):
            os.kill(scheduler_pid, signal.SIGKILL)


# --- the waiting itself, without a process (rq's loop stands in) ------------------------------------------


@pytest.fixture
def scheduler(private_redis, monkeypatch, caplog) -> PatientScheduler:
    """On the private server, not started: every command fails at once (no retries inside redis-py)."""
    monkeypatch.setattr(cron, "RETRY_FIRST_SECONDS", 0.01)
    monkeypatch.setattr(cron, "RETRY_MAX_SECONDS", 0.04)
    caplog.set_level(logging.INFO, logger="rq.scheduler")
    return PatientScheduler([queues.JOBS], connection=private_redis.client())


def fail_then(monkeypatch, errors: list[BaseException], then: Callable[[PatientScheduler], None] = lambda s: None):
    """rq's loop (RQScheduler.work) raising each of `errors` in turn, then doing `then` and returning."""
    calls = iter(errors)

    def work(self) -> None:
        error = next(calls, None)
        if error is not None:
            raise error
        then(self)

    monkeypatch.setattr(RQScheduler, "work", work)


def messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rq.scheduler"]


def test_the_pause_between_tries_doubles_up_to_its_maximum(private_redis, scheduler, monkeypatch, caplog):
    pings = iter([redis_lib.ConnectionError("refused")] * 4)

    def ping() -> bool:
        error = next(pings, None)
        if error is not None:
            raise error
        return True

    monkeypatch.setattr(scheduler.connection, "ping", ping)
    fail_then(monkeypatch, [redis_lib.ConnectionError("Error 111 connecting")])
    scheduler.work()
    assert messages(caplog) == [
        *(f"rq scheduler for jobs: redis unavailable (ConnectionError); trying again in {pause:g} s"
          for pause in (0.01, 0.02, 0.04, 0.04, 0.04)),
        "rq scheduler for jobs: redis answers again; resuming",
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_redis_error_that_waiting_does_not_mend_still_ends_the_scheduler(scheduler, monkeypatch, caplog):
    fail_then(monkeypatch, [redis_lib.AuthenticationError("invalid password")])
    with pytest.raises(redis_lib.AuthenticationError):
        scheduler.work()
    fail_then(monkeypatch, [redis_lib.ResponseError("WRONGTYPE")])
    with pytest.raises(redis_lib.ResponseError):
        scheduler.work()
    assert messages(caplog) == []


def test_a_stop_whose_goodbye_fails_is_one_line(scheduler, monkeypatch, caplog):
    def stop_asked(self) -> None:
        self._stop_requested = True
        raise redis_lib.ConnectionError("Error 111 connecting")  # releasing its locks, in rq's stop()

    monkeypatch.setattr(RQScheduler, "work", stop_asked)
    scheduler.work()
    assert messages(caplog) == ["rq scheduler for jobs: stopped; redis unavailable for its goodbye (ConnectionError)"]


def test_a_stop_ends_the_wait_for_redis(scheduler, monkeypatch, caplog):
    monkeypatch.setattr(cron, "RETRY_FIRST_SECONDS", float(LIMIT_SECONDS * 10))  # longer than the test may take
    fail_then(monkeypatch, [redis_lib.ConnectionError("Error 111 connecting")])
    waiting = threading.Thread(target=scheduler.work, daemon=True)
    waiting.start()
    wait_until(lambda: messages(caplog), LIMIT_SECONDS, "the first try to be logged")
    scheduler.request_stop()  # what rq's SIGTERM handler does in the scheduler process
    waiting.join(timeout=LIMIT_SECONDS)
    assert not waiting.is_alive()
    assert messages(caplog)[-1] == "rq scheduler for jobs: stopped while waiting for redis"


def test_the_override_takes_rqs_arguments():
    """rq's worker calls `_start_scheduler(burst, logging_level, date_format, log_format)` from work()."""
    from rq import SimpleWorker

    from workers.__main__ import JobsWorker, NoticesWorker
    from workers.rq_scheduler import PatientSchedulerMixin

    assert list(inspect.signature(PatientSchedulerMixin._start_scheduler).parameters) == list(
        inspect.signature(SimpleWorker._start_scheduler).parameters)
    for worker_class in (JobsWorker, NoticesWorker):
        assert worker_class._start_scheduler is PatientSchedulerMixin._start_scheduler
