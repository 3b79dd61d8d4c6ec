"""Encryption of personal fields at rest (MultiFernet, so keys rotate) and keyed pseudonyms."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from config import settings
from routing import current

__all__ = ["InvalidToken", "decrypt", "encrypt", "generate_key", "pseudonym", "pseudonym_key", "reencrypt"]


def _fernet() -> MultiFernet:
    cached = current.app().extensions.get("fernet")
    if cached is None:
        keys = settings.encryption_keys(current_app.config["ENCRYPTION_KEYS"])
        # The first key encrypts; all keys decrypt, so old records stay readable during a rotation.
        cached = current_app.extensions["fernet"] = MultiFernet([Fernet(k) for k in keys])
    return cached


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str | bytes) -> str:
    raw = token.encode() if isinstance(token, str) else token
    return _fernet().decrypt(raw).decode()


def reencrypt(token: str | bytes) -> str:
    """The same plaintext under the newest key (for `flask keys rotate`)."""
    raw = token.encode() if isinstance(token, str) else token
    return _fernet().rotate(raw).decode()


def pseudonym(value: str) -> str:
    """A stable, keyed pseudonym: the same phone number gives the same id, and nobody can reverse it."""
    key = str(current.app().config["PSEUDONYM_KEY"]).encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def pseudonym_key(purpose: str, value: str) -> str:
    """Lookup key for a number, address or e-mail address: its keyed pseudonym for one purpose, never the value."""
    return pseudonym(f"{purpose}:{value}")[:32]


def generate_key() -> str:
    return Fernet.generate_key().decode()
