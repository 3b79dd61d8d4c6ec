"""Worker entry point: `python -m workers [QUEUE ...]` (the Procfile's `worker` and `notices`).

The notices queue alone gets the threaded, non-forking worker (queues.NOTICE_THREADS sends at once);
any other set of queues rq's SimpleWorker, which runs each job in the worker's own process. Not rq's forking
Worker: its work horses are in the worker's process group, and a stop signal to the group (honcho, a
terminal's Ctrl-C) that lands just after a fork ran the worker's stop handler in the new child, which ended
in a traceback ("can only join a child process"). The jobs are short and our own, and each re-reads its
record, so a fork per job bought no isolation worth that.

Both run rq's scheduler process (enqueue_at, enqueue_in, retries with an interval) as a
`workers.rq_scheduler.PatientScheduler`: through a Redis outage it logs one line per try and carries on when
Redis answers again, where rq's own ended with a traceback of some 140 lines.
"""

from __future__ import annotations

import logging
import signal
import sys
import time

from rq import SimpleWorker, worker_registration
from rq.worker import WorkerStatus

from routing.errors import REDIS_DOWN
from routing.extensions import get_redis
from workers import cron, queues
from workers.app import get_app
from workers.pool import ThreadPoolWorker
from workers.routine_logs import quiet_housekeeping
from workers.rq_scheduler import PatientSchedulerMixin


# How often a worker's heartbeat looks whether Redis still has its registration (StaysRegisteredMixin).
REGISTRATION_CHECK_SECONDS = 10.0


class GoodbyeMixin:
    """For an rq Worker class: a stop always ends in the worker's goodbye (`teardown`: its scheduler process
    stopped, its registration removed), else the registration stays in Redis, counted as a live worker.

    - A stop while the worker starts: rq registers the worker (`bootstrap`) and forks its scheduler before it
      installs its stop handlers, so a SIGINT or SIGTERM in between ended the process at once. Here a stop in
      that window only sets rq's own flag, which its loop looks at first: it leaves through its teardown.
    - A stop while rq writes a log line (see `_shutdown`).
    - A second stop signal while it says goodbye: Ctrl-C reaches the whole process group, and then honcho (or a
      supervisor) sends SIGTERM too. rq takes a second signal more than a second after the first for a cold
      stop, which ends the process in the middle of teardown (waiting for its scheduler process, which sleeps
      a second between rounds, takes about that long). Here, unless a job is running (then rq's cold stop
      still ends it), the second signal lets the goodbye finish."""

    def bootstrap(self, *args, **kwargs) -> None:
        def stop_when_started(_signum, _frame) -> None:
            self._stop_requested = True

        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, stop_when_started)
        super().bootstrap(*args, **kwargs)

    def _shutdown(self) -> None:
        # rq stops an idle worker by raising StopRequested from the signal handler, wherever the process is.
        # When that is inside a log line (rq logs the job it just took), logging catches it: the worker ran on
        # until it was killed, without its goodbye. With rq's flag set too, its loop stops at its next turn.
        self._stop_requested = True
        super()._shutdown()

    def request_force_stop(self, signum, frame) -> None:
        if self.get_state() != WorkerStatus.BUSY:
            return
        super().request_force_stop(signum, frame)


class StaysRegisteredMixin:
    """For an rq Worker class: registered again when Redis lost its registration while it kept working.

    An outage longer than the worker's TTL, or a Redis restarted without its data, takes its hash and its place
    in rq:workers; rq's heartbeat then writes a hash with only `last_heartbeat`, and a healthy worker counts as
    none (loketlijn_workers 0, the documented alert firing) until it is restarted. Its own heartbeats look, at
    most every REGISTRATION_CHECK_SECONDS (the notice worker beats up to once a second), and put it back."""

    _registration_checked = 0.0

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        super().heartbeat(timeout, pipeline)
        if pipeline is not None or time.monotonic() - self._registration_checked < REGISTRATION_CHECK_SECONDS:
            return
        self._registration_checked = time.monotonic()
        if self.connection.sismember(self.redis_workers_keys, self.key):
            return
        self.log.warning("Worker %s: its registration was gone from Redis; registered again", self.name)
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, pipe)
            pipe.expire(self.key, timeout or self.worker_ttl + 60)
            pipe.execute()


class JobsWorker(GoodbyeMixin, StaysRegisteredMixin, PatientSchedulerMixin, SimpleWorker):
    """rq's SimpleWorker with the scheduler process that waits out a Redis outage. The scheduler's housekeeping
    jobs, three a minute, run without rq's lines that say so (DEBUG, `workers.routine_logs`), and no job with
    rq's line on how long its result is kept (always the same; nobody reads these results)."""

    log_result_lifespan = False

    def work(self, *args, **kwargs) -> bool:
        with quiet_housekeeping("rq.worker", cron.SCHEDULE):
            return super().work(*args, **kwargs)


class NoticesWorker(GoodbyeMixin, StaysRegisteredMixin, PatientSchedulerMixin, ThreadPoolWorker):
    """The threaded notice worker with the scheduler process that waits out a Redis outage."""


def main(argv: list[str]) -> None:
    names = argv or list(queues.ALL)
    unknown = sorted(set(names) - set(queues.ALL))
    if unknown:
        raise SystemExit(f"unknown queue(s): {', '.join(unknown)}; known: {', '.join(queues.ALL)}")
    # A StopRequested that logging caught (GoodbyeMixin._shutdown) is not an error to print with a traceback.
    logging.raiseExceptions = False
    app = get_app()
    try:
        with app.app_context():
            work(app, names)
    except REDIS_DOWN as error:
        # rq waits out an outage while it works; only its goodbye (register_death, on a stop during an outage)
        # raises: one line for the supervisor, not a traceback.
        raise SystemExit(f"worker for {', '.join(names)}: stopped while redis was unavailable "
                         f"({type(error).__name__})") from None


def work(app, names: list[str]) -> None:
    if names == [queues.NOTICES]:
        # Each thread gets an app context of its own (a context does not cross threads).
        worker = NoticesWorker(names, connection=get_redis(), threads=queues.NOTICE_THREADS,
                               worker_ttl=queues.WORKER_TTL_SECONDS,
                               thread_initializer=lambda: app.app_context().push())
        # RQ logs several lines per job; at hundreds of notices a second that is noise (and CPU),
        # and each notice's own record says what became of it.
        worker.work(with_scheduler=True, logging_level="WARNING")
    else:
        JobsWorker(names, connection=get_redis(), worker_ttl=queues.WORKER_TTL_SECONDS).work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
