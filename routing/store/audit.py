"""The audit stream (Logboek dataverwerkingen records) and an index of stream ids per reference."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import redis

from routing.store.keys import PREFIX
from routing.store.scripts import lua

STREAM = PREFIX + "audit"
BY_REFERENCE = PREFIX + "audit:ref:{reference}"
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
    """One record, ready to store: on its own (`append`) or inside another script (two keys, three args)."""

    entry_json: str
    reference: str | None
    retention_ms: int
    now_ms: int

    def keys(self) -> list[str]:
        return [STREAM] + ([BY_REFERENCE.format(reference=self.reference)] if self.reference else [])

    def args(self) -> list[str | int]:
        # Stream ids start with their time in ms, so MINID trims exactly what is past retention.
        return [self.entry_json, f"{self.now_ms - self.retention_ms}-0", self.retention_ms]


def append(r: redis.Redis, write: AuditWrite) -> str:
    entry_id = _APPEND(write.keys(), write.args(), client=r)
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


def for_reference(r: redis.Redis, reference: str) -> list[bytes]:
    records = []
    for entry_id in r.lrange(BY_REFERENCE.format(reference=reference), 0, -1):
        found = r.xrange(STREAM, min=entry_id, max=entry_id)
        records.extend(fields[b"record"] for _, fields in found)
    return records


def since(r: redis.Redis, since_ms: int) -> Iterator[bytes]:
    start = f"{since_ms}-0"
    while True:
        batch = r.xrange(STREAM, min=start, count=BATCH)
        for entry_id, fields in batch:
            yield fields[b"record"]
        if len(batch) < BATCH:
            return
        start = "(" + batch[-1][0].decode()
