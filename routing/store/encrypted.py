"""Where encrypted values live, for key rotation: every store module declares its own.

  ENCRYPTED_KEYS = ("ll:...:p",)                  string keys whose whole value is one token
  ENCRYPTED_HASH_FIELDS = {"ll:...": ("phone",)}   hash fields that each hold one token
A value is swapped in place, keeping its TTL; a key deleted meanwhile (withdrawn, purged) stays deleted.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import redis

import routing.store
from routing.store.scripts import lua

# Hash field swap that never revives a deleted hash or field.
_HSET_IF_PRESENT = lua("""
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
return 0
""")

Location = tuple[str, str | None]  # (key, hash field or None for a string key)


def _declarations() -> tuple[list[str], dict[str, tuple[str, ...]]]:
    strings: list[str] = []
    hashes: dict[str, tuple[str, ...]] = {}
    for module_info in pkgutil.iter_modules(routing.store.__path__):
        module = importlib.import_module(f"routing.store.{module_info.name}")
        strings.extend(getattr(module, "ENCRYPTED_KEYS", ()))
        hashes.update(getattr(module, "ENCRYPTED_HASH_FIELDS", {}))
    return strings, hashes


def locations(r: redis.Redis) -> Iterator[Location]:
    strings, hashes = _declarations()
    for pattern in strings:
        for key in r.scan_iter(match=pattern, count=500):
            yield key.decode(), None
    for pattern, names in hashes.items():
        for key in r.scan_iter(match=pattern, count=500):
            if r.type(key) == b"hash":
                # Only the fields it holds: an optional field never set (a request without a name) is not a
                # value that went missing.
                present = set(r.hkeys(key))
                for name in names:
                    if name.encode() in present:
                        yield key.decode(), name


def read(r: redis.Redis, location: Location) -> bytes | None:
    key, field = location
    return r.get(key) if field is None else r.hget(key, field)


def replace(r: redis.Redis, location: Location, token: str) -> bool:
    """Swap in the new token; False when the value was deleted meanwhile."""
    key, field = location
    if field is None:
        return bool(r.set(key, token, keepttl=True, xx=True))
    return bool(_HSET_IF_PRESENT([key], [field, token], client=r))
