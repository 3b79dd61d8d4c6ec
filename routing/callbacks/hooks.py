"""Twilio webhooks: SMS and WhatsApp messages and phone calls become callback requests.

The location is the one whose `inbound_number` (directory) Twilio's `To` names: every location's number
points at the same webhook URLs. A number shared by several locations is configured with an explicit
`?location=<id>` in its webhook URL, which wins; the query string is part of what Twilio signs, so nobody
else can change it. A number that belongs to no location gets a polite answer and nothing is stored.
Replies are TwiML, in Dutch (and English for speech).
"""

from __future__ import annotations


from flask import Blueprint, Response, current_app, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

from routing.callbacks import schemas, service
from routing.callbacks.views import expected_text
from routing.directory import schedule
from routing.directory import service as directory
from routing.errors import ApiError
from routing.extensions import csrf, get_redis
from routing.hooks.twilio_signature import twilio_signed
from routing.privacy import phone as phones

bp = Blueprint("callback_hooks", __name__, url_prefix="/hooks/twilio")
# Twilio cannot send a CSRF token; the signature check takes its place.
csrf.exempt(bp)

STOP_WORDS = ("STOP", "INTREKKEN", "STOPPEN")


def _twiml(response) -> Response:
    return Response(str(response), mimetype="text/xml")


def _location():
    """The explicit `?location=` override, else the location whose number was called (None: neither)."""
    if "location" in request.args:
        try:
            return service.location_for(request.args["location"])
        except ApiError:
            return None
    called = request.form.get("To", "").removeprefix("whatsapp:").strip()
    return directory.location_by_inbound_number(called) if called else None


def _not_configured() -> str:
    return _("Dit nummer hoort niet bij een loket. Uw bericht is niet bewaard. Kijk op de website van uw "
             "gemeente hoe u ons bereikt.")


def _message(channel: str) -> Response:
    reply = MessagingResponse()
    location = _location()
    if location is None:
        reply.message(_not_configured())
        return _twiml(reply)
    sender = request.form.get("From", "").removeprefix("whatsapp:")
    text = request.form.get("Body", "").strip()
    if text.upper().strip(".! ") in STOP_WORDS:
        withdrawn = None
        try:
            withdrawn = service.withdraw_by_phone(get_redis(), location.id,
                                                  phones.normalise(sender, _regions()))
        except phones.PhoneRefused:
            pass
        reply.message(_("Uw terugbelverzoek %(reference)s is ingetrokken. Uw gegevens zijn gewist.",
                        reference=withdrawn.reference) if withdrawn else
                      _("Wij vonden geen open terugbelverzoek van dit nummer."))
        return _twiml(reply)
    data = {"location": location.id, "phone": sender, "note": text, "reply_by": channel, "consent": True}
    try:
        intake = schemas.load_intake(data, channel=channel)
    except ApiError as refused:
        problems = " ".join(m for messages in refused.errors.values() for m in messages)
        reply.message(_("Uw bericht is niet bewaard. %(problems)s", problems=problems))
        return _twiml(reply)
    try:
        receipt = service.create_request(get_redis(), intake)
    except ApiError as refused:  # too many requests for this number or location
        reply.message(refused.message)
        return _twiml(reply)
    if receipt.existing:
        text = _("U had al een terugbelverzoek: %(reference)s. Wij bellen u %(when)s. Niet meer nodig? "
                 "Stuur STOP.", reference=receipt.reference, when=expected_text(receipt.expected_callback))
    else:
        text = _("Wij bellen u terug. Uw nummer: %(reference)s. Wij bellen %(when)s. Niet meer nodig? "
                 "Stuur STOP of INTREKKEN. Wij wissen uw gegevens daarna.",
                 reference=receipt.reference, when=expected_text(receipt.expected_callback))
    reply.message(text)
    return _twiml(reply)


def _regions() -> tuple[str, ...]:
    return tuple(current_app.config["CALLBACK_ALLOWED_REGIONS"])


