"""The scheduler process (`python -m workers.cron`): enqueues periodic jobs by id-free name.

Each periodic job decides for itself whether there is work (a shift starting, a 07:00 overview due),
in Europe/Amsterdam time, so a fixed interval here is correct across daylight saving changes.

The process outlives a Redis outage: it waits, retrying with a growing pause, and carries on when Redis
answers again (`run`); any other Redis error (a wrong password, a missing permission) ends it. On every
tick it records a heartbeat (`routing.store.scheduler`) for `/metrics`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import redis
from redis import exceptions as redis_errors
from rq.cron import CronScheduler
from rq.exceptions import SchedulerNotFound, StopRequested

from routing.extensions import get_redis
from routing.store import scheduler as scheduler_store
from workers import callback_jobs, handover_jobs, queues
from workers.app import get_app
from workers.routine_logs import quiet_housekeeping

log = logging.getLogger(__name__)

# (job function, queue, interval in seconds); features add their periodic jobs here, from their
# init_app (e.g. routing.notices adds the sweeper), so `build` must run after the app is created.
SCHEDULE: list[tuple[Callable[[], object], str, int]] = [
    (handover_jobs.handover_tick, queues.JOBS, handover_jobs.TICK_SECONDS),
    (callback_jobs.release_waiting, queues.JOBS, callback_jobs.RELEASE_SECONDS),
    (callback_jobs.tell_later_arrivals, queues.JOBS, callback_jobs.ARRIVALS_SECONDS),
    (callback_jobs.purge_expired, queues.JOBS, callback_jobs.PURGE_SECONDS),
]

# Redis unreachable: try again after this pause, doubling up to the maximum, one log line per try.
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0

# What counts as an outage: Redis not reachable or not answering in time, or in a state that passes (loading
# its data, out of memory, a read-only replica or one cut off from its master during a failover). The newer
# classes are looked up by name, for the older redis-py versions that pyproject allows.
OUTAGES: tuple[type[redis.RedisError], ...] = tuple(
    cls for cls in (getattr(redis_errors, name, None) for name in (
        "ConnectionError", "TimeoutError", "BusyLoadingError", "OutOfMemoryError", "ReadOnlyError",
        "MasterDownError"))
    if cls is not None
)
# ... but not the connection errors about credentials (subclasses of ConnectionError in redis-py): a wrong
# password or user (AuthenticationError), a rejected certificate (AuthorizationError), an external
# authentication service's refusal (ExternalAuthProviderError). Waiting does not mend them.
NOT_OUTAGES: tuple[type[redis.RedisError], ...] = tuple(
    cls for cls in (getattr(redis_errors, name, None) for name in (
        "AuthenticationError", "AuthorizationError", "ExternalAuthProviderError"))
    if cls is not None
)


def is_outage(error: BaseException) -> bool:
    """Whether a Redis error is one to wait out (see OUTAGES); any other one ends the scheduler."""
    return isinstance(error, OUTAGES) and not isinstance(error, NOT_OUTAGES)


class Scheduler(CronScheduler):
    """rq's CronScheduler that also records Loketlijn's heartbeat on each round of its loop."""

    ticks = 0
    stopping = False

    def _request_stop(self, signum, frame):
        self.stopping = True  # so that `run` does not take a failed goodbye (Redis down) for an outage
        super()._request_stop(signum, frame)

    def register_death(self, pipeline=None) -> None:
        """rq's goodbye (removing this scheduler from rq's registry of schedulers), at the end of `start()`.

        rq raises SchedulerNotFound when the entry is missing, which it is for up to a minute (until the next
        heartbeat adds it back) after Redis restarted empty or failed over; that would end a stop with a
        traceback, or hide the Redis error that ended `start()`. Gone already is what the goodbye is for.
        """
        try:
            super().register_death(pipeline)
        except SchedulerNotFound:
            log.info("scheduler: not in rq's scheduler registry (Redis lost it); nothing to unregister")

    def heartbeat(self) -> None:
        super().heartbeat()
        scheduler_store.beat(self.connection, datetime.now(UTC))
        self.ticks += 1


def build(connection: redis.Redis) -> Scheduler:
    scheduler = Scheduler(connection=connection, name="loketlijn-cron")
    for func, queue, interval in SCHEDULE:
        scheduler.register(func, queue, interval=interval, job_timeout=queues.JOB_TIMEOUT_SECONDS)
    return scheduler


def run(scheduler: Scheduler) -> None:
    """Run the scheduler until it is told to stop (SIGTERM, SIGINT), through Redis outages.

    rq's `CronScheduler.start()` loops until a signal, but a Redis error ends it with a traceback (and
    honcho then stops every process). So: when `start()` ends with an outage, wait for Redis (one line
    per failed try, the pause doubling from RETRY_FIRST_SECONDS to RETRY_MAX_SECONDS) and start it
    again. The same scheduler object keeps its jobs' last run times, so nothing runs twice on resuming;
    what fell due during the outage runs once, at once.

    An outage (`is_outage`) is a connection problem (refused, reset, timed out, too many clients) or a
    state Redis passes through: loading its data, out of memory, a read-only replica or one without its
    master during a failover. Any other error ends the process, and its supervisor sees it fail: a Redis
    error that waiting does not mend (a wrong password or user, a missing ACL permission, WRONGTYPE or
    another error reply), also when it comes while waiting for Redis, and every error that is not Redis's.
    When stopping, an outage in rq's goodbye to Redis (register_death) is no error: the stop is clean.
    """
    try:
        run_through_outages(scheduler.start, label="scheduler", logger=log, progress=lambda: scheduler.ticks,
                            stopping=lambda: scheduler.stopping, ping=scheduler.connection.ping)
    except (StopRequested, KeyboardInterrupt):
        # rq's signal handlers raise StopRequested; outside start() (which handles it itself) it ends up here.
        log.info("scheduler: stopped while waiting for redis")


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True


def run_through_outages(run: Callable[[], None], *, label: str, logger: logging.Logger,
                        progress: Callable[[], int], stopping: Callable[[], bool], ping: Callable[[], object],
                        pause: Callable[[float], bool] = _sleep) -> None:
    """Call `run` (a loop that returns when told to stop) until it returns, waiting out Redis outages.

    An outage (`is_outage`) that ends `run` is waited out: one line per failed try, `pause` doubling from
    RETRY_FIRST_SECONDS to RETRY_MAX_SECONDS (`pause` returns False to give up: told to stop), a `ping` per
    try, then `run` again. `progress` counts what `run` got done: when it moved, the next outage is a new one
    and its pauses start short again. An outage while `stopping` only spoiled the goodbye to Redis: a clean
    stop, one line. Any other error ends it (see `run`). Used by this scheduler and by rq's scheduler process
    inside each worker (workers.rq_scheduler)."""
    delay = RETRY_FIRST_SECONDS
    while True:
        seen = progress()
        try:
            run()
            return
        except redis.RedisError as error:
            if not is_outage(error):
                raise
            if stopping():
                logger.info("%s: stopped; redis unavailable for its goodbye (%s)", label, type(error).__name__)
                return
            if progress() != seen:
                delay = RETRY_FIRST_SECONDS  # it worked in between: a new outage, not the same one
            problem = error
        while True:
            logger.warning("%s: redis unavailable (%s); trying again in %g s", label, type(problem).__name__,
                           delay)
            if not pause(delay):
                return
            delay = min(delay * 2, RETRY_MAX_SECONDS)
            try:
                ping()
                break
            except redis.RedisError as error:
                if not is_outage(error):
                    raise
                problem = error
        logger.warning("%s: redis answers again; resuming", label)


def main() -> None:
    app = get_app()  # runs every feature's init_app, which adds its periodic jobs to SCHEDULE
    # "Enqueued job ..." three times a minute: DEBUG (workers.routine_logs).
    with app.app_context(), quiet_housekeeping("rq.cron", SCHEDULE):
        run(build(get_redis()))


if __name__ == "__main__":
    # `python -m workers.cron` runs this file as the module `__main__`, a second copy of it next to the
    # `workers.cron` that the features import: routing.notices.init_app adds the sweeper to *that* one's
    # SCHEDULE, and this copy's `main` would build from its own list and leave the sweeper out. So run the
    # imported module's `main`: one SCHEDULE, however the scheduler is started.
    from workers.cron import main as imported_main

    imported_main()
