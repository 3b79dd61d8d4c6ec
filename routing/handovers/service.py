"""The rules of a warm handover: who may create and see what, the states, links and audit.

Every read or change of personal data writes an audit record (activity "handovers"). Services take `now`
so tests can pin the clock; stored times are UTC ISO 8601, days are Europe/Amsterdam.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time
from functools import partial
from typing import Any

import redis
from babel import Locale
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from routing import moments
from routing.auth.principal import Principal
from routing.directory import schedule
from routing.directory import service as directory
from routing.errors import ApiError
from routing.handovers import notify, tokens
from routing.handovers.model import (
    DONE, IN_PROGRESS, NOT_REACHED, OPEN_STATUSES, OPENED, REFERRED_ON, RETURNED, SENT,
    WITHDRAWN, WRONG_NUMBER, Attempt, Handover, Personal,
)
from routing.privacy import audit, bsn, phone
from routing.store import handovers as store

log = logging.getLogger(__name__)


NOTE_MAX = 500
NAME_MAX = 100
PREFERRED_MAX = 200
REFERRED_TO_MAX = 200
# Unambiguous characters (no 0/O, 1/I/L): references are read out over the phone.
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REF_PREFIX = "WO-"


def _setting(name: str) -> int:
    """A HANDOVER_* setting (config/settings.py)."""
    return int(current_app.config[name])


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _parse(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def today(now: datetime) -> date:
    return now.astimezone(schedule.TZ).date()


# The working days a partner gets when staff leave the deadline empty, per urgency (Spoed: sooner).
_DEADLINE_SETTINGS = {"normal": "HANDOVER_DEADLINE_WORKING_DAYS", "urgent": "HANDOVER_URGENT_DEADLINE_WORKING_DAYS"}


def default_deadline(now: datetime, urgency: str = "normal") -> date:
    days = _setting(_DEADLINE_SETTINGS[urgency])
    return schedule.add_working_days(now, days).astimezone(schedule.TZ).date()


def _reminder_at(day: date) -> datetime:
    return datetime.combine(day, time(_setting("HANDOVER_REMINDER_HOUR")), tzinfo=schedule.TZ).astimezone(UTC)


def _actor(principal: Principal | None, fallback: str) -> str:
    return principal.qualified_id if principal else fallback


def _from_record(record: dict[str, str], attempts: list[dict[str, Any]]) -> Handover:
    return Handover(
        reference=record["reference"],
        group=record["group"],
        location=record["location"],
        partner=record["partner"],
        topic=record.get("topic", ""),
        urgency=record["urgency"],
        status=record["status"],
        created_at=datetime.fromisoformat(record["created_at"]),
        created_by=record.get("created_by", ""),
        deadline=date.fromisoformat(record["deadline"]),
        attempts=tuple(Attempt(datetime.fromisoformat(a["at"]), a["result"], a.get("counted", True))
                       for a in attempts),
        outcome=record.get("outcome", ""),
        referred_to=record.get("referred_to", ""),
        return_reason=record.get("return_reason", ""),
        callback_reference=record.get("callback_reference", ""),
        previous_reference=record.get("previous_reference", ""),
        next_reference=record.get("next_reference", ""),
        being_handed_over_again=bool(record.get("next_claim")) and not record.get("next_reference"),
        back_in_queue=record.get("back_in_queue") == "1",
        settled_by_loket=_parse(record.get("settled_by_loket", "")),
        opened_at=_parse(record.get("opened_at", "")),
        done_at=_parse(record.get("done_at", "")),
    )


# ---- who may do what -------------------------------------------------------------------------------------

def may_create(principal: Principal, location_id: str) -> bool:
    """Only the loket's own staff: a handover passes a citizen's data on (admins see status only)."""
    return principal.role == "staff" and location_id in principal.locations


def may_see(principal: Principal, handover: Handover) -> bool:
    """Status, attempts and outcome (no personal fields)."""
    return principal.can_see_location(handover.location) or principal.can_see_partner(handover.partner)


def may_see_personal(principal: Principal, handover: Handover) -> bool:
    """Only the loket that made it and the partner it went to; not coordinators or admins. The loket only while
    it may need them: the partner is still at it, or sent it back and the loket has not followed it up (handed
    over again, or helped the citizen itself). Once the partner finished, the loket sees the outcome only, as
    its callback request then shows no number either."""
    if may_work(principal, handover):
        return True
    if not (principal.role == "staff" and handover.location in principal.locations):
        return False
    return handover.is_open or (handover.outcome == RETURNED and not handover.next_reference
                                and not handover.settled_by_loket)


def may_work(principal: Principal, handover: Handover) -> bool:
    """Recording attempts and the outcome is the partner's work."""
    return principal.role == "partner" and principal.partner == handover.partner


