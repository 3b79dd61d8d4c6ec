"""JSON API: `POST /api/v1/handovers` (loket staff), `GET /api/v1/handovers/<reference>`, and for partner
portals `POST .../<reference>/attempts` and `POST .../<reference>/outcome`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_babel import gettext as _

from routing.auth import api_auth, current_principal
from routing.errors import ApiError
from routing.extensions import csrf, get_redis
from routing.handovers import service
from routing.handovers.model import Handover
from routing.handovers.schemas import AttemptSchema, CreateSchema, HandoverOut, OutcomeSchema
from routing.openapi import Blueprint

blp = Blueprint("handovers_api", __name__, url_prefix="/api/v1/handovers",
                description="Warme overdracht aan een partnerorganisatie.")
# Bearer keys, not cookies: no CSRF token for the API (as for the callbacks API).
csrf.exempt(blp)


def _out(handover: Handover, personal: Any = None) -> dict[str, Any]:
    """The values HandoverOut dumps; `personal` only when the caller may see it."""
    data = vars(handover) | {"overdue": handover.is_overdue(service.today(datetime.now(UTC))),
                             "attempts": [vars(a) for a in handover.attempts]}
    if personal is not None:
        data["personal"] = vars(personal)
    return data


@blp.route("")
class Handovers(MethodView):
    @api_auth("staff")  # before argument parsing: no key, no 422
    @blp.arguments(CreateSchema())
    @blp.response(201)
    @blp.alt_response(422, description="Refused; nothing was stored.")
    def post(self, data: dict[str, Any]):
        """Hand a citizen over to one partner, or to several (one linked handover each)."""
        given_list = isinstance(data["partner"], list) and len(data["partner"]) > 1
        made = service.create(get_redis(), current_principal(), data, datetime.now(UTC))
        if given_list:
            return HandoverOut(many=True).dump([_out(h) for h in made])
        return HandoverOut().dump(_out(made[0]))


@blp.route("/<reference>")
class OneHandover(MethodView):
    @api_auth("staff", "partner", "coordinator")
    @blp.response(200, HandoverOut)
    def get(self, reference: str):
        """Status, attempts and outcome; personal fields only for the loket that made it and the partner."""
        principal = current_principal()
        r = get_redis()
        handover = service.get_visible(r, principal, reference)
        personal = None
        if service.may_see_personal(principal, handover):
            personal = service.personal(r, handover, f"{principal.kind}:{principal.id}")
        return _out(handover, personal)


def _partner_work(reference: str):
    """The handover, if this key's partner is the one it went to (404 if not visible, 403 if only visible)."""
    principal = current_principal()
    handover = service.get_visible(get_redis(), principal, reference)
    if not service.may_work(principal, handover):
        raise ApiError(403, _("Alleen de organisatie die de overdracht kreeg, kan dit vastleggen."))
    return handover, principal.qualified_id


@blp.route("/<reference>/attempts")
class Attempts(MethodView):
    @api_auth("partner")
    @blp.arguments(AttemptSchema())
    @blp.response(200, HandoverOut)
    @blp.alt_response(409, description="The handover is done; nothing changes any more.")
    def post(self, data: dict[str, Any], reference: str):
        """The partner records a call attempt (reached, not_reached, wrong_number)."""
        handover, actor = _partner_work(reference)
        return _out(service.record_attempt(get_redis(), handover, data["result"], actor, datetime.now(UTC)))


@blp.route("/<reference>/outcome")
class Outcome(MethodView):
    @api_auth("partner")
    @blp.arguments(OutcomeSchema())
    @blp.response(200, HandoverOut)
    @blp.alt_response(409, description="The handover is done; nothing changes any more.")
    def post(self, data: dict[str, Any], reference: str):
        """The partner records the outcome: solved, referred_on (with referred_to) or returned_to_loket (with note)."""
        handover, actor = _partner_work(reference)
        return _out(service.record_outcome(get_redis(), handover, data["outcome"], actor, datetime.now(UTC),
                                           referred_to=data["referred_to"], note=data["note"]))
