"""Handover pages: making one (loket), aftercare, the partner page and the partner link `/o/<token>`.

A partner link starts a session scoped to that one handover (until the link would have expired); any
other visit needs a login. Pages that show personal data are never cached and send no Referer.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from marshmallow import EXCLUDE, ValidationError

from routing import moments
from routing.auth import current_principal, login_required
from routing.directory import service as directory
from routing.directory.views import SESSION_LOCATION
from routing.errors import ApiError, flatten_field_errors
from routing.extensions import get_redis, limiter
from routing.handovers import notify, service, tokens
from routing.handovers.model import LABELS, REACHED, SENT, URGENCIES, Handover
from routing.handovers.schemas import AttemptSchema, CreateSchema, OutcomeSchema
from routing.http import private
from routing.privacy import phone

bp = Blueprint("handovers", __name__)

# The outcome form on the partner's page: where the partner goes next after reaching the citizen.
OUTCOME_ANCHOR = "afronden"
# The handover form's "Andere locatie kiezen" button (a submit button of the form, so it works without JavaScript).
SWITCH_LOCATION = "switch_location"
SCOPE = "handover_scope"  # session: {reference: epoch seconds until which the link's session holds}


def _now() -> datetime:
    return datetime.now(UTC)


def _scoped(reference: str) -> bool:
    expires = (session.get(SCOPE) or {}).get(reference)
    return bool(expires) and time.time() < expires


def _add_scope(reference: str, expires_at: int) -> None:
    now = time.time()
    scope = {ref: exp for ref, exp in (session.get(SCOPE) or {}).items() if exp > now}
    scope[reference] = expires_at
    session[SCOPE] = scope


def _not_found() -> ApiError:
    return ApiError(404, _("Er is geen overdracht met dit kenmerk, of u mag hem niet zien."))


def _context(handover: Handover) -> dict[str, Any]:
    return {
        "labels": LABELS,
        "today": service.today(_now()),
        "location": directory.get_location(handover.location),
        "partner": directory.get_partner(handover.partner),
        "topic": _topic_name(handover.topic),
        "partner_names": {p.id: p.name for p in directory.get_directory().partners.values()},
        "display_phone": phone.display,
    }


def _topic_name(topic_id: str) -> str:
    """The topic in the page's language."""
    topic = directory.get_directory().topics.get(topic_id) if topic_id else None
    if topic is None:
        return topic_id
    return topic.name_en if str(get_locale()) == "en" else topic.name_nl


# ---- loket: aftercare and making a handover --------------------------------------------------------------

@bp.get("/overdrachten")
@login_required("staff", "partner", "coordinator")
def aftercare():
    principal = current_principal()
    kenmerk = request.args.get("kenmerk", "").strip()[:20]
    handovers = service.aftercare(get_redis(), principal, _now(), kenmerk=kenmerk)
    found = directory.get_directory()
    return render_template("handovers/list.html", handovers=handovers, labels=LABELS, kenmerk=kenmerk,
                           awaiting=sum(1 for h in handovers if h.awaits_loket),
                           today=service.today(_now()), partners=found.partners, locations=found.locations,
                           may_create=principal.role == "staff", for_partner=principal.role == "partner")


def _aftercare_at_a_glance() -> tuple[str, str] | None:
    """For the start page: a partner's open handovers, or those that came back to the loket."""
    principal = current_principal()
    handovers = service.aftercare(get_redis(), principal, _now())
    if principal.role == "partner":
        count = sum(1 for h in handovers if h.is_open)
        return (ngettext("%(num)s open overdracht", "%(num)s open overdrachten", count), "warn") if count else (
            _("Geen open overdrachten"), "muted")
    count = sum(1 for h in handovers if h.awaits_loket)
    return (ngettext("%(num)s terug bij het loket", "%(num)s terug bij het loket", count), "warn") if count else None


aftercare.at_a_glance = _aftercare_at_a_glance  # type: ignore[attr-defined]