# ---- reading ---------------------------------------------------------------------------------------------

def find(r: redis.Redis, reference: str) -> Handover | None:
    found = store.get(r, reference.strip().upper())
    return _from_record(*found) if found else None


def get(r: redis.Redis, reference: str) -> Handover:
    handover = find(r, reference)
    if handover is None:
        raise ApiError(404, _("Er is geen overdracht met dit kenmerk."))
    return handover


def get_visible(r: redis.Redis, principal: Principal, reference: str) -> Handover:
    """The handover if this principal may see it; 404 otherwise, so references cannot be probed."""
    handover = find(r, reference)
    if handover is None or not may_see(principal, handover):
        raise ApiError(404, _("Er is geen overdracht met dit kenmerk."))
    return handover


def personal(r: redis.Redis, handover: Handover, actor: str) -> Personal | None:
    """The personal fields for a page or API answer; every call is an audited view (a failed read too)."""
    record = {"action": "handover.view", "activity": "handovers", "actor": actor, "reference": handover.reference}
    started = datetime.now(UTC)
    try:
        fields = store.get_personal(r, handover.reference)
    except Exception:
        audit.record(r, subject=None, status="error", started_at=started, **record)
        raise
    audit.record(r, subject=fields.get("phone") if fields else None, started_at=started, **record)
    if not fields:
        return None
    return Personal(**{name: fields.get(name, "") for name in store.PERSONAL_FIELDS})


def load_many(r: redis.Redis, refs: Iterable[str]) -> list[Handover]:
    """The handovers that still exist among ``refs``, in that order."""
    return [_from_record(*found) for found in store.get_many(r, refs)]


def siblings(r: redis.Redis, handover: Handover) -> list[Handover]:
    """The other handovers made together with this one (same citizen, other partners)."""
    return load_many(r, [ref for ref in store.group_refs(r, handover.group) if ref != handover.reference])


def made_for_same_citizen(r: redis.Redis, first: Handover) -> list[Handover]:
    """This handover, those made together with it, and those the loket made again from any of them that came
    back (next_reference), and from those in turn: every partner the citizen was passed on to."""
    found: dict[str, Handover] = {}
    todo = [first]
    while todo:
        handover = todo.pop()
        if handover.reference in found:
            continue
        for made in (handover, *siblings(r, handover)):
            found[made.reference] = made
            follow_up = find(r, made.next_reference) if made.next_reference else None
            if follow_up is not None:
                todo.append(follow_up)
    return list(found.values())


def _sort_key(handover: Handover, day: date) -> tuple:
    # Sent back and waiting for the loket first (longest waiting first): until the loket acts nobody calls the
    # citizen. Then overdue, then open ones by deadline (urgent first), then finished ones, newest first.
    done = handover.done_at or handover.created_at
    if handover.awaits_loket:
        return (0, date.min, False, done.timestamp())
    if handover.is_open:
        return (1 if handover.is_overdue(day) else 2, handover.deadline, handover.urgency != "urgent", 0.0)
    return (3, date.max, False, -done.timestamp())


def for_loket(r: redis.Redis, handovers: list[Handover], loket_side: bool = True) -> list[Handover]:
    """The handovers with whether their personal fields are still kept, for the loket's side (staff,
    coordinators, admins), so the ones sent back that the loket still has to follow up stand out. A partner's
    view is left as it is: what the loket does next is not the partner's work."""
    if not loket_side:
        return handovers
    returned = [h.reference for h in handovers if h.outcome == RETURNED and not h.next_reference]
    kept = store.personal_kept(r, returned) if returned else set()
    return [replace(h, personal_kept=h.reference in kept) if h.outcome == RETURNED else h for h in handovers]


def aftercare(r: redis.Redis, principal: Principal, now: datetime, limit: int = 200,
              kenmerk: str = "") -> list[Handover]:
    """What this principal may follow up: every open handover in their scope (so no overdue one is ever
    out of sight) and the most recent finished ones; their locations', their partner's, or all. With a
    kenmerk, only the handovers it names (see ``with_kenmerk``)."""
    if principal.sees_everything:
        recent = store.recent_refs(r, everything=True, limit=limit)
    elif principal.role == "partner" and principal.partner:
        recent = store.recent_refs(r, partner=principal.partner, limit=limit)
    elif principal.role == "staff":
        recent = store.recent_refs(r, locations=principal.locations, limit=limit)
    else:
        return []
    named = set(with_kenmerk(r, kenmerk)) if kenmerk else set()
    refs = dict.fromkeys(store.open_refs(r) + recent + sorted(named))
    visible = [h for h in load_many(r, refs) if may_see(principal, h)]
    if kenmerk:
        wanted = _kenmerk_refs(kenmerk)
        visible = [h for h in visible if h.reference in named or h.callback_reference in wanted]
    handovers = for_loket(r, visible, loket_side=principal.role != "partner")
    day = today(now)
    return sorted(handovers, key=lambda h: _sort_key(h, day))


