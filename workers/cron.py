"""The scheduler process (`python -m workers.cron`): enqueues periodic jobs by id-free name.

Each periodic job decides for itself whether there is work (a shift starting, a 07:00 overview due),
in Europe/Amsterdam time, so a fixed interval here is correct across daylight saving changes.
"""

from __future__ import annotations

from collections.abc import Callable

from rq.cron import CronScheduler

from routing.extensions import get_redis
from workers import callback_jobs, handover_jobs, queues
from workers.app import get_app

# (job function, queue, interval in seconds); features add their periodic jobs here.
SCHEDULE: list[tuple[Callable[[], object], str, int]] = [
    (handover_jobs.handover_tick, queues.JOBS, handover_jobs.TICK_SECONDS),
    (callback_jobs.release_waiting, queues.JOBS, callback_jobs.RELEASE_SECONDS),
    (callback_jobs.tell_later_arrivals, queues.JOBS, callback_jobs.ARRIVALS_SECONDS),
    (callback_jobs.purge_expired, queues.JOBS, callback_jobs.PURGE_SECONDS),
]


def build(connection) -> CronScheduler:
    scheduler = CronScheduler(connection=connection, name="loketlijn-cron")
    for func, queue, interval in SCHEDULE:
        scheduler.register(func, queue, interval=interval, job_timeout=queues.JOB_TIMEOUT_SECONDS)
    return scheduler


def main() -> None:
    app = get_app()
    with app.app_context():
        build(get_redis()).start()


if __name__ == "__main__":
    main()
