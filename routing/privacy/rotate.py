"""`flask --app routing keys rotate`: re-encrypt every personal field with the newest key.

Put the new key first in ENCRYPTION_KEYS (old keys after it), restart, run this, then drop the old keys.
Where encrypted values live is declared by each store module (see routing/store/encrypted.py).
"""

from __future__ import annotations

import click
import redis
from flask.cli import with_appcontext

from routing.extensions import get_redis
from routing.privacy import crypto
from routing.store import encrypted


def rotate_all(r: redis.Redis, progress=None) -> dict[str, int]:
    """Re-encrypt everything; returns counts (rotated, gone meanwhile)."""
    counts = {"rotated": 0, "gone": 0}
    targets = list(encrypted.locations(r))
    for location in (progress(targets) if progress else targets):
        token = encrypted.read(r, location)
        if not token:  # deleted meanwhile, or a field emptied when its record was finished
            counts["gone"] += 1
            continue
        done = encrypted.replace(r, location, crypto.reencrypt(token))
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
