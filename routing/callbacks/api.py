"""JSON API: kiosks, staff and integrations create callback requests; status and withdrawal."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_babel import gettext as _

from routing.auth import api_auth, current_principal
from routing.callbacks import limits, schemas, service, states, views
from routing.errors import ApiError
from routing.extensions import csrf, get_redis, limiter
from routing.openapi import Blueprint

blp = Blueprint("callbacks_api", __name__, url_prefix="/api/v1/callbacks",
                description="Terugbelverzoeken (callback requests)")
# Bearer keys, not cookies: no CSRF token for the API.
csrf.exempt(blp)

CLIENT_ROLES = ("staff", "partner", "coordinator", "kiosk")


def _status_body(request: service.CallbackRequest) -> dict:
    return {
        "reference": request.reference, "status": request.state, "location": request.location,
        "status_text": states.label(request.state, request.reply_by in service.MESSAGE_REPLIES),
        "created": request.created, "outcome": request.outcome,
        "expected_callback": service.expected_callback_of(request, service.clock()),
    }


@blp.route("")
class Callbacks(MethodView):  # the per-address limit is counted in the intake itself (one round trip)
    @api_auth(*CLIENT_ROLES)
    @blp.arguments(schemas.INTAKE_SCHEMA)  # an instance: reused, not built per request
    @blp.response(201, schemas.CallbackOut)
    @blp.alt_response(429, description="Too many requests from this key, for this number or for this location.")
    def post(self, intake: service.Intake):
        """Create a callback request for a location this client serves (kiosk, staff or integration key)."""
        # Creating shows no personal data back: whoever follows the location may do it (kiosks, integrations).
        principal = current_principal()
        if not service.may_follow(principal, intake.location):
            raise ApiError(403, _("Deze sleutel hoort niet bij deze locatie."))
        receipt = service.create_request(get_redis(), intake, client_key=principal.qualified_id)
        # No status_text here: translating it would cost an intake a locale lookup (about a tenth of its time);
        # GET /api/v1/callbacks/<reference> has it.
        body = {"reference": receipt.reference, "status": receipt.status,
                "expected_callback": receipt.expected_callback, "withdraw_token": receipt.withdraw_token,
                "existing": receipt.existing}
        if receipt.existing:
            body["message"] = _("Dit nummer heeft hier al een open terugbelverzoek; dat is niet opnieuw gemaakt.")
        # Already in CallbackOut's shape: answered as it is, not dumped through the schema a second time.
        return jsonify(body), 201


@blp.route("/choices/<location_id>")
class Choices(MethodView):
    @api_auth(*CLIENT_ROLES)
    @blp.response(200, schemas.ChoicesOut)
    def get(self, location_id: str):
        """What to offer a citizen at this location, as the web form does: the day parts (named with the hours the
        location staffs them), topics and call languages, in the language asked for (Accept-Language or ?lang=);
        and when a request made now would be called back."""
        location = service.location_for(location_id)
        if not service.may_follow(current_principal(), location.id):
            raise ApiError(403, _("Deze sleutel hoort niet bij deze locatie."))
        return views.form_choices(location)


@blp.route("/<reference>")
class CallbackByReference(MethodView):
    decorators = [limiter.limit(limits.reads, key_func=limits.client)]

    @api_auth()
    @blp.response(200, schemas.CallbackStatus)
    @blp.alt_response(429, description="Too many status reads from this client (CALLBACK_READ_RATE).")
    def get(self, reference: str):
        """Status of a request, for who follows its location (404 for anyone else, so references cannot be
        probed); its personal fields only for who handles it, once it is out of the queue and until the loket is
        done with it (audit-logged), as the worklist shows them; while it waits for the next shift, when they can be
        read."""
        principal = current_principal()
        request = service.get_visible(get_redis(), reference, principal)
        body = _status_body(request)
        handles = service.may_handle(principal, request.location)
        if handles and request.state == "waiting":
            body["personal_from"] = request.release
        elif handles and request.state in states.DONE_FOR_LOKET:
            # Nothing left to call about (done, withdrawn, expired, or a partner has it): its facts, not the number.
            body.update(topic=request.topic, preferred=list(request.preferred), attempts=request.attempts)
        elif handles:
            full = service.get_request(get_redis(), reference, actor=principal.qualified_id)
            body.update(phone=full.phone, name=full.name, note=full.note, topic=full.topic,
                        preferred=list(full.preferred), attempts=full.attempts)
        return body


@blp.route("/<reference>/withdraw")
class Withdraw(MethodView):
    decorators = [limiter.limit(limits.per_ip)]

    @blp.arguments(schemas.WithdrawIn())
    @blp.response(200, schemas.CallbackStatus)
    @blp.alt_response(409, description="Already withdrawn, or finished (called back, expired): nothing changes.")
    def post(self, data: dict, reference: str):
        """Withdraw with the token from the confirmation; the personal fields are deleted at once."""
        return _status_body(service.withdraw(get_redis(), reference, data["token"]))
