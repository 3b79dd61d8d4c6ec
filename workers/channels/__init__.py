"""Delivery channels behind one interface (base.Channel); the provider for each, or the outbox.

Per channel: Twilio for sms and whatsapp when TWILIO_* is set, SMTP for email when SMTP_HOST is set.
Otherwise the development outbox, except in production: there a channel without a provider fails each
notice on it (the notice moves on to the recipient's next channel, or fails and is escalated), and the
start-up check (`problems`) refuses a production without any provider or with one half configured.
Built once per app (tests swap them in app.extensions).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

from flask import current_app

from config.settings import DEV_MAIL_FROM
from routing.extensions import get_redis
from workers.channels.base import EMAIL, SMS, WHATSAPP, Channel, Message, NotConfigured
from workers.channels.outbox import OutboxChannel
from workers.channels.smtp_email import DEFAULT_PORTS, SECURITY_MODES, SmtpChannel, SmtpSettings
from workers.channels.twilio_sms import TwilioChannel, TwilioSettings

EXTENSION = "notice_channels"
# The error a notice records for a channel that has no provider in production.
NOT_CONFIGURED = "not-configured"
TWILIO_NEEDS = "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM"
SMTP_NEEDS = "SMTP_HOST and MAIL_FROM"

log = logging.getLogger(__name__)


class UnconfiguredChannel:
    """A channel without a provider in production: it sends nothing and says so (never the outbox)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, message: Message) -> str:
        needs = SMTP_NEEDS if self.name == EMAIL else TWILIO_NEEDS
        log.warning("notice %s not sent by %s: no provider is configured for it (set %s)",
                    message.notice_id, self.name, needs)
        raise NotConfigured(NOT_CONFIGURED)


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
    if config["LOKETLIJN_ENV"] == "production":
        return UnconfiguredChannel(name)
    return OutboxChannel(name, get_redis())


def channel_for(name: str) -> Channel:
    channels = current_app.extensions.setdefault(EXTENSION, {})
    if name not in channels:
        channels[name] = _build(name)
    return channels[name]


def problems(config: Mapping[str, Any], production: bool) -> list[str]:
    """What is wrong with the channels' settings: values no provider can use (any environment), and in
    production no provider at all or one half configured. One line each; never a secret's value."""
    found = []
    security = str(config.get("SMTP_SECURITY") or "starttls").lower()
    if security not in SECURITY_MODES:
        found.append(f"SMTP_SECURITY={config.get('SMTP_SECURITY')!r} is not one of {', '.join(SECURITY_MODES)}")
    port = config.get("SMTP_PORT")
    if port not in (None, "") and not (str(port).strip().isdigit() and 0 < int(port) < 65536):
        found.append(f"SMTP_PORT={port!r} is not a port number (empty: {DEFAULT_PORTS.get(security, 587)} "
                     f"for SMTP_SECURITY={security})")
    smtp, mail_from = bool(config.get("SMTP_HOST")), config.get("MAIL_FROM")
    if smtp and mail_from and "@" not in parseaddr(str(mail_from))[1]:
        found.append(f"MAIL_FROM={mail_from!r} is not an e-mail address, such as 'Loketlijn <noreply@example.nl>'")
    if not production:
        return found
    twilio = TwilioSettings.from_config(config) is not None
    # A sender is what makes Twilio a channel for notices; the account SID and auth token alone serve the
    # webhooks (a Twilio used only for citizens' inbound messages and calls).
    twilio_started = any(config.get(n) for n in ("TWILIO_MESSAGING_SERVICE_SID", "TWILIO_FROM"))
    if twilio_started and not twilio:
        missing = [n for n in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not config.get(n)]
        if not (config.get("TWILIO_MESSAGING_SERVICE_SID") or config.get("TWILIO_FROM")):
            missing.append("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM")
        found.append(f"Twilio (SMS and WhatsApp) is half configured: missing {', '.join(missing)}; "
                     f"it needs {TWILIO_NEEDS}")
    smtp_started = any(config.get(n) for n in ("SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD"))
    if smtp_started and not smtp:
        found.append(f"SMTP (e-mail) is half configured: SMTP_HOST is not set; it needs {SMTP_NEEDS}")
    if smtp and mail_from in (None, "", DEV_MAIL_FROM):
        found.append("SMTP (e-mail) is half configured: MAIL_FROM is not set (the development sender "
                     f"{DEV_MAIL_FROM!r} is no address anyone can reply to or verify)")
    if smtp and bool(config.get("SMTP_USERNAME")) != bool(config.get("SMTP_PASSWORD")):
        found.append("SMTP (e-mail) is half configured: set both SMTP_USERNAME and SMTP_PASSWORD, or neither")
    if not (twilio or smtp):
        found.append(f"no channel for notices is configured, and production never uses the development outbox: "
                     f"set {TWILIO_NEEDS} (SMS and WhatsApp), {SMTP_NEEDS} (e-mail), or both")
    return found
