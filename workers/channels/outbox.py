"""The development outbox: the channel used when no provider is configured for it.

It keeps the rendered notice in Redis (the address encrypted, like every address at rest) so that
`GET /dev/outbox` shows what would have been sent, and `make run` demonstrates the whole flow.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import redis

from routing.privacy import crypto
from routing.store import notices as store
from workers.channels.base import Message


class OutboxChannel:
    def __init__(self, name: str, connection: redis.Redis) -> None:
        self.name = name
        self.connection = connection

    def send(self, message: Message) -> str:
        outbox_id = f"outbox-{uuid.uuid4().hex}"
        store.outbox_add(self.connection, {
            "id": outbox_id,
            "notice_id": message.notice_id,
            "channel": self.name,
            "recipient": crypto.encrypt(message.to),
            "subject": message.subject,
            "body": message.text,
            "at": datetime.now(UTC).isoformat(),
        })
        return outbox_id
