"""rq's scheduler inside the workers (`work(with_scheduler=True)`), waiting out a Redis outage in one line a try.

rq's worker forks one scheduler process (rq.scheduler.RQScheduler) that moves jobs from the scheduled
registries (enqueue_at, enqueue_in, retries with an interval) onto their queues. A Redis error ends that
process: rq's `run` logs it with its traceback and re-raises, and multiprocessing prints the traceback a second
time (some 140 lines per outage). The worker only starts a new one at its next maintenance round, up to ten
minutes after Redis is back.

`PatientScheduler` instead waits, like our own scheduler (`workers.cron.run`): one line per failed try, the
pause doubling from 1 to 30 s, and carries on in the same process as soon as Redis answers. rq's own loop
then writes its registration again (rq ≥ 3) and refreshes its locks (re-taking an expired one, letting go of
one another scheduler took meanwhile), so jobs that fell due during the outage are enqueued at once. A stop
(SIGTERM from the worker's teardown, or the supervisor's signal to the group) ends the wait within a fraction
of a second, and so does the end of the worker that forked it (an orphan after a SIGKILL would otherwise wait
for a Redis that may never come back). A stop whose goodbye to Redis fails (releasing its locks) is one line
too: the locks expire by themselves within a minute. A stop that reaches the new process before rq installed
its handlers waits for them (held back over the fork) instead of being lost. Any other error (a wrong
password, a missing permission, a bug) still ends the process with rq's traceback, as before.

A subclass rather than a patch of rq's module: rq's worker names RQScheduler in one place,
`_start_scheduler`, which `PatientSchedulerMixin` overrides for our workers alone; patching
rq.worker's or rq.scheduler's globals would change every scheduler in the process (tests, other workers)
and fail silently when rq moves them. The override follows rq's own method (same arguments, rq ≥ 2.5).
"""

from __future__ import annotations

import os
import signal
import time

from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler

from workers import cron

# How often a wait for Redis looks whether a stop was asked for or its worker is gone.
STOP_CHECK_SECONDS = 0.2

# Held back from the fork until the scheduler process has its own handlers (PatientSchedulerMixin).
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class PatientScheduler(RQScheduler):
    """RQScheduler whose process waits out a Redis outage (see the module docstring)."""

    beats = 0  # rounds of rq's loop that reached Redis: the pause starts again from the first after one

    @property
    def label(self) -> str:
        return f"rq scheduler for {', '.join(sorted(self._queue_names))}"

    def heartbeat(self) -> None:
        super().heartbeat()
        self.beats += 1

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()
        # Only now may a stop that arrived since the fork, held back until here, reach this process.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def work(self) -> None:
        self._worker_pid = os.getppid()  # the worker that forked this process
        # rq's loop returns only when asked to stop; a stop whose goodbye (releasing its locks) fails is clean:
        # the locks expire by themselves.
        cron.run_through_outages(super().work, label=self.label, logger=self.log, progress=lambda: self.beats,
                                 stopping=lambda: self._stop_requested, ping=self.connection.ping,
                                 pause=self._pause)

    def _pause(self, seconds: float) -> bool:
        """Sleep, but end early, with one line and False, when a stop is asked for (rq's handler only sets a
        flag) or the worker that forked this process is gone (killed with SIGKILL: nobody will send the stop).
        rq's scheduler process never looks at its worker, and an orphan used to end at the first Redis error;
        waiting out outages, it would otherwise wait forever once that Redis is gone for good."""
        deadline = time.monotonic() + seconds
        while True:
            if self._stop_requested:
                self.log.info("%s: stopped while waiting for redis", self.label)
                return False
            if os.getppid() != self._worker_pid:
                self.log.warning("%s: its worker is gone; stopping", self.label)
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(left, STOP_CHECK_SECONDS))


class PatientSchedulerMixin:
    """For an rq Worker class: `work(with_scheduler=True)` runs a PatientScheduler instead of rq's RQScheduler.

    rq's `_start_scheduler`, with the scheduler class ours; burst mode (no scheduler process, nothing to wait
    in) is left to rq. Why a subclass and not a patch of rq: see the module docstring."""

    def _start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO",
                         date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
                         log_format: str = DEFAULT_LOGGING_FORMAT) -> None:
        if burst:
            super()._start_scheduler(burst, logging_level, date_format, log_format)
            return
        self.scheduler = PatientScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        # A stop signal to the group (Ctrl-C) that reached the new process before rq's scheduler installed its
        # handlers went to the handler it inherited from the worker, and was lost: so was the worker's SIGTERM
        # from its goodbye if it came as soon, and the worker then waited for a scheduler that ran on. Held
        # back over the fork, such a signal waits in the new process until its handlers are in place
        # (PatientScheduler._install_signal_handlers), and in the worker for no more than the fork.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            self.scheduler.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
