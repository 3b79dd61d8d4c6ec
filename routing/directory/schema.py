"""Marshmallow schemas for the directory files; each ``load`` returns model values.

Field-level rules live here (phone numbers, hours, overlaps); rules that need the whole directory
(unknown partner or topic ids) live in ``loader.py``.

Messages are Dutch msgids, translated when a problem is found (`gettext`) or, for those fixed when this module
is imported, when a schema is built (`lazy_gettext`, made plain text in `DirectorySchema`): in the language of
whoever loads the directory. The app (and so the coordinators' directory pages) loads it in Dutch; `flask
directory validate` and `import-upl` in English, as every operator command speaks.
"""

from __future__ import annotations

import re
from datetime import date, time

import phonenumbers
from babel import Locale
from flask_babel import gettext, lazy_gettext
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from .model import Channels, Hours, Interval, Line, Partner, Topic

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ID = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", error=lazy_gettext("Gebruik kleine letters, cijfers en streepjes."))
FILLED = validate.Length(min=1, error=lazy_gettext("Mag niet leeg zijn."))
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_days(spec: str) -> list[int]:
    """"mon", "mon-fri" or "sat,sun" → weekday numbers (0 = Monday)."""
    days: list[int] = []
    for part in str(spec).lower().split(","):
        ends = [p.strip() for p in part.split("-")]
        if len(ends) > 2 or any(e not in DAYS for e in ends):
            raise ValidationError(gettext("Onbekende dag '%(spec)s' (gebruik %(days)s of een reeks als mon-fri).",
                                          spec=spec, days=", ".join(DAYS)))
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        if last < first:
            raise ValidationError(gettext("Reeks '%(spec)s' loopt achteruit.", spec=spec))
        days.extend(range(first, last + 1))
    return days


def parse_interval(text: str) -> Interval:
    m = _RANGE.match(str(text))
    if not m:
        raise ValidationError(gettext("'%(text)s' is geen tijdvak; schrijf bijvoorbeeld 09:00-17:00.", text=text))
    h1, m1, h2, m2 = map(int, m.groups())
    if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60):
        raise ValidationError(gettext("'%(text)s' bevat een ongeldige tijd.", text=text))
    iv = Interval(time(h1, m1), time(h2, m2))
    if iv.end <= iv.start:
        raise ValidationError(gettext("'%(text)s': het einde ligt niet na het begin.", text=text))
    return iv


def check_overlap(intervals: list[Interval], where: str) -> tuple[Interval, ...]:
    ordered = sorted(intervals, key=lambda iv: iv.start)
    for a, b in zip(ordered, ordered[1:]):
        if b.start < a.end:
            first, second = (f"{iv.start:%H:%M}-{iv.end:%H:%M}" for iv in (a, b))
            raise ValidationError(gettext("Tijden overlappen op %(day)s: %(first)s en %(second)s.", day=where,
                                          first=first, second=second))
    return tuple(ordered)


# marshmallow's own messages are English ("Not a valid boolean.") whatever the language: ours replace them.
_FIELD_MESSAGES = {"required": lazy_gettext("Ontbreekt."), "null": lazy_gettext("Mag niet leeg zijn."),
                   "validator_failed": lazy_gettext("Klopt niet.")}
# The "invalid" message per kind of field; the first class in a field's ancestry that is listed wins.
_INVALID_MESSAGES = {
    fields.Boolean: lazy_gettext("Schrijf true of false."),
    fields.Date: lazy_gettext("Geen datum; schrijf JJJJ-MM-DD."),
    fields.Email: lazy_gettext("Geen geldig e-mailadres."),
    fields.String: lazy_gettext("Verwacht tekst."),
    fields.List: lazy_gettext("Verwacht een lijst."),
    fields.Dict: lazy_gettext("Verwacht een lijst van naam: waarde."),
}
_NOT_A_BLOCK = lazy_gettext("Verwacht een blok met velden.")


def _our_messages(field: fields.Field) -> None:
    """Our messages for a field and the fields inside it (a list's items, a mapping's keys and values), as plain
    text in the language the directory is being loaded in (a schema is built for each load)."""
    messages = dict(_FIELD_MESSAGES)
    invalid = next((text for kind, text in _INVALID_MESSAGES.items() if isinstance(field, kind)), None)
    if invalid:
        messages["invalid"] = invalid
    if isinstance(field, fields.Nested):
        messages["type"] = _NOT_A_BLOCK
    field.error_messages = {**field.error_messages, **{key: str(text) for key, text in messages.items()}}
    for validator in field.validators:
        if isinstance(validator, validate.Email):
            # fields.Email checks with a validator it builds with marshmallow's (English) message, before this.
            validator.error = field.error_messages["invalid"]
    for inner in (getattr(field, "inner", None), getattr(field, "key_field", None),
                  getattr(field, "value_field", None)):
        if isinstance(inner, fields.Field):
            _our_messages(inner)


