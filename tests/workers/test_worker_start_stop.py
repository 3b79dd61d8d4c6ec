"""A stop (Ctrl-C, the supervisor's SIGTERM) that reaches a worker while it starts, or a second one while it says
goodbye, still ends in its goodbye."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from rq.utils import now
from rq.worker import WorkerStatus

from workers import queues
from workers.__main__ import JobsWorker, NoticesWorker


class DiedUnregistered(Exception):
    """What the signal's default did before: the process ended there, without rq's teardown."""


@pytest.mark.parametrize("make", [
    lambda redis: JobsWorker([queues.JOBS], connection=redis),
    lambda redis: NoticesWorker([queues.NOTICES], connection=redis, threads=2),
], ids=["jobs", "notices"])
def test_a_stop_just_after_the_worker_registered_still_unregisters_it(app, redis, monkeypatch, make):
    worker = make(redis)
    register_birth = worker.register_birth

    def registered_then_stopped() -> None:
        register_birth()
        assert redis.smembers("rq:workers")  # registered, and rq's own stop handlers are not installed yet
        os.kill(os.getpid(), signal.SIGTERM)

    def died(_signum, _frame):
        raise DiedUnregistered

    monkeypatch.setattr(worker, "register_birth", registered_then_stopped)
    saved = {stop: signal.signal(stop, died) for stop in (signal.SIGINT, signal.SIGTERM)}
    try:
        with app.app_context():
            worker.work(with_scheduler=False)
    finally:
        for stop, handler in saved.items():
            signal.signal(stop, handler)
    assert redis.smembers("rq:workers") == set()


def test_a_second_stop_signal_lets_the_goodbye_finish_unless_a_job_runs(redis):
    # Ctrl-C reaches the whole group, then honcho sends SIGTERM as well, more than a second later when the
    # goodbye waits for the scheduler process: rq took that for a cold stop and ended mid-teardown.
    worker = JobsWorker([queues.JOBS], connection=redis)
    worker._shutdown_requested_date = now() - timedelta(seconds=5)
    worker.set_state(WorkerStatus.IDLE)
    worker.request_force_stop(signal.SIGTERM, None)  # no SystemExit: the teardown goes on
    worker.set_state(WorkerStatus.BUSY)
    with pytest.raises(SystemExit):  # a job running: rq's cold stop, as before
        worker.request_force_stop(signal.SIGTERM, None)


def test_a_stop_that_lands_while_rq_writes_a_log_line_still_stops_the_worker(app, redis):
    # rq stops an idle worker by raising StopRequested from the signal handler, wherever the process is. Once
    # that was inside the log line of a job just taken from the queue: logging caught it (printing a
    # "Logging error" traceback), the worker ran the job and then waited for more until it was killed.
    import logging

    from rq import Queue

    worker = JobsWorker([queues.JOBS], connection=redis)
    # Not one of the scheduler's housekeeping jobs, which are taken without that line (workers/routine_logs.py).
    Queue(queues.JOBS, connection=redis).enqueue("time.monotonic")
    said = []

    class StopDuringWrite(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())
            if "time.monotonic()" in record.getMessage():
                try:
                    os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, as it would in a write
                except Exception:
                    self.handleError(record)

    handler = StopDuringWrite()
    logging.getLogger("rq.worker").addHandler(handler)
    saved = {stop: signal.getsignal(stop) for stop in (signal.SIGINT, signal.SIGTERM)}
    try:
        with app.app_context():
            # Before, it waited for the next job until killed; here it would quit after 60 s without one.
            worker.work(with_scheduler=False, max_idle_time=60)
    finally:
        logging.getLogger("rq.worker").removeHandler(handler)
        for stop, previous in saved.items():
            signal.signal(stop, previous)
    assert any("stopping on request" in line for line in said), said
    assert redis.smembers("rq:workers") == set()


def test_stop_signals_that_reach_the_scheduler_process_before_its_handlers_still_stop_it(redis, monkeypatch):
    # Ctrl-C reaches the whole group. Once (CI, fresh clone) it landed in the scheduler process just after the
    # fork, before rq's scheduler installed its handlers, and so did the worker's SIGTERM from its goodbye:
    # the handler it had inherited from the worker took both, the scheduler ran on, and the worker waited for
    # it until honcho killed them, leaving the worker registered.
    from workers.rq_scheduler import PatientScheduler

    handled_by_the_scheduler = PatientScheduler.work

    def signalled_before_its_handlers(scheduler) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the group's Ctrl-C
        os.kill(os.getpid(), signal.SIGTERM)  # the worker's stop_scheduler
        handled_by_the_scheduler(scheduler)

    monkeypatch.setattr(PatientScheduler, "work", signalled_before_its_handlers)
    worker = JobsWorker([queues.JOBS], connection=redis)
    saved = {stop: signal.getsignal(stop) for stop in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.bootstrap()  # as work() does: registered, with the handlers of a worker that is starting
        worker._start_scheduler()
        process = worker.scheduler._process
        process.join(timeout=30)  # returns as soon as the scheduler process ends
        ran_on = process.is_alive()
        if ran_on:
            process.kill()
            process.join()
        assert not ran_on, "the scheduler process ran on after two stop signals"
        assert process.exitcode == 0
        assert not redis.exists(worker.scheduler.get_locking_key(queues.JOBS)), "its lock was not released"
    finally:
        for stop, previous in saved.items():
            signal.signal(stop, previous)
        worker.teardown()


@pytest.mark.parametrize("make", [
    lambda redis: JobsWorker([queues.JOBS], connection=redis),
    lambda redis: NoticesWorker([queues.NOTICES], connection=redis, threads=2),
], ids=["jobs", "notices"])
def test_a_worker_whose_registration_redis_lost_registers_again_at_its_heartbeat(redis, make):
    # An outage longer than its TTL, or a Redis restarted without its data: the worker works on, but counted as
    # none (loketlijn_workers 0) until it was restarted.
    from rq import Worker

    worker = make(redis)
    worker.register_birth()
    try:
        redis.delete(worker.key)
        redis.srem("rq:workers", worker.key)
        worker.heartbeat()
        [found] = Worker.all(connection=redis)
        assert found.name == worker.name and found.queue_names() == worker.queue_names()
        assert redis.ttl(worker.key) > 0
    finally:
        worker.register_death()
