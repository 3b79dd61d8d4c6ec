"""Delivery channels behind one interface (base.Channel); the provider for each, or the outbox.

Per channel: Twilio for sms and whatsapp when TWILIO_* is set, SMTP for email when SMTP_HOST is set,
otherwise the development outbox. Built once per app (tests swap them in app.extensions).
"""

from __future__ import annotations

from flask import current_app

from routing.extensions import get_redis
from workers.channels.base import EMAIL, SMS, WHATSAPP, Channel
from workers.channels.outbox import OutboxChannel
from workers.channels.smtp_email import SmtpChannel, SmtpSettings
from workers.channels.twilio_sms import TwilioChannel, TwilioSettings

EXTENSION = "notice_channels"


def _build(name: str) -> Channel:
    config = current_app.config
    if name in (SMS, WHATSAPP):
        twilio = TwilioSettings.from_config(config)
        if twilio:
            return TwilioChannel(twilio, whatsapp=name == WHATSAPP)
    elif name == EMAIL:
        smtp = SmtpSettings.from_config(config)
        if smtp:
            return SmtpChannel(smtp)
    else:
        raise ValueError(f"unknown channel {name!r}")
    return OutboxChannel(name, get_redis())


def channel_for(name: str) -> Channel:
    channels = current_app.extensions.setdefault(EXTENSION, {})
    if name not in channels:
        channels[name] = _build(name)
    return channels[name]