@bp.route("/sms", methods=["POST"])
@twilio_signed
def sms():
    return _message("sms")


@bp.route("/whatsapp", methods=["POST"])
@twilio_signed
def whatsapp():
    return _message("whatsapp")


def _say_both(target, dutch_and_english: tuple[str, str]) -> None:
    target.say(dutch_and_english[0], language="nl-NL")
    target.say(dutch_and_english[1], language="en-GB")


def _in_both(message) -> tuple[str, str]:
    """A lazy text in Dutch and in English: callers hear both, whatever their phone's language."""
    texts = []
    for locale in ("nl", "en"):
        with force_locale(locale):
            texts.append(str(message))
    return texts[0], texts[1]


def _caller() -> str | None:
    """The caller's number, or None when it is hidden or cannot be called back."""
    try:
        return phones.normalise(request.form.get("From", ""), _regions())
    except phones.PhoneRefused:
        return None


@bp.route("/voice", methods=["POST"])
@twilio_signed
def voice():
    response = VoiceResponse()
    location = _location()
    if location is None:
        _say_both(response, _in_both(_l("Dit nummer hoort niet bij een loket. Kijk op de website van uw gemeente "
                                        "hoe u ons bereikt. Tot ziens.")))
        return _twiml(response)
    now = service.clock()
    if schedule.is_present(location, now):
        local = now.astimezone(schedule.TZ)
        until = max(iv.end for iv in schedule.intervals_on(location.presence, local.date())
                    if iv.start <= local.time().replace(tzinfo=None) < iv.end)
        _say_both(response, _in_both(_l("U belt met %(name)s. Er is nu een medewerker, tot %(until)s uur. Kom "
                                        "langs op %(address)s.", name=location.name,
                                        until=until.strftime("%H:%M"), address=location.address)))
        return _twiml(response)
    if _caller() is None:
        _say_both(response, _in_both(_l("Er is nu niemand aanwezig. Uw nummer is afgeschermd, dus wij kunnen u "
                                        "niet terugbellen. Stuur een sms naar dit nummer, of vul het formulier "
                                        "in op de website.")))
        return _twiml(response)
    gather = Gather(num_digits=1, timeout=8, method="POST",
                    action=url_for("callback_hooks.voice_choice", location=location.id))
    _say_both(gather, _in_both(_l("U belt met %(name)s. Er is nu niemand aanwezig. Druk op 1 om teruggebeld te "
                                  "worden op dit nummer.", name=location.name)))
    response.append(gather)
    _say_both(response, _in_both(_l("U drukte niets. Tot ziens.")))
    return _twiml(response)


@bp.route("/voice/keuze", methods=["POST"])
@twilio_signed
def voice_choice():
    response = VoiceResponse()
    location = _location()
    caller = _caller()
    if location is None or caller is None or request.form.get("Digits") != "1":
        _say_both(response, _in_both(_l("Er is geen terugbelverzoek gemaakt. Tot ziens.")))
        return _twiml(response)
    data = {"location": location.id, "phone": caller, "reply_by": "call", "consent": True}
    try:
        intake = schemas.load_intake(data, channel="voice")
    except ApiError:
        _say_both(response, _in_both(_l("Naar dit nummer kunnen wij niet terugbellen. Stuur een sms of gebruik "
                                        "het formulier op de website.")))
        return _twiml(response)
    try:
        receipt = service.create_request(get_redis(), intake)
    except ApiError:  # too many requests for this number or location
        _say_both(response, _in_both(_l("Het lukt nu niet om een terugbelverzoek te maken. Probeer het later "
                                        "opnieuw.")))
        return _twiml(response)
    spoken = ", ".join(receipt.reference.replace("-", ""))
    _say_both(response, _in_both(_l("Wij bellen u terug. Uw nummer is %(reference)s. Tot ziens.",
                                    reference=spoken)))
    return _twiml(response)
