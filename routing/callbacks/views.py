"""Pages: the citizen's callback form, confirmation and withdrawal; the staff worklist; the door QR code."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from io import BytesIO

from babel.dates import format_date
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from routing.auth import current_principal, login_required
from routing.callbacks import limits, schemas, service, states
from routing.errors import ApiError
from routing.extensions import get_redis, limiter
from routing.http import private
from routing.privacy import phone as phones

bp = Blueprint("callbacks", __name__)
# Every page here shows personal data (a typed number kept on a refused form, a worklist) or carries a
# withdrawal token in its address.
bp.after_request(private)

HONEYPOT = "website"
FORM_FIELDS = ("phone", "name", "note", "topic", "language", "reply_by")


def _now() -> datetime:
    return service.clock()


@lru_cache(maxsize=256)
def _day_words(day: date, locale: str) -> str:
    """'maandag 30 november'. Babel takes a while to spell a date, and pages name only a few days."""
    return format_date(day, "EEEE d MMMM", locale=locale)


def _slot_label(day, part: str) -> str:
    parts = {"morning": _("ochtend (9:00 tot 12:00)"), "afternoon": _("middag (12:00 tot 17:00)")}
    return f"{_day_words(day, str(get_locale()))}, {parts[part]}"


def _topic_choices(location_id: str) -> list[tuple[str, str]]:
    from routing.directory import service as directory

    english = str(current_app.jinja_env.globals["current_locale"]()) == "en"
    return [(t.id, (t.name_en if english else t.citizen_label) or t.name_nl)
            for t in directory.citizen_topics(location_id)]


def expected_text(expected: datetime | None) -> str:
    if expected is None:
        return _("zo snel mogelijk")
    local = expected.astimezone(service.schedule.TZ)  # the time on the citizen's clock
    return _("%(day)s, vanaf %(time)s", day=_day_words(local.date(), str(get_locale())),
             time=f"{local.hour}:{local.minute:02d}")


def _render_form(location, values: dict, errors: dict, status: int = 200):
    now = _now()
    options = service.preferred_options(location, now)
    slots = [(f"{day.isoformat()}:{part}", _slot_label(day, part)) for day, part in options]
    return render_template(
        "callbacks/form.html", location=location, values=values, errors=errors, slots=slots,
        topics=_topic_choices(location.id), honeypot=HONEYPOT, present=service.schedule.is_present(location, now),
        retention_days=current_app.config["CALLBACK_EXPIRE_AFTER"],
        retention_done_days=current_app.config["CALLBACK_RETENTION_DONE"],
        max_note=schemas.MAX_NOTE, max_name=schemas.MAX_NAME,
    ), status


@bp.route("/l/<location_id>/terugbellen", methods=["GET", "POST"])
def form(location_id: str):  # the per-address limit is counted in the intake itself (one round trip)
    location = service.location_for(location_id)
    if request.method == "GET":
        return _render_form(location, {"language": str(current_app.jinja_env.globals["current_locale"]()),
                                       "reply_by": "call"}, {})
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    values["preferred"] = request.form.getlist("preferred")
    values["consent"] = request.form.get("consent") == "yes"
    if request.form.get(HONEYPOT):
        # Filled by a bot (the field is hidden from people): nothing is stored.
        return _render_form(location, values, {"_form": [_("Uw verzoek kon niet worden verstuurd.")]}, 400)
    offered = [f"{day.isoformat()}:{part}" for day, part in service.preferred_options(location, _now())] \
        if values["preferred"] else []
    try:
        # An empty optional field is a field left alone: its default applies.
        data = {name: value for name, value in values.items() if value != "" or name == "phone"}
        intake = schemas.load_intake({**data, "location": location.id}, channel="web", offered=offered)
    except ApiError as refused:
        return _render_form(location, values, refused.errors, 422)
    receipt = service.create_request(get_redis(), intake, client_address=request.remote_addr)
    return render_template("callbacks/confirmation.html", location=location, receipt=receipt,
                           expected=expected_text(receipt.expected_callback), state_label=states.label,
                           withdraw_url=url_for("callbacks.withdraw_page", location_id=location.id,
                                                reference=receipt.reference, t=receipt.withdraw_token)
                           if receipt.withdraw_token else None)


@bp.route("/l/<location_id>/terugbellen/<reference>/intrekken", methods=["GET", "POST"])
@limiter.limit(limits.per_ip, methods=["POST"])
def withdraw_page(location_id: str, reference: str):
    """GET only asks (link previews must not withdraw); POST withdraws and deletes the personal data."""
    location = service.location_for(location_id)
    token = request.values.get("t", "")
    if request.method == "POST":
        try:
            service.withdraw(get_redis(), reference, token)
        except ApiError as refused:
            return render_template("callbacks/withdraw.html", location=location, reference=reference,
                                   token=token, error=refused.message), refused.status
        return render_template("callbacks/withdraw.html", location=location, reference=reference, done=True)
    return render_template("callbacks/withdraw.html", location=location, reference=reference, token=token)


# --- staff ------------------------------------------------------------------------------------------------

STAFF_ROLES = ("staff", "partner", "coordinator")


def _my_locations() -> list[str]:
    from routing.directory import service as directory

    principal = current_principal()
    return [loc for loc in sorted(directory.get_directory().locations) if service.may_follow(principal, loc)]


@bp.route(service.WORKLIST_PATH)
@login_required(*STAFF_ROLES)
def worklist():
    mine = _my_locations()
    wanted = request.args.get("location")
    chosen = [wanted] if wanted in mine else mine
    now = _now()
    items = service.worklist(get_redis(), chosen, now=now)
    held = service.held_for_next_shift(get_redis(), chosen)
    return render_template("callbacks/worklist.html", items=items, held=held, locations=mine, chosen=wanted,
                           now=now, state_label=states.label, slot_label=_slot_text, due=service.due_now,
                           names=_location_names(), topic_label=_topic_label, release_text=expected_text)


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


def _slot_text(slot: str) -> str:
    day, part = slot.split(":")
    return _slot_label(datetime.fromisoformat(day).date(), part)


@bp.route(service.WORKLIST_PATH + "/<reference>")
@login_required(*STAFF_ROLES)
def detail(reference: str):
    """Who handles the request opens it (number, name, note; audit-logged); coordinators see its status only."""
    principal = current_principal()
    item = service.get_visible(get_redis(), reference, principal)
    handles = service.may_handle(principal, item.location)
    if handles:
        item = service.open_for_staff(get_redis(), reference, principal)
    return render_template(
        "callbacks/detail.html", item=item, handles=handles, state_label=states.label, topic_label=_topic_label,
        slot_label=_slot_text, display_phone=phones.display, outcomes=_outcome_labels(), results=_result_labels(),
        final=item.state in states.FINAL, errors={})


def _outcome_labels() -> list[tuple[str, str]]:
    return [("helped", _("Geholpen")), ("referred", _("Doorverwezen")),
            ("handed_over", _("Warm overgedragen aan een partner")), ("other", _("Anders"))]


def _result_labels() -> list[tuple[str, str]]:
    return [("reached", _("Bereikt")), ("not_reached", _("Niet bereikt")),
            ("wrong_number", _("Verkeerd nummer"))]


@bp.route(service.WORKLIST_PATH + "/<reference>/poging", methods=["POST"])
@login_required(*STAFF_ROLES)
def attempt(reference: str):
    item = service.record_attempt(get_redis(), reference, current_principal(), request.form.get("result", ""),
                                  request.form.get("outcome") or None)
    if item.state == "open":
        message = _("Niet bereikt: het verzoek blijft open. Probeer het opnieuw %(when)s.",
                    when=expected_text(item.next_attempt))
    else:
        message = _("Opgeslagen: het verzoek is afgehandeld.")
    flash(message, "success")
    return redirect(url_for("callbacks.worklist"))


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

