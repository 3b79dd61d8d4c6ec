"""Lua scripts for the store modules: each hashed once per process and run with EVALSHA."""

from __future__ import annotations

from redis.commands.core import Script


def lua(source: str) -> Script:
    """A script bound to no client: every call passes its own (`script(keys, args, client=r)`), so the one
    object serves every app and test. redis-py's `register_script` builds and hashes a new one per call; the
    first call on a server that lacks the script loads it (redis-py retries after NOSCRIPT)."""
    return Script(None, source.encode())