def _form_location(principal) -> str | None:
    asked = request.values.get("location")
    if asked:
        return asked
    # A callback request is handed over from its own location, whichever location the employee chose today.
    from_callback = request.args.get("callback") and service.callback_location(get_redis(), request.args["callback"])
    if from_callback in principal.locations:
        return from_callback
    # Where the employee said they work today (the directory's choice), not just the first of their locations: the
    # handover names its location to the partner.
    remembered = session.get(SESSION_LOCATION)
    if remembered in principal.locations:
        return remembered
    return next(iter(sorted(principal.locations)), None) if principal.locations else None


def _form_data() -> dict[str, Any]:
    form = request.form
    data: dict[str, Any] = {key: form.get(key) for key in form if key not in ("partner", "csrf_token")}
    data["partner"] = form.getlist("partner")
    data["consent"] = form.get("consent") == "yes"
    if not data.get("deadline"):
        data.pop("deadline", None)
    return data


def _render_new(location_id: str, values: dict[str, Any], errors: dict[str, list[str]], status: int = 200,
                notice: str | None = None):
    location = directory.get_location(location_id)
    suggested = service.topic_partners(location_id, values.get("topic") or "")
    # The topic's own organisations first, then the rest alphabetically (sorted() keeps that order).
    partners = sorted(service.handover_partners(location_id), key=lambda p: p.id not in suggested)
    principal = current_principal()
    # Staff working at several locations choose the one they hand over from.
    my_locations = [directory.get_location(loc) for loc in sorted(principal.locations)] if principal else []
    response = make_response(render_template(
        "handovers/new.html", location=location, partners=partners, values=values, errors=errors,
        my_locations=my_locations, suggested=suggested, topic=_topic_name(values.get("topic") or ""),
        chosen=set(values.get("partner") or []), labels=LABELS, notice=notice,
        default_deadline=service.default_deadline(_now()),
        urgent_deadline=service.default_deadline(_now(), "urgent")), status)
    return private(response)


def _in_form_order(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The error summary lists the problems in the order of the form's fields (the schema declares them so)."""
    order = list(CreateSchema().fields)
    return dict(sorted(errors.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)))


@bp.route("/overdrachten/nieuw", methods=["GET", "POST"])
@login_required("staff")
def new():
    principal = current_principal()
    location_id = _form_location(principal)
    if not location_id or not service.may_create(principal, location_id):
        raise ApiError(403, _("U kunt alleen overdragen vanuit uw eigen locatie."))
    if request.method == "GET":
        values = {"partner": request.args.getlist("partner"), "topic": request.args.get("topic", ""),
                  "callback_reference": request.args.get("callback", ""),
                  "previous_reference": request.args.get("again", ""),
                  # Handed over again: as urgent as before (the returned handover's page links with its urgency).
                  "urgency": request.args.get("urgency") if request.args.get("urgency") in URGENCIES else "normal"}
        if values["callback_reference"] and not values["topic"]:
            values["topic"] = service.callback_topic(get_redis(), values["callback_reference"], location_id)
        values["partner"], notice = service.available_here(location_id, values["partner"])
        suggested = service.topic_partners(location_id, values["topic"])
        if not values["partner"] and len(suggested) == 1:
            values["partner"] = suggested  # the one organisation for this topic here: chosen, still changeable
        return _render_new(location_id, values, {}, notice=notice)
    raw = _form_data()
    if raw.pop(SWITCH_LOCATION, None) is not None:
        # "Andere locatie kiezen": the same form from the chosen location, with what was typed; nothing is sent.
        chosen = raw["partner"]
        raw["partner"], notice = service.available_here(location_id, chosen)
        if chosen and not raw["partner"]:
            # The citizen agreed to the organisations chosen before, none of which can have it from here: the
            # one chosen next needs their yes again.
            raw["consent"] = False
            notice = " ".join((notice, _("Vraag de inwoner opnieuw of het goed is dat u de gegevens doorgeeft "
                                         "aan de organisatie die u nu kiest.")))
        return _render_new(location_id, raw, {}, notice=notice)
    raw["location"] = location_id
    try:
        data = CreateSchema(unknown=EXCLUDE).load(raw)
        made = service.create(get_redis(), principal, data, _now())
    except ValidationError as error:
        # Also what the service would refuse in the fields that did load: every problem on one page.
        problems = service.form_problems(location_id, error.valid_data or {}, _now())
        return _render_new(location_id, raw, _in_form_order(problems | flatten_field_errors(error.messages)), 400)
    except ApiError as error:
        if not error.errors:
            raise
        return _render_new(location_id, raw, error.errors, 422)
    names = ", ".join(f"{directory.get_partner(h.partner).name} ({h.reference})" for h in made)
    notice_from = notify.partner_hours_from(_now())
    if notice_from is None:
        flash(_("Overgedragen aan %(names)s. De organisatie krijgt een bericht met een link.", names=names),
              "success")
    else:
        flash(_("Overgedragen aan %(names)s. Buiten kantoortijd sturen wij de organisatie geen bericht. Zij krijgt "
                "het bericht met een link %(when)s.", names=names, when=moments.moment_text(notice_from)), "success")
    return redirect(url_for("handovers.detail", reference=made[0].reference))


