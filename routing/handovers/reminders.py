"""Nudges for open handovers: the reminder on the morning of the deadline (or the working day after a
"not reached") and the daily overview of overdue ones per partner channel. Both carry references, counts
and links only. Redis claims make each happen once, however often the scheduler tick runs or retries.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import redis

from routing.handovers import notify
from routing.handovers.service import load_many, today
from routing.notices.service import Recipient
from routing.store import handovers as store


def send_due_reminders(r: redis.Redis, now: datetime) -> int:
    """A reminder with a fresh link for each open handover whose reminder is due; once per handover a day."""
    day = today(now).isoformat()
    sent = 0
    for handover in load_many(r, store.open_refs(r, now.timestamp())):
        if not handover.is_open or not store.once(r, f"remind:{handover.reference}:{day}"):
            continue
        notify.send_link(r, handover, "handover_reminder", now)
        # The next nudge is the overdue overview (or a new "not reached" attempt), not another reminder.
        store.reschedule(r, handover.reference, float("inf"))
        sent += 1
    return sent


def overdue_by_channel(r: redis.Redis, now: datetime) -> dict[Recipient, list[str]]:
    """Overdue open handovers grouped by the partner channel that receives them."""
    day = today(now)
    grouped: dict[Recipient, list[str]] = {}
    for handover in load_many(r, store.open_refs(r)):
        recipient = notify.partner_recipient(handover) if handover.is_overdue(day) else None
        if recipient is not None:
            grouped.setdefault(recipient, []).append(handover.reference)
    return grouped


def send_overdue_overviews(r: redis.Redis, now: datetime) -> int:
    """One overview per partner channel per Amsterdam day."""
    day = today(now).isoformat()
    sent = 0
    for recipient, refs in overdue_by_channel(r, now).items():
        channel = hashlib.sha256(json.dumps(recipient.addresses(), sort_keys=True).encode()).hexdigest()[:16]
        claim = f"overview:{day}:{channel}"
        if not store.once(r, claim):
            continue
        try:
            notify.overdue_overview(r, recipient, refs)
        except Exception:
            store.forget(r, claim)  # let the next tick try again
            raise
        sent += 1
    return sent
