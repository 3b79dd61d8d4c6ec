"""Who saw or changed personal data, in the shape of the Logboek dataverwerkingen standard.

One record per data subject per action, never sampled, stored in a Redis stream with its own retention.
The data subject is a keyed pseudonym (HMAC of the phone number), never the number itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from routing import current
from routing.privacy import trace
from routing.privacy.crypto import pseudonym
from routing.store import audit as store

# Processing activities (verwerkingsactiviteiten) as registered in the register of processing.
ACTIVITIES = {
    "callbacks": "loketlijn-terugbelverzoeken",
    "handovers": "loketlijn-warme-overdracht",
    "retention": "loketlijn-bewaartermijn",
    # Accounts, API keys and the encryption keys: who may see personal data, and how it is kept.
    "administration": "loketlijn-beheer",
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def prepare(
    *,
    action: str,
    activity: str,
    actor: str,
    subject: str | None,
    reference: str | None = None,
    client: str | None = None,
    target: str | None = None,
    status: str = "ok",
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> store.AuditWrite:
    """One record, not yet written. `subject` is the phone number (pseudonymised here) or None when gone.
    `client`: the API client through which a citizen made it (`apikey:<id>`, or `user:<id>` for an account calling
    the API with its session): an id, never the key itself. `target`: the account or API key an administration
    record changed (`user:<id>`, `apikey:<id>`); such records have no data subject (`subject` None)."""
    trace_id, parent_span = trace.current()
    now = datetime.now(UTC)
    entry = {
        "trace_id": trace_id,
        "span_id": trace.new_span_id(),
        "parent_span_id": parent_span,
        "name": action,
        "start_time": _iso(started_at or now),
        "end_time": _iso(ended_at or now),
        "status_code": "STATUS_CODE_OK" if status == "ok" else "STATUS_CODE_ERROR",
        "resource": {"name": "loketlijn", "version": "1"},
        "attributes": {
            "dpl.core.processing_activity_id": ACTIVITIES.get(activity, activity),
            "dpl.core.data_subject_id": pseudonym(subject) if subject else None,
            "dpl.core.data_subject_id_type": "phone-hmac-sha256" if subject else None,
            "loketlijn.actor": actor,
            "loketlijn.reference": reference,
        },
    }
    if client:
        entry["attributes"]["loketlijn.client"] = client
    if target:
        entry["attributes"]["loketlijn.target"] = target
    retention_ms = int(current.app().config["AUDIT_RETENTION_DAYS"]) * 86_400_000
    return store.AuditWrite(json.dumps(entry, separators=(",", ":")),
                            store.index_key(reference, administration=activity == "administration"), retention_ms,
                            int(time.time() * 1000))


def record(r: redis.Redis, **fields: Any) -> None:
    """Write one record now (the fields of `prepare`)."""
    store.append(r, prepare(**fields))


@dataclass
class Outcome:
    """What `logged` records for a block that ends without raising: "ok", unless the block sets "error"."""

    status: str = "ok"


@contextmanager
def logged(r: redis.Redis, **fields: Any) -> Iterator[Outcome]:
    """Record an access with its real start and end, and status error when the block raises (also when it is
    interrupted: a `keys rotate` stopped with Ctrl-C) or says so."""
    started = datetime.now(UTC)
    outcome = Outcome()
    try:
        yield outcome
    except BaseException:
        record(r, status="error", started_at=started, ended_at=datetime.now(UTC), **fields)
        raise
    record(r, status=outcome.status, started_at=started, ended_at=datetime.now(UTC), **fields)


def for_reference(r: redis.Redis, reference: str) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in store.for_reference(r, reference)]


def administration(r: redis.Redis, last: int) -> list[dict[str, Any]]:
    """The latest changes to accounts, API keys and encryption keys, oldest first."""
    return [json.loads(raw) for raw in store.administration(r, last)]


def since(r: redis.Redis, since_ms: int = 0) -> Iterator[dict[str, Any]]:
    for raw in store.since(r, since_ms):
        yield json.loads(raw)
