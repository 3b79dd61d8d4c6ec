"""Queue names, retry policy and timeouts are defined once (workers/queues.py) and the Procfile agrees."""

from __future__ import annotations

import shlex
from pathlib import Path

from workers import queues

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def procfile_workers() -> dict[str, list[str]]:
    """Procfile process name → the queues its `python -m workers` command serves."""
    served = {}
    for line in PROCFILE.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, command = line.split(":", 1)
        words = shlex.split(command)
        if words[:3] == ["python", "-m", "workers"]:
            served[name.strip()] = words[3:] or list(queues.ALL)
    return served


def test_procfile_queue_names_are_the_defined_ones():
    served = procfile_workers()
    named = [queue for names in served.values() for queue in names]
    assert set(named) <= set(queues.ALL)
    assert set(named) == set(queues.ALL), "every queue needs a worker process"


def test_notices_get_a_process_of_their_own():
    # `python -m workers notices` (the notices queue alone) runs the threaded worker.
    assert [names for names in procfile_workers().values() if queues.NOTICES in names] == [[queues.NOTICES]]


def test_the_worker_entry_point_refuses_unknown_queues():
    import pytest

    from workers.__main__ import main

    with pytest.raises(SystemExit, match="unknown queue"):
        main(["notice"])


def test_backoff_doubles_with_jitter_up_to_a_cap():
    low = [queues.retry_delay_seconds(n, 0.0) for n in range(1, 10)]
    high = [queues.retry_delay_seconds(n, 0.999999) for n in range(1, 10)]
    assert low[:3] == [queues.RETRY_BASE_SECONDS / 2, queues.RETRY_BASE_SECONDS, queues.RETRY_BASE_SECONDS * 2]
    assert all(h <= queues.RETRY_MAX_INTERVAL_SECONDS for h in high)
    assert high[-1] > queues.RETRY_MAX_INTERVAL_SECONDS * 0.99
    assert all(h - lo >= lo * 0.99 for lo, h in zip(low, high, strict=True))  # the jitter spreads retries


def test_the_retry_budget_allows_many_tries_in_a_day():
    elapsed, tries = 0.0, 0
    while elapsed <= queues.RETRY_BUDGET_SECONDS:
        tries += 1
        elapsed += queues.retry_delay_seconds(tries, 1.0)
    assert queues.RETRY_BUDGET_SECONDS == 24 * 3600 and tries >= 24