def _kenmerk_refs(text: str) -> set[str]:
    """What someone typed as a kenmerk, loosely ("wo abcde", "tb7kq4", "7KQ4"): the handover reference and the
    callback reference it can be."""
    from routing.callbacks import service as callbacks

    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())[:12]
    if not cleaned:
        return set()
    return {REF_PREFIX + cleaned.removeprefix("WO"), callbacks.normalise_reference(cleaned)}


def with_kenmerk(r: redis.Redis, text: str) -> list[str]:
    """The handovers a kenmerk leads to, whoever may see them (the caller filters): the handover itself, or,
    for the callback reference the citizen knows, every handover made for that citizen from that request (older
    ones may have left the recent lists). Only the anonymous facts are read."""
    from routing.callbacks import service as callbacks

    found = []
    for ref in sorted(_kenmerk_refs(text)):
        if ref.startswith(REF_PREFIX):
            found += [ref] if find(r, ref) is not None else []
            continue
        try:
            request = callbacks.get_status(r, ref)
        except ApiError:
            continue
        found += [h.reference for h in callbacks.made_for(r, request)]
    return found


# ---- creating --------------------------------------------------------------------------------------------

def _field_error(field: str, message: str) -> ApiError:
    return _fields_error({field: [message]})


def _fields_error(problems: dict[str, list[str]]) -> ApiError:
    return ApiError(422, _("Niet alle gegevens zijn goed ingevuld."), problems)


def _bsn_problems(fields: dict[str, str]) -> dict[str, list[str]]:
    return {name: [_("Zet hier geen burgerservicenummer (BSN) in. Haal het nummer weg en probeer het opnieuw.")]
            for name, value in fields.items() if bsn.find_bsn(value)}


def _no_bsn(fields: dict[str, str]) -> None:
    problems = _bsn_problems(fields)
    if problems:
        raise _fields_error(problems)


def handover_partners(location_id: str) -> list:
    """Partners a citizen can be handed to from this location: they serve it and have a handover channel."""
    location = directory.get_location(location_id)
    found = [p for p in directory.get_directory().partners.values() if directory.takes_handover(p, location)]
    return sorted(found, key=lambda p: p.name.lower())


def available_here(location_id: str, partner_ids: Iterable[str]) -> tuple[list[str], str | None]:
    """Of the chosen organisations, those a handover can go to from this location (in the order chosen), and what
    to tell staff about the others, by name (None when there are none): a form moved to another location keeps
    what still fits there, and a handover to the others is refused with the same words."""
    allowed = {p.id for p in handover_partners(location_id)}
    chosen = list(dict.fromkeys(partner_ids))
    others = [p for p in chosen if p not in allowed]
    if not others:
        return chosen, None
    partners = directory.get_directory().partners
    names = ", ".join(partners[p].name if p in partners else p for p in others)
    return [p for p in chosen if p in allowed], _(
        "Naar %(names)s kunt u vanuit %(location)s niet warm overdragen. Zoek de organisatie op bij Zoeken: daar "
        "staat wat u wel kunt doen.", names=names, location=directory.get_location(location_id).name)


def topic_partners(location_id: str, topic_id: str) -> list[str]:
    """The partners the directory links to this topic that can take a handover from this location, in the
    directory's order: the form lists them first, so staff do not pick the wrong organisation."""
    topic = directory.get_directory().topics.get(topic_id) if topic_id else None
    if topic is None:
        return []
    possible = {p.id for p in handover_partners(location_id)}
    return [partner_id for partner_id in dict.fromkeys(topic.partners) if partner_id in possible]


def _callback_facts(r: redis.Redis, reference: str):
    """A callback request's anonymous facts, or None when there is no such request."""
    from routing.callbacks import service as callbacks

    try:
        return callbacks.get_status(r, reference)
    except ApiError:
        return None


def callback_location(r: redis.Redis, reference: str) -> str | None:
    """The location of a callback request, or None when there is no such request."""
    facts = _callback_facts(r, reference)
    return facts.location if facts else None