# ---- one handover: aftercare view for the loket, partner page for the partner ------------------------------

def _access(reference: str) -> tuple[Handover, bool, bool, str]:
    """The handover and what this visitor may do with it: (handover, see personal, work on it, actor)."""
    r = get_redis()
    principal = current_principal()
    handover = service.find(r, reference)
    if handover is not None and _scoped(handover.reference):
        return handover, True, True, f"partner-link:{handover.partner}"
    if principal is None:
        raise _LoginNeeded()
    if handover is None or not service.may_see(principal, handover):
        raise _not_found()
    actor = f"{principal.kind}:{principal.id}"
    return handover, service.may_see_personal(principal, handover), service.may_work(principal, handover), actor


class _LoginNeeded(Exception):
    pass


@bp.errorhandler(_LoginNeeded)
def _to_login(_error):
    flash(_("Log in om deze overdracht te zien. Of open de link uit het bericht dat u kreeg: die werkt één keer."),
          "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _render_detail(handover: Handover, see_personal: bool, may_work: bool, actor: str,
                   errors: dict[str, list[str]] | None = None, status: int = 200):
    r = get_redis()
    personal = service.personal(r, handover, actor) if see_personal else None
    [handover] = service.for_loket(r, [handover], loket_side=not may_work)
    response = make_response(render_template(
        "handovers/detail.html", handover=handover, personal=personal, may_work=may_work,
        show_personal=see_personal, errors=errors or {},
        # Which other organisations the citizen went to is the loket's business, not the partner's.
        siblings=[] if may_work else service.for_loket(r, service.siblings(r, handover)),
        values=request.form if errors else {},
        counts_from=handover.miss_counts_from(_now()), **_context(handover)), status)
    return private(response)


@bp.get("/overdrachten/<reference>")
def detail(reference: str):
    handover, see_personal, may_work, actor = _access(reference)
    if may_work and handover.status == SENT:
        # A logged-in partner employee opening it counts as opened, just like the link.
        service.mark_opened(get_redis(), handover, _now())
        handover = service.get(get_redis(), handover.reference)
    return _render_detail(handover, see_personal, may_work, actor)


def _work(reference: str, schema, apply) -> Any:
    handover, see_personal, may_work, actor = _access(reference)
    if not may_work:
        raise ApiError(403, _("Alleen de organisatie die de overdracht kreeg, kan dit vastleggen."))
    try:
        data = schema(unknown=EXCLUDE).load({k: v for k, v in request.form.items() if k != "csrf_token"})
        anchor = apply(handover, data, actor)
    except ValidationError as error:
        return _render_detail(handover, see_personal, may_work, actor, flatten_field_errors(error.messages), 400)
    except ApiError as error:
        if not error.errors:
            flash(error.message, "error")
            return redirect(url_for("handovers.detail", reference=handover.reference))
        return _render_detail(handover, see_personal, may_work, actor, error.errors, 422)
    return redirect(url_for("handovers.detail", reference=handover.reference, _anchor=anchor))


