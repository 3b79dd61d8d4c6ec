"""The scheduler process (`python -m workers.cron`, as in the Procfile): it schedules every periodic job, the
notice sweeper included; it records a heartbeat on every tick; and it waits out a Redis outage instead of
ending (with a traceback, after which honcho stops the whole stack).

The outage tests use a redis-server of their own (a private unix socket), stopped and started by the test,
so stopping it touches no other test. Nothing sleeps a fixed time: every wait is on a condition, bounded.
"""

from __future__ import annotations

import logging
import os
import re
import runpy
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import PrivateRedis, wait_until
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from routing.store import scheduler as scheduler_store
from workers import callback_jobs, cron, handover_jobs, queues

ROOT = Path(__file__).resolve().parents[2]
# Bounds for waiting on a server or process (start-up included) on a busy machine; not timing assertions.
LIMIT_SECONDS = 120

# Every periodic job and its interval: the four of workers/cron.py and the sweeper routing.notices adds.
EVERY_PERIODIC_JOB = {
    ("workers.handover_jobs.handover_tick", handover_jobs.TICK_SECONDS),
    ("workers.callback_jobs.release_waiting", callback_jobs.RELEASE_SECONDS),
    ("workers.callback_jobs.tell_later_arrivals", callback_jobs.ARRIVALS_SECONDS),
    ("workers.callback_jobs.purge_expired", callback_jobs.PURGE_SECONDS),
    ("workers.jobs.sweep_stuck", queues.SWEEP_INTERVAL_SECONDS),
}


def registered(scheduler: CronScheduler) -> set[tuple[str, int]]:
    return {(job.func_name, job.interval) for job in scheduler.get_jobs()}


# --- every periodic job is scheduled, however the scheduler is started ---------------------------------------


@pytest.fixture
def process_environment(redis_url: str, monkeypatch) -> None:
    """The settings a scheduler process reads from its environment; no app built yet in this process."""
    import workers.app

    monkeypatch.setenv("LOKETLIJN_ENV", "testing")
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://localhost")
    monkeypatch.setattr(workers.app, "_app", None)


def started_schedulers(monkeypatch) -> list[CronScheduler]:
    started: list[CronScheduler] = []
    monkeypatch.setattr(CronScheduler, "start", lambda self: started.append(self))
    return started


# runpy warns that workers.cron is imported already (this test module did); in the Procfile's process it is not.
@pytest.mark.filterwarnings("ignore:'workers.cron' found in sys.modules:RuntimeWarning")
def test_python_m_workers_cron_schedules_every_periodic_job(process_environment, monkeypatch):
    started = started_schedulers(monkeypatch)
    runpy.run_module("workers.cron", run_name="__main__")  # what `python -m workers.cron` runs
    assert len(started) == 1
    assert registered(started[0]) == EVERY_PERIODIC_JOB


def test_the_imported_main_schedules_every_periodic_job(process_environment, monkeypatch):
    started = started_schedulers(monkeypatch)
    cron.main()
    assert len(started) == 1
    assert registered(started[0]) == EVERY_PERIODIC_JOB


