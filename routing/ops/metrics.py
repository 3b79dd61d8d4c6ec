"""Prometheus metrics read from Redis at scrape time, so every web process reports the same truth."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from workers import queues


class QueueCollector(Collector):
    def __init__(self, connection: Callable[[], redis.Redis]):
        self.connection = connection

    def collect(self) -> Iterator[GaugeMetricFamily]:
        r = self.connection()
        depth = GaugeMetricFamily("loketlijn_queue_jobs", "Jobs per queue and state", labels=["queue", "state"])
        for name in queues.ALL:
            queue = Queue(name, connection=r)
            depth.add_metric([name, "queued"], queue.count)
            depth.add_metric([name, "started"], StartedJobRegistry(queue=queue).count)
            depth.add_metric([name, "scheduled"], ScheduledJobRegistry(queue=queue).count)
            depth.add_metric([name, "failed"], FailedJobRegistry(queue=queue).count)
        yield depth
        workers = GaugeMetricFamily("loketlijn_workers", "RQ workers alive")
        workers.add_metric([], len(Worker.all(connection=r)))
        yield workers


def registry_for(connection: Callable[[], redis.Redis]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(connection))
    return registry