class DirectorySchema(Schema):
    """A directory file's part: unknown fields are problems, and every message is ours (`_our_messages`)."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": lazy_gettext("Dit veld bestaat niet."), "type": _NOT_A_BLOCK}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.error_messages = {key: str(text) for key, text in self.error_messages.items()}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        _our_messages(field_obj)


class Phone(fields.String):
    """A phone number that ``phonenumbers`` accepts as valid, stored as E.164."""

    def __init__(self, *, mobile: bool = False, **kwargs):
        self.mobile = mobile
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            number = phonenumbers.parse(text, "NL")
        except phonenumbers.NumberParseException:
            raise ValidationError(gettext("'%(text)s' is geen telefoonnummer.", text=text)) from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(gettext("'%(text)s' is geen geldig telefoonnummer.", text=text))
        if self.mobile and phonenumbers.number_type(number) not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            raise ValidationError(gettext("'%(text)s' is geen mobiel nummer; SMS kan alleen naar een mobiel nummer.",
                                          text=text))
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Strings(fields.Field):
    """A list of strings, checked in one pass: a national topic can name a team in every municipality,
    and a field object per item would make loading the directory take seconds."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError(gettext("Verwacht een lijst met teksten."))
        return value


class WeeklyHours(fields.Field):
    """``{"mon-fri": ["09:00-12:00", "13:00-17:00"], "sat": []}`` → {weekday: intervals}."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError(gettext("Verwacht dagen met tijdvakken, bijvoorbeeld mon-fri: [09:00-17:00]."))
        per_day: dict[int, list[Interval]] = {}
        for spec, ranges in value.items():
            if not isinstance(ranges, list):
                raise ValidationError(gettext("Bij '%(spec)s' hoort een lijst tijdvakken.", spec=spec))
            intervals = [parse_interval(r) for r in ranges]
            for day in parse_days(spec):
                per_day.setdefault(day, []).extend(intervals)
        return {day: check_overlap(ivs, DAYS[day]) for day, ivs in per_day.items() if ivs}


class ChannelsSchema(DirectorySchema):
    sms = Phone(mobile=True, load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True)

    @post_load
    def make(self, data, **kwargs) -> Channels:
        return Channels(**data)


class ExceptionSchema(DirectorySchema):
    date = fields.Date(required=True)
    hours = fields.List(fields.String(), load_default=list)
    note = fields.String(load_default="")

    @post_load
    def make(self, data, **kwargs) -> tuple[date, tuple[Interval, ...]]:
        try:
            intervals = [parse_interval(r) for r in data["hours"]]
            return data["date"], check_overlap(intervals, data["date"].isoformat())
        except ValidationError as err:
            raise ValidationError(err.messages, field_name="hours") from None


class HoursSchema(DirectorySchema):
    weekly = WeeklyHours(load_default=dict)
    exceptions = fields.List(fields.Nested(ExceptionSchema), load_default=list)

    @validates_schema
    def unique_dates(self, data, **kwargs):
        days = [d for d, _ in data.get("exceptions", [])]
        doubles = sorted({d.isoformat() for d in days if days.count(d) > 1})
        if doubles:
            raise ValidationError(gettext("Datum staat er meer dan eens in: %(dates)s.", dates=", ".join(doubles)),
                                  "exceptions")

    @post_load
    def make(self, data, **kwargs) -> Hours:
        return Hours(weekly=data["weekly"], exceptions=dict(data["exceptions"]))


class LineSchema(DirectorySchema):
    number = Phone(required=True)
    hours = fields.Nested(HoursSchema, required=True)
    fallback_number = Phone(load_default=None, allow_none=True)
    notes = fields.String(load_default="")
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_until = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def period(self, data, **kwargs):
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ValidationError(gettext("Ligt voor valid_from."), "valid_until")


# Every language Babel can name (pages need a name for it, in the page's language at least).
_NAMED_LANGUAGES = frozenset(Locale("nl").languages) & frozenset(Locale("en").languages)


def _language_codes(codes: list[str]) -> None:
    """Call languages besides Dutch and English, as ISO 639 codes ("tr", "ar", "ti") that Babel can name."""
    problems = [gettext("'%(code)s' staat er altijd al bij (Nederlands en Engels).", code=code)
                for code in codes if code in ("nl", "en")]
    unknown = [f"'{code}'" for code in codes
               if code not in ("nl", "en") and not (code.isalpha() and code.islower() and code in _NAMED_LANGUAGES)]
    if unknown:
        problems.append(gettext("Onbekende taalcode %(codes)s. Gebruik een ISO 639-code, zoals tr of ar.",
                                codes=", ".join(unknown)))
    if len(set(codes)) != len(codes):
        problems.append(gettext("Een taal staat er twee keer in."))
    if problems:
        raise ValidationError(problems)


class LocationSchema(DirectorySchema):
    """One file under ``locations/``. Partner ids are checked against partners.yaml by the loader."""

    id = fields.String(required=True, validate=ID)
    name = fields.String(required=True, validate=FILLED)
    municipality = fields.String(required=True, validate=FILLED)
    address = fields.String(required=True)
    presence = fields.Nested(HoursSchema, required=True)
    walk_in = fields.Boolean(required=True)
    lines = fields.Dict(keys=fields.String(), values=fields.Nested(LineSchema), load_default=dict)
    on_site = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    callbacks_to = fields.String(load_default="dienstverlener")
    on_duty = fields.Nested(ChannelsSchema, load_default=Channels)
    handover_when_absent = fields.Boolean(load_default=True)
    inbound_number = Phone(load_default=None, allow_none=True)
    call_languages = Strings(load_default=list, validate=_language_codes)

    @validates_schema
    def on_site_days(self, data, **kwargs):
        for partner_id, spec in data.get("on_site", {}).items():
            try:
                parse_days(spec)
            except ValidationError as err:
                raise ValidationError({partner_id: err.messages}, "on_site") from None


class PartnerSchema(DirectorySchema):
    id = fields.String(required=True, validate=ID)
    name = fields.String(required=True, validate=FILLED)
    kind = fields.String(required=True,
                         validate=validate.OneOf(["national", "municipal"],
                                                 error=lazy_gettext("Kies national of municipal.")))
    aliases = Strings(load_default=list)
    municipality = fields.String(load_default=None, allow_none=True)
    public_contact = fields.String(load_default="")
    handover = fields.Nested(ChannelsSchema, load_default=Channels)
    handover_by_location = fields.Dict(keys=fields.String(), values=fields.Nested(ChannelsSchema), load_default=dict)

    @validates_schema
    def municipal_has_municipality(self, data, **kwargs):
        if data.get("kind") == "municipal" and not data.get("municipality"):
            raise ValidationError(gettext("Een gemeentelijk team hoort bij een gemeente."), "municipality")

    @post_load
    def make(self, data, **kwargs) -> Partner:
        # Partner.topics is filled in by the loader from topics.yaml (one source of truth).
        return Partner(topics=(), **{**data, "aliases": tuple(data["aliases"])})


class TopicSchema(DirectorySchema):
    id = fields.String(required=True, validate=ID)
    name_nl = fields.String(required=True, validate=FILLED)
    name_en = fields.String(required=True, validate=FILLED)
    partners = Strings(load_default=list)
    # A life event names the topics it touches; its partners are theirs plus its own.
    includes = Strings(load_default=list)
    synonyms = Strings(load_default=list)
    life_event = fields.Boolean(load_default=False)
    citizen = fields.Boolean(load_default=False)
    citizen_label = fields.String(load_default="")
    upl_uri = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def has_partner(self, data, **kwargs):
        if not data.get("partners") and not data.get("includes"):
            raise ValidationError(gettext("Noem minstens één partner (of, bij een levensgebeurtenis, onderwerpen)."),
                                  "partners")
        if data.get("citizen") and not data.get("citizen_label"):
            raise ValidationError(gettext("Een onderwerp voor burgers heeft een label in gewone woorden."),
                                  "citizen_label")


class LawSchema(DirectorySchema):
    law = fields.String(required=True, validate=validate.Length(min=3, error=lazy_gettext("Gebruik minstens {min} tekens.")))
    partners = Strings(required=True, validate=FILLED)


def make_topic(data: dict, partners: tuple[str, ...]) -> Topic:
    fields_ = {k: v for k, v in data.items() if k not in ("partners", "includes")}
    return Topic(
        partners=partners,
        includes=tuple(data["includes"]),
        **{**fields_, "synonyms": tuple(data["synonyms"])},
    )


def make_line(partner_id: str, data: dict) -> Line:
    return Line(partner_id=partner_id, **data)
