"""What /api/v1/openapi.json says beyond each view's own schemas: how to authenticate, and the errors
every operation can answer with (all in the one JSON error shape; 401 with WWW-Authenticate, 429 and 503
with Retry-After). And the Blueprint every JSON feature uses,
so every body is parsed the same way, and one that is not JSON is refused the same way (415); and `Moment`, the
one way a moment is written in an answer."""

from __future__ import annotations

from typing import Any

import flask_smorest
from apispec import BasePlugin
from flask_babel import gettext as _
from marshmallow import fields
from webargs.flaskparser import FlaskParser, abort

from routing import current
from routing.errors import ApiError, default_message

BEARER = "bearerAuth"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key from `flask --app routing apikeys create`; it has the role and scope of a user.",
}
# Operations anyone may call: the withdrawal link's token is their authentication.
PUBLIC_OPERATIONS = {("/api/v1/callbacks/{reference}/withdraw", "post")}
ERRORS = {
    "401": "No or an unknown API key.",
    "403": "The key's role or scope does not allow this.",
    "404": "No such location, partner or reference (or not one this key may see).",
    "429": "Too many requests; try again after Retry-After seconds, when the limit's window lets this client in.",
}
# Redis (or, for the directory, a loaded directory) not there: every operation needs one or the other.
UNAVAILABLE = ("Temporarily unavailable (Redis does not answer, or no directory is loaded); nothing was "
               "stored. Try again after Retry-After seconds.")
# Methods whose body must be JSON (`json_only`); their operations document 400, 413 and 415.
BODY_METHODS = ("post", "put", "patch")
BODY_ERRORS = {
    "400": "The body is not valid JSON (a bracket, comma or quote); nothing was stored.",
    "413": "The body is larger than the service takes (MAX_CONTENT_LENGTH, 64 KiB by default); nothing was read.",
    "415": "The body is not JSON; nothing was stored.",
}
HEADERS = {
    # Every 401 says how to authenticate (routing.errors.json_error).
    "401": {"WWW-Authenticate": {"description": "Bearer: send an API key as `Authorization: Bearer <key>`.",
                                 "schema": {"type": "string", "example": "Bearer"}}},
    # Every 429 says when the limit lets the client in again (routing.errors.with_retry_after), exact for the
    # intake's fixed windows and the moving windows alike; its message says the same in words.
    "429": {"Retry-After": {"description": "Seconds until the limit that refused this request lets it in again.",
                            "schema": {"type": "integer", "minimum": 1, "example": 1380}}},
    "503": {"Retry-After": {"description": "Seconds after which to try again.",
                            "schema": {"type": "integer", "example": 60}}},
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


class CommonResponses(BasePlugin):
    def init_spec(self, spec) -> None:
        spec.components.security_scheme(BEARER, SECURITY_SCHEME)

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            public = (path, method) in PUBLIC_OPERATIONS
            operation["security"] = [] if public else [{BEARER: []}]
            # flask-smorest keys responses by int status at this stage.
            documented = {str(status) for status in responses}
            for status, description in ERRORS.items():
                if status == "404" and "{" not in (path or "") and method == "get":
                    continue  # a list or search without a path parameter has nothing to be missing
                if (public and status in ("401", "403")) or status in documented:
                    continue
                responses[int(status)] = _error(description)
            for status, description in BODY_ERRORS.items() if method in BODY_METHODS else ():
                if status not in documented:
                    responses[int(status)] = _error(description)
            if "503" not in documented:
                responses[503] = _error(UNAVAILABLE)
            for status, response in responses.items():
                # A view's own alt_response(4xx, description=...) answers in the same shape too.
                if str(status)[0] in "45" and isinstance(response, dict) and "$ref" not in response:
                    response.setdefault("content", _error("")["content"])
                    if str(status) in HEADERS:
                        response.setdefault("headers", HEADERS[str(status)])


class Parser(FlaskParser):
    """webargs' parser, with our words for a body that is not JSON at all (webargs' own are English)."""

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, exc=error, messages={"json": [_("Dit is geen geldige JSON. Kijk de haakjes, komma's en "
                                                   "aanhalingstekens na.")]})


def json_only() -> None:
    """A body that is not JSON would read as empty, and every field would be "missing": say what is wrong.
    Before anything else the view does (authentication, limits, the body's checks), so nothing is stored."""
    this = current.this_request()  # not through the proxy (routing.current), three times
    if this.method.lower() in BODY_METHODS and this.content_length and not this.is_json:
        raise ApiError(415, default_message(415))


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with our parser (its documented way to change the parser), refusing a
    body that is not JSON with 415 (`json_only`) on every JSON API; the document lists that 415 for every
    operation that takes a body (`CommonResponses`)."""

    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(json_only)


# ISO 8601 to the second, with the offset ("2026-11-30T10:00:07+01:00"): what a kiosk shows or compares needs no
# fraction, and an answer that has one only sometimes (a call expected "now") is two formats for one field.
MOMENT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"


class Moment(fields.DateTime):
    """A moment in an API answer: to the second, with its offset, as MOMENT_PATTERN documents it (so the fuzz
    tests hold every answer to it). Answers built as plain dicts get the same from the JSON provider
    (routing.jsonprovider)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": MOMENT_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat(timespec="seconds")
