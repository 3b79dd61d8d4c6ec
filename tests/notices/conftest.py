"""Fixtures for notice tests: fake channels that record what they were asked to send."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from workers.channels import EXTENSION
from workers.channels.base import EMAIL, SMS, WHATSAPP, Message


class FakeChannel:
    """Records every message; `errors` is a list of exceptions to raise, one per send, before succeeding."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Message] = []
        self.errors: list[Exception] = []

    def send(self, message: Message) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)
        return f"SM{len(self.sent):032d}" if self.name != EMAIL else f"<{len(self.sent)}@test>"


@pytest.fixture
def channels(app) -> Iterator[dict[str, FakeChannel]]:
    fakes = {name: FakeChannel(name) for name in (SMS, WHATSAPP, EMAIL)}
    app.extensions[EXTENSION] = dict(fakes)
    yield fakes
    app.extensions.pop(EXTENSION, None)


@pytest.fixture
def notice_context() -> Callable[..., dict]:
    def make(**overrides) -> dict:
        context = {
            "reference": "HO-7K3P",
            "location": "Utrecht",
            "topic": "Toeslagen",
            "deadline": "2026-12-01T16:00:00+00:00",
            "link": "http://localhost/p/abc123",
        }
        context.update(overrides)
        return context

    return make


class Clock:
    """The time the notice service and jobs see; tests move it instead of sleeping."""

    def __init__(self) -> None:
        from routing.notices.service import utcnow

        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from routing.notices import service

    fake = Clock()
    monkeypatch.setattr(service, "utcnow", fake)
    return fake
