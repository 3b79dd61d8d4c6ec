"""The app the worker processes share with the web side: same settings, same storage."""

from __future__ import annotations

from flask import Flask

_app: Flask | None = None


def get_app() -> Flask:
    """Build the app once per process; jobs run inside its context."""
    global _app
    if _app is None:
        from routing import create_app

        _app = create_app()
    return _app
