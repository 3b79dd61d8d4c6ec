"""What a handover tells whom: notices with a reference, location, topic, deadline and link — never personal data.

The partner's channel comes from the directory (an employee's own address there takes precedence over the
team's, so one party is notified); returns go to the location's on-duty channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

import redis
from flask import current_app

from routing.directory import schedule
from routing.directory import service as directory
from routing.directory.schedule import TZ
from routing.handovers import tokens
from routing.handovers.model import Handover
from routing.http import absolute
from routing.notices.kinds import MAX_REFERENCES
from routing.notices.service import Recipient, create_notice


def _setting(name: str) -> int:
    return int(current_app.config[name])


def end_of_day(day) -> datetime:
    return datetime.combine(day, time.max, tzinfo=TZ).astimezone(UTC)


def link_expiry(handover: Handover, now: datetime) -> int:
    """The deadline plus a margin; never sooner than the margin from now (links sent after the deadline)."""
    margin = timedelta(hours=_setting("HANDOVER_LINK_MARGIN_HOURS"))
    return int(max(end_of_day(handover.deadline), now).timestamp() + margin.total_seconds())


def partner_recipient(handover: Handover) -> Recipient | None:
    channels = directory.partner_channels(handover.partner, handover.location)
    if not (channels.sms or channels.email):
        return None
    return Recipient(sms=channels.sms, email=channels.email)


def topic_name(topic_id: str) -> str:
    if not topic_id:
        return ""
    topic = directory.get_directory().topics.get(topic_id)
    return topic.name_nl if topic else topic_id


def _context(handover: Handover) -> dict[str, str | bool]:
    return {
        "reference": handover.reference,
        "location": directory.get_location(handover.location).name,
        "topic": topic_name(handover.topic),
        "deadline": handover.deadline.isoformat(),
    } | ({"urgent": True} if handover.urgency == "urgent" else {})


def partner_hours_from(now: datetime) -> datetime | None:
    """None within the partners' working hours (working days, from HANDOVER_REMINDER_HOUR until
    HANDOVER_NOTICE_UNTIL_HOUR, Europe/Amsterdam); else when they begin again. A handover a partner took over at
    intake on a Sunday evening reaches its team phone on Monday morning. Always None with
    HANDOVER_NOTICE_OFFICE_HOURS off."""
    if not current_app.config["HANDOVER_NOTICE_OFFICE_HOURS"]:
        return None
    local = now.astimezone(TZ)
    start, until = _setting("HANDOVER_REMINDER_HOUR"), _setting("HANDOVER_NOTICE_UNTIL_HOUR")
    day = local.date()
    if schedule.is_working_day(day) and start <= local.hour < until:
        return None
    if not (schedule.is_working_day(day) and local.hour < start):
        day += timedelta(days=1)
        while not schedule.is_working_day(day):
            day += timedelta(days=1)
    return datetime.combine(day, time(start), tzinfo=TZ).astimezone(UTC)


def send_link(r: redis.Redis, handover: Handover, kind: str, now: datetime,
              not_before: datetime | None = None) -> str | None:
    """A fresh single-use link to the partner's channel (kind handover_new, handover_new_link or
    handover_reminder); `not_before`: not sent earlier (partner_hours_from)."""
    recipient = partner_recipient(handover)
    if recipient is None:
        return None
    expires_at = link_expiry(handover, now)
    token = tokens.issue(r, handover.reference, expires_at)
    context = _context(handover) | {"link": absolute("handovers.open_link", token=token)}
    on_duty = directory.get_location(handover.location).on_duty
    # If the partner cannot be reached on any channel, the loket hears of it (nothing fails silently).
    escalate_to = Recipient(sms=on_duty.sms, email=on_duty.email) if on_duty.sms or on_duty.email else None
    return create_notice(r, kind, recipient, context, locale="nl", now=now, escalate_to=escalate_to,
                         valid_for=max(60, expires_at - int((not_before or now).timestamp())), not_before=not_before)


def returned(r: redis.Redis, handover: Handover) -> str | None:
    """Tell the loket on duty that a handover came back to them."""
    on_duty = directory.get_location(handover.location).on_duty
    if not (on_duty.sms or on_duty.email):
        return None
    context = _context(handover) | {"link": absolute("handovers.detail", reference=handover.reference)}
    return create_notice(r, "handover_returned", Recipient(sms=on_duty.sms, email=on_duty.email), context,
                         locale="nl")


def overdue_overview(r: redis.Redis, recipient: Recipient, references: Iterable[str]) -> str:
    """The 07:00 overview for one partner channel: counts and references only."""
    references = sorted(references)
    context = {"count": len(references), "references": references[:MAX_REFERENCES],
               "link": absolute("handovers.aftercare")}
    return create_notice(r, "handover_overdue_overview", recipient, context, locale="nl")