def callback_topic(r: redis.Redis, reference: str, location_id: str) -> str:
    """The topic of a callback request of this location, or "" when there is none."""
    facts = _callback_facts(r, reference)
    return (facts.topic or "") if facts and facts.location == location_id else ""


def _new_reference(r: redis.Redis) -> str:
    while True:
        ref = REF_PREFIX + "".join(secrets.choice(_REF_ALPHABET) for _ in range(5))
        if store.reserve(r, ref):
            return ref


def _check(location_id: str, partners: list[str], personal_fields: dict[str, str], topic: str, urgency: str,
           deadline: date | None, now: datetime) -> tuple[list[str], dict[str, str], date]:
    """Refuse anything that would not make a good handover, every problem at once; returns the cleaned values."""
    directory.get_location(location_id)  # 404 for an unknown location
    problems, partners, personal_fields, deadline = _problems(location_id, partners, personal_fields, topic,
                                                              urgency, deadline, now)
    if problems:
        raise _fields_error(problems)
    return partners, personal_fields, deadline


def _problems(location_id: str, partners: list[str], personal_fields: dict[str, str], topic: str, urgency: str,
              deadline: date | None, now: datetime, *, check_phone: bool = True,
              ) -> tuple[dict[str, list[str]], list[str], dict[str, str], date]:
    """What is wrong, field by field (so staff correct it in one go, not one more problem after each try), and
    the cleaned values."""
    problems: dict[str, list[str]] = {}
    # The topic goes into the partner's notice, so only the directory's own topics, never free text.
    if topic and topic not in directory.get_directory().topics:
        problems["topic"] = [_("Dit onderwerp kennen wij niet. Kies een onderwerp uit de zoekresultaten.")]
    partners = list(dict.fromkeys(partners))
    _possible, not_here = available_here(location_id, partners)
    if not partners:
        problems["partner"] = [_("Kies minstens één organisatie.")]
    elif not_here:
        problems["partner"] = [not_here]
    personal_fields = dict(personal_fields)
    if check_phone and not personal_fields.get("phone", "").strip():
        # Staff type the citizen's number, not their own ("Vul uw telefoonnummer in" is the citizen's form).
        problems["phone"] = [_("Vul het telefoonnummer van de inwoner in, bijvoorbeeld 06 12345678.")]
    elif check_phone:
        try:
            personal_fields["phone"] = phone.normalise(personal_fields["phone"])
        except phone.PhoneRefused as refused:
            problems["phone"] = [str(refused.message)]
    problems |= _bsn_problems({name: personal_fields.get(name, "") for name in ("name", "note", "preferred",
                                                                                 "language")})
    deadline = deadline or default_deadline(now, urgency)
    if deadline < today(now):
        problems["deadline"] = [_("De uiterste datum ligt in het verleden. Kies vandaag of later.")]
    return problems, partners, personal_fields, deadline


def form_problems(location_id: str, data: dict[str, Any], now: datetime) -> dict[str, list[str]]:
    """The problems `create` would name in what staff typed (`data`: the fields the form's schema accepted), for a
    form the schema refused: its page names them all at once. Reads no record: a number left empty, to be taken
    over from the callback request or returned handover, is checked when the handover is made."""
    fields = {name: (data.get(name) or "").strip() for name in PERSONAL_INPUT}
    takes_over = bool(data.get("callback_reference") or data.get("previous_reference"))
    return _problems(location_id, data.get("partner") or [], fields, data.get("topic") or "",
                     data.get("urgency") or "normal", data.get("deadline"), now,
                     check_phone=bool(fields["phone"]) or not takes_over)[0]


def _make(r: redis.Redis, *, actor: str, location_id: str, partners: list[str], personal_fields: dict[str, str],
          urgency: str, topic: str, deadline: date | None, callback_reference: str,
          now: datetime, previous_reference: str = "") -> list[Handover]:
    partners, personal_fields, deadline = _check(location_id, partners, personal_fields, topic, urgency, deadline,
                                                 now)
    group = secrets.token_hex(8)
    remind_at = _reminder_at(deadline)
    # Made after the reminder hour on its deadline day: the first notice is the reminder; overdue tomorrow.
    remind_ts = remind_at.timestamp() if remind_at > now else float("inf")
    # Personal fields go at the latest this long after the handover was made, whatever becomes of it.
    purge_ts = int(now.timestamp()) + _setting("HANDOVER_MAX_RETENTION_DAYS") * 86_400
    made = []
    notice_from = notify.partner_hours_from(now)
    for partner_id in partners:
        record = {
            "reference": _new_reference(r), "group": group, "location": location_id, "partner": partner_id,
            "topic": topic, "urgency": urgency, "status": SENT, "created_at": _iso(now), "created_by": actor,
            "deadline": deadline.isoformat(), "callback_reference": callback_reference,
            "previous_reference": previous_reference,
            # No handover without the citizen's consent (a callback request had it asked at intake).
            "consent_at": _iso(now),
        }
        store.create(r, record, personal_fields, purge_ts, now.timestamp(), remind_ts)
        handover = _from_record(record, [])
        audit.record(r, action="handover.create", activity="handovers", actor=actor,
                     subject=personal_fields["phone"], reference=handover.reference)
        notify.send_link(r, handover, "handover_new", now, not_before=notice_from)
        made.append(handover)
    return made


