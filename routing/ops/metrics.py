"""Prometheus metrics read from Redis at scrape time, so every web process reports the same truth.

Exceptions: the directory gauges are this web process's own (each process loads the directory itself).

A Redis that does not answer is reported, not raised: `loketlijn_redis_up 0` and none of the gauges read
from Redis, so Prometheus sees the outage instead of a failed scrape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import redis
from flask import Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from rq import Queue, Worker
from rq.worker import WorkerStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from routing.callbacks import figures as callback_figures
from routing.directory.schedule import TZ
from routing import current
from routing.errors import REDIS_DOWN, redis_down_seen
from routing.extensions import get_redis
from routing.logs import QUIET_ROUTES
from routing.handovers.model import OPEN_STATUSES as OPEN_HANDOVER_STATUSES
from routing.store import callbacks as callback_store
from routing.store import handovers as handover_store
from routing.store import notices as notice_store
from routing.store import responses as response_store
from routing.store import scheduler as scheduler_store
from routing.store import webhooks as webhook_store
from workers import queues

# rq keeps a killed worker's key until worker_ttl + 60 s after its last heartbeat (longer when it was busy);
# one whose heartbeat is older than this is dead, though its key may still be there (see queues.WORKER_TTL_SECONDS).
WORKER_ALIVE_SECONDS = queues.WORKER_TTL_SECONDS
BUSY_WORKER_ALIVE_SECONDS = queues.WORKER_TTL_SECONDS + queues.JOB_TIMEOUT_SECONDS
# The sweeper (every queues.SWEEP_INTERVAL_SECONDS) moves each notice it looks at to a later time; one
# still waiting this long after its time was not looked at: the sweeper does not run, or does not keep up.
OVERDUE_AFTER_SECONDS = 2 * queues.SWEEP_INTERVAL_SECONDS


class RedisCollector(Collector):
    """Everything read from Redis, plus `loketlijn_redis_up`."""

    def __init__(self, connection: Callable[[], redis.Redis], clock: Callable[[], datetime] | None = None):
        self.connection = connection
        self.clock = clock or (lambda: datetime.now(UTC))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("loketlijn_redis_up", "1 when Redis answered this scrape, 0 when it did not "
                                                     "(then no gauge read from Redis is reported)")
        try:
            families = list(self.from_redis(self.connection(), self.clock()))
        except REDIS_DOWN:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def from_redis(self, r: redis.Redis, now: datetime) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("loketlijn_queue_jobs", "Jobs per queue and state", labels=["queue", "state"])
        for name in queues.ALL:
            queue = Queue(name, connection=r)
            depth.add_metric([name, "queued"], queue.count)
            depth.add_metric([name, "started"], StartedJobRegistry(queue=queue).count)
            depth.add_metric([name, "scheduled"], ScheduledJobRegistry(queue=queue).count)
            depth.add_metric([name, "failed"], FailedJobRegistry(queue=queue).count)
        yield depth

        alive: Counter[str] = Counter({name: 0 for name in queues.ALL})
        for worker in Worker.all(connection=r):
            limit = BUSY_WORKER_ALIVE_SECONDS if worker.get_state() == WorkerStatus.BUSY else WORKER_ALIVE_SECONDS
            if worker.last_heartbeat is not None and worker.last_heartbeat >= now - timedelta(seconds=limit):
                alive.update(worker.queue_names())
        workers = GaugeMetricFamily(
            "loketlijn_workers", f"RQ workers listening on the queue whose last heartbeat is under "
                                 f"{WORKER_ALIVE_SECONDS} s old ({BUSY_WORKER_ALIVE_SECONDS} s while running a "
                                 f"job; a worker on two queues counts in both)",
            labels=["queue"])
        for name, count in sorted(alive.items()):
            workers.add_metric([name], count)
        yield workers

        pending, failed, overdue = notice_store.counts(r, now, OVERDUE_AFTER_SECONDS)
        notices = GaugeMetricFamily(
            "loketlijn_notices", "Notices by state: pending = created or sending, not yet sent (the sweep index "
                                 "does not tell the two apart); failed = failed on every channel, within the "
                                 f"{notice_store.RETENTION_SECONDS // 86_400} days a notice is kept",
            labels=["state"])
        notices.add_metric(["pending"], pending)
        notices.add_metric(["failed"], failed)
        yield notices
        yield GaugeMetricFamily(
            "loketlijn_notices_overdue", f"Pending notices more than {OVERDUE_AFTER_SECONDS} s past the time the "
                                         "sweeper should have looked at them: not 0 means the sweeper (the "
                                         "scheduler's sweep_stuck job) does not run or does not keep up",
            value=overdue)

        yield from _callbacks(r, now)
        yield from _handovers(r, now)

        refused = CounterMetricFamily(
            "loketlijn_twilio_webhooks_refused", "Twilio webhook requests refused (403) because their "
            "X-Twilio-Signature did not match, per hook: a rise after a change usually means PUBLIC_BASE_URL or "
            "TWILIO_AUTH_TOKEN is wrong, and citizens' texts and calls are not taken in", labels=["hook"])
        for hook, count in webhook_store.refused_counts(r).items():
            refused.add_metric([hook], count)
        yield refused

        answered = CounterMetricFamily(
            "loketlijn_http_responses", "HTTP responses with a server error (status 5xx) or refused by a rate limit "
            "(429), all web processes together: counted in Redis, and only these rare answers, so no other request "
            "pays for a Redis write. Not counted: the probes (/healthz, /readyz, /metrics), and a 503 because Redis "
            "itself did not answer (see loketlijn_redis_up). Which route: the request log's error-level lines",
            labels=["status"])
        for status, count in response_store.counts(r).items():
            answered.add_metric([status], count)
        yield answered

        beat = scheduler_store.last_beat(r)
        yield GaugeMetricFamily(
            "loketlijn_scheduler_last_tick_timestamp_seconds",
            "Unix time of the scheduler's (python -m workers.cron) last tick, at least one a minute while it "
            f"runs; 0 when none in the last {scheduler_store.HEARTBEAT_TTL_SECONDS // 3600} hours",
            value=beat.timestamp() if beat else 0)


def _callbacks(r: redis.Redis, now: datetime) -> Iterator[GaugeMetricFamily]:
    """The callback queue: how many wait for a call per location and since when, how many are held for the next
    shift, and today's anonymous counts (Europe/Amsterdam day)."""
    active = GaugeMetricFamily("loketlijn_callbacks_active", "Open and in-progress callback requests per "
                               "location (a location without any is not listed)", labels=["location"])
    due = GaugeMetricFamily("loketlijn_callbacks_longest_due_seconds", "Per location, how long its callback "
                            "request due longest has been due (its next attempt, else its first preferred moment, "
                            "else its arrival; 0: none due yet): a growing value means nobody calls back there",
                            labels=["location"])
    for location, (count, waited) in callback_figures.longest_due(r, now).items():
        active.add_metric([location], count)
        due.add_metric([location], waited)
    yield active
    yield due
    waiting = GaugeMetricFamily("loketlijn_callbacks_waiting", "Callback requests held for the next shift per "
                                "location (a location without any is not listed)", labels=["location"])
    for location, count in sorted(callback_store.waiting_per_location(r).items()):
        waiting.add_metric([location], count)
    yield waiting
    today = GaugeMetricFamily("loketlijn_callbacks_today", "Callback requests today (Europe/Amsterdam): "
                              "outcome 'received' as they came in, else as they ended; resets at midnight",
                              labels=["location", "channel", "outcome"])
    counts: Counter[tuple[str, str, str]] = Counter()
    for one in callback_figures.counts(r, [], [now.astimezone(TZ).date()], with_others=True):
        counts[one.location, one.channel, one.outcome] += one.count  # topics: on the figures page, not per series
    for labels, count in sorted(counts.items()):
        today.add_metric(list(labels), count)
    yield today


