"""What a callback request may contain, for every channel: one schema, one set of checks.

Shape (types, lengths, unknown fields) and meaning (a callable number, no BSN, a topic and day parts this
location offers, consent) are checked together, so the citizen hears about every problem at once.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema
from marshmallow.experimental.context import Context

from routing import current, validation
from routing.callbacks import service
from routing.errors import ApiError, flatten_field_errors
from routing.openapi import Moment
from routing.privacy import bsn, phone

MAX_NAME = 60
MAX_NOTE = 300
MAX_PREFERRED = 6
# The API may name any day part this far ahead; the form offers the location's next staffed days.
PREFERRED_HORIZON_DAYS = 14


# Control characters (NUL, escapes) and bidirectional overrides, which can make a note or a name show
# something else on the staff's screen than what is stored; line breaks and tabs are fine.
_HIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class Text(fields.String):
    """A string whose line breaks are LF only: browsers send a textarea's line breaks as CRLF, while its
    maxlength counted each as one character, so lengths are checked on the LF text. Hidden control
    characters are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).replace("\r\n", "\n").replace("\r", "\n")
        if _HIDDEN_CHARACTERS.search(text):
            raise ValidationError(_("Hier staat een teken dat wij niet kunnen gebruiken. Typ de tekst opnieuw."))
        return text


# Whatever reply was chosen (a call, an SMS, a WhatsApp message).
_CONSENT_NEEDED = _l("Geef toestemming, anders kunnen wij geen contact met u opnemen.")


def _bsn_message() -> str:
    return _("Deel hier geen BSN (burgerservicenummer). Haal het nummer weg; de medewerker vraagt er "
             "zelf naar als dat nodig is.")


class CallbackIn(Schema):
    """A new callback request (JSON API; the web form and SMS are mapped onto the same fields)."""

    class Meta:
        unknown = RAISE

    error_messages = validation.SCHEMA

    location = Text(required=True, validate=validation.too_long(64), error_messages=validation.REQUIRED)
    phone = Text(required=True, validate=validation.too_long(phone.MAX_INPUT_LENGTH),
                 error_messages=validation.REQUIRED)
    # The name and the note say which field in the form's error summary, where "Gebruik hooguit 300 tekens" alone
    # does not.
    name = Text(load_default="", error_messages=validation.REQUIRED,
                validate=validate.Length(max=MAX_NAME, error=_l("Wat u invulde bij uw naam is te lang. Gebruik "
                                                                 "hooguit {max} tekens.")))
    note = Text(load_default="", error_messages=validation.REQUIRED,
                validate=validate.Length(max=MAX_NOTE, error=_l("Uw bericht is te lang. Gebruik hooguit {max} tekens.")))
    topic = Text(load_default=None, allow_none=True, validate=validation.too_long(64),
                 error_messages=validation.REQUIRED)
    language = Text(load_default="nl", validate=validation.too_long(8), error_messages=validation.REQUIRED,
                    metadata={"description": "The language to call back in: \"nl\", \"en\", or another that the "
                              "location calls back in (`languages` in GET /api/v1/callbacks/choices/{location})."})
    reply_by = Text(load_default="call", validate=validate.OneOf(service.REPLY_BY, error=validation.CHOOSE),
                    error_messages=validation.REQUIRED)
    preferred = fields.List(Text(validate=validation.too_long(24), error_messages=validation.REQUIRED),
                            load_default=list,
                            validate=validate.Length(max=MAX_PREFERRED, error=_l("Kies hooguit {max} dagdelen.")),
                            error_messages={**validation.REQUIRED, "invalid": _l("Geef een lijst met dagdelen.")},
                            metadata={"description": "Day parts that suit the citizen, as \"2026-11-30:morning\" or "
                                      "\"2026-11-30:afternoon\": of the location's next staffed days, and only the "
                                      "parts it staffs for an hour or more (morning before 12:00, afternoon after)."})
    # The form maps its checkbox to a boolean; API clients send JSON true.
    consent = validation.StrictBoolean(required=True, error_messages={
        **validation.REQUIRED, "required": _CONSENT_NEEDED, "invalid": _l("Geef true of false.")})

    @staticmethod
    def _context() -> dict:
        """Per load (see load_intake): channel, the day parts a form offered, and `now`; the API has none."""
        return Context.get(default={})

    # Also when some fields failed their own checks: every problem is named at once.
    @validates_schema(skip_on_field_errors=False)
    def check_meaning(self, data, **kwargs):
        # A field missing from `data` already failed its own check (and has its message).
        errors: dict[str, list[str]] = {}
        if "phone" in data and bsn.is_bsn(data["phone"]):  # a BSN typed where the number goes
            errors["phone"] = [_("Dit lijkt een BSN (burgerservicenummer), geen telefoonnummer. Geef uw "
                                 "telefoonnummer, bijvoorbeeld 06 12345678.")]
        elif "phone" in data:
            try:
                data["phone"] = phone.normalise(data["phone"], current.app().config["CALLBACK_ALLOWED_REGIONS"])
            except phone.PhoneRefused as refused:
                errors["phone"] = [str(refused.message)]
            else:
                if data.get("reply_by") in service.MESSAGE_REPLIES and not phone.takes_messages(data["phone"]):
                    errors["phone"] = [_("Op een vast nummer kunnen wij geen sms of WhatsApp-bericht sturen. Geef "
                                         "een mobiel nummer, of kies dat wij u bellen.")]
        for name in ("name", "note"):
            if bsn.find_bsn(data.get(name)):
                errors[name] = [_bsn_message()]
        if "consent" in data and not data["consent"]:
            errors["consent"] = [str(_CONSENT_NEEDED)]
        location = _location_or_none(data["location"]) if "location" in data else None
        if "location" in data:
            if location is None:
                errors["location"] = [_("Deze locatie kennen wij niet.")]
            elif data.get("topic") and data["topic"] not in topic_ids(location.id):
                errors["topic"] = [_("Kies een onderwerp uit de lijst, of laat het leeg.")]
        if location is not None and "language" in data and data["language"] not in location.all_call_languages:
            errors["language"] = [_("Kies een taal uit de lijst.") if self._on_form() else _(
                "Kies een taal uit de lijst: %(codes)s.", codes=", ".join(location.all_call_languages))]
        if data.get("preferred") and not set(data["preferred"]) <= self._slots(location):
            errors["preferred"] = [_("Kies een dagdeel uit de lijst.") if self._on_form() else
                                   _("Kies dagdelen waarop deze locatie open is, in de komende %(days)s "
                                     "werkdagen (zoals 2026-12-01:morning).", days=PREFERRED_HORIZON_DAYS)]
        if errors:
            raise ValidationError(errors)

    def _on_form(self) -> bool:
        """Loaded from the web form, which lists the choices in words (an API client is told the codes)."""
        return self._context().get("offered") is not None

    def _slots(self, location) -> set[str]:
        """The day parts a citizen may prefer: those the form offered, else (API) the location's day parts
        with a shift in the coming working days. A promise nobody can keep is refused."""
        offered = self._context().get("offered")
        if offered is not None:
            return set(offered)
        if location is None:
            return set()
        now = self._context().get("now") or service.clock()
        return set(service.preferred_options(location, now, days=PREFERRED_HORIZON_DAYS))

    @post_load
    def to_intake(self, data, **kwargs) -> service.Intake:
        return service.Intake(
            location=data["location"], phone=data["phone"], channel=self._context().get("channel", "api"),
            name=data["name"].strip(),
            note=data["note"].strip(), topic=data.get("topic") or None, language=data["language"],
            reply_by=data["reply_by"], preferred=tuple(dict.fromkeys(data["preferred"])),
        )


