"""The shapes of handover input (form and API) and output; the rules themselves live in service.py."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from routing import validation
from routing.handovers.model import ATTEMPT_RESULTS, OUTCOMES, URGENCIES
from routing.handovers.service import NAME_MAX, NOTE_MAX, PREFERRED_MAX, REFERRED_TO_MAX
from routing.openapi import Moment


def _text(limit: int, required: bool = False) -> fields.String:
    length = validation.too_long(limit)
    if required:
        return fields.String(required=True, error_messages=validation.REQUIRED, validate=length)
    return fields.String(load_default="", error_messages=validation.REQUIRED, validate=length)


def _choice(choices: tuple[str, ...], message=None, **kwargs: Any) -> fields.String:
    """One of `choices`; `message` names the question when none (or no valid one) was chosen, which the error
    summary shows away from the question itself."""
    errors = {**validation.REQUIRED, "required": message} if message else validation.REQUIRED
    return fields.String(error_messages=errors, validate=validate.OneOf(choices, error=message or validation.CHOOSE),
                         **kwargs)


class OneOrMany(fields.Field):
    """`partner` may be one id or a list of ids; always loads as a list."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        values = value if isinstance(value, list) else [value]
        if not values or len(values) > 12 or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in values):
            raise ValidationError(str(_l("Kies een of meer organisaties.")))
        return values


class CreateSchema(Schema):
    error_messages = validation.SCHEMA

    location = _text(64, required=True)
    partner = OneOrMany(required=True, error_messages=validation.REQUIRED)
    # In the order of the form's fields, which the error summary follows.
    phone = _text(32)
    name = _text(NAME_MAX)
    preferred = _text(PREFERRED_MAX)
    language = _text(40)
    note = _text(NOTE_MAX)
    topic = _text(80)
    urgency = _choice(URGENCIES, load_default="normal")
    deadline = fields.Date(load_default=None, error_messages={"invalid": _l("Geef een datum, bijvoorbeeld 2026-12-01.")})
    consent = fields.Boolean(required=True, error_messages=validation.REQUIRED, validate=validate.Equal(
        True, error=_l("Vraag eerst of de inwoner het goed vindt dat u de gegevens doorgeeft.")))
    callback_reference = _text(20)
    previous_reference = _text(20)


class AttemptSchema(Schema):
    result = _choice(ATTEMPT_RESULTS, _l("Kies het resultaat van de poging."), required=True)


class OutcomeSchema(Schema):
    outcome = _choice(OUTCOMES, _l("Kies een uitkomst."), required=True)
    referred_to = _text(REFERRED_TO_MAX)
    note = _text(NOTE_MAX)


class AttemptOut(Schema):
    at = Moment()
    result = fields.String()
    counted = fields.Boolean(metadata={"description": "false: a not_reached within an hour of one that counted, "
                                                      "recorded but not counted towards HANDOVER_MAX_ATTEMPTS."})


class PersonalOut(Schema):
    phone = fields.String()
    name = fields.String()
    note = fields.String()
    preferred = fields.String()
    language = fields.String()
    reply_by = fields.String(metadata={"description": "'sms' or 'whatsapp' when the citizen asked for a message "
                                                      "instead of a call; empty for a call."})
    return_note = fields.String()


class HandoverOut(Schema):
    reference = fields.String()
    group = fields.String()
    location = fields.String()
    partner = fields.String()
    topic = fields.String()
    urgency = fields.String()
    status = fields.String()
    deadline = fields.Date()
    overdue = fields.Boolean()
    created_at = Moment()
    opened_at = Moment(allow_none=True)
    done_at = Moment(allow_none=True)
    attempts = fields.List(fields.Nested(AttemptOut))
    outcome = fields.String()
    referred_to = fields.String()
    return_reason = fields.String()
    callback_reference = fields.String()
    previous_reference = fields.String()
    next_reference = fields.String(metadata={"description": "Returned to the loket and handed over again: the "
                                                             "first handover made from it."})
    # Only for the loket that made it and the partner it went to; absent otherwise.
    personal = fields.Nested(PersonalOut)
