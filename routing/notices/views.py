"""Pages and hooks of the notices feature: delivery receipts from Twilio, the failed-notices page for staff
and the coordinator, and the development outbox."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from routing.auth import current_principal, login_required
from routing.directory import service as directory
from routing.extensions import csrf, get_redis
from routing.hooks.twilio_signature import twilio_signed
from routing.notices import service
from routing.privacy import crypto
from routing.store import notices as store
from workers.channels.twilio_sms import STATUS_CALLBACK_PATH, is_transient

bp = Blueprint("notices", __name__)
hooks_bp = Blueprint("notice_hooks", __name__)
# Twilio cannot send a CSRF token; its signature takes its place.
csrf.exempt(hooks_bp)
dev_bp = Blueprint("dev_outbox", __name__, url_prefix="/dev")

KIND_LABELS = {
    "callbacks_waiting": _l("Terugbelverzoeken wachten"),
    "handover_new": _l("Nieuwe overdracht"),
    "handover_new_link": _l("Nieuwe link voor een overdracht"),
    "handover_reminder": _l("Herinnering overdracht"),
    "handover_overdue_overview": _l("Overzicht te late overdrachten"),
    "handover_returned": _l("Overdracht terug"),
    "notice_failed": _l("Bericht niet bezorgd"),
}
FAILURE_LABELS = {
    "temporary": _l("Tijdelijk niet bereikbaar"),
    "permanent": _l("Adres werkt niet"),
    "technical": _l("Technische fout"),
}


@hooks_bp.route(STATUS_CALLBACK_PATH, methods=["POST"])
@twilio_signed
def twilio_status() -> Response:
    """Twilio's delivery receipt (StatusCallback); late, duplicate or unknown ones change nothing."""
    sid = request.form.get("MessageSid", "")
    status = request.form.get("MessageStatus", "")
    code = request.form.get("ErrorCode", "")
    error_code = int(code) if code.isdigit() else None
    if sid:
        service.record_receipt(get_redis(), sid, status, is_transient(None, error_code),
                               f"twilio:{error_code}" if error_code else f"twilio:{status}", service.utcnow())
    return Response(status=204)


def _visible_location_names() -> set[str] | None:
    """Location names whose failed notices this principal may see; None: all of them."""
    principal = current_principal()
    if principal is None or principal.role != "staff":
        return None
    return {directory.get_location(lid).name for lid in principal.locations
            if lid in directory.get_directory().locations}


@bp.route("/notices/failed")
@login_required("staff", "coordinator")
def failed() -> str:
    notices = service.failed_notices(get_redis())
    names = _visible_location_names()
    if names is not None:
        notices = [n for n in notices if n.location is None or n.location in names]
    return render_template("notices/failed.html", notices=notices, kind_labels=KIND_LABELS,
                           failure_labels=FAILURE_LABELS, handovers=_handovers_named(notices))


def _handovers_named(notices: list) -> dict[str, tuple[str, str]]:
    """reference → (its page, the organisation) for each notice about a handover this employee may see: "contact
    the recipient yourself" needs to say who that is (a failed handover_new: that organisation has no link)."""
    from routing.handovers import service as handovers

    r, principal, found = get_redis(), current_principal(), {}
    partners = directory.get_directory().partners
    for reference in {n.reference for n in notices if n.reference}:
        handover = handovers.find(r, reference)
        if handover is not None and handovers.may_see(principal, handover):
            partner = partners.get(handover.partner)
            found[reference] = (url_for("handovers.detail", reference=reference),
                                partner.name if partner else handover.partner)
    return found


def _recipient(token: str) -> str:
    """The outbox's recipient; one written under a key since taken out of ENCRYPTION_KEYS (`keys rotate` leaves the
    outbox, a development list that expires by itself) says so instead of failing the whole page."""
    try:
        return crypto.decrypt(token)
    except crypto.InvalidToken:
        return str(_l("(niet te lezen met de huidige sleutels)"))


def _outbox_entries() -> list[dict]:
    r = get_redis()
    entries = []
    for entry in store.outbox_list(r):
        notice = store.get(r, entry["notice_id"])
        entries.append({
            "id": entry["id"],
            "notice_id": entry["notice_id"],
            "recipient": _recipient(entry["recipient"]),
            "channel": entry["channel"],
            "subject": entry["subject"],
            "body": entry["body"],
            "state": notice["state"] if notice else "expired",
            "at": entry["at"],
        })
    return entries


@dev_bp.route("/outbox.json")
def outbox_json() -> Response:
    return jsonify(_outbox_entries())


@dev_bp.route("/outbox")
def outbox() -> str:
    return render_template("notices/outbox.html", entries=_outbox_entries())
