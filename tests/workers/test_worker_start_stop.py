"""A stop (Ctrl-C, the supervisor's SIGTERM) that reaches a worker while it starts still ends in its goodbye."""

from __future__ import annotations

import os
import signal

import pytest

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
