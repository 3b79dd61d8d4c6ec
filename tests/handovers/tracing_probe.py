"""A job for the trace propagation test: returns the trace id it ran in."""

from routing.privacy import trace
from workers.tracing import traced


@traced
def current_trace() -> str:
    return trace.current()[0]
