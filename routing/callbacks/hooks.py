"""Twilio webhooks: SMS and WhatsApp messages and phone calls become callback requests.

The location is the one whose `inbound_number` (directory) Twilio's `To` names: every location's number
points at the same webhook URLs. A number shared by several locations is configured with an explicit
`?location=<id>` in its webhook URL, which wins; the query string is part of what Twilio signs, so nobody
else can change it. A number that belongs to no location gets a polite answer and nothing is stored.
Replies are TwiML.

Language: an SMS or WhatsApp message is answered in its own language, English or Dutch, as a small word count
judges it (`message_language`; Dutch when unclear), and the request is stored with that language so staff
call back in it. A withdrawal is answered in the language stored on the withdrawn request (Dutch when none
was found). By phone the menu is said in Dutch, then in English: the Dutch half offers 1 (called back in
Dutch), the English half offers 2 (called back in English). Pressing 2 stores English and everything said
after it is English only; pressing 1 stores Dutch and the confirmation is said in Dutch, then in English.

A message whose first word is a stop word withdraws, whatever follows ("Stop, is niet meer nodig"). Our
replies name INTREKKEN only: Twilio itself treats a bare STOP as an opt-out on its numbers (it answers in
English and blocks every later message to that citizen, ours included; see docs/deploy.md).
Requests made by message are called back (reply_by "call"): that is what the reply promises. A message or call
from a number with a live request here is answered as that request was asked: one made in the web form for an SMS
or WhatsApp reply is promised a message, not a call.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

from routing import i18n
from routing.callbacks import message_language, schemas, service
from routing.callbacks.views import expected_text
from routing.directory import schedule
from routing.directory import service as directory
from routing.errors import REDIS_DOWN, ApiError, log_redis_down
from routing.extensions import csrf, get_redis
from routing.gsm7 import in_gsm7
from routing.hooks.twilio_signature import twilio_signed
from routing.http import absolute
from routing.privacy import bsn
from routing.privacy import phone as phones

bp = Blueprint("callback_hooks", __name__, url_prefix="/hooks/twilio")
# Twilio cannot send a CSRF token; the signature check takes its place.
csrf.exempt(bp)

# INTREKKEN first: the word our replies tell people to send (see the module docstring).
STOP_WORDS = ("INTREKKEN", "STOP", "STOPPEN")
# The first word of a message: the letters after any leading spaces and punctuation ("STOP-TB-X56Y": STOP).
_FIRST_WORD = re.compile(r"[\W_]*([^\W\d_]+)")
# What Twilio puts in `From` when the caller withheld their number (compared without case; empty too).
HIDDEN_CALLER_IDS = frozenset({"", "anonymous", "+266696687", "restricted", "unknown"})


def _twiml(response) -> Response:
    return Response(str(response), mimetype="text/xml")


def _redis_down(error: Exception) -> Response:
    """Redis not answering: Twilio does not send a message or a key press again, and reads out an error page as
    "an application error has occurred". So an answer the citizen can act on, as TwiML (200), and nothing kept."""
    log_redis_down(error)
    if request.endpoint in ("callback_hooks.voice", "callback_hooks.voice_choice"):
        response = VoiceResponse()
        _say_both(response, _l("Het lukt nu niet om een terugbelverzoek te maken. Probeer het later opnieuw."),
                  _l("Tot ziens."))
        return _twiml(response)
    reply = MessagingResponse()
    with force_locale(message_language.detect(request.form.get("Body", ""))):
        reply.message(in_gsm7(_("Het lukt nu even niet om uw bericht te bewaren. Stuur het over een paar minuten "
                                "opnieuw.")))
    return _twiml(reply)


for _outage in REDIS_DOWN:
    bp.register_error_handler(_outage, _redis_down)


def _location():
    """The explicit `?location=` override, else the location whose number was called (None: neither)."""
    if "location" in request.args:
        try:
            return service.location_for(request.args["location"])
        except ApiError:
            return None
    called = request.form.get("To", "").removeprefix("whatsapp:").strip()
    return directory.location_by_inbound_number(called) if called else None


def _regions() -> tuple[str, ...]:
    return tuple(current_app.config["CALLBACK_ALLOWED_REGIONS"])


# --- SMS and WhatsApp ---------------------------------------------------------------------------------

def is_withdrawal(text: str) -> bool:
    """Does the message start with a stop word ("STOP TB-X56Y", "Intrekken a.u.b.")? Case does not matter."""
    first = _FIRST_WORD.match(text)
    return first is not None and first.group(1).upper() in STOP_WORDS


def _not_configured() -> str:
    return _("Dit nummer hoort niet bij een loket. Uw bericht is niet bewaard. Kijk op de website van uw "
             "gemeente hoe u ons bereikt.")


def _withdraw(location, sender: str) -> str:
    """Withdraw the sender's live request; the answer is in the language stored on it when our texts are (else,
    and when none is found, Dutch)."""
    try:
        withdrawn = service.withdraw_by_phone(get_redis(), location.id, phones.normalise(sender, _regions()))
    except phones.PhoneRefused:
        withdrawn = None
    if withdrawn is None:
        # Not a dead end: the request may be under the number typed in the form (a landline, a partner's phone).
        return _("Wij vonden geen open terugbelverzoek van dit nummer. Gaf u een ander nummer op? Gebruik dan de "
                 "link om in te trekken, of zeg het als wij bellen.")
    with force_locale(_reply_locale(withdrawn.language)):
        return _("Uw terugbelverzoek %(reference)s is ingetrokken. Uw gegevens zijn gewist.",
                 reference=withdrawn.reference)


def _refusal(location, text: str, refused: ApiError) -> str:
    """Why a message was not kept, in terms of what the citizen did: they sent a message, typed no number."""
    if "phone" in refused.errors:
        # The form opens in the language of this reply (?lang=, see routing.i18n).
        return _("Naar het nummer waarmee u dit bericht stuurde, kunnen wij niet terugbellen. Uw bericht is niet "
                 "bewaard. Vraag terugbellen aan met het formulier op %(url)s. Daar kunt u een ander nummer "
                 "geven.", url=absolute("callbacks.form", location_id=location.id, **_form_language()))
    if bsn.find_bsn(text):
        # One SMS part (160), as the confirmation: the citizen will send again, and may do so more than once.
        return _("Uw bericht is niet bewaard: er staat een BSN (burgerservicenummer) in. Stuur het opnieuw zonder "
                 "dat nummer. De medewerker vraagt er zelf naar als dat nodig is.")
    if len(text) > schemas.MAX_NOTE:
        return _("Uw bericht is te lang. Wij hebben het niet bewaard. Stuur een korter bericht, van hooguit "
                 "%(max)s tekens.", max=schemas.MAX_NOTE)
    problems = " ".join(m for messages in refused.errors.values() for m in messages)
    return _("Uw bericht is niet bewaard. %(problems)s", problems=problems)


def _form_language() -> dict[str, str]:
    """`lang=en` for the form's link in an English reply; Dutch is the form's default."""
    return {"lang": "en"} if str(get_locale()) == "en" else {}


def _already_asked(location, receipt) -> str:
    """The live request of this number here, as it was asked: one made in the form may be answered by a text
    message (receipt.reply_by), and then the reply must not promise a call."""
    by_message = receipt.reply_by in service.MESSAGE_REPLIES
    if receipt.status == "handed_over" and by_message:  # a partner has it and contacts them; the loket does not
        return _("U had al een verzoek met kenmerk %(reference)s. Wij hebben het doorgegeven aan de organisatie "
                 "die over uw vraag gaat. Die stuurt u een bericht. Niet meer nodig? Stuur INTREKKEN.",
                 reference=receipt.reference)
    if receipt.status == "handed_over":
        return _("U had al een terugbelverzoek met kenmerk %(reference)s. Wij hebben het doorgegeven aan de "
                 "organisatie die over uw vraag gaat. Die belt u. Niet meer nodig? Stuur INTREKKEN.",
                 reference=receipt.reference)
    # Short: an SMS reply of more than 160 characters (153 per part) is sent, and paid for, in parts.
    when = expected_text(receipt.expected_callback)
    if by_message:
        text = _("U had al een verzoek: %(reference)s. Wij sturen u een bericht op %(when)s. Uw nieuwe bericht "
                 "bewaren wij niet. Is er iets veranderd? Zeg het als wij contact opnemen.",
                 reference=receipt.reference, when=when)
    else:
        text = _("U had al een terugbelverzoek: %(reference)s. Wij bellen u %(when)s. Uw nieuwe bericht bewaren "
                 "wij niet. Is er iets veranderd? Zeg het als wij bellen.", reference=receipt.reference, when=when)
    return service.sentences(text, service.walk_in_hint(location), _("Niet meer nodig? Stuur INTREKKEN."))


def _message(channel: str) -> Response:
    reply = MessagingResponse()
    text = request.form.get("Body", "").strip()
    location = _location()
    # A withdrawal has nothing to judge ("STOP"): _withdraw answers in the request's own language.
    language = message_language.DUTCH if is_withdrawal(text) else message_language.detect(
        text, location.call_languages if location is not None else ())
    with force_locale(_reply_locale(language, text)):  # the reply, and the field messages a refusal repeats
        answer = _answer(location, channel, text, language)
    # WhatsApp carries any character; an SMS is cheapest in GSM-7.
    reply.message(in_gsm7(answer) if channel == "sms" else answer)
    return _twiml(reply)


def _reply_locale(language: str, text: str = "") -> str:
    """The language of a reply: the request's, when our texts are written in it; else (Turkish, Arabic) English
    for a message in English words ("Please call me back in Turkish"), Dutch for any other."""
    if language in current_app.config["LANGUAGES"]:
        return language
    return message_language.detect(text)


def _answer(location, channel: str, text: str, language: str) -> str:
    """The reply to a message, in the current locale; `language` is stored with a new request."""
    if location is None:
        return _not_configured()
    sender = request.form.get("From", "").removeprefix("whatsapp:")
    if is_withdrawal(text):
        return _withdraw(location, sender)
    # Whatever the channel, we promise a call (see the reply below), so that is what staff are asked to do.
    data = {"location": location.id, "phone": sender, "note": text, "reply_by": "call", "consent": True,
            "language": language}
    try:
        intake = schemas.load_intake(data, channel=channel)
        receipt = service.create_request(get_redis(), intake)
    except ApiError as refused:
        # 422: what the message holds; 429: too many requests for this number or location.
        return _refusal(location, text, refused) if refused.status == 422 else str(refused.message)
    if receipt.existing:
        # In the language of the request (a short "ok thanks" after an English request is not Dutch), and so
        # of the call it promises.
        with force_locale(_reply_locale(receipt.language, text)):
            return service.sentences(_already_asked(location, receipt), _call_language(receipt.language),
                                     _media_not_opened())
    return service.sentences(
        _("Wij bellen u terug. Uw kenmerk: %(reference)s. Wij bellen %(when)s. Niet meer nodig? "
          "Stuur INTREKKEN. Dan wissen wij uw gegevens meteen.",
          reference=receipt.reference, when=expected_text(receipt.expected_callback)),
        _call_language(language), _media_not_opened())


def _call_language(language: str) -> str | None:
    """For a request to be called back in a language our replies are not written in: that it was understood
    ("Wij bellen u in het Turks"), for the citizen or whoever reads the reply to them."""
    if language in current_app.config["LANGUAGES"]:
        return None
    name = i18n.language_names_of(language)[1]
    return _("Wij bellen u in het %(language)s.", language=name) if name else None


def _media_not_opened() -> str | None:
    """A photo, voice note or file came with the message (Twilio's NumMedia; on WhatsApp often a photo of a letter
    from the citizen who cannot read it). Nothing of it is fetched or kept, so say so: otherwise the citizen
    counts on staff having seen it."""
    if request.form.get("NumMedia", "0").strip() in ("", "0"):
        return None
    return _("Wij kunnen geen foto's, spraakberichten of bestanden openen. Vertel het als wij bellen.")


@bp.route("/sms", methods=["POST"])
@twilio_signed
def sms():
    return _message("sms")


@bp.route("/whatsapp", methods=["POST"])
@twilio_signed
def whatsapp():
    return _message("whatsapp")


# --- voice ----------------------------------------------------------------------------------------------

# The languages a caller hears, in the order they are said, each with the voice Twilio speaks it in.
VOICES = {"nl": "nl-NL", "en": "en-GB"}
# The key pressed after the menu, and the language the caller is then called back in.
LANGUAGE_BY_DIGIT = {"1": "nl", "2": "en"}


def _say(target, locales, *parts) -> None:
    """Say the parts once in each of `locales`, in that order. A part is a lazy text, a function that builds
    one (for words that depend on the locale), or a dict {locale: part} for what differs per language (the
    menu); a locale missing from such a dict skips that part."""
    for locale in locales:
        chosen = (part.get(locale) if isinstance(part, dict) else part for part in parts)
        with force_locale(locale):
            target.say(" ".join(str(part() if callable(part) else part) for part in chosen if part is not None),
                       language=VOICES[locale])


def _say_both(target, *parts) -> None:
    """Say the parts in Dutch, then all of them again in English: callers hear both, whatever their phone's
    language."""
    _say(target, tuple(VOICES), *parts)


def _cannot_call_back():
    return _l("Naar het nummer waarmee u belt, kunnen wij niet terugbellen. Vul het formulier in op de website "
              "van het loket. Daar kunt u een ander nummer geven.")


def _withdraw_by(channel: str, caller: str):
    """How to withdraw, said on the phone: the way the request was asked, so who asked in WhatsApp is sent back to
    that chat (an SMS would reach us too, but is not what they used); else an SMS to the number just called, from
    a phone that can send one; from a landline, by telling whoever calls."""
    if channel == "whatsapp":
        return _l("Niet meer nodig? Stuur INTREKKEN in uw WhatsApp-gesprek met dit nummer.")
    if not phones.takes_messages(caller):
        return _l("Niet meer nodig? Zeg het dan als wij bellen.")
    return _l("Niet meer nodig? Stuur een sms met het woord INTREKKEN naar dit nummer.")


def _caller() -> str | None:
    """The caller's number, or None when it is hidden or cannot be called back."""
    try:
        return phones.normalise(request.form.get("From", ""), _regions())
    except phones.PhoneRefused:
        return None


