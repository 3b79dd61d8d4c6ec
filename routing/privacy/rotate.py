"""`flask --app routing keys rotate`: re-encrypt every personal field with the newest key.

Put the new key first in ENCRYPTION_KEYS (old keys after it), restart, run this, then drop the old keys.
Where encrypted values live is declared by each store module (see routing/store/encrypted.py).
"""

from __future__ import annotations

import click
import redis
from flask.cli import with_appcontext

from routing.cli import ACTOR, RedisCommand
from routing.extensions import get_redis
from routing.privacy import audit, crypto
from routing.store import encrypted


def rotate_all(r: redis.Redis, progress=None, *, actor: str) -> dict[str, int]:
    """Re-encrypt everything; returns counts: rotated, empty (a field that holds nothing, such as a finished
    record's), gone (deleted while this ran) and unreadable (no key in ENCRYPTION_KEYS opens it). One audit
    record says who ran it and when (no data subject: it is every one); status error when values stayed
    unreadable, or when it stopped halfway."""
    with audit.logged(r, action="keys.rotate", activity="administration", actor=actor, subject=None) as outcome:
        counts = _rotate(r, progress)
        if counts["unreadable"]:
            outcome.status = "error"
    return counts


def _rotate(r: redis.Redis, progress) -> dict[str, int]:
    counts = {"rotated": 0, "empty": 0, "gone": 0, "unreadable": 0}
    targets = list(encrypted.locations(r))
    for location in (progress(targets) if progress else targets):
        token = encrypted.read(r, location)
        if token is None:
            counts["gone"] += 1
            continue
        if not token:
            counts["empty"] += 1
            continue
        try:
            fresh = crypto.reencrypt(token)
        except crypto.InvalidToken:  # its key was removed too early; the others are still rotated
            counts["unreadable"] += 1
            continue
        counts["rotated" if encrypted.replace(r, location, fresh) else "gone"] += 1
    return counts


@click.command("rotate", cls=RedisCommand, help="Re-encrypt all personal fields with the first key in ENCRYPTION_KEYS.")
@with_appcontext
def rotate() -> None:
    def bar(items):
        with click.progressbar(items, label="Re-encrypting") as wrapped:
            yield from wrapped

    counts = rotate_all(get_redis(), progress=bar, actor=ACTOR)
    click.echo(f"Re-encrypted with the newest key: {counts['rotated']}. Empty fields skipped: {counts['empty']}. "
               f"Deleted while this ran: {counts['gone']}.")
    if counts["unreadable"]:
        raise click.ClickException(
            f"{counts['unreadable']} value(s) could not be read with any key in ENCRYPTION_KEYS: put the old key "
            "back after the new one and run this again before removing it.")
