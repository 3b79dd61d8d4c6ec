"""One JSON error shape for the API, friendly pages for HTML; 500s are logged, never shown."""

from __future__ import annotations

import logging
import traceback
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/hooks/", "/dev/outbox.json", "/readyz", "/healthz")


class ApiError(Exception):
    """A refusal a user caused: status, a plain message and optional per-field messages."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}


class NotFound(ApiError):
    def __init__(self, message: str):
        super().__init__(404, message)


def flatten_field_errors(messages: Any) -> dict[str, list[str]]:
    """webargs nests errors by location ({"json": {"phone": [...]}}); the API shows fields only."""
    if not isinstance(messages, dict):
        # A whole-body problem, e.g. {"json": ["Invalid JSON body."]}: keep each message as text.
        return {"_schema": [str(m) for m in (messages if isinstance(messages, list) else [messages])]}
    if set(messages) <= {"json", "query", "form", "headers", "path", "files", "cookies"}:
        merged: dict[str, list[str]] = {}
        for by_field in messages.values():
            merged.update(flatten_field_errors(by_field))
        return merged
    flat: dict[str, list[str]] = {}
    for field, value in messages.items():
        if isinstance(value, dict):
            # Nested schema or list index: keep the path readable, e.g. "preferred.0".
            for sub, sub_messages in flatten_field_errors(value).items():
                flat[f"{field}.{sub}"] = sub_messages
        elif isinstance(value, list):
            flat[str(field)] = [str(m) for m in value]
        else:
            flat[str(field)] = [str(value)]
    return flat


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def json_error(status: int, message: str, errors: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"code": status, "status": HTTPStatus(status).phrase, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


def html_error(status: int, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=page_title(status), message=message), status


def page_title(status: int) -> str:
    """A short heading that says what happened; the message below it says what to do (a whole sentence as
    the heading made the page hard to scan, and the browser tab showed only its start)."""
    titles = {
        401: _("Log eerst in"),
        403: _("Geen toegang"),
        404: _("Pagina niet gevonden"),
        429: _("Te veel pogingen"),
    }
    if status >= 500:
        return _("Er ging iets mis")
    return titles.get(status, _("Dit lukte niet"))


def default_message(status: int) -> str:
    messages = {
        400: _("De aanvraag klopt niet. Controleer wat u invulde en probeer het opnieuw."),
        401: _("Log eerst in."),
        403: _("U mag deze pagina niet bekijken."),
        404: _("Deze pagina bestaat niet (meer)."),
        405: _("Dit kan zo niet."),
        413: _("Wat u stuurde is te groot."),
        415: _("Stuur de gegevens als JSON."),
        422: _("Niet alle gegevens zijn goed ingevuld."),
        429: _("U probeerde het te vaak. Wacht even en probeer het dan opnieuw."),
    }
    return messages.get(status, _("Er ging iets mis aan onze kant. Probeer het later opnieuw."))


def render_error(status: int, message: str | None = None, errors: dict[str, list[str]] | None = None):
    message = message or default_message(status)
    if wants_json():
        return json_error(status, message, errors)
    return html_error(status, message)


def handle_api_error(error: ApiError):
    return render_error(error.status, error.message, error.errors)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    data = getattr(error, "data", None) or {}
    errors = flatten_field_errors(data["messages"]) if "messages" in data else None
    # Werkzeug's default descriptions are English developer text; users get ours.
    message = data.get("message") if isinstance(data.get("message"), str) else None
    response = render_error(status, message, errors)
    if isinstance(response, Response):
        for header, value in (error.get_headers() if status in (405, 429) else []):
            if header.lower() in ("allow", "retry-after"):
                response.headers[header] = value
    return response


def handle_unexpected(error: Exception):
    original = getattr(error, "original_exception", None) or error
    # Type and frames only: an exception's text may carry personal data.
    log.error("unhandled %s on %s %s\n%s", type(original).__name__, request.method, request.url_rule,
              "".join(traceback.format_tb(original.__traceback__)))
    return render_error(500, default_message(500))


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(Exception, handle_unexpected)
