"""Handover fixtures: what was handed to notice dispatch, and helpers to make handovers and open links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from handovers.helpers import LOCATION, PHONE


@pytest.fixture
def sent(app, monkeypatch) -> list[dict[str, Any]]:
    """Every notice the handover feature hands to dispatch (kind, recipient, context), in order; dispatch
    itself stores and queues it as usual (and refuses a context that looks personal)."""
    from routing.handovers import notify

    calls: list[dict[str, Any]] = []
    dispatch = notify.create_notice

    def recording(r, kind, recipient, context, locale="nl", **options):
        calls.append({"kind": kind, "recipient": recipient, "context": dict(context), "options": options})
        return dispatch(r, kind, recipient, context, locale=locale, **options)

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
