"""`flask users ...` and `flask apikeys ...` for operators."""

from __future__ import annotations

import sys

import click

from routing.auth import service
from routing.auth.principal import KEY_ONLY_ROLES, PERSON_ROLES, ROLES, key_only_role_message
from routing.cli import ACTOR, RedisGroup
from routing.extensions import get_redis
from routing.store import users as store

DEMO_PASSWORD = "demo-wachtwoord-2026"
DEMO_USERS = (
    ("loket@example.org", "staff", ["amsterdam-centrum", "amsterdam-nieuw-west", "amsterdam-zuidoost"], None),
    ("loket.utrecht@example.org", "staff", ["utrecht"], None),
    ("loket.enschede@example.org", "staff", ["enschede"], None),
    ("partner.uwv@example.org", "partner", [], "uwv"),
    ("partner.toeslagen@example.org", "partner", [], "toeslagen"),
    ("coordinator@example.org", "coordinator", [], None),
    ("admin@example.org", "admin", [], None),
)


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


class PersonRole(click.Choice):
    """The roles a person can have (`users add --help` offers only these); a key-only role gets a one-line
    reason instead of the bare list."""

    def __init__(self) -> None:
        super().__init__(PERSON_ROLES)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value in KEY_ONLY_ROLES:
            self.fail(key_only_role_message(value), param, ctx)
        return super().convert(value, param, ctx)


def scope_options(role_type: click.Choice):
    """--role, --location and --partner: the same scope for an account as for an API key."""
    located = "/".join(role for role in ("staff", "kiosk") if role in role_type.choices)

    def decorate(command):
        command = click.option("--partner", default=None, help="Partner id (partner employees).")(command)
        command = click.option("--location", "locations", multiple=True,
                               help=f"Location id ({located}); repeat for more.")(command)
        return click.option("--role", required=True, type=role_type)(command)

    return decorate


@click.group(cls=RedisGroup, help="Manage staff, partner, coordinator and admin accounts.")
def users() -> None:
    pass


@users.command("add", help="Add or update an account; the password is read from standard input. A new "
                           "password for an existing account ends its open sessions (a reset).")
@click.argument("email")
@scope_options(PersonRole())
def add_user(email: str, role: str, locations: tuple[str, ...], partner: str | None) -> None:
    try:
        record = service.add_user(get_redis(), email, _read_password(), role, list(locations), partner,
                                  actor=ACTOR)
    except service.ScopeError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"saved {record['email']} ({record['role']})")


@users.command("list", help="List accounts with their role, scope and id (the id names them in the audit log).")
def list_users() -> None:
    for record in store.list_users(get_redis()):
        scope = ",".join(record["locations"]) or record.get("partner") or "-"
        click.echo(f"{record['email']}\t{record['role']}\t{scope}\t{record['id']}")


@users.command("remove", help="Remove an account (someone who left): they can no longer log in, and their "
                              "open sessions stop working. Audit records keep naming the account's id.")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove_user(email: str, yes: bool) -> None:
    r = get_redis()
    record = service.find_user(r, email)
    if record is None:
        raise click.ClickException(f"no account for {service.normalise_email(email)}")
    email = record["email"]  # as stored: lower case
    if not yes:
        click.confirm(f"Remove {email} ({record['role']}, id {record['id']})?", abort=True)
    removed = service.remove_user(r, email, actor=ACTOR)
    if removed is None:  # removed meanwhile by someone else
        raise click.ClickException(f"no account for {email}")
    click.echo(f"removed {email}; the audit log names it as id {removed['id']}")


@users.command("demo", help="Create the demo accounts (development only).")
def demo_users() -> None:
    from flask import current_app

    if current_app.config["LOKETLIJN_ENV"] == "production":
        raise click.ClickException("demo accounts are never created in production")
    r = get_redis()
    for email, role, locations, partner in DEMO_USERS:
        service.add_user(r, email, DEMO_PASSWORD, role, locations, partner, actor=ACTOR)
        click.echo(f"  {role:<12} {email:<32} password: {DEMO_PASSWORD}")


@click.group(cls=RedisGroup, help="Manage API keys for kiosks, portals and integrations.")
def apikeys() -> None:
    pass


@apikeys.command("create", help="Create a key; it is printed once and stored only as a hash.")
@click.argument("name")
@scope_options(click.Choice(ROLES))
def create_key(name: str, role: str, locations: tuple[str, ...], partner: str | None) -> None:
    try:
        key, record = service.create_api_key(get_redis(), name, role, list(locations), partner, actor=ACTOR)
    except (service.KeyNameError, service.ScopeError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(key)
    click.echo(f"key id {record['id']} ({record['role']}); store it now, it is not shown again", err=True)


@apikeys.command("list", help="List keys: id, name, role, scope and when made (UTC). The key itself is never "
                               "shown again; revoke one by its id.")
def list_keys() -> None:
    records = store.list_api_keys(get_redis())
    if not records:
        click.echo("No API keys yet; make one with `apikeys create`.", err=True)
    for record in records:
        scope = ",".join(record["locations"]) or record.get("partner") or "-"
        click.echo(f"{record['id']}\t{record.get('name', '')}\t{record['role']}\t{scope}\t"
                   f"{record.get('created') or '-'}")


@apikeys.command("revoke", help="Revoke a key by its id (see `apikeys list`).")
@click.argument("key_id")
def revoke_key(key_id: str) -> None:
    if not service.revoke_api_key(get_redis(), key_id, actor=ACTOR):
        raise click.ClickException(f"no key with id {key_id}")
    click.echo(f"revoked {key_id}")