def create(r: redis.Redis, principal: Principal, data: dict[str, Any], now: datetime) -> list[Handover]:
    """Loket staff hand a citizen over to one or more partners (one linked handover per partner)."""
    location_id = data["location"]
    if not may_create(principal, location_id):
        raise ApiError(403, _("U kunt alleen overdragen vanuit uw eigen locatie."))
    if data.get("consent") is not True:
        raise _field_error("consent", _("Vraag eerst of de inwoner het goed vindt dat u de gegevens doorgeeft."))
    actor = _actor(principal, "unknown")
    personal_fields = {name: (data.get(name) or "").strip() for name in PERSONAL_INPUT}
    callback_reference = (data.get("callback_reference") or "").strip().upper()
    previous_reference = (data.get("previous_reference") or "").strip().upper()
    topic = data.get("topic") or ""
    taken_over: dict[str, str] = {}
    previous = None
    if callback_reference:
        taken_over, topic = _from_callback(r, callback_reference, location_id, actor)
    elif previous_reference:
        previous = _returned(r, previous_reference, location_id)
        taken_over, topic = _from_returned(r, previous, actor)
    # Taken over from the callback request or returned handover where staff left a field empty.
    personal_fields = {name: personal_fields[name] or taken_over.get(name, "") for name in PERSONAL_INPUT}
    make = partial(_make, r, actor=actor, location_id=location_id,
                   partners=data["partner"] if isinstance(data["partner"], list) else [data["partner"]],
                   personal_fields=personal_fields, urgency=data.get("urgency") or "normal",
                   topic=data.get("topic") or topic, deadline=data.get("deadline"), now=now)
    if previous is not None:
        return _again(r, previous, make, now)
    made = make(callback_reference=callback_reference)
    if callback_reference:
        _mark_callback(r, callback_reference, made[0].reference, now)
    return made


def _again(r: redis.Redis, previous: Handover, make: Callable[..., list[Handover]], now: datetime) -> list[Handover]:
    """Hand a returned handover over again, once. It is claimed first, so a colleague doing the same at that
    moment is refused: a second follow-up would have two partners call, and the citizen's withdrawal, which
    follows one link (next_reference), would not reach it. The follow-up names the callback request it all came
    from; when the citizen withdrew that while the follow-up was being made, the follow-up ends at once too."""
    claim = secrets.token_hex(8)
    if not store.claim_follow_up(r, previous.reference, claim, DONE):
        raise _handed_over_again(find(r, previous.reference) or previous)
    try:
        made = make(callback_reference=previous.callback_reference, previous_reference=previous.reference)
    except Exception:
        store.release_follow_up(r, previous.reference, claim)
        raise
    store.link_follow_up(r, previous.reference, made[0].reference)
    if previous.callback_reference and _callback_withdrawn(r, previous.callback_reference):
        for handover in made:
            withdraw_by_citizen(r, handover.reference, now)
    return made


def _handed_over_again(previous: Handover) -> ApiError:
    if previous.next_reference:
        return _field_error("previous_reference", _("Deze overdracht is al opnieuw overgedragen, als %(ref)s.",
                                                    ref=previous.next_reference))
    return _field_error("previous_reference", _("Een collega draagt deze overdracht op dit moment opnieuw over."))


def _callback_withdrawn(r: redis.Redis, reference: str) -> bool:
    from routing.callbacks import service as callbacks

    try:
        return callbacks.is_withdrawn(callbacks.get_status(r, reference))
    except ApiError:  # gone: its facts' retention is over
        return False