def _handovers(r: redis.Redis, now: datetime) -> Iterator[GaugeMetricFamily]:
    """Open handovers per partner, and how many of them are past their deadline (anonymous counts)."""
    open_ = GaugeMetricFamily("loketlijn_handovers_open", "Open warm handovers per partner (sent, opened or in "
                              "progress; a partner without any is not listed)", labels=["partner"])
    overdue = GaugeMetricFamily("loketlijn_handovers_overdue", "Open warm handovers per partner whose deadline "
                                "day (Europe/Amsterdam) is over", labels=["partner"])
    today = now.astimezone(TZ).date().isoformat()
    for partner, (count, late) in sorted(handover_store.open_per_partner(r, today, OPEN_HANDOVER_STATUSES).items()):
        open_.add_metric([partner], count)
        overdue.add_metric([partner], late)
    yield open_
    yield overdue


def count_response(response: Response) -> Response:
    """After every request: a 5xx or 429 answer adds one to its count (loketlijn_http_responses_total); any other
    answer costs one comparison, no Redis call."""
    status = response.status_code
    if status < 500 and status != 429:
        return response
    # The probes answer 503 while unready (their own alert), and an outage cannot be counted in Redis: trying
    # would make the error page wait for it again.
    if redis_down_seen() or str(current.this_request().url_rule) in QUIET_ROUTES:
        return response
    try:
        response_store.count(get_redis(), "5xx" if status >= 500 else "429")
    except REDIS_DOWN:
        pass  # Redis stopped answering after this request used it: loketlijn_redis_up says so
    return response


class DirectoryCollector(Collector):
    """This process's loaded directory (routing/directory/state.py); nothing when the feature is absent."""

    def __init__(self, state: Callable[[], object | None]):
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = self.state()
        if state is None:
            return
        loaded = state.fresh()  # the same cheap check for changed files every directory page makes
        yield GaugeMetricFamily(
            "loketlijn_directory_loaded_timestamp_seconds",
            "Unix time this web process last loaded the directory successfully; 0: never",
            value=loaded.loaded_at.timestamp() if loaded.loaded_at else 0)
        yield GaugeMetricFamily(
            "loketlijn_directory_last_reload_failed",
            "1 when this process's last (re)load of the directory files found problems (it keeps serving "
            "the last good one, see the directory pages), else 0",
            value=1 if state.problems else 0)


def registry_for(connection: Callable[[], redis.Redis],
                 directory_state: Callable[[], object | None] = lambda: None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(connection))
    registry.register(DirectoryCollector(directory_state))
    return registry
