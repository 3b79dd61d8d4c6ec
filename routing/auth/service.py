"""Accounts and API keys: creation with scope checks, password and key verification."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from routing.auth.cache import forget_principals
from routing.auth.principal import KEY_ONLY_ROLES, ROLES, Principal, key_only_role_message
from routing.privacy import audit
from routing.store import users as store

_hasher = PasswordHasher()
# Verifying against this keeps an unknown e-mail as slow as a wrong password (no account probing).
_DUMMY_HASH = _hasher.hash("not-a-real-password")
API_KEY_PREFIX = "ll_"
MIN_PASSWORD_LENGTH = 12


def clock() -> datetime:
    """Now (UTC): when a login began and how old it is. Tests pin it."""
    return datetime.now(UTC)


class ScopeError(ValueError):
    """A role, location or partner that does not fit together or does not exist."""


class KeyNameError(ValueError):
    """An API key name that is empty or already names a live key: `apikeys list` could not tell them apart."""


def _known_ids() -> tuple[set[str], set[str]] | None:
    """Location and partner ids of the loaded directory, when there is one."""
    try:
        from routing.directory.service import get_directory
    except ImportError:  # the directory feature is optional for the auth layer
        return None
    directory = get_directory()
    return set(directory.locations), set(directory.partners)


def check_scope(role: str, locations: list[str], partner: str | None) -> None:
    if role not in ROLES:
        raise ScopeError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role in ("staff", "kiosk") and not locations:
        raise ScopeError(f"{role} needs at least one --location")
    if role == "partner" and not partner:
        raise ScopeError("partner employees need --partner")
    if role != "partner" and partner:
        raise ScopeError("--partner only goes with --role partner")
    if role not in ("staff", "kiosk") and locations:
        raise ScopeError("--location only goes with --role staff or kiosk")
    known = _known_ids()
    if known is None:
        return
    known_locations, known_partners = known
    unknown = sorted(set(locations) - known_locations)
    if unknown:
        raise ScopeError(f"unknown location(s): {', '.join(unknown)}")
    if partner and partner not in known_partners:
        raise ScopeError(f"unknown partner: {partner}")


def normalise_email(email: str) -> str:
    """An e-mail address as accounts are stored under it: whatever case, spaces around it, it is one account."""
    return email.strip().lower()


def _record_change(r: redis.Redis, action: str, actor: str, target: str) -> None:
    """An audit record of a change to an account or key: who, what, which id (no e-mail address, no secret)."""
    audit.record(r, action=action, activity="administration", actor=actor, subject=None, target=target)


def add_user(r: redis.Redis, email: str, password: str, role: str, locations: list[str],
             partner: str | None = None, *, actor: str) -> dict[str, Any]:
    """Add or update an account; `actor`: who does it, for the audit record (`routing.cli.ACTOR` for an
    operator command)."""
    email = normalise_email(email)
    if "@" not in email:
        raise ScopeError("that is not an e-mail address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ScopeError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if role in KEY_ONLY_ROLES:
        raise ScopeError(key_only_role_message(role))
    check_scope(role, locations, partner)
    existing = store.get_user(r, email)
    record = {
        "id": existing["id"] if existing else uuid.uuid4().hex,
        "email": email,
        "role": role,
        "locations": locations,
        "partner": partner,
        "password_hash": _hasher.hash(password),
    }
    # A new password (a reset: someone else may know the old one) ends every session of the account; a new
    # role or scope does not need to (each request reads the account again).
    new_password = existing is not None and not _is_password(existing.get("password_hash"), password)
    record[store.SESSION_GENERATION] = store.save_user(r, record, end_sessions=new_password)
    forget_principals()
    action = "account.update.password" if new_password else "account.update" if existing else "account.create"
    _record_change(r, action, actor, f"user:{record['id']}")
    return record


def _is_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or "", password)
    except (VerificationError, InvalidHashError):
        return False


def end_sessions(r: redis.Redis, principal: Principal) -> bool:
    """Logout: this account's sessions end, this one and those on other devices (and any copy of a session
    cookie): at once in this process, in the others within AUTH_CACHE_SECONDS. False when the account is gone."""
    ended = store.end_sessions(r, principal.email or "", principal.id) is not None
    forget_principals()
    return ended


def find_user(r: redis.Redis, email: str) -> dict[str, Any] | None:
    """The account for an e-mail address as someone typed it, or None."""
    return store.get_user(r, normalise_email(email))


def remove_user(r: redis.Redis, email: str, *, actor: str) -> dict[str, Any] | None:
    """Remove an account (someone who left): the password no longer logs in and open sessions stop working (at
    once in this process, in the others within AUTH_CACHE_SECONDS). Audit records keep naming its id. Returns
    the removed record, or None when there was no such account."""
    removed = store.remove_user(r, normalise_email(email))
    forget_principals()
    if removed is not None:
        _record_change(r, "account.remove", actor, f"user:{removed['id']}")
    return removed


def authenticate(r: redis.Redis, email: str, password: str) -> Principal | None:
    record = find_user(r, email)
    try:
        _hasher.verify(record["password_hash"] if record else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if record is None:
        return None
    if _hasher.check_needs_rehash(record["password_hash"]):
        store.set_password_hash(r, record["email"], _hasher.hash(password))
    return principal_from_record(record, "user")


def principal_for_user(r: redis.Redis, email: str) -> Principal | None:
    record = store.get_user(r, email)
    return principal_from_record(record, "user") if record else None


def account_emails(r: redis.Redis) -> dict[str, str]:
    """Account id → e-mail address: who an id in the audit log or on a request is (a handful of accounts per
    service, read at once)."""
    return {record["id"]: record["email"] for record in store.list_users(r) if record.get("id")}


def api_key_names(r: redis.Redis) -> dict[str, str]:
    """Key id → its name: which kiosk or portal an id in the audit log is (revoked keys are not listed)."""
    return {record["id"]: record.get("name", "") for record in store.list_api_keys(r)}


def principal_from_record(record: dict[str, Any], kind: str) -> Principal:
    return Principal(
        id=record["id"],
        kind=kind,
        role=record["role"],
        locations=frozenset(record.get("locations") or []),
        partner=record.get("partner") or None,
        email=record.get("email"),
        generation=int(record.get(store.SESSION_GENERATION) or 0),
    )


def key_digest(key: str) -> str:
    # API keys are 256 random bits: a plain SHA-256 is the right hash (no stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(r: redis.Redis, name: str, role: str, locations: list[str],
                   partner: str | None = None, *, actor: str) -> tuple[str, dict[str, Any]]:
    """A new key and its record. Its name is what tells it apart in `apikeys list` (where it is used, for
    whom): required, and not that of a live key, whatever the case or surrounding spaces."""
    check_scope(role, locations, partner)
    name = " ".join(name.split())
    if not name:
        raise KeyNameError("give the key a name that says where or for whom it is used, e.g. kiosk-utrecht-hal")
    taken = next((record for record in store.list_api_keys(r)
                  if str(record.get("name", "")).casefold() == name.casefold()), None)
    if taken is not None:
        raise KeyNameError(f"the key {taken['id']} is already named {taken['name']!r}; choose another name, or "
                           f"revoke that key first (`apikeys revoke {taken['id']}`)")
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    record = {"id": uuid.uuid4().hex[:12], "name": name, "role": role, "locations": locations,
              "partner": partner}
    store.save_api_key(r, key_digest(key), record)
    _record_change(r, "apikey.create", actor, f"apikey:{record['id']}")
    return key, record


def revoke_api_key(r: redis.Redis, key_id: str, *, actor: str) -> bool:
    revoked = store.revoke_api_key(r, key_id)
    forget_principals()
    if revoked:
        _record_change(r, "apikey.revoke", actor, f"apikey:{key_id}")
    return revoked


def principal_for_api_key(r: redis.Redis, key: str) -> Principal | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    record = store.get_api_key(r, key_digest(key))
    return principal_from_record(record, "apikey") if record else None
