"""Calls that did not reach the citizen: those made soon after one that counted count as one.

Callback products keep a delay between the attempts that count towards their maximum (Amazon Connect, Genesys:
"retry delay"). Without one, a few quick tries in a row, or a few clicks, use up every attempt within minutes
and close a request, or send a handover back, although the citizen never had a fair chance to answer. An early
attempt is still recorded and shown; it only does not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

SPACING = timedelta(hours=1)
NOT_REACHED = "not_reached"


class Attempt(Protocol):
    """A recorded attempt, of a callback request or of a handover."""

    at: datetime
    result: str
    counted: bool


def counted_misses(attempts: Iterable[Attempt]) -> list[datetime]:
    """When the "not reached" attempts that count towards the maximum were made."""
    return [one.at for one in attempts if one.result == NOT_REACHED and one.counted]


def counting_from(attempts: Iterable[Attempt], now: datetime) -> datetime | None:
    """From when a "not reached" counts again, an hour after the last one that counted; None when one made
    `now` counts."""
    last = max(counted_misses(attempts), default=None)
    return last + SPACING if last is not None and last + SPACING > now else None
