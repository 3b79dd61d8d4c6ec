"""Pages: the citizen's callback form, confirmation and withdrawal; the staff worklist; the door QR code."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from io import BytesIO, StringIO
from typing import NamedTuple

from babel.lists import format_list
from flask import (Blueprint, Response, abort, current_app, flash, make_response, redirect, render_template,
                   request, session, url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError

from routing import i18n, moments
from routing.auth import current_principal, login_required
from routing.auth import service as auth_service
from routing.callbacks import figures, limits, schemas, service, states
from routing.directory.model import DIENSTVERLENER
from routing.errors import REDIS_DOWN, ApiError, handle_http_exception, log_redis_down, retry_later, with_retry_after
from routing.extensions import get_redis, limiter
from routing.handovers.model import Handover
from routing.http import private
from routing.privacy import bsn
from routing.privacy import phone as phones

bp = Blueprint("callbacks", __name__)
# Every page here shows personal data (a typed number kept on a refused form, a worklist) or carries a
# withdrawal token in its address.
bp.after_request(private)

HONEYPOT = "website"
FORM_FIELDS = ("phone", "name", "note", "topic", "language", "reply_by")
# Everything the form's page sends (the language button sends "lang"); anything else is refused, as in the API.
POSTED_FIELDS = frozenset((*FORM_FIELDS, "preferred", "consent", "lang", HONEYPOT))
# The fields as the form shows them, top to bottom: the error summary names the problems in this order, whatever
# order the checks found them in (the phone number's own check runs after the note's length).
PAGE_ORDER = ("_form", "phone", "name", "preferred", "language", "reply_by", "topic", "note", "consent")
# The browser's own session (a signed cookie) remembers what its form sent, so the confirmation is a page of
# its own (POST/redirect/GET) that survives a reload, a language switch and a second tap:
# per location the reference last confirmed there, whether it was found already, when, and whether its number takes
# text messages (a landline cannot send INTREKKEN); and the withdrawal
# tokens this browser was given, [reference, token, when] triples, newest last. Remembered for a short while
# only: on a shared kiosk tablet the next citizen must not find the previous one's withdrawal link.
SESSION_CONFIRMED = "callbacks_confirmed"
SESSION_TOKENS = "callbacks_tokens"
# [reference, the number as staff would read it]: shown once on the confirmation right after sending, so a typo in the
# number is seen while it can still be put right; gone from the cookie with the next page of this blueprint.
SESSION_NUMBER = "callbacks_number"
# Set by "Klaar": this browser is the loket's shared tablet. Its form then asks the browser neither to offer
# what earlier visitors typed nor to put it back when the next visitor goes Back (autocomplete off).
SESSION_SHARED = "callbacks_shared_device"
KEEP_TOKENS = 5
REMEMBER_S = 15 * 60


def _now() -> datetime:
    return service.clock()


def slot_label(location, slot: str) -> str:
    """'maandag 30 november, ochtend (8:30 tot 12:00)': the day part as this location staffs it that day."""
    start, end = service.slot_window(location, slot)
    times = {"start": moments.clock_text(start), "end": moments.clock_text(end)}
    part = _("ochtend (%(start)s tot %(end)s)", **times) if slot.endswith(":morning") else \
        _("middag (%(start)s tot %(end)s)", **times)
    return f"{moments.day_text(start)}, {part}"


def topic_choices(location_id: str) -> list[tuple[str, str]]:
    from routing.directory import service as directory

    english = str(current_app.jinja_env.globals["current_locale"]()) == "en"
    return [(t.id, (t.name_en if english else t.citizen_label) or t.name_nl)
            for t in directory.citizen_topics(location_id)]


def expected_text(expected: datetime | None) -> str:
    if expected is None:
        return _("zo snel mogelijk")
    return _("%(day)s, vanaf %(time)s", day=moments.day_text(expected), time=moments.clock_text(expected))


def form_choices(location) -> dict:
    """What the form offers at this location now, for a kiosk or portal that asks through the API (the same
    day parts, topics and call languages, in the request's language), and when a request made now is called."""
    now = _now()
    state, release = service.queue_place(location, now)
    return {
        "location": location.id, "present_now": service.schedule.is_present(location, now),
        "expected_callback": service.expected_callback(location, state, release, (), now),
        "preferred": [{"value": slot, "label": label} for slot, label in _offered_slots(location, now)],
        "topics": [{"id": topic_id, "label": label} for topic_id, label in topic_choices(location.id)],
        "languages": [dict(zip(("code", "name", "name_here"), (code, *i18n.language_names_of(code))))
                      for code in location.all_call_languages],
        "reply_by": list(service.REPLY_BY), "max_name": schemas.MAX_NAME, "max_note": schemas.MAX_NOTE,
    }


def _offered_slots(location, now: datetime) -> list[tuple[str, str]]:
    """The day parts the form offers, each with its label."""
    return [(slot, slot_label(location, slot)) for slot in service.preferred_options(location, now)]


def _render_form(location, values: dict, errors: dict, status: int = 200, refusal: str | None = None):
    now = _now()
    present = service.schedule.is_present(location, now)
    # Not "when the dienstverlener is back" but the day and hour: after a weekend that may be Tuesday.
    back = None if present else service.schedule.next_shift_start(location, now)
    # Still there, but too briefly to call (service.LAST_CALL_MARGIN): the call is at the next shift, and the page
    # must not let the citizen wait for it today.
    call_from = service.expected_callback(location, "open", None, (), now) if present else None
    errors = dict(sorted(errors.items(), key=lambda item: PAGE_ORDER.index(item[0]) if item[0] in PAGE_ORDER
                         else len(PAGE_ORDER)))
    return render_template(
        "callbacks/form.html", location=location, values=values, errors=errors,
        slots=_offered_slots(location, now), back_at=expected_text(back) if back else None,
        call_later=expected_text(call_from) if call_from and call_from > now else None,
        topics=topic_choices(location.id), honeypot=HONEYPOT, present=present,
        max_note=schemas.MAX_NOTE, refusal=refusal,
        call_languages=location.all_call_languages, shared_device=bool(session.get(SESSION_SHARED)),
        **_data_use_context(location),
    ), status


def _data_use_context(location) -> dict:
    """What callbacks/_data_use.html says: who sees the data, and when it is deleted."""
    return {
        "retention_days": current_app.config["CALLBACK_EXPIRE_AFTER"],
        "retention_done_days": current_app.config["CALLBACK_RETENTION_DONE"],
        "handover_retention_days": current_app.config["HANDOVER_RETENTION_DAYS"],
        "handover_max_retention_days": current_app.config["HANDOVER_MAX_RETENTION_DAYS"],
        "handled_by": _partner_name(location.callbacks_to) if location.callbacks_to != DIENSTVERLENER else None,
        "passed_on_when_absent": location.handover_when_absent,
    }


@bp.route("/l/<location_id>/terugbellen/privacy")
def privacy_page(location_id: str):
    """What the form's consent step said, to read again later (and for who asked by SMS, WhatsApp or phone)."""
    location = service.location_for(location_id)
    return render_template("callbacks/privacy.html", location=location, **_data_use_context(location),
                           sms_number=_sms_number(location))


def _sms_number(location) -> str | None:
    """The location's number for SMS (INTREKKEN), as it is written in a sentence; None without one."""
    return phones.display_in_text(location.inbound_number) if location.inbound_number else None


def _partner_name(partner_id: str) -> str:
    from routing.directory import service as directory

    return directory.get_partner(partner_id).name


@bp.route("/l/<location_id>/terugbellen", methods=["GET", "POST"])
def form(location_id: str):  # the per-address limit is counted in the intake itself (one round trip)
    location = service.location_for(location_id)
    if request.method == "GET":
        return _render_form(location, {"language": str(current_app.jinja_env.globals["current_locale"]()),
                                       "reply_by": "call"}, {})
    values = _posted_values()
    if "lang" in request.form:
        # The language button in the header sends the form: the same form, what was typed kept, in the other
        # language. Nothing is checked or stored. The call's language follows along while it is still the one
        # the page preselected (the page's own): whoever reads English most likely wants to be called in it.
        page_language = str(get_locale())
        i18n.use_locale(request.form["lang"])
        if values["language"] == page_language:
            values["language"] = str(get_locale())
        return _render_form(location, values, {})
    unknown = set(request.form) - POSTED_FIELDS - {current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")}
    if request.form.get(HONEYPOT) or unknown:
        # Filled by a bot (the honeypot is hidden from people), or not sent by this page: nothing is stored.
        return _render_form(location, values, {"_form": [_("Uw verzoek kon niet worden verstuurd.")]}, 400)
    offered = service.preferred_options(location, _now()) if values["preferred"] else []
    try:
        # An empty optional field is a field left alone: its default applies.
        data = {name: value for name, value in values.items() if value != "" or name == "phone"}
        intake = schemas.load_intake({**data, "location": location.id}, channel="web", offered=offered)
    except ApiError as refused:
        return _render_form(location, *_without_bsn(values, refused.errors), 422)
    try:
        receipt = service.create_request(get_redis(), intake, client_address=request.remote_addr)
    except ApiError as refused:
        if refused.status != 429:
            raise
        # Too many requests: the form again, as typed, with the reason (and how long to wait) at the top.
        return with_retry_after(make_response(_render_form(location, values, {}, 429, refusal=refused.message)),
                                refused.retry_after or 0)
    except REDIS_DOWN as outage:
        # The form again, as typed, so sending it a little later is one tap. (After a timeout the request may
        # have been stored after all: sending again then shows that one, as for any repeat.)
        log_redis_down(outage)
        return retry_later(make_response(_render_form(location, values, {}, 503, refusal=_not_stored(location))))
    _remember(location.id, receipt, phones.takes_messages(intake.phone))
    session[SESSION_NUMBER] = [receipt.reference, phones.display_in_text(intake.phone)]
    return redirect(url_for("callbacks.confirmation", location_id=location.id), 303)


def _posted_values() -> dict:
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    values["preferred"] = request.form.getlist("preferred")
    values["consent"] = request.form.get("consent") == "yes"
    return values


@bp.errorhandler(CSRFError)
def form_without_its_check(error: CSRFError):
    """The form came back without the session its page was made in: a tablet's page left open after "Klaar", an
    old tab, cookies switched off. Not a bare 400 that loses what was typed: the form again, as typed (nothing
    stored), with a fresh check, and other ways in for a browser that keeps refusing cookies."""
    location = service.known_location(request.view_args["location_id"]) if request.endpoint == "callbacks.form" \
        else None
    if location is None:
        return handle_http_exception(error)
    message = _("Uw verzoek is nog niet verstuurd: de pagina stond te lang open, of uw browser bewaart geen cookies. "
                "Kijk of alles klopt en verstuur het opnieuw.")
    if location.inbound_number:
        message = service.sentences(message, _("Lukt het dan nog niet? Stuur een sms met uw vraag naar %(number)s.",
                                               number=phones.display_in_text(location.inbound_number)))
    return _render_form(location, _posted_values(), {}, 400, refusal=service.sentences(
        message, service.walk_in_hint(location)))


def _without_bsn(values: dict, errors: dict) -> tuple[dict, dict]:
    """The form again without the BSN the citizen typed: on a shared tablet the next person must not find it on
    the screen. Its field's message says it was taken out, so the rest can be checked and sent again."""
    values, errors = dict(values), dict(errors)
    if bsn.is_bsn(values["phone"]):
        values["phone"] = ""
    for name in ("name", "note"):
        if bsn.find_bsn(values[name]):
            values[name] = bsn.without_bsn(values[name])
            errors[name] = [_("Deel hier geen BSN (burgerservicenummer). Wij hebben het nummer weggehaald. Kijk of "
                              "de rest klopt en verstuur het opnieuw.")]
    return values, errors


def _not_stored(location) -> str:
    text = _("Het lukt nu even niet om uw verzoek te versturen. Wat u invulde staat er nog. Probeer het over "
             "een paar minuten opnieuw.")
    return service.sentences(text, service.walk_in_hint(location))


def _remember(location_id: str, receipt: service.Receipt, texts: bool) -> None:
    """Keep the confirmation (and the withdrawal token, when this request is new) in the browser's session;
    `texts`: its number takes text messages."""
    now = int(_now().timestamp())
    if receipt.withdraw_token:
        tokens = [kept for kept in session.get(SESSION_TOKENS, []) if kept[0] != receipt.reference]
        session[SESSION_TOKENS] = [*tokens, [receipt.reference, receipt.withdraw_token, now]][-KEEP_TOKENS:]
    session[SESSION_CONFIRMED] = {**session.get(SESSION_CONFIRMED, {}),
                                  location_id: [receipt.reference, receipt.existing, now, texts]}


def _recent(saved_at: int) -> bool:
    return _now().timestamp() - saved_at <= REMEMBER_S


def _my_token(reference: str) -> str | None:
    """The withdrawal token this browser was given for `reference` a short while ago, if any."""
    return next((token for ref, token, saved_at in session.get(SESSION_TOKENS, [])
                 if ref == reference and _recent(saved_at)), None)


@bp.before_request
def _forget_stale() -> None:
    """Drop tokens and confirmations older than REMEMBER_S from the session cookie, on every page of this
    blueprint (the form, the confirmation) and whenever the form adds one. The cookie is signed, not
    encrypted: on a shared kiosk tablet the next citizen could otherwise read the previous one's withdrawal
    token from it. The cookie is rewritten only when something goes. The number just typed (SESSION_NUMBER)
    lives only until the confirmation shows it: any other page drops it."""
    if SESSION_NUMBER in session and request.endpoint != "callbacks.confirmation":
        session.pop(SESSION_NUMBER)
    tokens = session.get(SESSION_TOKENS)
    if tokens:
        kept = [entry for entry in tokens if _recent(entry[2])]
        if len(kept) < len(tokens):
            _keep(SESSION_TOKENS, kept)
    confirmed = session.get(SESSION_CONFIRMED)
    if confirmed:
        fresh = {location: entry for location, entry in confirmed.items() if _recent(entry[2])}
        if len(fresh) < len(confirmed):
            _keep(SESSION_CONFIRMED, fresh)


def _keep(key: str, value: list | dict) -> None:
    if value:
        session[key] = value
    else:
        session.pop(key, None)


@bp.post("/l/<location_id>/terugbellen/klaar")
def done_here(location_id: str):
    """"Klaar" on the confirmation: this browser forgets the request it made here (its confirmation and its
    withdrawal token), so on the loket's tablet the next visitor cannot open or withdraw it, and from now on its
    form keeps no typed values (SESSION_SHARED). Nothing changes in the request itself."""
    location = service.location_for(location_id)
    session[SESSION_SHARED] = True
    confirmed = session.get(SESSION_CONFIRMED, {})
    if location.id in confirmed:
        reference = confirmed[location.id][0]
        _keep(SESSION_CONFIRMED, {loc: entry for loc, entry in confirmed.items() if loc != location.id})
        _keep(SESSION_TOKENS, [entry for entry in session.get(SESSION_TOKENS, []) if entry[0] != reference])
    return redirect(url_for("callbacks.form", location_id=location.id), 303)


@bp.route("/l/<location_id>/terugbellen/bevestiging")
def confirmation(location_id: str):
    """What the form's POST redirects to: the request this browser made here, as it is now."""
    location = service.location_for(location_id)
    confirmed = session.get(SESSION_CONFIRMED, {}).get(location.id)
    if not confirmed or not _recent(confirmed[2]):  # nothing asked here from this browser lately: the form
        return redirect(url_for("callbacks.form", location_id=location.id), 303)
    reference, existing, _saved_at, *texts = confirmed  # a cookie from before `texts` has three
    just_sent = session.pop(SESSION_NUMBER, None)
    status = service.get_status(get_redis(), reference)
    partner = service.handling_partner(status)
    final = status.state in states.FINAL
    # A partner took it over at intake, or staff passed it on (then, until the partners finish, it can still be
    # withdrawn: for a finished request these are service.passed_on).
    with_partners = service.with_partners(get_redis(), status)
    passed_on = with_partners if final else []
    token = _my_token(reference) if passed_on or not final else None
    # By when the partners contact the citizen: for the browser that asked only (as partner_name below).
    partner_deadline = max((h.deadline for h in with_partners), default=None) if token else None
    expected = service.expected_callback_of(status, _now())
    by_message = status.reply_by in service.MESSAGE_REPLIES
    return render_template(
        "callbacks/confirmation.html", location=location, status=status, existing=existing, final=final,
        withdrawn=service.is_withdrawn(status), may_withdraw=bool(passed_on) or not final,
        # With a partner: taken over at intake (live until it finishes), or passed on by staff (done), also after
        # the loket handed it over again from a return.
        handed_over=status.state == "handed_over" or (status.state == "done" and (
            status.outcome == "handed_over" or bool(passed_on))),
        # Who calls now, for the browser that asked only (as partner_name below).
        passed_on_to=_partner_names(passed_on) if token else "",
        expected=expected_text(expected), by_message=by_message, by_whatsapp=status.channel == "whatsapp",
        state_label=lambda state: states.citizen_label(state, by_message),
        # INTREKKEN by SMS finds a request by its number: kept while it is live, or passed on by staff; not for a
        # landline, which cannot send it.
        sms_number=_sms_number(location) if (not final or status.outcome == "handed_over") and texts != [False]
        else None,
        withdraw_url=url_for("callbacks.withdraw_page", location_id=location.id, reference=reference, t=token)
        if token else None,
        # The partner says what the question is about: only for the browser that asked (it holds the token), not
        # for anyone who types the same number and is shown the existing request.
        partner_name=_partner_name(partner) if partner and token else None,
        partner_deadline=moments.day_text(partner_deadline)
        if partner_deadline else None,
        typed_number=just_sent[1] if just_sent and just_sent[0] == reference else None)


@bp.route("/l/<location_id>/terugbellen/<reference>/intrekken", methods=["GET", "POST"])
@limiter.limit(limits.per_ip, methods=["POST"])
def withdraw_page(location_id: str, reference: str):
    """GET only asks (link previews must not withdraw); POST withdraws and deletes the personal data."""
    location = service.location_for(location_id)
    token = request.values.get("t", "")
    try:
        status = service.withdraw_link(get_redis(), reference, token)  # 404 for anyone without the link
    except ApiError as unknown:
        # Still 404, saying nothing of the request (a link cut short, a typo), but not a dead end: INTREKKEN by SMS.
        if unknown.status != 404 or not _sms_number(location):
            raise
        raise ApiError(404, service.sentences(unknown.message, _(
            "U kunt het verzoek ook intrekken met een sms: stuur INTREKKEN naar %(number)s, vanaf het telefoonnummer "
            "dat u ons gaf.", number=_sms_number(location)))) from None
    if status.location != location.id:
        # The right link under another location's address (typed over, a kiosk of the wrong door): whoever holds
        # the token may withdraw, so show them the request where it is. A POST comes from that page only.
        if request.method == "POST":
            abort(404)
        return redirect(url_for("callbacks.withdraw_page", location_id=status.location, reference=status.reference,
                                t=token))
    # A partner took it over at intake, or staff passed it on: the page names who would call, and a passed-on
    # one may still be withdrawn from them.
    partners = _partner_names(service.with_partners(get_redis(), status))
    if request.method == "POST":
        if status.state not in states.FINAL or partners:  # a second tap finds it withdrawn: the same answer
            try:
                service.withdraw(get_redis(), status.reference, token)
            except ApiError as refused:  # ended meanwhile (the partners finished): the page says how
                if refused.status != 409:
                    raise
        # To the link's own page (POST/redirect/GET): a reload, Back or a language switch shows the outcome.
        return redirect(url_for("callbacks.withdraw_page", location_id=location.id, reference=status.reference,
                                t=token), 303)
    if service.is_withdrawn(status):
        return render_template("callbacks/withdraw.html", location=location, reference=status.reference, done=True)
    if status.state in states.FINAL and not partners:  # nothing left to withdraw: say so instead of asking
        return render_template("callbacks/withdraw.html", location=location, reference=status.reference,
                               final_state=states.label(status.state), expired=status.state == "expired",
                               by_message=status.reply_by in service.MESSAGE_REPLIES, outcome=status.outcome,
                               attempts=status.attempts)
    return render_template("callbacks/withdraw.html", location=location, reference=status.reference, token=token,
                           partners=partners)


def _partner_names(handovers: list[Handover]) -> str:
    """'UWV en SVB': who would call, for the handovers still open ("" for none)."""
    names = [_partner_name(handover.partner) for handover in handovers]
    return format_list(names, locale=str(get_locale())) if names else ""


CITIZEN_PAGES = frozenset({"callbacks.form", "callbacks.confirmation", "callbacks.withdraw_page",
                           "callbacks.privacy_page", "callbacks.location_home", "callbacks.done_here"})


@bp.route("/l/<location_id>")
@bp.route("/l/<location_id>/")
def location_home(location_id: str):
    """The location's short address (on a poster, said aloud): its form."""
    return redirect(url_for("callbacks.form", location_id=service.location_for(location_id).id))


@bp.before_request
def typed_location():
    """A citizen's page asked with the location in capitals or with spaces ("/l/Utrecht/terugbellen", as
    written on a poster) goes to the right address instead of "not found"; a typo is offered on the 404."""
    if request.endpoint not in CITIZEN_PAGES or request.method != "GET":
        return None
    typed = (request.view_args or {}).get("location_id", "")
    exact, _suggestion = _meant_location(typed)
    if exact is None or exact.id == typed:
        return None
    return redirect(url_for(request.endpoint, **{**request.view_args, "location_id": exact.id},
                            **request.args.to_dict()), 308)


@bp.app_context_processor
def citizen_home() -> dict:
    """On a citizen's page, "home" (the header's name, an error page's way back) is that location's form, not
    the staff start page behind a login; on one for an unknown location there is none. And the other way to
    get help there (service.walk_in_hint), for an error page."""
    if request.endpoint not in CITIZEN_PAGES:
        return {}
    location_id = (request.view_args or {}).get("location_id", "")
    try:
        location = service.location_for(location_id)
        return {"citizen_home": url_for("callbacks.form", location_id=location.id),
                "citizen_walk_in": service.walk_in_hint(location)}
    except ApiError:
        exact, suggestion = _meant_location(location_id)
        # The location whose address is closest to what was typed, for "Bedoelt u …?" on the 404.
        return {"citizen_home": "", "citizen_meant": exact or suggestion}


def _meant_location(typed: str) -> tuple:
    """directory.meant_location; (None, None) while no directory is loaded (the page itself answers 503)."""
    from routing.directory import service as directory

    try:
        return directory.meant_location(typed)
    except ApiError:
        return None, None


# --- staff ------------------------------------------------------------------------------------------------

STAFF_ROLES = ("staff", "partner", "coordinator")


def _my_locations() -> list[str]:
    from routing.directory import service as directory

    principal = current_principal()
    return [loc for loc in sorted(directory.get_directory().locations) if service.may_follow(principal, loc)]


def _my_locations_or_refuse() -> list[str]:
    mine = _my_locations()
    if not mine:  # e.g. a partner without a counter: nothing to work on here, and nothing to pretend
        raise ApiError(403, _("Uw account hoort bij geen locatie met terugbelverzoeken. Vraag uw beheerder "
                              "om u aan een locatie te koppelen als u terugbelverzoeken moet afhandelen."))
    return mine


@bp.route(service.WORKLIST_PATH)
@login_required(*STAFF_ROLES)
def worklist():
    mine = _my_locations_or_refuse()
    wanted = request.args.get("location")
    chosen = [wanted] if wanted in mine else mine
    now = _now()
    items = service.worklist(get_redis(), chosen, now=now)
    held = service.held_for_next_shift(get_redis(), chosen)
    # A forgotten claim (service.claim_expired) counts as open: whoever opens it next takes it.
    taken = [item.state == "in_progress" and not service.claim_expired(item, now) for item in items]
    totals = {"open": len(items) - sum(taken), "in_progress": sum(taken), "held": len(held)}
    return render_template("callbacks/worklist.html", items=items, held=held, locations=mine,
                           chosen=wanted if wanted in mine else None, totals=totals,
                           now=now, state_label=states.label, slot_label=_slot_text, due=service.due_now,
                           missed=service.missed, names=_location_names(), topic_label=_topic_label,
                           release_text=_release_text, **_staff_context())


@bp.route(service.WORKLIST_PATH + "/zoek")
@login_required(*STAFF_ROLES)
def find():
    """A citizen calls with their kenmerk: straight to that request, typed as people type it ("tb 7kq4")."""
    reference = service.normalise_reference(request.args.get("kenmerk", ""))
    try:
        service.get_visible(get_redis(), reference, current_principal())
    except ApiError:  # unknown, or at a location this employee does not serve: the same answer
        flash(_("Er is geen terugbelverzoek %(ref)s bij uw locaties. Kijk het kenmerk na.", ref=reference), "error")
        return redirect(url_for("callbacks.worklist"))
    return redirect(url_for("callbacks.detail", reference=reference))


@bp.route(service.WORKLIST_PATH + "/cijfers")
@login_required(*STAFF_ROLES)
def figures_page():
    """Anonymous figures of the locations this employee follows: today, or the last 7 or 30 days."""
    scope = _figures_scope()
    per_location = figures.figures(get_redis(), scope.locations, scope.period, with_others=scope.with_others)
    return render_template(
        "callbacks/figures.html", per_location=per_location, total=figures.total(per_location), days=scope.days,
        periods=figures.PERIODS, since=moments.day_text(scope.period[-1]), locations=scope.mine,
        chosen=scope.chosen, names=_location_names(), topic_label=_topic_label,
        channels=_channel_labels(), endings=_ending_headings())


# In the menu only for who serves a location (a partner without a counter would get a 403; one that holds a
# counter, as the Belastingdienst in Nijmegen, does not).
worklist.menu_shown_to = figures_page.menu_shown_to = lambda: bool(_my_locations())  # type: ignore[attr-defined]


def _worklist_at_a_glance() -> tuple[str, str] | None:
    """For the start page: how many requests of this employee's locations are open to be called now."""
    mine = _my_locations()
    if not mine:
        return None
    count = len(service.worklist(get_redis(), mine, now=_now()))
    if not count:
        return _("Geen open verzoeken"), "muted"
    return ngettext("%(num)s open verzoek", "%(num)s open verzoeken", count), "warn"


worklist.at_a_glance = _worklist_at_a_glance  # type: ignore[attr-defined]


@bp.route(service.WORKLIST_PATH + "/cijfers.csv")
@login_required(*STAFF_ROLES)
def figures_csv():
    """The same counts per day, channel, topic and outcome, for a spreadsheet (anonymous, as the page)."""
    scope = _figures_scope()
    out = StringIO()
    table = csv.writer(out)
    table.writerow(["datum", "locatie", "kanaal", "onderwerp", "uitkomst", "aantal"])
    for one in figures.counts(get_redis(), scope.locations, scope.period, with_others=scope.with_others):
        table.writerow([one.day.isoformat(), one.location, one.channel, one.topic, one.outcome, one.count])
    name = f"terugbelverzoeken-{scope.period[-1].isoformat()}-{scope.period[0].isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


class FiguresScope(NamedTuple):
    """What the figures are of, from the query (`dagen`, `location`)."""

    days: int  # today included
    period: list[date]  # those days, today first
    mine: list[str]  # the locations this employee follows
    chosen: str | None  # one of them, asked for; None: all of them

    @property
    def locations(self) -> list[str]:
        return [self.chosen] if self.chosen else self.mine

    @property
    def with_others(self) -> bool:
        """Also locations gone from the directory: for who sees everything, when all are asked for."""
        return self.chosen is None and current_principal().sees_everything


def _figures_scope() -> FiguresScope:
    mine = _my_locations_or_refuse()
    wanted = request.args.get("location")
    days = request.args.get("dagen", type=int)
    days = days if days in figures.PERIODS else 7
    return FiguresScope(days, figures.days_back(_now().astimezone(service.schedule.TZ).date(), days), mine,
                        wanted if wanted in mine else None)


def _channel_labels() -> list[tuple[str, str]]:
    return [("web", _("Webformulier")), ("api", _("Kiosk of portaal")), ("sms", _("Sms")),
            ("whatsapp", _("WhatsApp")), ("voice", _("Telefoon"))]


def _ending_headings() -> list[tuple[str, str]]:
    """How requests can end (their outcome; "withdrawn" and "expired" are also states), in a word or two:
    column headings, where _ended_labels is too long."""
    return [("helped", _("Geholpen")), ("referred", _("Doorverwezen")), ("handed_over", _("Overgedragen")),
            ("other", _("Anders")), ("wrong_number", _("Verkeerd nummer")), ("not_reached", _("Niet bereikt")),
            ("withdrawn", _("Ingetrokken")), ("expired", _("Verlopen"))]


def _staff_context() -> dict:
    """What the worklist and the detail page need to say who works on a request, and since when."""
    now = _now()
    return {"colleagues": auth_service.account_emails(get_redis()), "me": current_principal().id,
            "claim_expired": lambda item: service.claim_expired(item, now)}


def _chosen_location() -> str | None:
    """The worklist's ?location= filter, carried through the detail page and its forms."""
    wanted = request.values.get("location")
    return wanted if wanted and wanted in _my_locations() else None


def _back_to_list() -> str:
    return url_for("callbacks.worklist", location=_chosen_location())


def _location_names() -> dict[str, str]:
    from routing.directory import service as directory

    return {loc.id: loc.name for loc in directory.get_directory().locations.values()}


def _topic_label(topic_id: str | None) -> str:
    from routing.directory import service as directory

    topic = directory.get_directory().topics.get(topic_id or "")
    if topic is None:
        return topic_id or ""
    english = str(current_app.jinja_env.globals["current_locale"]()) == "en"
    return (topic.name_en if english else topic.citizen_label) or topic.name_nl


def _slot_text(location_id: str, slot: str) -> str:
    """A request's chosen day part, for staff: worked out once per language, location and day part, since a
    worklist names the same few for many requests."""
    from routing.directory.service import derived

    return derived(("slot_label", str(get_locale()), location_id, slot),
                   lambda: slot_label(service.known_location(location_id), slot))


@bp.route(service.WORKLIST_PATH + "/<reference>")
@login_required(*STAFF_ROLES)
def detail(reference: str):
    """Who handles the request opens it (number, name, note; audit-logged); coordinators see its status only."""
    principal = current_principal()
    item = service.get_visible(get_redis(), reference, principal)
    handles = service.may_handle(principal, item.location)
    if handles and item.state == "waiting":
        # Held for the next shift (found by its kenmerk when the citizen calls): its facts and when it can be
        # opened, without the number, which is read only once it is released.
        return _render_detail(item, handles=False, held_until=_release_text(item.release))
    if handles:
        item = service.open_for_staff(get_redis(), reference, principal)
    return _render_detail(item, handles)


# Two runs of the release job (workers.callback_jobs.RELEASE_SECONDS, every minute).
RELEASE_LATE_AFTER = timedelta(minutes=2)


def _release_text(release: datetime | None) -> str:
    """When a held request is released, for staff. Well past its moment it still waits: the release job does
    not run, which the operator must hear of. Just past it, the job's next run (every minute) is on its way:
    staff opening the list as their shift starts are not told that something is broken."""
    if release is not None and release <= _now() - RELEASE_LATE_AFTER:
        return _("nu, maar dat gebeurt niet: vraag de beheerder of de achtergrondtaken draaien")
    if release is not None and release <= _now():
        return _("zo meteen")
    return expected_text(release)


def _render_detail(item: service.CallbackRequest, handles: bool, errors: dict | None = None,
                   values: dict | None = None, status: int = 200, held_until: str | None = None):
    """The detail page; after a refused attempt form with its problems named and the choices kept."""
    return render_template(
        "callbacks/detail.html", item=item, handles=handles, held_until=held_until, state_label=states.label,
        topic_label=_topic_label,
        slot_label=_slot_text, display_phone=phones.display, outcomes=_outcome_labels(), results=_result_labels(),
        final=item.state in states.DONE_FOR_LOKET, errors=errors or {}, values=values or {},
        colleague=handles and service.held_by_colleague(item, current_principal()),
        version=service.version(item), chosen=_chosen_location(), ended_as=_ended_labels(),
        returned_by=_partner_name_or_id(item.returned_by) if item.returned_by else None,
        return_reasons=_return_reasons(), last_try=service.is_last_attempt(item),
        counts_from=service.miss_counts_from(item, _now()),
        deleted_on=_deleted_on(item) if handles else None, handovers=_handovers_made(item), **_staff_context()), status


def _handovers_made(item: service.CallbackRequest) -> dict:
    """Every handover made for the request (one per partner when it went to several at once), each with its
    partner and status, instead of only the first one's reference."""
    from routing.handovers import service as handovers
    from routing.handovers.model import LABELS

    made = service.handovers_made(get_redis(), item)
    return {"made": made, "labels": LABELS, "today": handovers.today(_now()),
            "partners": {h.partner: _partner_name_or_id(h.partner) for h in made}}


def _deleted_on(item: service.CallbackRequest) -> str | None:
    """The day a finished request's number is deleted, for staff; None when it is gone already."""
    moment = service.personal_deleted_on(get_redis(), item)
    return moments.day_text(moment) if moment else None


def _partner_name_or_id(partner_id: str) -> str:
    try:
        return _partner_name(partner_id)
    except ApiError:  # gone from the directory since
        return partner_id


def _return_reasons() -> dict[str, str]:
    """Why a partner sent a request back, when its note is not shown (see handovers' return_reason)."""
    return {"partner": _("De organisatie zegt dat de vraag niet bij hen hoort."),
            "max_attempts": _("De organisatie kon de inwoner na het hoogste aantal pogingen niet bereiken.")}


def _outcome_labels() -> list[tuple[str, str]]:
    """What the form offers (service.OUTCOMES): handing over is its own action, the handover form."""
    return [("helped", _("Geholpen")), ("referred", _("Doorverwezen")), ("other", _("Anders"))]


def _ended_labels() -> dict[str, str]:
    """How a request ended, in words (its `outcome`)."""
    return {**dict(_outcome_labels()), "handed_over": _("Warm overgedragen aan een partner"),
            "wrong_number": _("Verkeerd nummer"),
            "not_reached": _("Na het hoogste aantal pogingen niet bereikt"),
            "withdrawn": _("Ingetrokken door de inwoner"), "expired": _("Verlopen: niemand nam het op tijd op")}


def _result_labels() -> list[tuple[str, str]]:
    return [("reached", _("Bereikt")), ("not_reached", _("Niet bereikt")),
            ("wrong_number", _("Verkeerd nummer"))]


@bp.route(service.WORKLIST_PATH + "/<reference>/poging", methods=["POST"])
@login_required(*STAFF_ROLES)
def attempt(reference: str):
    principal = current_principal()
    values = {"result": request.form.get("result", ""), "outcome": request.form.get("outcome", "")}
    try:
        item = service.record_attempt(get_redis(), reference, principal, values["result"],
                                      values["outcome"] or None, seen=request.form.get("updated"))
    except ApiError as refused:
        if refused.status == 422:  # the page again, the choices kept, each problem next to its field
            item = service.open_for_staff(get_redis(), reference, principal, claim=False)
            if values["outcome"] and values["result"] in ("not_reached", "wrong_number"):
                # An outcome with "Niet bereikt" (service.record_attempt): the outcome is not kept, as a chosen
                # radio cannot be unchosen without JavaScript.
                values = {**values, "outcome": ""}
            return _render_detail(item, True, refused.errors, values, 422)
        return _refused(reference, refused)
    flash(_attempt_message(item), "success")
    return redirect(_back_to_list())


def _attempt_message(item: service.CallbackRequest) -> str:
    if item.state == "open" and item.tries and not item.tries[-1].counted:
        return _("Niet bereikt: %(ref)s blijft open. Deze poging telt niet mee, want de vorige was minder dan een "
                 "uur geleden. Probeer het opnieuw %(when)s.", ref=item.reference,
                 when=moments.moment_text(item.next_attempt))
    if item.state == "open":
        return _("Niet bereikt: %(ref)s blijft open. Probeer het opnieuw %(when)s.", ref=item.reference,
                 when=moments.moment_text(item.next_attempt))
    if item.outcome == "not_reached":
        # Dutch says "1 keer" and "3 keer" alike; English needs "once" and "3 times".
        return ngettext("%(ref)s is afgesloten: de inwoner is %(num)s keer niet bereikt. Er zijn geen pogingen meer.",
                        "%(ref)s is afgesloten: de inwoner is %(num)s keer niet bereikt. Er zijn geen pogingen meer.",
                        item.attempts, ref=item.reference)
    if item.outcome == "wrong_number":
        return _("%(ref)s is afgesloten: verkeerd nummer.", ref=item.reference)
    return _("Opgeslagen: %(ref)s is afgehandeld.", ref=item.reference)


def _refused(reference: str, refused: ApiError):
    """A form that came too late (409: a colleague changed or has the request, it is waiting or finished):
    say so plainly, with a link back to the request as it is now. Other refusals: the usual error page."""
    if refused.status != 409:
        raise refused
    return render_template("callbacks/refused.html", reference=service.normalise_reference(reference),
                           message=refused.message, chosen=_chosen_location()), 409


@bp.route(service.WORKLIST_PATH + "/<reference>/overnemen", methods=["POST"])
@login_required(*STAFF_ROLES)
def take_over(reference: str):
    """'Ik neem het over': asked for explicitly, never by opening the page."""
    return _claim_action(reference, service.take_over)


@bp.route(service.WORKLIST_PATH + "/<reference>/terugzetten", methods=["POST"])
@login_required(*STAFF_ROLES)
def give_back(reference: str):
    """'Terugzetten': back to open, for whoever picks it up next."""
    return _claim_action(reference, service.give_back)


def _claim_action(reference: str, action):
    """Take over (then on to the request) or give back (then back to the list), if the page is current."""
    try:
        item = action(get_redis(), reference, current_principal(), seen=request.form.get("updated"))
    except ApiError as refused:
        return _refused(reference, refused)
    if action is service.take_over:
        flash(_("U werkt nu aan %(ref)s.", ref=item.reference), "success")
        return redirect(url_for("callbacks.detail", reference=item.reference, location=_chosen_location()))
    flash(_("%(ref)s staat weer open voor iedereen.", ref=item.reference), "success")
    return redirect(_back_to_list())


@bp.route("/loket/terugbellen-qr/<location_id>.svg")
@login_required(*STAFF_ROLES)
def door_qr(location_id: str):
    """A QR code for the door that opens this location's callback form."""
    if location_id not in _my_locations():
        abort(404)
    import qrcode
    from qrcode.image.svg import SvgPathImage

    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    image = qrcode.make(base + url_for("callbacks.form", location_id=location_id), image_factory=SvgPathImage,
                        box_size=20)
    buffer = BytesIO()
    image.save(buffer)
    return Response(buffer.getvalue(), mimetype="image/svg+xml")