@bp.post("/overdrachten/<reference>/poging")
def attempt(reference: str):
    def apply(handover: Handover, data: dict[str, Any], actor: str) -> str | None:
        after = service.record_attempt(get_redis(), handover, data["result"], actor, _now())
        if after.status == "done":
            flash(_("Vastgelegd. De overdracht gaat terug naar het loket; zij krijgen een bericht."), "success")
        elif data["result"] == REACHED:
            # Reached is not the end: the handover stays open until the outcome is recorded, which the partner
            # would otherwise only find further down the page.
            flash(_("Poging vastgelegd: %(result)s. Leg nu vast hoe het afliep.", result=LABELS[REACHED]), "success")
            return OUTCOME_ANCHOR
        elif not after.attempts[-1].counted:
            flash(_("Poging vastgelegd: %(result)s. Deze poging telt niet mee, want de vorige was minder dan een "
                    "uur geleden.", result=LABELS[data["result"]]), "success")
        else:
            flash(_("Poging vastgelegd: %(result)s.", result=LABELS[data["result"]]), "success")
        return None

    return _work(reference, AttemptSchema, apply)


@bp.post("/overdrachten/<reference>/uitkomst")
def outcome(reference: str):
    def apply(handover: Handover, data: dict[str, Any], actor: str) -> None:
        service.record_outcome(get_redis(), handover, data["outcome"], actor, _now(),
                               referred_to=data["referred_to"], note=data["note"])
        flash(_("Uitkomst vastgelegd: %(outcome)s. Dank u wel.", outcome=LABELS[data["outcome"]]), "success")

    return _work(reference, OutcomeSchema, apply)


@bp.post("/overdrachten/<reference>/zelf-geholpen")
def settled_by_loket(reference: str):
    """Returned to the loket, which helped the citizen itself: the handover stops waiting for it."""
    handover, _see, _work_on, _actor = _access(reference)
    service.settle_returned(get_redis(), current_principal(), handover, _now())
    flash(_("Vastgelegd: het loket heeft de inwoner zelf geholpen. Deze overdracht wacht niet meer op u."),
          "success")
    return redirect(url_for("handovers.detail", reference=handover.reference))


# ---- the partner link ------------------------------------------------------------------------------------

def _link_refused(check: tokens.TokenCheck, token: str):
    status = 404 if check.state == tokens.UNKNOWN else 410
    return private(make_response(render_template("handovers/link_refused.html", check=check, token=token,
                                                  states=tokens), status))


# GET only looks: mail filters (Safe Links and the like) fetch every link before the reader clicks, and
# would use up a single-use link. The button on the page POSTs, and only that uses the link.
@bp.route("/o/<token>", methods=["GET", "POST"])
def open_link(token: str):
    if request.method == "GET":
        check = service.check_link(get_redis(), token, _now())
        if check.state != tokens.VALID:
            return _link_refused(check, token)
        return private(make_response(render_template("handovers/link_open.html", token=token)))
    check, handover = service.open_link(get_redis(), token, _now())
    if handover is None:
        return _link_refused(check, token)
    _add_scope(handover.reference, check.expires_at)
    return private(redirect(url_for("handovers.detail", reference=handover.reference), 303))


@bp.post("/o/<token>/nieuwe-link")
@limiter.limit("5 per hour")
def resend_link(token: str):
    result = service.resend_link(get_redis(), token, _now())
    status = 200 if result in ("sent", "wait") else 404 if result == "unknown" else 410
    return private(make_response(render_template("handovers/link_resent.html", result=result), status))
