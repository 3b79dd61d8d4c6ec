"""`flask --app routing audit export [--since WHEN] [--output FILE]`: the audit stream as JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from routing.extensions import get_redis
from routing.privacy import audit as audit_log


def since_ms(value: str | None) -> int:
    """An ISO 8601 date or date-time (UTC when it names no zone), or epoch seconds, as epoch milliseconds."""
    if not value:
        return 0
    if value.isdigit():
        return int(value) * 1000
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("use an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T07:00:00Z, "
                                 "or epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@click.group(help="The record of who saw or changed personal data (Logboek dataverwerkingen).")
def audit() -> None:
    pass


@audit.command("export", help="Write the audit records as JSON lines, oldest first.")
@click.option("--since", "since", default=None,
              help="Only records from this moment on: an ISO 8601 date or time (UTC unless it says otherwise), "
                   "or epoch seconds.")
@click.option("--output", type=click.File("w"), default="-", help="File to write (default: standard output).")
def export(since: str | None, output) -> None:
    count = 0
    for entry in audit_log.since(get_redis(), since_ms(since)):
        output.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    click.echo(f"{count} records", err=True)