def create_from_callback(r: redis.Redis, reference: str, partner_id: str, now: datetime | None = None) -> Handover:
    """A callback request left while the dienstverlener is away goes straight to the partner of its topic;
    the callback request stays live ("handed over") until the partner finishes, so the citizen can still
    withdraw it."""
    from routing.callbacks import service as callbacks

    now = now or datetime.now(UTC)
    actor = "system:handover"
    taken_over, topic = _from_callback(r, reference, None, actor)
    made = _make(r, actor=actor, location_id=taken_over["location"], partners=[partner_id],
                 personal_fields={name: taken_over[name] for name in PERSONAL_INPUT}, urgency="normal",
                 topic=topic, deadline=None, callback_reference=reference, now=now)
    callbacks.pass_to_partner(r, reference, made[0].reference, partner_id, now=now)
    return made[0]


def withdraw_by_citizen(r: redis.Redis, reference: str, now: datetime) -> None:
    """The citizen withdrew the callback request this handover came from: an open one is finished, and its
    personal fields go at once, as do those of a finished one (kept until the retention, or for the loket to
    follow a returned one up: nobody is to be called any more, so it can no longer be handed over again)."""
    handover = find(r, reference)
    if handover is None:
        return
    if handover.is_open:
        try:
            _finish(r, handover, WITHDRAWN, "citizen", now)
        except ApiError:  # finished meanwhile: its fields go all the same
            pass
    _drop_personal(r, reference, "citizen")  # at once, not after the retention


# reply_by is not on the loket's form: it comes only from the callback request or the returned handover.
PERSONAL_INPUT = ("phone", "name", "note", "preferred", "language", "reply_by")
_PARTS = {"morning": _l("ochtend"), "afternoon": _l("middag")}


def _preferred_text(slots: tuple[str, ...]) -> str:
    """Callback day parts ("2026-11-30:morning") as words the partner reads: "maandag 30 november ochtend"."""
    words = []
    for slot in slots:
        day, _sep, part = slot.partition(":")
        words.append(f"{moments.day_text(date.fromisoformat(day), locale='nl')} {_PARTS.get(part, part)}")
    return ", ".join(words)


def _from_callback(r: redis.Redis, reference: str, location_id: str | None,
                   actor: str) -> tuple[dict[str, str], str]:
    """The personal fields of a callback request of this location (None: the system passing on a request of its
    own location), audited by the callbacks feature, and its topic. Location and state are checked on its facts
    first: a reference of another location is decrypted for nobody, and is as unknown as one that does not exist."""
    from routing.callbacks import service as callbacks
    from routing.callbacks.states import FINAL

    try:
        facts = callbacks.get_status(r, reference)
    except ApiError:
        facts = None
    if facts is None or location_id not in (None, facts.location):
        raise _field_error("callback_reference", _("Dit terugbelverzoek is niet gevonden bij deze locatie."))
    if facts.state in FINAL:
        raise _field_error("callback_reference", _("Dit terugbelverzoek is al afgehandeld."))
    request = callbacks.get_request(r, reference, actor=actor)
    language = Locale.parse("nl").languages.get(request.language or "", request.language or "")
    fields = {"location": request.location, "phone": request.phone or "", "name": request.name or "",
              "note": request.note or "", "preferred": _preferred_text(request.preferred), "language": language,
              "reply_by": request.reply_by if request.reply_by in callbacks.MESSAGE_REPLIES else ""}
    return fields, request.topic or ""


def _returned(r: redis.Redis, reference: str, location_id: str) -> Handover:
    """A handover that came back to this loket and may be handed over again from here."""
    previous = find(r, reference)
    if previous is None or previous.location != location_id:
        raise _field_error("previous_reference", _("Deze overdracht hoort niet bij deze locatie."))
    if previous.outcome != RETURNED:
        raise _field_error("previous_reference", _("Alleen een overdracht die terug is bij het loket kunt u "
                                                   "opnieuw overdragen."))
    if previous.next_reference:  # a second time from the same one would have two partners call
        raise _handed_over_again(previous)
    if previous.settled_by_loket:  # the citizen was helped: another organisation would call for nothing
        raise _field_error("previous_reference", _("Het loket heeft deze inwoner al zelf geholpen. Er hoeft "
                                                   "niemand meer te bellen."))
    if previous.back_in_queue:  # handing it over from here as well would be double work
        raise _field_error("previous_reference", _("Dit ging terug naar de terugbellijst als terugbelverzoek "
                                                   "%(ref)s. Draag het daar over als dat nodig is.",
                                                   ref=previous.callback_reference))
    return previous


def _from_returned(r: redis.Redis, previous: Handover, actor: str) -> tuple[dict[str, str], str]:
    """The personal fields of a returned handover (an audited view), and its topic."""
    details = personal(r, previous, actor)
    if details is None:
        raise _field_error("previous_reference", _("De gegevens van deze overdracht zijn al verwijderd."))
    return {name: getattr(details, name) for name in PERSONAL_INPUT}, previous.topic


