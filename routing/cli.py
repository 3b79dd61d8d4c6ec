"""What every operator command that uses Redis has in common (`flask --app routing users|apikeys|keys|audit`).

A Redis that does not answer is the operator's to fix (start it, check REDIS_URL), not a bug: the command
says so in one line and exits with 1, instead of redis-py's traceback.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import click
from flask import current_app

from routing.errors import REDIS_DOWN


def redacted(url: str) -> str:
    """A Redis URL fit for the terminal: without its password."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = f"{parts.username}:" if parts.username else ":"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}***@{host}"))


class RedisCommand(click.Command):
    """A command that reads or writes Redis."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except REDIS_DOWN as error:
            # redis-py's text names the host and port or the socket, never the password.
            raise click.ClickException(
                f"Redis at {redacted(current_app.config['REDIS_URL'])} does not answer: {error}") from None


class RedisGroup(click.Group):
    """A command group whose commands use Redis (a command that does not, such as `keys generate`, is declared
    with `cls=click.Command`)."""

    command_class = RedisCommand
