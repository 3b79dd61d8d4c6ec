"""JSON API: locations, their lines, and the staff lookup (documented in /api/v1/openapi.json)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import jsonify
from flask_babel import gettext as _
from marshmallow import Schema, fields

from routing import validation
from routing.auth import api_auth, current_principal
from routing.errors import ApiError
from routing.openapi import Blueprint, Moment

from . import schedule, service

blp = Blueprint("directory_api", __name__, url_prefix="/api/v1",
                description="Locations, professional lines and the staff lookup.")

STAFF = ("staff", "coordinator")


class PartnerRefSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class LineSchema(Schema):
    number = fields.String(required=True, metadata={"description": "E.164; dial it (tel: link)."})
    open_now = fields.Boolean(required=True)
    next_open = Moment(allow_none=True, metadata={"description": "Next opening when closed now."})
    fallback_number = fields.String(allow_none=True)
    notes = fields.String()
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class TopicRefSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    life_event = fields.Boolean()


class ResultSchema(Schema):
    partner = fields.Nested(PartnerRefSchema, required=True)
    line = fields.Nested(LineSchema, allow_none=True, required=True,
                         metadata={"description": "null: no professional line to this partner here."})
    on_site_today = fields.Boolean(required=True)
    takes_handover = fields.Boolean(required=True, metadata={
        "description": "A warm handover to this partner can be sent from this location (POST /api/v1/handovers)."})
    alternative = fields.String(allow_none=True, metadata={"description": "What to do instead (line is null)."})
    topics = fields.List(fields.Nested(TopicRefSchema))
    score = fields.Float(metadata={"description": "Match strength, 0-100; results are ordered by it."})


class SearchResponseSchema(Schema):
    location = fields.String(required=True)
    query = fields.String(required=True)
    results = fields.List(fields.Nested(ResultSchema), required=True)


class LocationSummarySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    municipality = fields.String(required=True)
    address = fields.String(required=True)
    walk_in = fields.Boolean(required=True)
    call_languages = fields.List(fields.String(), required=True, metadata={
        "description": "Languages a callback request here can ask to be called in (ISO 639 codes)."})
    present_now = fields.Boolean(required=True, metadata={"description": "Is the dienstverlener there now?"})
    next_shift = Moment(allow_none=True)


class LocationListSchema(Schema):
    locations = fields.List(fields.Nested(LocationSummarySchema), required=True)


class LocationDetailSchema(LocationSummarySchema):
    lines = fields.List(fields.Nested(ResultSchema), required=True,
                        metadata={"description": "Partners with a line or on site here."})


class SearchArgsSchema(Schema):
    error_messages = validation.SCHEMA

    location = fields.String(required=True, validate=validation.identifier(), error_messages=validation.REQUIRED)
    q = fields.String(required=True, validate=validation.length(1, 100), error_messages=validation.REQUIRED)
    limit = fields.Integer(load_default=10, validate=validation.between(1, 50), error_messages=validation.REQUIRED,
                           metadata={"description": "How many results, best first (default 10)."})


# The views build their answers in the documented shape (schemas above, for /api/v1/openapi.json) and
# return them as they are: the lookup is the hottest endpoint, and a second pass through marshmallow would
# cost more than the search itself. Tests check every answer against its schema.


def _line(result: service.Result) -> dict | None:
    line = result.line
    if line is None:
        return None
    return {"number": line.number, "open_now": result.open_now, "next_open": _iso(result.next_open),
            "fallback_number": line.fallback_number, "notes": line.notes,
            "valid_from": _iso(line.valid_from), "valid_until": _iso(line.valid_until)}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _result(result: service.Result) -> dict:
    return {
        "partner": {"id": result.partner.id, "name": result.partner.name},
        "line": _line(result),
        "on_site_today": result.on_site_today,
        "takes_handover": result.takes_handover,
        "alternative": result.alternative,
        "topics": [{"id": t.id, "name": t.name_nl, "life_event": t.life_event} for t in result.topics],
        "score": result.score,
    }


def _summary(location, now: datetime) -> dict:
    return {"id": location.id, "name": location.name, "municipality": location.municipality,
            "address": location.address, "walk_in": location.walk_in,
            "call_languages": list(location.all_call_languages),
            "present_now": schedule.is_present(location, now),
            "next_shift": _iso(schedule.next_shift_start(location, now))}


def _visible(location_id: str):
    location = service.get_location(location_id)
    if not current_principal().can_see_location(location_id):
        raise ApiError(403, _("U werkt niet op deze locatie."))
    return location


@blp.route("/locations")
@api_auth(*STAFF)
@blp.response(200, LocationListSchema)
@blp.alt_response(401, description="Not logged in / no valid key.")
def list_locations():
    """Locations this user or key may see."""
    directory = service.get_directory()
    now = datetime.now(UTC)
    ids = current_principal().visible_locations(sorted(directory.locations))
    return jsonify({"locations": [_summary(directory.locations[i], now) for i in ids]})


@blp.route("/locations/<location_id>")
@api_auth(*STAFF)
@blp.response(200, LocationDetailSchema)
@blp.alt_response(404, description="Unknown location.")
def get_location(location_id: str):
    """One location with its professional lines (open now, next opening)."""
    location = _visible(location_id)
    now = datetime.now(UTC)
    return jsonify({**_summary(location, now),
                    "lines": [_result(r) for r in service.location_partners(location.id, now)]})


@blp.route("/search")
@api_auth(*STAFF)  # before argument parsing: no key, no 422
@blp.arguments(SearchArgsSchema(), location="query")
@blp.response(200, SearchResponseSchema)
@blp.alt_response(404, description="Unknown location.")
def search(args: dict):
    """Partners for a topic or organisation at a location, best match first.

    A partner that handles the topic but has no line at the location is listed with ``line: null`` and an
    ``alternative``.
    """
    location = _visible(args["location"])
    now = datetime.now(UTC)
    results = service.lookup(location.id, args["q"], now, limit=args["limit"])
    service.record_shown(location.id, results, now)
    return jsonify({"location": location.id, "query": args["q"], "results": [_result(r) for r in results]})
