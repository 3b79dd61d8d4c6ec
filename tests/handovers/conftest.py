"""Handover fixtures: what was handed to notice dispatch, and helpers to make handovers and open links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from handovers.helpers import LOCATION, PHONE


@pytest.fixture
def sent(app, monkeypatch) -> list[dict[str, Any]]:
    """Every notice the handover feature asks dispatch for (kind, recipient, context), in order.

    The context goes through dispatch's own check (only allowed keys, nothing that looks personal)."""
    from flask import current_app

    from routing.handovers import notify
    from routing.notices.kinds import clean_context

    calls: list[dict[str, Any]] = []

    def recording(r, kind, recipient, context, locale="nl", **options):
        clean_context(kind, context, current_app.config.get("PUBLIC_BASE_URL"))
        calls.append({"kind": kind, "recipient": recipient, "context": dict(context), "options": options})
        return f"notice-{len(calls)}"

    monkeypatch.setattr(notify, "create_notice", recording)
    return calls


@pytest.fixture
def staff_principal():
    from routing.auth.principal import Principal

    return Principal(id="s1", kind="user", role="staff", locations=frozenset({LOCATION}), email="s@example.org")


@pytest.fixture
def make_handover(app, redis, staff_principal, sent) -> Callable[..., list]:
    """make_handover(partner="uwv", **fields) → the handovers made by loket staff of LOCATION."""
    from routing.extensions import get_redis
    from routing.handovers import service

    def make(partner: Any = "uwv", now: datetime | None = None, **fields: Any) -> list:
        data = {"location": LOCATION, "partner": partner, "phone": PHONE, "name": "mevrouw Jansen",
                "note": "Vraag over de WW-uitkering", "urgency": "normal", "consent": True,
                "preferred": "dinsdagochtend", "language": "Nederlands"} | fields
        return service.create(get_redis(), staff_principal, data, now or datetime.now(UTC))

    return make
