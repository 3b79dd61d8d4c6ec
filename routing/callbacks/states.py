"""The life of a callback request. Final states never change (the store's scripts enforce it atomically).

received -> waiting (dienstverlener absent) | open -> in_progress -> done | withdrawn | expired
"""

from __future__ import annotations

from flask_babel import gettext as _

TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"waiting", "open", "withdrawn"}),
    # done straight from waiting: taken over by a partner as a warm handover.
    "waiting": frozenset({"open", "done", "withdrawn", "expired"}),
    # open -> open: "not reached", the next attempt is planned.
    "open": frozenset({"open", "in_progress", "done", "withdrawn", "expired"}),
    "in_progress": frozenset({"open", "done", "withdrawn", "expired"}),
    "done": frozenset(),
    "withdrawn": frozenset(),
    "expired": frozenset(),
}
FINAL = frozenset(state for state, nxt in TRANSITIONS.items() if not nxt)


def allowed_from(to: str) -> tuple[str, ...]:
    return tuple(sorted(state for state, nxt in TRANSITIONS.items() if to in nxt))


def label(state: str) -> str:
    """The state in plain words, for citizens and staff."""
    return {
        "received": _("ontvangen"),
        "waiting": _("wacht tot de medewerker er weer is"),
        "open": _("klaar om terug te bellen"),
        "in_progress": _("een medewerker is ermee bezig"),
        "done": _("afgehandeld"),
        "withdrawn": _("ingetrokken"),
        "expired": _("verlopen"),
    }.get(state, state)


def refusal_message(state: str) -> str:
    if state in FINAL:
        return _("Dit terugbelverzoek is al %(state)s; er verandert niets meer aan.", state=label(state))
    return _("Dit kan niet meer bij dit terugbelverzoek (het is nu: %(state)s).", state=label(state))
