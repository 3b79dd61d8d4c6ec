"""The threaded worker runs jobs at the same time, keeps RQ's bookkeeping, and drains follow-up work."""

from __future__ import annotations

import threading

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry, FinishedJobRegistry

from workers.pool import ThreadPoolWorker

THREADS = 6
together = threading.Barrier(THREADS)
ran: list[str] = []


def wait_for_the_others(label: str) -> str:
    # Only returns when THREADS jobs run at the same moment; a one-at-a-time worker breaks the barrier.
    together.wait(timeout=30)
    ran.append(label)
    return label


def enqueue_follow_up(queue_name: str) -> None:
    from rq import get_current_job

    Queue(queue_name, connection=get_current_job().connection).enqueue(wait_alone, "follow-up")


def wait_alone(label: str) -> str:
    ran.append(label)
    return label


def fail() -> None:
    raise RuntimeError("boom")


@pytest.fixture
def queue(redis):
    ran.clear()
    together.reset()
    return Queue("pool-test", connection=redis)


def test_jobs_run_concurrently_in_one_process(queue, redis):
    jobs = [queue.enqueue(wait_for_the_others, str(n)) for n in range(THREADS)]
    worker = ThreadPoolWorker([queue], connection=redis, threads=THREADS)
    worker.work(burst=True)
    assert sorted(ran) == sorted(str(n) for n in range(THREADS))
    assert all(job.get_status(refresh=True) == "finished" for job in jobs)
    assert FinishedJobRegistry(queue=queue).count == THREADS


def test_burst_waits_for_running_jobs_and_what_they_enqueue(queue, redis):
    queue.enqueue(enqueue_follow_up, queue.name)
    ThreadPoolWorker([queue], connection=redis, threads=2).work(burst=True)
    assert ran == ["follow-up"]


def test_a_failing_job_lands_in_the_failed_registry(queue, redis):
    job = queue.enqueue(fail)
    ThreadPoolWorker([queue], connection=redis, threads=2).work(burst=True)
    assert job.get_status(refresh=True) == "failed"
    assert FailedJobRegistry(queue=queue).count == 1