def test_the_procfile_scheduler_process_registers_every_job_and_ticks(redis_url, redis):
    """The real process, as the Procfile starts it: what it registered (rq keeps it in Redis) and its heartbeat."""
    env = {**os.environ, "LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "PUBLIC_BASE_URL": "http://localhost"}
    before = datetime.now(UTC)  # no tick of this process can be earlier
    process = subprocess.Popen([sys.executable, "-m", "workers.cron"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # rq saves the scheduler, with its jobs, when it starts; the first tick follows.
        wait_until(lambda: redis.exists("rq:cron_scheduler:loketlijn-cron") or process.poll() is not None,
                   LIMIT_SECONDS, "the scheduler to start")
        assert process.poll() is None
        assert registered(CronScheduler.fetch("loketlijn-cron", redis)) == EVERY_PERIODIC_JOB
        wait_until(lambda: redis.exists(scheduler_store.HEARTBEAT) or process.poll() is not None, LIMIT_SECONDS,
                   "the first tick")
        assert process.poll() is None
        assert 0 < redis.ttl(scheduler_store.HEARTBEAT) <= scheduler_store.HEARTBEAT_TTL_SECONDS
        assert before <= scheduler_store.last_beat(redis) <= datetime.now(UTC)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors.decode()
    assert b"Traceback" not in errors


# --- a Redis outage ---------------------------------------------------------------------------------------


def has_heartbeat(server: PrivateRedis) -> bool:
    """Whether the scheduler ticked on this server (asked without the server's password, as the scheduler)."""
    try:
        with redis_lib.Redis.from_url(server.url) as client:
            return bool(client.exists(scheduler_store.HEARTBEAT))
    except (redis_lib.ConnectionError, FileNotFoundError):
        return False


def noop() -> None:
    """A job the outage scheduler enqueues every second, so that it goes round its loop every second."""


@pytest.fixture
def outage_scheduler(private_redis, monkeypatch, caplog) -> cron.Scheduler:
    """The scheduler as main() builds it, on the private server, with short pauses between tries."""
    monkeypatch.setattr(cron, "RETRY_FIRST_SECONDS", 0.05)
    monkeypatch.setattr(cron, "RETRY_MAX_SECONDS", 0.2)
    caplog.set_level(logging.INFO)
    # No retries inside redis-py (by default up to 3, with pauses of seconds): each failed try fails at once.
    connection = redis_lib.Redis(unix_socket_path=str(private_redis.socket), socket_timeout=5,
                                 socket_connect_timeout=5, retry=Retry(NoBackoff(), 0))
    scheduler = cron.build(connection)
    scheduler.register(noop, queues.JOBS, interval=1)
    return scheduler


def run_while(scheduler: cron.Scheduler, control: Callable[[Callable[..., None]], None]) -> None:
    """Run the scheduler in this (the main) thread as `main` does, while `control(wait)` runs in another; then
    stop it as the supervisor does (SIGTERM). Raises what `run` or `control` raised; when `run` ends by itself
    (before the fix: the first Redis error), `control`'s waits give up at once and no SIGTERM is sent."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    finished = threading.Event()

    def stop_requested(signum, frame):  # until rq installs its own: a stop, never the end of pytest
        raise StopRequested()

    def wait(condition: Callable[[], bool], what: str) -> None:
        wait_until(lambda: finished.is_set() or condition(), LIMIT_SECONDS, what)
        if finished.is_set():
            raise AssertionError(f"the scheduler ended by itself while waiting for {what}")

    signal.signal(signal.SIGTERM, stop_requested)
    problems: list[BaseException] = []

    def controller() -> None:
        try:
            control(wait)
        except BaseException as problem:  # noqa: BLE001 - handed to the test below
            problems.append(problem)
        finally:
            if not finished.is_set():
                os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=controller, daemon=True)
    thread.start()
    try:
        cron.run(scheduler)  # returns only when stopped
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # rq's handler stays installed; a late stop is harmless now
        finished.set()
        thread.join(timeout=LIMIT_SECONDS)
        for number, handler in saved.items():
            signal.signal(number, handler)
    if problems:
        raise problems[0]


def unavailable(caplog) -> list[logging.LogRecord]:
    return [r for r in list(caplog.records) if r.name == "workers.cron" and "redis unavailable" in r.getMessage()]


def test_the_scheduler_waits_out_a_redis_outage_and_resumes(private_redis, outage_scheduler, caplog):
    private_redis.start()

    def control(wait) -> None:
        wait(lambda: has_heartbeat(private_redis), "the first tick")
        private_redis.stop()
        wait(lambda: len(unavailable(caplog)) >= 4, "four tries while Redis is down")
        private_redis.start()  # empty: as a Redis that lost its data, or another one after a failover
        wait(lambda: has_heartbeat(private_redis), "a tick after Redis is back")

    run_while(outage_scheduler, control)

    records = list(caplog.records)
    failures = unavailable(caplog)
    assert failures, "no try was logged"
    # One line per failed try, each without a traceback; between the first and the resumption rq logs nothing.
    first = records.index(failures[0])
    resumed = next(i for i, r in enumerate(records) if r.getMessage() == "scheduler: redis answers again; resuming")
    assert records[first:resumed] == failures
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)
    assert all(r.levelno < logging.ERROR for r in records)
    # The pause grows, doubling up to its maximum.
    pauses = [float(re.search(r"trying again in ([\d.]+) s", r.getMessage()).group(1)) for r in failures]
    assert pauses[:4] == [0.05, 0.1, 0.2, 0.2]
    assert outage_scheduler.ticks >= 2


def test_a_scheduler_started_while_redis_is_down_waits_and_stops_cleanly(private_redis, outage_scheduler,
                                                                         caplog):
    # The private server is not started: Redis is down from the start, and the supervisor stops the
    # scheduler during the outage.
    run_while(outage_scheduler, lambda wait: wait(lambda: len(unavailable(caplog)) >= 2, "two tries"))

    assert outage_scheduler.ticks == 0
    assert any(r.getMessage() == "scheduler: stopped while waiting for redis" for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records)


def test_each_tick_records_the_heartbeat_with_a_ttl(redis):
    scheduler = cron.Scheduler(connection=redis, name="test-heartbeat")
    before = datetime.now(UTC)
    scheduler.heartbeat()
    assert before <= scheduler_store.last_beat(redis) <= datetime.now(UTC)
    assert 0 < redis.ttl(scheduler_store.HEARTBEAT) <= scheduler_store.HEARTBEAT_TTL_SECONDS


# --- what is not an outage ---------------------------------------------------------------------------------


def test_only_connection_problems_and_passing_server_states_are_outages():
    errors = redis_lib.exceptions
    for outage in (errors.ConnectionError("refused"), errors.TimeoutError("timed out"),
                   errors.BusyLoadingError("LOADING"), errors.ReadOnlyError("READONLY"),
                   errors.OutOfMemoryError("OOM"), errors.MasterDownError("MASTERDOWN")):
        assert cron.is_outage(outage), outage
    for lasting in (errors.AuthenticationError("WRONGPASS"), errors.AuthorizationError("certificate"),
                    errors.NoPermissionError("NOPERM"), errors.ResponseError("WRONGTYPE"),
                    errors.DataError("invalid input"), errors.RedisError("other")):
        assert not cron.is_outage(lasting), lasting


def ends_with_the_error(scheduler: cron.Scheduler, caplog) -> None:
    """Run it; fail when it takes the error for an outage (it would then wait for Redis for ever: stopped)."""
    run_while(scheduler, lambda wait: wait(lambda: bool(unavailable(caplog)), "a try to reconnect"))


@pytest.mark.parametrize("case", ["wrong password", "wrong type"])
def test_a_redis_error_that_waiting_does_not_mend_ends_the_scheduler(private_redis, outage_scheduler, caplog,
                                                                     case):
    if case == "wrong password":
        private_redis.start(password="not-the-schedulers")  # the scheduler connects without it
        expected: type[Exception] = redis_lib.AuthenticationError
    else:
        private_redis.start()
        with private_redis.client() as client:  # rq's scheduler registry is a sorted set: WRONGTYPE
            client.set("rq:cron_schedulers", "not a sorted set")
        expected = redis_lib.ResponseError

    with pytest.raises(expected):
        ends_with_the_error(outage_scheduler, caplog)
    assert not unavailable(caplog)


def test_a_wrong_password_found_while_waiting_for_redis_ends_the_scheduler(private_redis, outage_scheduler,
                                                                          caplog):
    # Redis is down at first (an outage); the one that comes back wants a password the scheduler lacks.
    def control(wait) -> None:
        wait(lambda: bool(unavailable(caplog)), "a try while Redis is down")
        private_redis.start(password="not-the-schedulers")
        # It ends by itself; before the fix it took the refusal for the outage going on, and tried again.
        wait(lambda: any("AuthenticationError" in r.getMessage() for r in unavailable(caplog)),
             "the scheduler to end")

    with pytest.raises(redis_lib.AuthenticationError):
        run_while(outage_scheduler, control)


# --- a stop when Redis lost rq's scheduler registry ---------------------------------------------------------


def test_a_stop_after_redis_lost_the_scheduler_registry_is_clean(private_redis, outage_scheduler, caplog):
    """For up to a minute after Redis restarted empty (or failed over), rq's registry of schedulers lacks this
    one (the next heartbeat adds it back), so rq's goodbye on a stop (register_death) finds nothing to remove."""
    private_redis.start()
    scheduler = outage_scheduler
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}

    def beat_then_lose_everything_and_stop() -> None:
        cron.Scheduler.heartbeat(scheduler)
        scheduler.connection.flushall()  # as a Redis that restarted empty
        signal.raise_signal(signal.SIGTERM)  # the supervisor's stop; rq's handler (start() installs it) runs here

    scheduler.heartbeat = beat_then_lose_everything_and_stop  # start() calls it once a round, after enqueueing
    try:
        cron.run(scheduler)  # returns only when stopped
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)

    assert scheduler.stopping
    assert scheduler.ticks == 1
    assert not unavailable(caplog)
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in caplog.records)
