"""Privacy: encryption at rest, pseudonyms, BSN refusal, trace context and the audit log."""

from __future__ import annotations

import click
from flask import Flask

from routing import current

from routing.cli import RedisGroup
from routing.privacy import crypto, trace
from routing.privacy.rotate import rotate


@click.group(cls=RedisGroup, help="Encryption keys for personal fields.")
def keys() -> None:
    pass


@keys.command("generate", cls=click.Command,  # needs no Redis (nor any other setting)
              help="Print a new key; put it first in ENCRYPTION_KEYS, then run `keys rotate`.")
def generate() -> None:
    click.echo(crypto.generate_key())


keys.add_command(rotate)


def init_app(app: Flask) -> None:
    # Also a plugin command (pyproject.toml), which the `flask` command finds before loading the app; here
    # for the app's own command group (app.test_cli_runner()).
    app.cli.add_command(keys)
    from routing.extensions import api
    from routing.privacy import audit_cli, audit_views

    app.cli.add_command(audit_cli.audit)
    app.register_blueprint(audit_views.bp)
    api.register_blueprint(audit_views.blp)

    @app.before_request
    def start_trace() -> None:
        trace.start_request(current.this_request().headers.get("traceparent"))