def _caller_hidden() -> bool:
    return request.form.get("From", "").strip().lower() in HIDDEN_CALLER_IDS


def _greeting(location, now) -> list:
    until = schedule.present_until(location, now)
    if until is None:
        return [_l("U belt met %(name)s. Er is nu niemand aanwezig.", name=location.name)]
    parts = [_l("U belt met %(name)s. Er is nu een medewerker, tot %(until)s uur.", name=location.name,
                until=until.strftime("%H:%M"))]
    if location.walk_in:  # other locations see citizens by referral only
        parts.append(_l("U kunt langskomen op %(address)s.", address=location.address))
    return parts


@bp.route("/voice", methods=["POST"])
@twilio_signed
def voice():
    response = VoiceResponse()
    location = _location()
    if location is None:
        _say_both(response, _l("Dit nummer hoort niet bij een loket. Kijk op de website van uw gemeente hoe u ons "
                               "bereikt. Tot ziens."))
        return _twiml(response)
    greeting = _greeting(location, service.clock())
    if _caller_hidden():
        _say_both(response, *greeting, _l("Uw nummer is afgeschermd, dus wij kunnen u niet terugbellen. Stuur een "
                                          "sms naar dit nummer, of vul het formulier in op de website."))
        return _twiml(response)
    if _caller() is None:
        _say_both(response, *greeting, _cannot_call_back())
        return _twiml(response)
    repeat = _repeat()
    gather = Gather(num_digits=1, timeout=8, method="POST",
                    # Absolute: Twilio resolves a relative one against the host, losing a path prefix of
                    # PUBLIC_BASE_URL (https://example.nl/loketlijn).
                    action=absolute("callback_hooks.voice_choice", location=location.id, **repeat))
    # Each half offers its own language: 1 in the Dutch half, 2 in the English one.
    _say_both(gather, *greeting, {"nl": _l("Druk op 1 om teruggebeld te worden op dit nummer."),
                                  "en": _l("Druk op 2 om in het Engels teruggebeld te worden.")})
    response.append(gather)
    if not _hear_again(response, location, _l("U drukte geen toets.")):
        _say_both(response, _l("U drukte geen toets. Er is geen terugbelverzoek gemaakt. Bel opnieuw als u wilt "
                               "dat wij u terugbellen. Tot ziens."))
    return _twiml(response)


