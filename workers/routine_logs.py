"""rq's routine lines about the scheduler's housekeeping jobs, at DEBUG instead of INFO.

The scheduler enqueues the jobs in `workers.cron.SCHEDULE` (three of them every minute) and the jobs worker runs
them; rq writes a line for each enqueue ("Enqueued job release_waiting to queue jobs") and three for each run
(the job taken, "Successfully completed ... job in ...", "Job OK"): some fifteen lines a minute that say only
that nothing happened. rq has no knob for that per job: its worker's `logging_level` would hide its start, stop
and retries as well. So a filter on rq's loggers lowers exactly these lines, for exactly these jobs, to DEBUG:
written where DEBUG is on, dropped otherwise. Everything else stays as rq writes it: a failed job (an error), a
retry, a warning, a worker or scheduler starting and stopping, and the lines about any other job. Should rq
change the wording of a line, the filter no longer recognises it and the line is written again, never lost.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from rq.logutils import blue

# rq's own messages (rq/worker/base.py, rq/cron.py), as it passes them to logging.
TAKEN_OR_OK = "Worker %s: %s: %s (%s)"  # (worker, queue, job description or "Job OK", job id)
COMPLETED = "Successfully completed %s job in %ss on worker %s"  # (job description, time, worker)
ENQUEUED = "Enqueued job {name} to queue {queue}"  # the scheduler's, formatted by rq itself


class QuietHousekeeping(logging.Filter):
    """For the `rq.worker` and `rq.cron` loggers: routine INFO lines about these jobs become DEBUG lines."""

    def __init__(self, schedule: Iterable[tuple[Callable[[], object], str, int]]):
        super().__init__()
        jobs = list(schedule)
        # A scheduled job has no arguments: its description is its function's dotted name and "()".
        self.descriptions = {f"{func.__module__}.{func.__qualname__}()" for func, _queue, _every in jobs}
        self.taken = {blue(description) for description in self.descriptions}  # as rq colours it
        self.ok = blue("Job OK")
        self.enqueued = {ENQUEUED.format(name=func.__name__, queue=queue) for func, queue, _every in jobs}
        # The ids of the housekeeping jobs last taken: their "Job OK" names only the id.
        self.recent: deque[str] = deque(maxlen=8)

    def routine(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return False
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg == TAKEN_OR_OK and len(args) == 4:
            if args[2] in self.taken:
                self.recent.append(args[3])
                return True
            return args[2] == self.ok and args[3] in self.recent
        if record.msg == COMPLETED and args:
            return args[0] in self.descriptions
        return not args and record.msg in self.enqueued

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.routine(record):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False  # what a DEBUG line would have been: not written
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


@contextmanager
def quiet_housekeeping(logger_name: str, schedule: Iterable[tuple[Callable[[], object], str, int]]) -> Iterator[None]:
    """While it lasts, the routine lines of this rq logger about the jobs in `schedule` are DEBUG lines."""
    logger = logging.getLogger(logger_name)
    quiet = QuietHousekeeping(schedule)
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)
