"""W3C trace context: taken from the request's `traceparent`, carried into the jobs it causes."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
# (trace id, span id of the caller) for the unit of work in progress: a request or a job.
_current: ContextVar[tuple[str, str | None] | None] = ContextVar("loketlijn_trace", default=None)
# The request's `traceparent` header, read only when the request first needs its trace (few do).
_incoming: ContextVar[str | None] = ContextVar("loketlijn_traceparent", default=None)


def new_span_id() -> str:
    return secrets.token_hex(8)


def parse(header: str | None) -> tuple[str, str | None]:
    match = _TRACEPARENT.match((header or "").strip().lower())
    if match and set(match.group(1)) != {"0"} and set(match.group(2)) != {"0"}:
        return match.group(1), match.group(2)
    return secrets.token_hex(16), None


def current() -> tuple[str, str | None]:
    """Trace id and parent span id: the request's or job's, or a new trace outside them."""
    value = _current.get()
    if value is None:
        value = parse(_incoming.get())
        _current.set(value)
    return value


def traceparent() -> str:
    """The header value to hand to work this unit causes (job meta, outgoing calls)."""
    trace_id, _ = current()
    return f"00-{trace_id}-{new_span_id()}-01"


@contextmanager
def continued(header: str | None) -> Iterator[None]:
    token = _current.set(parse(header))
    try:
        yield
    finally:
        _current.reset(token)


def start_request(header: str | None) -> None:
    _current.set(None)
    _incoming.set(header)
