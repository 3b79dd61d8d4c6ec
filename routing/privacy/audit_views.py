"""The coordinator's view of the audit log: every access to the personal data behind one reference."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from routing import moments
from routing.auth import api_auth, login_required
from routing.auth.service import account_emails, api_key_names
from routing.cli import ACTOR
from routing.extensions import get_redis
from routing.openapi import Blueprint as ApiBlueprint
from routing.privacy import audit

bp = Blueprint("audit", __name__)
blp = ApiBlueprint("audit_api", __name__, url_prefix="/api/v1/audit",
                   description="Logboek dataverwerkingen: wie zag of veranderde welke persoonsgegevens.")

MAX_REFERENCE = 20

# What each recorded action means, for whoever reads the log without knowing the code (a privacy officer).
# The key is the action or its start: "callback.attempt.not_reached" is a "callback.attempt".
ACTIONS = {
    "callback.create": _l("Terugbelverzoek binnengekomen"),
    "callback.view": _l("Terugbelverzoek geopend door een medewerker"),
    "callback.read": _l("Gegevens gelezen om over te dragen"),
    "callback.take_over": _l("Overgenomen van een collega"),
    "callback.give_back": _l("Teruggezet in de lijst"),
    "callback.attempt": _l("Belpoging vastgelegd"),
    "callback.withdraw": _l("Ingetrokken door de inwoner"),
    "callback.return": _l("Teruggestuurd door de organisatie"),
    "callback.expire": _l("Verlopen, gegevens gewist"),
    "handover.create": _l("Overdracht gemaakt"),
    "handover.view": _l("Gegevens van de overdracht bekeken"),
    "handover.attempt": _l("Belpoging vastgelegd"),
    "handover.outcome": _l("Uitkomst vastgelegd"),
    "handover.personal.delete": _l("Gegevens gewist"),
    "account.create": _l("Account aangemaakt"),
    "account.update": _l("Rol of bereik van een account opgeslagen"),
    "account.update.password": _l("Nieuw wachtwoord voor een account; de sessies ervan zijn beëindigd"),
    "account.remove": _l("Account verwijderd"),
    "apikey.create": _l("API-sleutel gemaakt"),
    "apikey.revoke": _l("API-sleutel ingetrokken"),
    "keys.rotate": _l("Persoonsgegevens opnieuw versleuteld met de nieuwste sleutel"),
}
# How many of the latest changes to accounts and keys the Logboek lists.
ADMINISTRATION_SHOWN = 50


def _records(reference: str) -> list[dict[str, Any]]:
    return audit.for_reference(get_redis(), reference.strip().upper()[:MAX_REFERENCE])


@bp.get("/logboek")
@login_required("coordinator")
def search():
    reference = request.args.get("reference", "").strip().upper()[:MAX_REFERENCE]
    records = _records(reference) if reference else []
    changes = audit.administration(get_redis(), ADMINISTRATION_SHOWN)[::-1]  # newest first
    return render_template("privacy/audit.html", reference=reference, records=records, changes=changes,
                           changes_shown=ADMINISTRATION_SHOWN,
                           names=_names(), local_time=moments.exact_text, action_label=_action_label,
                           actor_label=_actor_label)


def _action_label(name: str) -> str | None:
    parts = name.split(".")
    return next((str(ACTIONS[".".join(parts[:n])]) for n in range(len(parts), 0, -1)
                 if ".".join(parts[:n]) in ACTIONS), None)


def _actor_label(actor: str) -> str | None:
    """Who, for an actor that is not an account: a citizen, a partner through its link, an operator command, or
    Loketlijn itself."""
    if actor == ACTOR:
        return _("Een beheerder, met een opdracht op de server")
    kind, _sep, name = actor.partition(":")
    if kind == "citizen":
        return _("De inwoner zelf")
    if kind == "partner-link":
        from routing.directory import service as directory

        partners = directory.get_directory().partners
        return _("%(partner)s, via de link in het bericht", partner=partners[name].name if name in partners else name)
    if kind in ("system", "job"):
        return _("Loketlijn zelf (automatisch)")
    return None


def _names() -> dict[str, str]:
    """Actor or client → who it is: an account's e-mail address (an account is named "user:<id>"; callback
    records from before that say "<id>"), an API key's name ("apikey:<id>")."""
    r = get_redis()
    emails = account_emails(r)
    keys = {f"apikey:{key_id}": _("API-sleutel %(name)s", name=name) for key_id, name in api_key_names(r).items()}
    return emails | {f"user:{account_id}": email for account_id, email in emails.items()} | keys


@blp.route("/<reference>")
class ReferenceAudit(MethodView):
    @blp.response(200)
    @api_auth("coordinator")
    def get(self, reference: str):
        """All audit records about one callback request or handover, oldest first."""
        return {"reference": reference.upper(), "records": _records(reference)}
