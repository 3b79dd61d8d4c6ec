"""Queue names, retry policy and timeouts, defined once; the Procfile names the same queues."""

from __future__ import annotations

# Notices to citizens, partners and staff: many small sends that wait on a provider.
NOTICES = "notices"
# Scheduled and housekeeping work: releases, reminders, retention purge, sweeper.
JOBS = "jobs"
ALL = (NOTICES, JOBS)

# Jobs run inside the app; a job that takes longer than this is stuck.
JOB_TIMEOUT_SECONDS = 120
# Failed jobs keep only ids (never personal data), so keeping them for inspection is safe.
FAILURE_TTL_SECONDS = 7 * 86_400
