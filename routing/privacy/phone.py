"""Phone numbers a citizen gives us to be called back on.

We store E.164 only. Dutch numbers are the default; numbers from other countries are accepted only for
the regions in the CALLBACK_ALLOWED_REGIONS setting. Two different answers, because the citizen can act
on them differently: "invalid" (a typo: check the number) and "not callable" (a real number that we
cannot or should not call back: 0800, 0900, 1400/140xx, premium, shared cost, short codes)."""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers
from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from phonenumbers import PhoneNumberType, shortnumberinfo

# Number types we never call back: they cost the caller or the citizen money, or do not reach a person.
_NOT_CALLABLE_TYPES = frozenset({
    PhoneNumberType.TOLL_FREE,        # 0800
    PhoneNumberType.PREMIUM_RATE,     # 0900, 0906, 0909
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.UAN,              # 14xxx municipal numbers, 084/087 personal assistant services
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.VOICEMAIL,
    PhoneNumberType.PAGER,
})

# Types a text message (SMS, WhatsApp) reaches. FIXED_LINE_OR_MOBILE: countries whose numbers do not say which.
_MESSAGE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

MAX_INPUT_LENGTH = 32


class PhoneRefused(ValueError):
    """A number we will not store. `reason` is "invalid" or "not_callable"; `message` is for the citizen."""

    def __init__(self, reason: str, message):
        super().__init__(reason)
        self.reason = reason
        self.message = message


def _invalid(allowed_regions: Iterable[str] = ()) -> PhoneRefused:
    if {code.upper() for code in allowed_regions} - {"NL"}:  # someone abroad may have left out the country code
        return PhoneRefused("invalid", _l("Dit telefoonnummer klopt niet. Controleer het nummer, bijvoorbeeld "
                                          "06 12345678. Begin een buitenlands nummer met + en de landcode, "
                                          "bijvoorbeeld +32."))
    return PhoneRefused("invalid", _l("Dit telefoonnummer klopt niet. Controleer het nummer, "
                                      "bijvoorbeeld 06 12345678."))


def _not_callable() -> PhoneRefused:
    return PhoneRefused("not_callable", _l("Naar dit nummer kunnen wij niet terugbellen (bijvoorbeeld een "
                                           "0800-, 0900- of 14-nummer). Geef een gewoon vast of mobiel "
                                           "nummer."))


def _missing() -> PhoneRefused:
    return PhoneRefused("invalid", _l("Vul uw telefoonnummer in, bijvoorbeeld 06 12345678."))


def _foreign(allowed_regions: Iterable[str]) -> PhoneRefused:
    """Names the countries we do call, in the reader's language ("Nederland, België, Duitsland")."""
    locale = Locale.parse(str(get_locale() or "nl"))
    codes = ["NL", *sorted({code.upper() for code in allowed_regions} - {"NL"})]
    countries = ", ".join(locale.territories.get(code, code) for code in codes)
    # Said of every reply (a call, an SMS, a WhatsApp message): the allow-list is of the numbers we contact.
    return PhoneRefused("not_callable", _l("Op een nummer uit dit land kunnen wij geen contact met u opnemen. Dat "
                                           "kan alleen op nummers uit: %(countries)s.", countries=countries))


def normalise(raw: str, allowed_regions: Iterable[str] = ("NL",)) -> str:
    """Return the number in E.164 or raise PhoneRefused."""
    text = (raw or "").strip()
    if not text:
        raise _missing()
    if len(text) > MAX_INPUT_LENGTH:
        raise _invalid(allowed_regions)
    try:
        number = phonenumbers.parse(text, "NL")
    except phonenumbers.NumberParseException:
        raise _invalid(allowed_regions) from None
    if shortnumberinfo.is_valid_short_number(number) or _is_dutch_service_number(number):
        raise _not_callable()
    # A number is valid exactly when its type is known; working the type out once saves doing it twice
    # (is_valid_number and number_type each do).
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        raise _invalid(allowed_regions)
    region = phonenumbers.region_code_for_number(number)
    if region not in {code.upper() for code in allowed_regions} | {"NL"}:
        raise _foreign(allowed_regions)
    if kind in _NOT_CALLABLE_TYPES:
        raise _not_callable()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def takes_messages(e164: str) -> bool:
    """Whether an SMS or WhatsApp message reaches this number (a mobile one; a landline does not)."""
    return phonenumbers.number_type(phonenumbers.parse(e164, None)) in _MESSAGE_TYPES


def _is_dutch_service_number(number: phonenumbers.PhoneNumber) -> bool:
    # 1400 (Rijksoverheid) and 140 + area code (municipalities) are not all in phonenumbers' metadata.
    national = str(number.national_number)
    return number.country_code == 31 and national.startswith("14") and len(national) <= 6


def display(e164: str) -> str:
    """How staff see the number: national format for Dutch numbers, international otherwise."""
    number = phonenumbers.parse(e164, None)
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 31 else \
        phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


def display_in_text(e164: str) -> str:
    """`display` for a sentence on a page: its groups joined by no-break spaces, so that a narrow screen does
    not break the number over two lines. (Not for SMS: a no-break space costs a message its GSM alphabet.)"""
    return display(e164).replace(" ", "\u00a0")