def _location_or_none(location_id: str):
    try:
        return service.location_for(location_id)
    except ApiError:
        return None


def topic_ids(location_id: str) -> set[str]:
    from routing.directory import service as directory

    return {topic.id for topic in directory.citizen_topics(location_id)}


# One instance for every request (building a schema per request is a measurable part of intake).
INTAKE_SCHEMA = CallbackIn()


def load_intake(data: dict, *, channel: str, offered: list[str] | None = None, now=None) -> service.Intake:
    """Validate; raises ApiError 422 with every problem per field (the one error shape).
    `offered`: the day parts the form showed (only those may be chosen)."""
    try:
        with Context({"channel": channel, "offered": offered, "now": now}):
            return INTAKE_SCHEMA.load(data)
    except ValidationError as error:
        raise ApiError(422, _("Niet alle gegevens zijn goed ingevuld."),
                       flatten_field_errors(error.messages)) from None


class WithdrawIn(Schema):
    class Meta:
        unknown = RAISE

    error_messages = validation.SCHEMA

    token = fields.String(required=True, error_messages=validation.REQUIRED,
                          validate=validate.Length(min=8, max=64, error=_l("Deze code klopt niet.")))


class CallbackOut(Schema):
    reference = fields.String()
    status = fields.String()
    expected_callback = Moment(allow_none=True)  # null: not the loket calls (handed_over)
    withdraw_token = fields.String(allow_none=True)
    existing = fields.Boolean()
    message = fields.String()


class _Choice(Schema):
    value = fields.String(required=True, metadata={"description": "What to send in `preferred`."})
    label = fields.String(required=True)


class _TopicChoice(Schema):
    id = fields.String(required=True, metadata={"description": "What to send in `topic`."})
    label = fields.String(required=True)


class _LanguageChoice(Schema):
    code = fields.String(required=True, metadata={"description": "What to send in `language`."})
    name = fields.String(required=True, allow_none=True, metadata={
        "description": "In the language itself (\"Türkçe\"); null when there is no such name to show (Limburgs)."})
    name_here = fields.String(required=True, allow_none=True, metadata={
        "description": "In the language of the answer (\"Turks\"); null for Dutch and English, which are named in "
                       "themselves."})


class ChoicesOut(Schema):
    location = fields.String(required=True)
    present_now = fields.Boolean(required=True)
    expected_callback = Moment(required=True, metadata={
        "description": "When a request made now, without a preferred moment, would be called back."})
    preferred = fields.List(fields.Nested(_Choice), required=True)
    topics = fields.List(fields.Nested(_TopicChoice), required=True)
    languages = fields.List(fields.Nested(_LanguageChoice), required=True)
    reply_by = fields.List(fields.String(), required=True)
    max_name = fields.Integer(required=True)
    max_note = fields.Integer(required=True)


class CallbackStatus(Schema):
    reference = fields.String()
    status = fields.String()
    status_text = fields.String()
    location = fields.String()
    created = Moment()
    expected_callback = Moment(allow_none=True)
    outcome = fields.String(allow_none=True)
    # Staff of the location only, while the loket works on it (left out once it is done with it, as on the
    # worklist); null when the personal fields are deleted:
    phone = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    topic = fields.String(allow_none=True)
    preferred = fields.List(fields.String())
    attempts = fields.Integer()
    # Staff of the location, while the request waits for the next shift: when its personal fields can be read
    # (its release). A held request is not worked on, nor its number read, before then.
    personal_from = Moment(metadata={"description": "Staff of the location, while the request waits for "
                                              "the next shift: when its personal fields can be read (its release)."})
