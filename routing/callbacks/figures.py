"""Anonymous figures: per location and day, how many requests came in through which channel and about which
topic, and how they ended. Read from the daily counts the intake and every final transition add to
(routing.store.callbacks STATS); they hold no personal data and stay when the requests' details are deleted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import redis

from routing.callbacks import service
from routing.store import callbacks as store

RECEIVED = "received"
PERIODS = (1, 7, 30)  # days, today included


@dataclass
class Figures:
    received: Counter[str] = field(default_factory=Counter)  # by channel
    ended: Counter[str] = field(default_factory=Counter)  # by outcome
    topics: Counter[str] = field(default_factory=Counter)  # received, by topic id ("" none chosen)

    def add(self, other: Figures) -> None:
        self.received.update(other.received)
        self.ended.update(other.ended)
        self.topics.update(other.topics)


def days_back(today: date, days: int) -> list[date]:
    """`days` days up to and including today."""
    return [today - timedelta(days=n) for n in range(days)]


@dataclass(frozen=True)
class Count:
    """One day's count of one kind: requests of a location, by channel and topic ("" none chosen), that came in
    (outcome "received") or ended so."""

    day: date
    location: str
    channel: str
    topic: str
    outcome: str
    count: int


def counts(r: redis.Redis, location_ids: list[str], days: list[date], *, with_others: bool = False) -> list[Count]:
    """The counts of these locations over these days, oldest day first; with_others, also of any other location
    with counts then (one since gone from the directory: its history stays)."""
    wanted = set(location_ids)
    found = []
    for day, day_counts in zip(days, store.stats_of_days(r, [day.isoformat() for day in days])):
        for key, count in sorted(day_counts.items()):
            location, channel, topic, outcome = key.split("|", 3)
            if location in wanted or with_others:
                found.append(Count(day, location, channel, topic, outcome, count))
    return sorted(found, key=lambda c: c.day)


def figures(r: redis.Redis, location_ids: list[str], days: list[date], *,
            with_others: bool = False) -> dict[str, Figures]:
    """The figures of these locations over these days (each location present, also without any), summed from
    `counts`."""
    found = {location: Figures() for location in location_ids}
    for one in counts(r, location_ids, days, with_others=with_others):
        here = found.setdefault(one.location, Figures())
        if one.outcome == RECEIVED:
            here.received[one.channel] += one.count
            here.topics[one.topic] += one.count
        else:
            here.ended[one.outcome] += one.count
    return found


def longest_due(r: redis.Redis, now: datetime) -> dict[str, tuple[int, float]]:
    """Per location with open or in-progress requests: how many, and how long (seconds) the one due longest has
    been due (service.due_since; 0 when none is due yet: a later preferred moment, or a planned next attempt).
    A value that keeps growing means nobody calls back there."""
    found: dict[str, tuple[int, float]] = {}
    for location in sorted(store.active_locations(r)):
        requests = service.active_requests(r, [location])
        if requests:
            waited = max((now - service.due_since(q)).total_seconds() for q in requests)
            found[location] = (len(requests), max(0.0, waited))
    return found


def total(per_location: dict[str, Figures]) -> Figures:
    together = Figures()
    for figures_here in per_location.values():
        together.add(figures_here)
    return together
