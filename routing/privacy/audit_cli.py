"""`flask --app routing audit export [--since WHEN] [--output FILE]`: the audit stream as JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from routing.cli import RedisGroup
from routing.extensions import get_redis
from routing.privacy import audit as audit_log

SINCE_FORMS = "an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T07:00:00Z, or epoch seconds"
# Epoch seconds from here on are the year 5138: such a number is epoch milliseconds (which, read as seconds,
# would silently export nothing). Milliseconds since 2001 are all above it.
MILLISECONDS_FROM = 10**11


def since_ms(value: str | None) -> int:
    """An ISO 8601 date or date-time (UTC when it names no zone), or epoch seconds, as epoch milliseconds.
    What the audit stream's ids cannot hold (before 1970: Redis answers "Invalid stream ID") or what is
    surely milliseconds is refused with what to give instead."""
    if not value:
        return 0
    if value.isdigit():
        if int(value) >= MILLISECONDS_FROM:
            raise click.BadParameter(f"{value} looks like epoch milliseconds; give epoch seconds "
                                     f"({int(value) // 1000}) or {SINCE_FORMS}")
        return int(value) * 1000
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"use {SINCE_FORMS}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.timestamp() < 0:
        raise click.BadParameter(f"{value} is before 1970; leave --since out to export every record")
    return int(moment.timestamp() * 1000)


@click.group(cls=RedisGroup, help="The record of who saw or changed personal data (Logboek dataverwerkingen).")
def audit() -> None:
    pass


@audit.command("export", help="Write the audit records as JSON lines, oldest first.")
@click.option("--since", "since", default=None, callback=lambda _ctx, _param, value: since_ms(value),
              help="Only records from this moment on: an ISO 8601 date or time (UTC unless it says otherwise), "
                   "or epoch seconds.")
@click.option("--output", type=click.File("w"), default="-", help="File to write (default: standard output).")
def export(since: int, output) -> None:
    count = 0
    for entry in audit_log.since(get_redis(), since):
        output.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    # click opens --output at its first use: without records this creates it, so a daily archive job finds an
    # (empty) file for a quiet day, and none when the export failed.
    output.flush()
    click.echo(f"{count} records", err=True)
