"""JSON API: `POST /api/v1/handovers` (loket staff) and `GET /api/v1/handovers/<reference>`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from routing.auth import api_auth, current_principal
from routing.extensions import csrf, get_redis
from routing.handovers import service
from routing.handovers.model import Handover
from routing.handovers.schemas import CreateSchema, HandoverOut

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
    @blp.arguments(CreateSchema)
    @blp.response(201)
    @blp.alt_response(422, description="Refused; nothing was stored.")
    @api_auth("staff")
    def post(self, data: dict[str, Any]):
        """Hand a citizen over to one partner, or to several (one linked handover each)."""
        given_list = isinstance(data["partner"], list) and len(data["partner"]) > 1
        made = service.create(get_redis(), current_principal(), data, datetime.now(UTC))
        if given_list:
            return HandoverOut(many=True).dump([_out(h) for h in made])
        return HandoverOut().dump(_out(made[0]))


@blp.route("/<reference>")
class OneHandover(MethodView):
    @blp.response(200, HandoverOut)
    @api_auth("staff", "partner", "coordinator")
    def get(self, reference: str):
        """Status, attempts and outcome; personal fields only for the loket that made it and the partner."""
        principal = current_principal()
        r = get_redis()
        handover = service.get_visible(r, principal, reference)
        personal = None
        if service.may_see_personal(principal, handover):
            personal = service.personal(r, handover, f"{principal.kind}:{principal.id}")
        return _out(handover, personal)
