"""The one small interface every delivery channel implements.

A channel sends one rendered message and either returns the provider's id for it or raises one of
two errors. Classifying provider errors happens here, in the channels, and nowhere else:

- ``TransientError``: worth trying again later on the same channel (timeouts, connection errors,
  HTTP 5xx, rate limits, SMTP 4xx).
- ``PermanentError``: this channel will not deliver this message (invalid or unsubscribed number,
  SMTP 5xx); the job fails over to the recipient's next channel.

Both carry only a short provider code (``"twilio:21211"``), never the provider's message text:
Twilio's and SMTP servers' messages quote the recipient's address, which must not reach a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SMS = "sms"
WHATSAPP = "whatsapp"
EMAIL = "email"
# The order in which a recipient's addresses are tried (a permanent failure moves to the next one).
CHANNEL_ORDER = (SMS, WHATSAPP, EMAIL)


@dataclass(frozen=True)
class Message:
    """A rendered notice on its way to one address; holds no personal data besides ``to``."""

    notice_id: str
    channel: str
    to: str
    subject: str
    text: str
    html: str | None = None
    # Seconds the message stays useful; the SMS provider drops it after that instead of sending late.
    validity_seconds: int = 36000
    attempt: int = 1


class ChannelError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class TransientError(ChannelError):
    """Try again later on the same channel."""


class PermanentError(ChannelError):
    """This channel cannot deliver this message; fail over to the next one."""

    failure = "permanent"  # what the failed-notices page says: the address does not work


class SettingsRefused(PermanentError):
    """The provider refused our own account or login, not the address (a wrong Twilio token, an SMTP login or
    STARTTLS refused): every notice on this channel fails so until the operator fixes its settings, which the
    send job logs as an error."""


class NotConfigured(PermanentError):
    """No provider for this channel (production never falls back to the outbox): our side, not the address."""

    failure = "technical"


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> str:
        """Hand the message to the provider; return the provider's id for it."""
        ...
