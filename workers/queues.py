"""Queue names, retry policy and timeouts, defined once; the Procfile names the same queues."""

from __future__ import annotations

# Notices to citizens, partners and staff: many small sends that wait on a provider.
NOTICES = "notices"
# Scheduled and housekeeping work: releases, reminders, retention purge, sweeper.
JOBS = "jobs"
ALL = (NOTICES, JOBS)

# Jobs run inside the app; a job that takes longer than this is stuck.
JOB_TIMEOUT_SECONDS = 120
# A waiting worker writes its heartbeat every WORKER_TTL_SECONDS - 15 s (rq's rule), so one silent for longer
# than this is dead (rq's default, 420 s, let /metrics count a killed worker for seven minutes). A jobs worker
# (SimpleWorker) beats when a job starts, not while it runs: busy, it may be silent for a job's timeout too.
WORKER_TTL_SECONDS = 60
# Failed jobs keep only ids (never personal data), so keeping them for inspection is safe.
FAILURE_TTL_SECONDS = 7 * 86_400

# The notice worker (`python -m workers notices`) runs this many sends at once in one process, in
# threads: a send mostly waits on the provider, so threads, not forks, give the throughput.
NOTICE_THREADS = 32
# A notice job is one send; providers' HTTP/SMTP timeouts (10 s / 15 s) keep it well under this.
NOTICE_JOB_TIMEOUT_SECONDS = 60
NOTICE_RESULT_TTL_SECONDS = 60
# A claimed notice whose send has not been recorded after this long belongs to a dead worker: the
# sweeper (every SWEEP_INTERVAL_SECONDS) hands it out again, so a killed worker's notice goes out
# again within CLAIM_LEASE_SECONDS + SWEEP_INTERVAL_SECONDS (under 2 minutes).
CLAIM_LEASE_SECONDS = 45
SWEEP_INTERVAL_SECONDS = 60
# A notice due this long ago but not yet claimed lost its job: the sweeper enqueues it again (while
# the notices queue has a backlog, only after STUCK_BACKLOG_SECONDS, since its job is likely queued).
STUCK_CREATED_SECONDS = 60
STUCK_BACKLOG_SECONDS = 600
# Transient failures: exponential backoff with jitter, RETRY_BASE_SECONDS doubling up to
# RETRY_MAX_INTERVAL_SECONDS, within RETRY_BUDGET_SECONDS on the recipient's last channel (and the notice's
# useful life). A channel with another one after it gets FAILOVER_BUDGET_SECONDS (some five tries): a partner
# whose SMS provider is down gets the handover by e-mail within a quarter of an hour, not a day later.
RETRY_BASE_SECONDS = 30
RETRY_MAX_INTERVAL_SECONDS = 3600
RETRY_BUDGET_SECONDS = 24 * 3600
FAILOVER_BUDGET_SECONDS = 15 * 60
# A notice whose send keeps killing workers is failed (technical) after this many recoveries.
MAX_RECOVERIES = 3


def retry_delay_seconds(attempt: int, rand: float) -> float:
    """Delay before retry number `attempt` (1, 2, ...): doubling, capped, with "equal jitter" so that
    notices that failed together (a provider outage) do not all come back at the same moment.
    `rand` is uniform in [0, 1) (random.random(); tests pass a fixed value)."""
    ceiling = min(RETRY_MAX_INTERVAL_SECONDS, RETRY_BASE_SECONDS * 2 ** (max(attempt, 1) - 1))
    return ceiling / 2 + rand * ceiling / 2