# The query parameter of a menu said for the second time: after that, silence or a wrong key ends the call.
REPEAT = "repeat"


def _repeat() -> dict[str, str]:
    """{REPEAT: "1"} in the menu's second round (for the URLs it hands on), else nothing."""
    return {REPEAT: "1"} if request.args.get(REPEAT) == "1" else {}


def _hear_again(response: VoiceResponse, location, what_happened) -> bool:
    """The first time no key or a wrong one was pressed: say so and say the menu once more (a caller who missed
    it, or pressed too soon, should not have to call again). False in the second round: the caller ends it."""
    if _repeat():
        return False
    _say_both(response, what_happened, _l("U hoort het keuzemenu nog een keer."))
    response.redirect(absolute("callback_hooks.voice", location=location.id, **{REPEAT: "1"}), method="POST")
    return True


@bp.route("/voice/keuze", methods=["POST"])
@twilio_signed
def voice_choice():
    response = VoiceResponse()
    location = _location()
    caller = _caller()
    language = LANGUAGE_BY_DIGIT.get(request.form.get("Digits", ""))
    if location is not None and caller is not None and language is None and _hear_again(
            response, location, _l("Die toets hoort niet bij het keuzemenu.")):
        return _twiml(response)
    if location is None or caller is None or language is None:
        _say_both(response, _l("Er is geen terugbelverzoek gemaakt. Bel opnieuw als u wilt dat wij u "
                               "terugbellen. Tot ziens."))
        return _twiml(response)
    # 2 was offered in English only, so what follows is English only. After 1 Dutch, then English, as the
    # menu: a caller who pressed 1 without following the Dutch still hears the reference in English.
    locales = ("en",) if language == "en" else tuple(VOICES)

    def say(*parts) -> None:
        _say(response, locales, *parts)

    data = {"location": location.id, "phone": caller, "reply_by": "call", "consent": True, "language": language}
    try:
        intake = schemas.load_intake(data, channel="voice")
    except ApiError:
        say(_cannot_call_back())
        return _twiml(response)
    try:
        receipt = service.create_request(get_redis(), intake)
    except ApiError:  # too many requests for this number or location
        say(_l("Het lukt nu niet om een terugbelverzoek te maken. Probeer het later opnieuw."))
        return _twiml(response)
    spoken = ", ".join(receipt.reference.replace("-", ""))
    goodbye = (_withdraw_by(receipt.channel, caller), _l("Tot ziens."))
    if receipt.reply_by in service.MESSAGE_REPLIES:
        # Asked in the form for an SMS or WhatsApp message (a request by phone is always called back): that is
        # what comes, from the loket or from the partner that has it.
        say(_l("U had al een verzoek."), lambda: _l(
            "Uw kenmerk is %(reference)s. Nog een keer: %(reference)s. U krijgt een bericht, zoals u vroeg.",
            reference=spoken), *goodbye)
        return _twiml(response)
    if receipt.status == "handed_over":
        say(lambda: _l(
            "U had al een terugbelverzoek. Uw kenmerk is %(reference)s. De organisatie die over uw vraag gaat, "
            "belt u.", reference=spoken), *goodbye)
        return _twiml(response)
    first = _l("U had al een terugbelverzoek.") if receipt.existing else _l("Wij bellen u terug.")
    say(first, lambda: _l(
        "Uw kenmerk is %(reference)s. Nog een keer: %(reference)s. Wij bellen u %(when)s.",
        reference=spoken, when=expected_text(receipt.expected_callback)), *goodbye)
    return _twiml(response)
