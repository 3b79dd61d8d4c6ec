"""Validation messages every schema shares, so no user ever sees marshmallow's English defaults.

Messages are lazy: marshmallow formats them when an error happens, in that request's language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

REQUIRED = {"required": _l("Vul dit in."), "null": _l("Vul dit in."), "invalid": _l("Dit klopt niet.")}
SCHEMA = {"unknown": _l("Dit veld kennen wij niet."), "type": _l("Stuur de gegevens als JSON-object.")}
CHOOSE = _l("Kies een van de mogelijkheden.")


def too_long(limit: int) -> validate.Length:
    return validate.Length(max=limit, error=_l("Gebruik hooguit {max} tekens."))


def length(low: int, high: int) -> validate.Length:
    return validate.Length(min=low, max=high, error=_l("Gebruik {min} tot {max} tekens."))


def between(low: int, high: int) -> validate.Range:
    return validate.Range(min=low, max=high, error=_l("Kies een getal van {min} tot en met {max}."))


def identifier() -> validate.Regexp:
    """Ids in the directory: lowercase words joined by hyphens (amsterdam-centrum)."""
    return validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", error=_l("Gebruik kleine letters, cijfers en streepjes."))


class StrictBoolean(fields.Boolean):
    """JSON true or false only: "yes", "on" or 1 is not a clear yes or no."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
