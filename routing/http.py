"""Response headers: for every response (`security_headers`), for pages that show personal data or carry a
token in their address (`private`, and every JSON API answer); and absolute links for notices."""

from __future__ import annotations

from flask import Response, current_app, has_request_context, request
from werkzeug.exceptions import RequestEntityTooLarge

from routing import current


def private(response: Response) -> Response:
    """Not stored by any cache (a kiosk's Back button shows nothing), and the URL never leaks to another site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


API_PREFIX = "/api/"
# Only this service's own files: no inline script or style (pages have none; the one script, the directory's
# results as you type, is a static file), no plugins, no framing (clickjacking), forms post only here.
# The QR code for the door is an SVG from this service too, so images need nothing more than 'self'.
CONTENT_SECURITY_POLICY = ("default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
                           "form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that do not read the policy
    "Referrer-Policy": "same-origin",  # unless a stricter one is set (`private`: no-referrer)
}


def security_headers(response: Response) -> Response:
    """Every response (pages, errors, the JSON API, Twilio's TwiML, static files), registered once on the app.
    JSON API answers carry personal data or whether a reference exists: never stored (`private`). A header
    set before (`private`'s stricter referrer policy) stays; else the address goes to this site only.
    HSTS is the TLS proxy's (docs/deploy.md)."""
    if current.this_request().path.startswith(API_PREFIX):
        private(response)
    # What werkzeug's Headers.setdefault does, but it raises and catches an exception for each header that is
    # absent, as these nearly always are: one pass over the headers set instead.
    present = {name.lower() for name, _ in response.headers}
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            response.headers.add(name, value)
    return response


def refuse_large_body() -> None:
    """A body over MAX_CONTENT_LENGTH is refused (413, in the one error shape or as a page) before the view and
    its blueprint's hooks run: werkzeug alone would refuse it only once something reads it, after the
    authentication and limits had done their work (or never, for a view that reads no body). A chunked body,
    which states no length, is stopped by werkzeug when it is read past the limit."""
    this = current.this_request()  # not through the proxy (routing.current), twice
    limit, length = this.max_content_length, this.content_length
    if limit is not None and length is not None and length > limit:
        raise RequestEntityTooLarge()


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
