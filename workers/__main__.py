"""Worker entry point: `python -m workers [QUEUE ...]` (the Procfile's `worker` and `notices`).

The notices queue alone gets the threaded, non-forking worker (queues.NOTICE_THREADS sends at once);
any other set of queues a plain forking RQ worker.
"""

from __future__ import annotations

import sys

from rq import Worker

from routing.errors import REDIS_DOWN
from routing.extensions import get_redis
from workers import queues
from workers.app import get_app
from workers.pool import ThreadPoolWorker


def main(argv: list[str]) -> None:
    names = argv or list(queues.ALL)
    unknown = sorted(set(names) - set(queues.ALL))
    if unknown:
        raise SystemExit(f"unknown queue(s): {', '.join(unknown)}; known: {', '.join(queues.ALL)}")
    app = get_app()
    try:
        with app.app_context():
            work(app, names)
    except REDIS_DOWN as error:
        # rq waits out an outage while it works; only its goodbye (register_death, on a stop during an outage)
        # raises: one line for the supervisor, not a traceback.
        raise SystemExit(f"worker for {', '.join(names)}: stopped while redis was unavailable "
                         f"({type(error).__name__})") from None


def work(app, names: list[str]) -> None:
    if names == [queues.NOTICES]:
        # Each thread gets an app context of its own (a context does not cross threads).
        worker = ThreadPoolWorker(names, connection=get_redis(), threads=queues.NOTICE_THREADS,
                                  thread_initializer=lambda: app.app_context().push())
        # RQ logs several lines per job; at hundreds of notices a second that is noise (and CPU),
        # and each notice's own record says what became of it.
        worker.work(with_scheduler=True, logging_level="WARNING")
    else:
        Worker(names, connection=get_redis()).work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
