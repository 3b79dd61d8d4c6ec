"""Who a key or a session belongs to, remembered for a few seconds in each process.

Every API call and page would otherwise pay a Redis round trip just to learn who is asking. A revoked key or
a changed account therefore takes effect within ``AUTH_CACHE_SECONDS`` in every process, and at once in the
process that made the change. Only found principals are kept: an unknown key is looked up each time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cachetools import TTLCache
from flask import Flask, current_app, has_app_context

from routing import current
from routing.auth.principal import Principal

EXTENSION = "loketlijn.principals"
MAX_ENTRIES = 4096


class PrincipalCache:
    def __init__(self, seconds: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._entries: TTLCache | None = TTLCache(MAX_ENTRIES, seconds, timer) if seconds > 0 else None
        self._lock = threading.Lock()  # TTLCache is not thread-safe; gunicorn may run threads

    def get(self, key: tuple[str, str], load: Callable[[], Principal | None]) -> Principal | None:
        if self._entries is not None:
            with self._lock:
                principal = self._entries.get(key)
            if principal is not None:
                return principal
        return self.refresh(key, load)

    def refresh(self, key: tuple[str, str], load: Callable[[], Principal | None]) -> Principal | None:
        """Read it again now: what this process remembers is older than what the asker has seen (a session
        made after a logout or a new password in another process)."""
        principal = load()
        if self._entries is not None:
            with self._lock:
                if principal is None:
                    self._entries.pop(key, None)
                else:
                    self._entries[key] = principal
        return principal

    def clear(self) -> None:
        with self._lock:
            if self._entries is not None:
                self._entries.clear()


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = PrincipalCache(app.config["AUTH_CACHE_SECONDS"])


def principal_cache() -> PrincipalCache:
    return current.app().extensions[EXTENSION]


def forget_principals() -> None:
    """After a change to an account or key: this process stops using what it remembered."""
    if has_app_context() and EXTENSION in current_app.extensions:
        principal_cache().clear()
