"""The audit stream (Logboek dataverwerkingen records) and an index of stream ids per reference."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import redis

from routing.store.keys import PREFIX
from routing.store.scripts import lua

STREAM = PREFIX + "audit"
BY_REFERENCE = PREFIX + "audit:ref:{reference}"
# Changes to accounts, API keys and encryption keys, which have no reference: the Logboek lists the latest.
ADMINISTRATION = PREFIX + "audit:admin"
BATCH = 500


# Add and trim past retention (one XADD), index by reference. A Lua function, so that a script that changes
# personal data (callback intake) writes its audit record in the same atomic round trip (AuditWrite.keys/args).
APPEND_FUNCTION = """
local function audit_append(stream, index, record, minid, ttl_ms)
  local id = redis.call('XADD', stream, 'MINID', '~', minid, '*', 'record', record)
  if index then
    redis.call('RPUSH', index, id)
    redis.call('PEXPIRE', index, ttl_ms)
  end
  return id
end
"""
_APPEND = lua(APPEND_FUNCTION + "return audit_append(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])")


@dataclass(frozen=True)
class AuditWrite:
    """One record, ready to store: on its own (`append`) or inside another script (two keys, three args).
    `index`: the list its id is added to (`index_key`), or None."""

    entry_json: str
    index: str | None
    retention_ms: int
    now_ms: int

    def keys(self) -> list[str]:
        return [STREAM] + ([self.index] if self.index else [])

    def args(self) -> list[str | int]:
        # Stream ids start with their time in ms, so MINID trims exactly what is past retention.
        return [self.entry_json, f"{self.now_ms - self.retention_ms}-0", self.retention_ms]


def append(r: redis.Redis, write: AuditWrite) -> str:
    entry_id = _APPEND(write.keys(), write.args(), client=r)
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


def index_key(reference: str | None, *, administration: bool = False) -> str | None:
    """Where a record is found again: under its reference, or with the changes to accounts and keys."""
    if reference:
        return BY_REFERENCE.format(reference=reference)
    return ADMINISTRATION if administration else None


def _indexed(r: redis.Redis, entry_ids: list[bytes]) -> list[bytes]:
    """The records of these stream ids still kept, in their order (one round trip)."""
    with r.pipeline(transaction=False) as pipe:
        for entry_id in entry_ids:
            pipe.xrange(STREAM, min=entry_id, max=entry_id)
        found = pipe.execute() if entry_ids else []
    return [fields[b"record"] for entries in found for _, fields in entries]


def for_reference(r: redis.Redis, reference: str) -> list[bytes]:
    return _indexed(r, r.lrange(BY_REFERENCE.format(reference=reference), 0, -1))


def administration(r: redis.Redis, last: int) -> list[bytes]:
    """The latest `last` changes to accounts and keys that are still kept, oldest first. (The index keeps every
    id, a few bytes per change; those past retention are no longer in the stream and are skipped.)"""
    return _indexed(r, r.lrange(ADMINISTRATION, -last, -1))


def since(r: redis.Redis, since_ms: int) -> Iterator[bytes]:
    start = f"{since_ms}-0"
    while True:
        batch = r.xrange(STREAM, min=start, count=BATCH)
        for entry_id, fields in batch:
            yield fields[b"record"]
        if len(batch) < BATCH:
            return
        start = "(" + batch[-1][0].decode()
