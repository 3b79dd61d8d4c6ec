"""Lookup counts are added up per process and written in batches, and at the latest when it exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import redis as redis_lib
from conftest import MonotonicClock
from redis.backoff import NoBackoff
from redis.retry import Retry

from routing.store import lookups

DAY = date(2026, 12, 1)


def test_counts_wait_for_the_flush_interval_then_go_in_one_batch(redis):
    clock = MonotonicClock(0.0)
    counts = lookups.ShownCounts(redis, 2, clock)
    counts.add(DAY, "utrecht", ["svb", "duo"])
    counts.add(DAY, "utrecht", ["svb"])
    assert lookups.counts_on(redis, DAY) == {}
    clock.now = 2.0
    counts.add(DAY, "enschede", ["cak"])
    assert lookups.counts_on(redis, DAY) == {("utrecht", "svb"): 2, ("utrecht", "duo"): 1, ("enschede", "cak"): 1}
    assert 0 < redis.ttl(lookups.LOOKUPS.format(day=DAY.isoformat())) <= lookups.TTL_SECONDS


def test_zero_seconds_writes_each_count_at_once(redis):
    lookups.ShownCounts(redis, 0).add(DAY, "utrecht", ["svb"])
    assert lookups.counts_on(redis, DAY) == {("utrecht", "svb"): 1}


def test_counts_survive_a_redis_that_does_not_answer(redis, redis_url):
    unreachable = redis_lib.Redis(unix_socket_path="/nonexistent/redis.sock", retry=Retry(NoBackoff(), 0))
    counts = lookups.ShownCounts(unreachable, 0)
    counts.add(DAY, "utrecht", ["svb"])  # no exception: the search it belongs to still answers
    counts._redis = redis  # Redis is back
    counts.add(DAY, "utrecht", ["svb"])
    assert lookups.counts_on(redis, DAY) == {("utrecht", "svb"): 2}


def test_a_process_that_exits_writes_what_it_still_held(redis, redis_url):
    script = textwrap.dedent(f"""
        from datetime import date
        import redis
        from routing.store import lookups
        counts = lookups.ShownCounts(redis.Redis.from_url({redis_url!r}), 3600)
        counts.add(date(2026, 12, 1), "utrecht", ["svb", "svb"])
        raise SystemExit(0)  # as a gunicorn worker leaves
    """)
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(root)})
    assert lookups.counts_on(redis, DAY) == {("utrecht", "svb"): 2}
