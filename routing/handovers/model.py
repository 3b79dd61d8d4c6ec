"""A warm handover as plain values, and the words its states and outcomes are shown with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from routing import attempts as attempt_spacing

SENT, OPENED, IN_PROGRESS, DONE = "sent", "opened", "in_progress", "done"
STATUSES = (SENT, OPENED, IN_PROGRESS, DONE)
OPEN_STATUSES = (SENT, OPENED, IN_PROGRESS)

SOLVED, REFERRED_ON, RETURNED = "solved", "referred_on", "returned_to_loket"
OUTCOMES = (SOLVED, REFERRED_ON, RETURNED)  # what the partner records
# Not the partner's choice: the citizen (inwoner) withdrew the callback request the handover came from.
WITHDRAWN = "withdrawn_by_citizen"

REACHED, NOT_REACHED, WRONG_NUMBER = "reached", "not_reached", "wrong_number"
ATTEMPT_RESULTS = (REACHED, NOT_REACHED, WRONG_NUMBER)

URGENCIES = ("normal", "urgent")

# Why a handover came back to the loket without the partner choosing to return it.
RETURN_REASONS = ("partner", "max_attempts", "wrong_number")

LABELS = {
    SENT: _l("Verstuurd"),
    OPENED: _l("Geopend"),
    IN_PROGRESS: _l("Mee bezig"),
    DONE: _l("Afgerond"),
    SOLVED: _l("Opgelost"),
    REFERRED_ON: _l("Doorverwezen"),
    RETURNED: _l("Terug naar het loket"),
    WITHDRAWN: _l("Ingetrokken door de inwoner: niet meer bellen"),
    REACHED: _l("Bereikt"),
    NOT_REACHED: _l("Niet bereikt"),
    WRONG_NUMBER: _l("Verkeerd nummer"),
    "normal": _l("Gewoon"),
    "urgent": _l("Spoed"),
    "max_attempts": _l("Na het hoogste aantal pogingen niet bereikt"),
    "settled_by_loket": _l("Het loket heeft de inwoner zelf geholpen"),
}


@dataclass(frozen=True)
class Attempt:
    at: datetime
    result: str
    counted: bool = True  # False: a "not reached" soon after one that counted (routing.attempts)


@dataclass(frozen=True)
class Handover:
    reference: str
    group: str
    location: str
    partner: str
    topic: str
    urgency: str
    status: str
    created_at: datetime
    created_by: str
    deadline: date
    attempts: tuple[Attempt, ...] = ()
    outcome: str = ""
    referred_to: str = ""
    return_reason: str = ""
    callback_reference: str = ""
    # A handover that came back to the loket and was handed over again from here.
    previous_reference: str = ""
    # Set on a returned handover once the loket handed it over again: the first handover made from it. A
    # withdrawal of the callback request follows these links to every partner that still has the citizen.
    next_reference: str = ""
    # Claimed by a colleague who is handing it over again right now: the follow-up exists within a moment, but
    # is not linked yet. A withdrawal meanwhile must count it as a partner that is about to call.
    being_handed_over_again: bool = False
    # Returned by the partner while its callback request (passed on at intake) was still with it: that request
    # went back into the loket's callback queue, so the loket's work is there, not on this handover.
    back_in_queue: bool = False
    # Returned, and the loket helped the citizen itself (called them, or saw them at the counter): when.
    settled_by_loket: datetime | None = None
    opened_at: datetime | None = None
    done_at: datetime | None = None
    # Whether the citizen's personal fields are still kept; None where nobody read it (the partner's views).
    personal_kept: bool | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, today: date) -> bool:
        return self.is_open and today > self.deadline

    @property
    def awaits_loket(self) -> bool:
        """Sent back to the loket and not followed up yet: nobody calls this citizen until the loket hands it
        over again or helps them itself (and says so). Only while the data to do so is still there (not
        withdrawn, not past its retention) and not back in the callback queue, where that work is listed instead."""
        return (self.status == DONE and self.outcome == RETURNED and not self.next_reference
                and not self.back_in_queue and not self.settled_by_loket and bool(self.personal_kept))

    @property
    def not_reached_count(self) -> int:
        return len(attempt_spacing.counted_misses(self.attempts))

    def miss_counts_from(self, now: datetime) -> datetime | None:
        """From when "not reached" counts again; None when it does `now` (routing.attempts)."""
        return attempt_spacing.counting_from(self.attempts, now)


@dataclass(frozen=True)
class Personal:
    """What only the partner (and the loket that made the handover) may see."""

    phone: str
    name: str = ""
    note: str = ""
    preferred: str = ""
    language: str = ""
    # "sms" or "whatsapp": the citizen asked for a message, not a call (someone deaf, or at work). Taken over
    # from the callback request; empty for a call.
    reply_by: str = ""
    return_note: str = ""
