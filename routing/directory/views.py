"""Staff pages: choose a location, search (works without JavaScript), partner detail."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from routing.auth import current_principal, login_required
from routing.errors import ApiError

from . import format as fmt
from . import schedule, service
from .state import current_state

bp = Blueprint("directory", __name__, url_prefix="/directory")

SESSION_LOCATION = "directory_location"
STAFF = ("staff", "coordinator")


class SearchArgs(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=100))
    location = fields.String(load_default=None)


class ChooseForm(Schema):
    location = fields.String(required=True, validate=validate.Length(min=1, max=80))


@bp.app_template_global()
def phone_display(number: str | None) -> str:
    return fmt.phone_display(number)


@bp.app_template_global()
def when_display(moment: datetime | None) -> str:
    return fmt.when_display(moment)


@bp.app_template_global()
def topic_name_field() -> str:
    """Topics carry a Dutch and an English name; show the one of the page's language."""
    return "name_en" if str(get_locale()) == "en" else "name_nl"


def _visible_locations():
    directory = service.get_directory()
    principal = current_principal()
    ids = principal.visible_locations(sorted(directory.locations))
    return [directory.locations[i] for i in ids]


def _chosen_location(requested: str | None = None):
    """The employee's location: asked for (and then remembered), remembered, or their only one."""
    visible = {loc.id: loc for loc in _visible_locations()}
    if requested:
        if requested not in service.get_directory().locations:
            raise ApiError(404, _("Locatie '%(id)s' bestaat niet.", id=requested))
        if requested not in visible:
            raise ApiError(403, _("U werkt niet op deze locatie."))
        session[SESSION_LOCATION] = requested
    chosen = session.get(SESSION_LOCATION)
    if chosen in visible:
        return visible[chosen]
    if len(visible) == 1:
        only = next(iter(visible.values()))
        session[SESSION_LOCATION] = only.id
        return only
    return None


def _page(template: str, status: int = 200, **context):
    return render_template(template, principal=current_principal(),
                           directory_warning=_warning(), **context), status


def _warning() -> list | None:
    """Coordinators and admins see when the files on disk could not be loaded, and why, in the page's language."""
    principal = current_principal()
    if not (principal and principal.sees_everything):
        return None
    return current_state().problems_in(str(get_locale())) or None


@bp.get("/locations")
@login_required(*STAFF)
def choose_location():
    return _page("directory/locations.html", locations=_visible_locations(),
                 chosen=session.get(SESSION_LOCATION))


@bp.post("/locations")
@login_required(*STAFF)
def choose_location_post():
    try:
        data = ChooseForm(unknown=EXCLUDE).load(request.form)
    except ValidationError:
        return _page("directory/locations.html", 400, locations=_visible_locations(),
                     chosen=None, error=_("Kies een locatie."))
    _chosen_location(data["location"])
    return redirect(url_for("directory.search"))


def _search_context():
    try:
        args = SearchArgs(unknown=EXCLUDE).load(request.args)
    except ValidationError:
        raise ApiError(400, _("Uw zoekvraag is te lang. Gebruik hoogstens 100 tekens.")) from None
    location = _chosen_location(args["location"])
    if location is None:
        return None, args, []
    now = datetime.now(UTC)
    results = service.lookup(location.id, args["q"], now) if args["q"].strip() else []
    if results:
        service.record_shown(location.id, results, now)
    return location, args, results


@bp.get("/")
@login_required(*STAFF)
def search():
    location, args, results = _search_context()
    if location is None:
        return redirect(url_for("directory.choose_location"))
    now = datetime.now(UTC)
    return _page("directory/search.html", location=location, q=args["q"], results=results,
                 present=schedule.is_present(location, now), next_shift=schedule.next_shift_start(location, now))


@bp.get("/results")
@login_required(*STAFF)
def results_fragment():
    """Only the result list, for results-as-you-type (the full page works without it)."""
    location, args, results = _search_context()
    if location is None:
        raise ApiError(400, _("Kies eerst uw locatie."))
    return render_template("directory/_results.html", location=location, q=args["q"], results=results)


@bp.get("/partners/<partner_id>")
@login_required(*STAFF)
def partner(partner_id: str):
    found = service.get_partner(partner_id)
    location = _chosen_location(request.args.get("location"))
    now = datetime.now(UTC)
    result = service.partner_result(location, found, now) if location and service.serves(found, location) else None
    if result is not None and result.line is not None:
        service.record_shown(location.id, [result], now)
    directory = service.get_directory()
    topics = [directory.topics[t] for t in found.topics if not directory.topics[t].upl_uri]
    return _page("directory/partner.html", partner=found, location=location, result=result, topics=topics,
                 weekly=fmt.weekly_rows(result.line.hours) if result and result.line else [],
                 on_site_days=fmt.day_names(location.on_site.get(found.id, ())) if location else "")
