"""A non-forking RQ worker that runs several jobs at once, in threads.

A notice job spends nearly all its time waiting for the provider (an HTTP call or an SMTP dialogue), so
a forking worker, one job and one fork at a time, is idle most of the time. This worker takes a job off
the queue only when one of its `threads` is free, runs it in that thread with RQ's own bookkeeping
(`perform_job`: registries, results, failures), and goes on dequeuing.

At most once per notice does not depend on the worker: each job claims its notice before sending.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue
from rq.timeouts import BaseDeathPenalty


# RQ refreshes a worker's heartbeat (3 Redis commands) two or three times per job; at hundreds of jobs a
# second once a second is plenty for a key that lives worker_ttl + 60 seconds.
HEARTBEAT_EVERY_SECONDS = 1.0


class NoDeathPenalty(BaseDeathPenalty):
    """No job timeout from RQ: killing a thread mid-send (an asynchronous exception, RQ's only way outside
    the main thread) could strike between the provider accepting a notice and our recording it, exactly
    the window at-most-once must keep small. Each send is bounded by its provider timeout instead, and a
    notice stuck longer is handed out again by the sweeper."""

    def setup_death_penalty(self) -> None:
        pass

    def cancel_death_penalty(self) -> None:
        pass


class ThreadPoolWorker(SimpleWorker):
    death_penalty_class = NoDeathPenalty
    _last_beat = 0.0

    def __init__(self, *args, threads: int, thread_initializer: Callable[[], object] | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._free = threading.Semaphore(threads)
        # The initializer runs once in each thread (the worker entry pushes an app context there).
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job",
                                        initializer=thread_initializer)
        self._running: set[Future] = set()
        self._lock = threading.Lock()

    def heartbeat(self, timeout=None, pipeline=None):
        if timeout is None and pipeline is None and time.monotonic() - self._last_beat < HEARTBEAT_EVERY_SECONDS:
            return
        self._last_beat = time.monotonic()
        super().heartbeat(timeout, pipeline)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        while True:
            self._free.acquire()  # never take a job off the queue without a thread to run it
            result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            if result is not None:
                return result
            self._free.release()
            # Queue empty (burst mode or idle limit): jobs still running may enqueue more (a retry,
            # the next channel), so only stop once nothing is running.
            if not self._wait_for_running():
                return None

    def _wait_for_running(self) -> bool:
        with self._lock:
            running = list(self._running)
        wait(running)
        return bool(running)

    def execute_job(self, job: Job, queue: Queue) -> None:
        execution = self.prepare_execution(job)
        future = self._pool.submit(self.perform_job, job, queue, execution)
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._finished)

    def _finished(self, future: Future) -> None:
        with self._lock:
            self._running.discard(future)
        self._free.release()

    def teardown(self) -> None:
        # A warm shutdown lets the sends in flight finish (each is bounded by its provider timeout).
        self._pool.shutdown(wait=True)
        super().teardown()
