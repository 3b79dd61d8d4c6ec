"""W3C trace context from the request into the jobs it causes.

The web side puts `traceparent` in the job's meta when it enqueues (`job_meta()`); a job decorated with
`@traced` runs inside that trace, so audit records written by the job share the request's trace id.
Scheduled jobs have no caller and start a trace of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from rq import get_current_job

from routing.privacy import trace

F = TypeVar("F", bound=Callable[..., Any])
META_KEY = "traceparent"


def job_meta() -> dict[str, str]:
    """Meta for a job enqueued now: the current trace, with a new span for the job."""
    return {META_KEY: trace.traceparent()}


def traced(func: F) -> F:
    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        job = get_current_job()
        header = job.meta.get(META_KEY) if job is not None else None
        with trace.continued(header):
            return func(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
