"""Directory rules: which partners, lines and topics a location sees, and the staff lookup.

Other features use ``get_directory``, ``get_location``, ``get_partner``, ``partner_channels`` and
``citizen_topics``; they take ids and ``now`` and need no request.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from flask import current_app
from flask_babel import gettext as _

from routing.errors import ApiError, NotFound, default_message

from . import schedule
from .model import Channels, Directory, Line, Location, Partner, Topic
from .state import current_state

T = TypeVar("T")
MAX_RESULTS = 20
# app.extensions key of this process's routing.store.lookups.ShownCounts (set by init_app).
SHOWN_COUNTS = "loketlijn.shown_counts"


def get_directory() -> Directory:
    return current_state().fresh().directory


def derived(key: Hashable, compute: Callable[[], T]) -> T:
    """A value worked out from the loaded directory alone (`key` names it), computed once per load: a reload
    starts afresh. For what pages ask again and again, such as a location's staffed hours of a day part."""
    cache = current_state().fresh().derived
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def get_location(location_id: str) -> Location:
    loaded = current_state().fresh()
    location = loaded.directory.locations.get(location_id)
    if location is None:
        if loaded.loaded_at is None:  # no directory could be loaded (see /readyz): not the citizen's mistake
            raise ApiError(503, default_message(503))
        raise NotFound(_("Locatie '%(id)s' bestaat niet.", id=location_id))
    return location


def meant_location(typed: str) -> tuple[Location | None, Location | None]:
    """The location a citizen meant by an address they typed: (exact, suggestion). Exact when only capitals
    or spaces differ ("Utrecht"), to go to at once; else the closest id, if any is close ("utreht"), to offer
    and not to guess."""
    locations = get_directory().locations
    cleaned = typed.strip().lower()
    if cleaned in locations:
        return locations[cleaned], None
    close = difflib.get_close_matches(cleaned, list(locations), n=1, cutoff=0.6)
    return None, (locations[close[0]] if close else None)


def location_by_inbound_number(number: str) -> Location | None:
    """The location whose own (Twilio) number this is, E.164; None when no location has it."""
    return next((loc for loc in get_directory().locations.values() if loc.inbound_number == number), None)


def get_partner(partner_id: str) -> Partner:
    partner = get_directory().partners.get(partner_id)
    if partner is None:
        raise NotFound(_("Partner '%(id)s' bestaat niet.", id=partner_id))
    return partner


def partner_channels(partner_id: str, location_id: str) -> Channels:
    """Where a handover notice for this partner goes from this location (location override first)."""
    partner = get_partner(partner_id)
    return partner.handover_by_location.get(location_id, partner.handover)


def takes_handover(partner: Partner, location: Location) -> bool:
    """A warm handover to this partner can be sent from this location: it serves it and has somewhere for the
    notice to go there (an SMS number or an e-mail address)."""
    channels = partner_channels(partner.id, location.id)
    return serves(partner, location) and bool(channels.sms or channels.email)


def serves(partner: Partner, location: Location) -> bool:
    """National partners serve every location; a municipal team only its own municipality."""
    return partner.kind == "national" or partner.municipality == location.municipality


def citizen_topics(location_id: str) -> list[Topic]:
    """Topics for the citizen callback form at this location, by their plain-words label."""
    directory = get_directory()
    location = get_location(location_id)
    topics = [
        t for t in directory.topics.values()
        if t.citizen and any(serves(directory.partners[p], location) for p in t.partners)
    ]
    return sorted(topics, key=lambda t: t.citizen_label.lower())


def current_line(location: Location, partner_id: str, day: date) -> Line | None:
    """The professional line to this partner at this location, if one is valid on ``day``."""
    line = location.lines.get(partner_id)
    return line if line is not None and schedule.line_valid_on(line, day) else None


def on_site_today(location: Location, partner_id: str, now: datetime) -> bool:
    local = now.astimezone(schedule.TZ)
    return local.weekday() in location.on_site.get(partner_id, ()) and schedule.is_working_day(local.date())


