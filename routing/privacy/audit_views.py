"""The coordinator's view of the audit log: every access to the personal data behind one reference."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.views import MethodView

from routing import moments
from routing.auth import api_auth, login_required
from routing.auth.service import account_emails
from routing.extensions import get_redis
from routing.openapi import Blueprint as ApiBlueprint
from routing.privacy import audit

bp = Blueprint("audit", __name__)
blp = ApiBlueprint("audit_api", __name__, url_prefix="/api/v1/audit",
                   description="Logboek dataverwerkingen: wie zag of veranderde welke persoonsgegevens.")

MAX_REFERENCE = 20


def _records(reference: str) -> list[dict[str, Any]]:
    return audit.for_reference(get_redis(), reference.strip().upper()[:MAX_REFERENCE])


@bp.get("/logboek")
@login_required("coordinator")
def search():
    reference = request.args.get("reference", "").strip().upper()[:MAX_REFERENCE]
    records = _records(reference) if reference else []
    return render_template("privacy/audit.html", reference=reference, records=records,
                           accounts=_accounts(), local_time=moments.exact_text)


def _accounts() -> dict[str, str]:
    """Actor → e-mail address; handovers name an account "user:<id>", callbacks "<id>"."""
    emails = account_emails(get_redis())
    return emails | {f"user:{account_id}": email for account_id, email in emails.items()}


@blp.route("/<reference>")
class ReferenceAudit(MethodView):
    @blp.response(200)
    @api_auth("coordinator")
    def get(self, reference: str):
        """All audit records about one callback request or handover, oldest first."""
        return {"reference": reference.upper(), "records": _records(reference)}
