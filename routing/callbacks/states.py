"""The life of a callback request. Final states never change (the store's scripts enforce it atomically).

received -> waiting (dienstverlener absent) | open -> in_progress -> done | withdrawn | expired
waiting -> handed_over (a partner took it over as a warm handover) -> done (the partner finished) | withdrawn
handed_over -> open | waiting (the partner sent it back to the loket: the loket's queue again, as at intake)
handed_over -> expired (sent back after CALLBACK_EXPIRE_AFTER: too late for the queue)
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"waiting", "open", "withdrawn"}),
    # done straight from waiting: handed over by staff; handed_over: taken over by a partner at intake.
    "waiting": frozenset({"open", "handed_over", "done", "withdrawn", "expired"}),
    # open -> open: "not reached", the next attempt is planned.
    "open": frozenset({"open", "in_progress", "done", "withdrawn", "expired"}),
    "in_progress": frozenset({"open", "done", "withdrawn", "expired"}),
    # Live until the partner's handover is finished; the citizen can still withdraw it (and the handover).
    # Sent back by the partner ("not ours"): open or waiting, like a new request (expired when too old for that).
    "handed_over": frozenset({"open", "waiting", "done", "withdrawn", "expired"}),
    "done": frozenset(),
    "withdrawn": frozenset(),
    "expired": frozenset(),
}
FINAL = frozenset(state for state, nxt in TRANSITIONS.items() if not nxt)
# Nothing left for the loket to do: finished, or a partner has it (the partner finishes it).
DONE_FOR_LOKET = FINAL | {"handed_over"}


def allowed_from(to: str) -> tuple[str, ...]:
    return tuple(sorted(state for state, nxt in TRANSITIONS.items() if to in nxt))


# Lazy: only the one asked for is translated, in the request's language.
_LABELS = {
    "received": _l("ontvangen"),
    "waiting": _l("wacht tot de medewerker er weer is"),
    "open": _l("klaar om terug te bellen"),
    "in_progress": _l("een medewerker is ermee bezig"),
    "handed_over": _l("doorgegeven aan de organisatie die over de vraag gaat"),
    "done": _l("afgehandeld"),
    "withdrawn": _l("ingetrokken"),
    "expired": _l("verlopen"),
}


# Where the words for staff would tell a citizen something else than what they asked for: "klaar om terug te
# bellen" to someone who asked for an SMS or WhatsApp message. Said to the citizen ("u"), by how they asked.
_CITIZEN_LABELS = {
    ("open", False): _l("een medewerker gaat u bellen"),
    ("open", True): _l("een medewerker gaat u een bericht sturen"),
}


# The same for a request to be answered by a text message, in words for whoever reads the status API (a kiosk
# may show it to the citizen, an integration to staff).
_MESSAGE_LABELS = {"open": _l("klaar om een bericht te sturen")}


def label(state: str, by_message: bool = False) -> str:
    """The state in plain words, for staff and the status API (citizens' own pages: citizen_label); `by_message`
    for a request answered by SMS or WhatsApp (service.MESSAGE_REPLIES)."""
    return str((by_message and _MESSAGE_LABELS.get(state)) or _LABELS.get(state, state))


def citizen_label(state: str, by_message: bool) -> str:
    """The state as the citizen reads it on their own pages: `by_message` when they asked for a text message
    instead of a call (service.MESSAGE_REPLIES)."""
    return str(_CITIZEN_LABELS.get((state, by_message)) or label(state))


def refusal_message(state: str) -> str:
    if state in FINAL:
        return _("Dit terugbelverzoek is al %(state)s; er verandert niets meer aan.", state=label(state))
    return _("Dit kan niet meer bij dit terugbelverzoek (het is nu: %(state)s).", state=label(state))