def _mark_callback(r: redis.Redis, callback_reference: str, handover_reference: str, now: datetime) -> None:
    from routing.callbacks import service as callbacks

    callbacks.mark_handed_over(r, callback_reference, handover_reference, now=now)


# ---- the partner's work ----------------------------------------------------------------------------------

def _final_refusal() -> ApiError:
    return ApiError(409, _("Deze overdracht is al afgerond. Er kan niets meer aan veranderen."))


def mark_opened(r: redis.Redis, handover: Handover, now: datetime) -> None:
    store.transition(r, handover.reference, (SENT,), {"status": OPENED, "opened_at": _iso(now)})


def record_attempt(r: redis.Redis, handover: Handover, result: str, actor: str, now: datetime) -> Handover:
    """A call attempt; "not reached" schedules the next reminder, too many of them return it to the loket.
    One within an hour of a "not reached" that counted is recorded but does not count (routing.attempts)."""
    counted = result != NOT_REACHED or handover.miss_counts_from(now) is None
    count = store.transition(r, handover.reference, OPEN_STATUSES, {"status": IN_PROGRESS},
                             {"at": _iso(now), "result": result, **({} if counted else {"counted": False})})
    if count is None:
        raise _final_refusal()
    audit.record(r, action=f"handover.attempt.{result}", activity="handovers", actor=actor,
                 subject=_phone(r, handover), reference=handover.reference)
    handover = get(r, handover.reference)
    if result == WRONG_NUMBER:
        return _finish(r, handover, RETURNED, actor, now, return_reason=WRONG_NUMBER)
    if result == NOT_REACHED and counted:
        if handover.not_reached_count >= _setting("HANDOVER_MAX_ATTEMPTS"):
            return _finish(r, handover, RETURNED, actor, now, return_reason="max_attempts")
        next_day = schedule.add_working_days(now, 1).astimezone(schedule.TZ).date()
        store.reschedule(r, handover.reference, _reminder_at(next_day).timestamp())
    return handover


def record_outcome(r: redis.Redis, handover: Handover, outcome: str, actor: str, now: datetime,
                   referred_to: str = "", note: str = "") -> Handover:
    referred_to, note = referred_to.strip(), note.strip()
    if outcome == REFERRED_ON and not referred_to:
        raise _field_error("referred_to", _("Vul in naar wie u hebt doorverwezen."))
    if outcome == RETURNED and not note:
        raise _field_error("note", _("Schrijf kort op waarom de overdracht terug gaat naar het loket."))
    _no_bsn({"referred_to": referred_to, "note": note})
    return _finish(r, handover, outcome, actor, now, referred_to=referred_to if outcome == REFERRED_ON else "",
                   return_reason="partner" if outcome == RETURNED else "", return_note=note)


def _finish(r: redis.Redis, handover: Handover, outcome: str, actor: str, now: datetime, *, referred_to: str = "",
            return_reason: str = "", return_note: str = "") -> Handover:
    fields = {"status": DONE, "outcome": outcome, "done_at": _iso(now), "referred_to": referred_to,
              "return_reason": return_reason}
    if store.transition(r, handover.reference, OPEN_STATUSES, fields) is None:
        raise _final_refusal()
    if return_note:
        store.set_personal(r, handover.reference, "return_note", return_note)
    latest = handover.created_at.timestamp() + _setting("HANDOVER_MAX_RETENTION_DAYS") * 86_400
    store.close(r, handover.reference, int(min(now.timestamp() + _setting("HANDOVER_RETENTION_DAYS") * 86_400, latest)))
    audit.record(r, action=f"handover.outcome.{outcome}", activity="handovers", actor=actor,
                 subject=_phone(r, handover), reference=handover.reference)
    callback_state = _callback_after(r, handover, outcome, return_reason, actor, now) \
        if handover.callback_reference else None
    handover = get(r, handover.reference)
    # A handover whose callback request is back in the queue is not ALSO the loket's work here: no "returned"
    # notice pointing at this handover (the queue tells the on-duty channel itself: at once when the request
    # is open, at the next shift's release when it waits), and its page and the aftercare list say where it
    # went instead of offering to hand it over again. It stays in the aftercare list as a finished handover,
    # like every other: history, not a task. Nor is a citizen who withdrew meanwhile. Otherwise (expired
    # there, or never a callback at intake) the loket follows the returned handover up as before.
    if outcome == RETURNED and not handover.back_in_queue and callback_state != "withdrawn":
        notify.returned(r, handover)
    return handover


