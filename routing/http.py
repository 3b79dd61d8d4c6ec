"""Response headers for pages that show personal data or carry a token in their address, and absolute
links for notices."""

from __future__ import annotations

from flask import Response, current_app, has_request_context, request


def private(response: Response) -> Response:
    """Not stored by any cache (a kiosk's Back button shows nothing), and the URL never leaks to another site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def base_url() -> str:
    """The service's public address: PUBLIC_BASE_URL (required in production), else the request's host, else
    the development server's."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://localhost:5000"


def absolute(endpoint: str, **values: str) -> str:
    """A link for a notice; works in a request and in a job (where there is no request to copy from)."""
    return base_url() + current_app.url_map.bind("").build(endpoint, values)