@dataclass(frozen=True)
class Result:
    partner: Partner
    line: Line | None
    open_now: bool
    next_open: datetime | None
    on_site_today: bool
    takes_handover: bool
    alternative: str | None
    topics: tuple[Topic, ...]
    score: float


def alternative(partner: Partner, location: Location, now: datetime) -> str:
    """What to do when there is no professional line to this partner here."""
    if on_site_today(location, partner.id, now):
        return _("%(partner)s is vandaag op deze locatie: loop even langs.", partner=partner.name)
    if not takes_handover(partner, location):
        # No way to reach them from here: the employee helps the citizen use the public channel instead.
        text = _("Geen professionallijn op deze locatie. Overdragen aan %(partner)s kan op deze locatie niet.",
                 partner=partner.name)
        if partner.public_contact:
            return text + " " + _("Help de inwoner zelf contact op te nemen: %(contact)s.",
                                  contact=partner.public_contact)
        return text + " " + _("Vraag uw coördinator hoe u %(partner)s bereikt.", partner=partner.name)
    text = _("Geen professionallijn op deze locatie. Draag de vraag warm over aan %(partner)s.", partner=partner.name)
    if partner.public_contact:
        text += " " + _("De burger kan zelf terecht bij: %(contact)s.", contact=partner.public_contact)
    return text


def partner_result(location: Location, partner: Partner, now: datetime,
                   topics: tuple[Topic, ...] = (), score: float = 0.0) -> Result:
    local = now.astimezone(schedule.TZ)
    line = current_line(location, partner.id, local.date())
    open_now = line is not None and schedule.line_open(line, now)
    return Result(
        partner=partner,
        line=line,
        open_now=open_now,
        next_open=None if line is None or open_now else schedule.next_line_open(line, now),
        on_site_today=on_site_today(location, partner.id, now),
        takes_handover=takes_handover(partner, location),
        alternative=None if line is not None else alternative(partner, location, now),
        topics=topics,
        score=score,
    )


def lookup(location_id: str, query: str, now: datetime, limit: int = MAX_RESULTS) -> list[Result]:
    """Partners for ``query`` at this location, best match first; partners without a line here included."""
    state = current_state().fresh()
    directory = state.directory
    location = get_location(location_id)
    scores: dict[str, float] = {}
    matched: dict[str, list[Topic]] = {}
    for hit in state.index.search(query, municipality=location.municipality):
        if hit.kind == "partner":
            partner_ids: tuple[str, ...] = (hit.id,)
        else:
            partner_ids = state.index.partners_for(hit.id, location.municipality)
        for rank, pid in enumerate(partner_ids):
            # Within one topic, keep the order the topic lists its partners in.
            score = hit.score - rank * 0.01
            if score > scores.get(pid, -1.0):
                scores[pid] = score
            if hit.kind == "topic":
                matched.setdefault(pid, []).append(directory.topics[hit.id])
    # Equal scores: a partner with a line here first, then by name.
    order = sorted(scores, key=lambda pid: (-scores[pid], pid not in location.lines, directory.partners[pid].name))
    return [
        partner_result(location, directory.partners[pid], now, tuple(matched.get(pid, ())[:5]), scores[pid])
        for pid in order[:limit]
    ]


def location_partners(location_id: str, now: datetime) -> list[Result]:
    """Every partner with a line or on site here (the location overview), by name."""
    directory = get_directory()
    location = get_location(location_id)
    ids = sorted(set(location.lines) | set(location.on_site), key=lambda pid: directory.partners[pid].name.lower())
    return [partner_result(location, directory.partners[pid], now) for pid in ids]


def record_shown(location_id: str, results: list[Result], now: datetime) -> None:
    """Count, anonymously, each line shown to staff (for the dashboard: are the lines used?)."""
    current_app.extensions[SHOWN_COUNTS].add(now.astimezone(schedule.TZ).date(), location_id,
                                             [r.partner.id for r in results if r.line is not None])
