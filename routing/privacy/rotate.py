"""`flask --app routing keys rotate`: re-encrypt every personal field with the newest key.

Put the new key first in ENCRYPTION_KEYS (old keys after it), restart, run this, then drop the old keys.
Every store module that keeps encrypted values declares where they are:
  ENCRYPTED_KEYS = ("ll:...:p",)                  string keys whose whole value is one token
  ENCRYPTED_HASH_FIELDS = {"ll:...": ("phone",)}   hash fields that each hold one token
A value is swapped in place, keeping its TTL; a key deleted meanwhile (withdrawn, purged) stays deleted.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import click
import redis
from flask.cli import with_appcontext

import routing.store
from routing.extensions import get_redis
from routing.privacy import crypto

# Hash field swap that never revives a deleted hash or field.
_HSET_IF_PRESENT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
return 0
"""


def _declarations() -> tuple[list[str], dict[str, tuple[str, ...]]]:
    strings: list[str] = []
    hashes: dict[str, tuple[str, ...]] = {}
    for module_info in pkgutil.iter_modules(routing.store.__path__):
        module = importlib.import_module(f"routing.store.{module_info.name}")
        strings.extend(getattr(module, "ENCRYPTED_KEYS", ()))
        hashes.update(getattr(module, "ENCRYPTED_HASH_FIELDS", {}))
    return strings, hashes


def _targets(r: redis.Redis) -> Iterator[tuple[str, str | None]]:
    strings, hashes = _declarations()
    for pattern in strings:
        for key in r.scan_iter(match=pattern, count=500):
            yield key.decode(), None
    for pattern, names in hashes.items():
        for key in r.scan_iter(match=pattern, count=500):
            if r.type(key) == b"hash":
                for name in names:
                    yield key.decode(), name


def rotate_all(r: redis.Redis, progress=None) -> dict[str, int]:
    """Re-encrypt everything; returns counts (rotated, gone meanwhile)."""
    counts = {"rotated": 0, "gone": 0}
    swap = r.register_script(_HSET_IF_PRESENT)
    targets = list(_targets(r))
    for key, field in (progress(targets) if progress else targets):
        token = r.get(key) if field is None else r.hget(key, field)
        if not token:  # deleted meanwhile, or a field emptied when its record was finished
            counts["gone"] += 1
            continue
        fresh = crypto.reencrypt(token)
        done = r.set(key, fresh, keepttl=True, xx=True) if field is None else swap([key], [field, fresh])
        counts["rotated" if done else "gone"] += 1
    return counts


@click.command("rotate", help="Re-encrypt all personal fields with the first key in ENCRYPTION_KEYS.")
@with_appcontext
def rotate() -> None:
    def bar(items):
        with click.progressbar(items, label="Re-encrypting") as wrapped:
            yield from wrapped

    counts = rotate_all(get_redis(), progress=bar)
    click.echo(f"Re-encrypted with the newest key: {counts['rotated']}. Deleted meanwhile: {counts['gone']}.")