def _callback_after(r: redis.Redis, handover: Handover, outcome: str, return_reason: str, actor: str,
                    now: datetime) -> str | None:
    """The callback request this handover came from, once the handover is finished: done, or, sent back
    ("not ours") while the partner still had it, in the loket's queue again. Returns its state then.

    Back in the queue, the request holds the one live copy of the personal fields: the handover's goes at once
    (a withdrawal later then has nothing left to find here). Withdrawn meanwhile (the withdrawal came while the
    handover was being finished, too late to finish it itself): the handover's copy goes too."""
    from routing.callbacks import service as callbacks

    if outcome != RETURNED or return_reason == WRONG_NUMBER:
        # A number the partner found wrong is no use in the loket's queue either: the request is closed as staff
        # close one with a wrong number, and the loket follows the returned handover up (it may know another way).
        callbacks.handover_finished(r, handover.callback_reference, now=now,
                                    outcome="wrong_number" if outcome == RETURNED else "handed_over")
        return None
    try:
        state = callbacks.handover_returned(
            r, handover.callback_reference, store.get_personal(r, handover.reference), partner=handover.partner,
            reason=return_reason, actor=actor, now=now) or callbacks.get_status(r, handover.callback_reference).state
    except Exception as error:  # noqa: BLE001 (the handover is finished: the loket must still hear of the return)
        log.error("returned handover: its callback request could not go back to the queue (%s); the loket "
                  "follows the handover up", type(error).__name__)
        return None
    if state in ("open", "waiting"):
        store.transition(r, handover.reference, (DONE,), {"back_in_queue": "1"})
    if state in ("open", "waiting", "withdrawn"):
        _drop_personal(r, handover.reference, actor)
    return state


def settle_returned(r: redis.Redis, principal: Principal | None, handover: Handover, now: datetime) -> Handover:
    """The loket helped a citizen whose handover came back itself (called them, or saw them at the counter): it
    no longer waits for the loket, so it leaves the top of the list and its "nobody calls them" warning. The
    personal fields go at the end of their retention, as for any finished handover."""
    if principal is None or not may_create(principal, handover.location):
        raise ApiError(403, _("Alleen het loket dat de overdracht maakte, kan dit vastleggen."))
    [handover] = for_loket(r, [handover])
    if not handover.awaits_loket:
        raise ApiError(409, _("Deze overdracht wacht niet op het loket. Er is niets vast te leggen."))
    if store.transition(r, handover.reference, (DONE,), {"settled_by_loket": _iso(now)}) is None:
        raise _final_refusal()
    return get(r, handover.reference)


def _drop_personal(r: redis.Redis, reference: str, actor: str) -> None:
    phone = store.purge(r, reference)
    if phone is not None:
        audit.record(r, action="handover.personal.delete", activity="handovers", actor=actor, subject=phone,
                     reference=reference)


def _phone(r: redis.Redis, handover: Handover) -> str | None:
    fields = store.get_personal(r, handover.reference)
    return fields.get("phone") if fields else None


# ---- links -----------------------------------------------------------------------------------------------

def check_link(r: redis.Redis, token: str, now: datetime) -> tokens.TokenCheck:
    """What a partner link is, without using it up: mail filters fetch every link before the reader clicks."""
    check = tokens.inspect(r, token, int(now.timestamp()))
    if check.state == tokens.VALID and (check.reference is None or find(r, check.reference) is None):
        return tokens.TokenCheck(tokens.UNKNOWN)
    return check


def open_link(r: redis.Redis, token: str, now: datetime) -> tuple[tokens.TokenCheck, Handover | None]:
    """Use a partner link: the handover for the first use only; the check says why otherwise."""
    check = tokens.redeem(r, token, int(now.timestamp()))
    if check.state != tokens.VALID or check.reference is None:
        return check, None
    handover = find(r, check.reference)
    if handover is None:
        return tokens.TokenCheck(tokens.UNKNOWN), None
    mark_opened(r, handover, now)
    return check, get(r, handover.reference)


def resend_link(r: redis.Redis, token: str, now: datetime) -> str:
    """"Send me a new link": only for a used or expired link of an open handover, to the same channel.

    Returns "sent", "closed" (nothing left to do), "wait" (a link was just sent) or "unknown"."""
    check = tokens.inspect(r, token, int(now.timestamp()))
    if check.state not in (tokens.USED, tokens.EXPIRED) or check.reference is None:
        return "unknown"
    handover = find(r, check.reference)
    if handover is None or not handover.is_open:
        return "closed"
    if not store.allow_resend(r, handover.reference):
        return "wait"
    notify.send_link(r, handover, "handover_new_link", now)
    return "sent"
