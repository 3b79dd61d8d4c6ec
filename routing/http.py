"""Response headers for pages that show personal data or carry a token in their address."""

from __future__ import annotations

from flask import Response


def private(response: Response) -> Response:
    """Not stored by any cache (a kiosk's Back button shows nothing), and the URL never leaks to another site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
