"""The audit stream (Logboek dataverwerkingen records) and an index of stream ids per reference."""

from __future__ import annotations

from collections.abc import Iterator

import redis

from routing.store.keys import PREFIX

STREAM = PREFIX + "audit"
BY_REFERENCE = PREFIX + "audit:ref:{reference}"
BATCH = 500


# One round trip per record (it sits on the intake path): add, trim past retention, index by reference.
_APPEND = """
local id = redis.call('XADD', KEYS[1], '*', 'record', ARGV[1])
redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[2])
if KEYS[2] then
  redis.call('RPUSH', KEYS[2], id)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return id
"""


def append(r: redis.Redis, entry_json: str, reference: str | None, retention_ms: int, now_ms: int) -> str:
    # Stream ids start with their time in ms, so MINID trims exactly what is past retention.
    keys = [STREAM] + ([BY_REFERENCE.format(reference=reference)] if reference else [])
    entry_id = r.register_script(_APPEND)(keys, [entry_json, f"{now_ms - retention_ms}-0", retention_ms])
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
