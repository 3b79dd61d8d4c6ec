"""What every operator command that uses Redis has in common (`flask --app routing users|apikeys|keys|audit`).

In development it uses the Redis of `make run` in this checkout or REDIS_URL, never a guessed one. A Redis that
does not answer is the operator's to fix (start it, check REDIS_URL), not a bug: the command says so in one
line and exits with 1, instead of redis-py's traceback.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import click
from flask import current_app
from flask.cli import ScriptInfo

from config import settings
from routing.errors import REDIS_DOWN

# Who the audit log names for a change made with an operator command: the command line has no login, and the
# operating system's user name would be personal data. Whoever may run these commands is the server's business.
ACTOR = "cli"


def redacted(url: str) -> str:
    """A Redis URL fit for the terminal: without its password."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = f"{parts.username}:" if parts.username else ":"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}***@{host}"))


class RedisCommand(click.Command):
    """A command that reads or writes Redis: only one it was told about (`settings.guessed_redis_problem`)."""

    def invoke(self, ctx: click.Context):
        if not current_app:  # a plugin command (`keys rotate`): Flask has not loaded the app for it
            ctx.with_resource(ctx.ensure_object(ScriptInfo).load_app().app_context())
        problem = settings.guessed_redis_problem(current_app.config)
        if problem:
            raise click.ClickException(problem)
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
