"""Calls that did not reach the citizen: those made soon after one that counted count as one.

Callback products keep a delay between the attempts that count towards their maximum (Amazon Connect, Genesys:
"retry delay"). Without one, a few quick tries in a row, or a few clicks, use up every attempt within minutes
and close a request, or send a handover back, although the citizen never had a fair chance to answer. An early
attempt is still recorded and shown; it only does not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

SPACING = timedelta(hours=1)


def counting_from(counted_misses: Iterable[datetime], now: datetime) -> datetime | None:
    """From when a "not reached" counts again, an hour after the last one that counted; None when one made
    `now` counts."""
    last = max(counted_misses, default=None)
    return last + SPACING if last is not None and last + SPACING > now else None
