"""Callback requests: the rules. Intake from every channel, the queue, the worklist, retention.

No Flask request objects here; `now` is a parameter wherever the outcome depends on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import redis
from flask import Config, current_app
from flask_babel import gettext as _

from routing import attempts as attempt_spacing
from routing import current
from routing.callbacks import states
from routing.directory import schedule
from routing.directory.model import DIENSTVERLENER, Location
from routing.errors import ApiError, NotFound, try_again_in
from routing.handovers.model import Handover
from routing.http import base_url
from routing.privacy import audit, clients, crypto
from routing.privacy import phone as phones
from routing.store import callbacks as store

log = logging.getLogger(__name__)

# Where staff work through requests; also the link in the on-duty notice (built without a request).
WORKLIST_PATH = "/loket/terugbelverzoeken"

# Short and unambiguous when read aloud or typed from an SMS: no 0/O, no 1/I.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "TB-"
REFERENCE_LENGTH = 4
REFERENCE_TRIES = 8

# The day parts a citizen can prefer, at their widest; a location offers each as far as it is staffed then
# (part_window).
DAY_PARTS = {"morning": (time(7), time(12)), "afternoon": (time(12), time(18))}
# A day part is offered only where the dienstverlener is there for at least this long in it: whoever picks it
# must be callable then (a Friday shift until 12:30 offers no Friday afternoon).
MIN_PART = timedelta(hours=1)
PART_CODES = {"morning": "m", "afternoon": "a"}
CHANNELS = ("web", "api", "sms", "whatsapp", "voice")
# Channels a citizen reaches by phone, from the number itself: their per-number and per-location intake budgets
# are their own, so a flood through the form or the API cannot shut them (CALLBACK_RATE_PHONE and
# CALLBACK_RATE_LOCATION count once for each group; intake_limits).
PHONE_CHANNELS = frozenset({"sms", "whatsapp", "voice"})
REPLY_BY = ("call", "sms", "whatsapp")
MESSAGE_REPLIES = ("sms", "whatsapp")  # a message instead of a call: a mobile number is needed
# What staff record after reaching the citizen. Not "handed_over": a request is handed over only by making a
# handover (handovers.service → mark_handed_over), so that a partner really gets it and calls.
OUTCOMES = ("helped", "referred", "other")
ATTEMPT_RESULTS = ("reached", "not_reached", "wrong_number")
# The assignee of a request a partner took over at intake: "partner:<partner id>".
PARTNER_ASSIGNEE = "partner:"
# After "not reached" the next attempt is suggested this much later (within a shift).
RETRY_AFTER = timedelta(hours=2)


@dataclass(frozen=True)
class Intake:
    """A validated request, from any channel. `phone` is E.164; free texts passed the BSN check."""

    location: str
    phone: str
    channel: str
    name: str = ""
    note: str = ""
    topic: str | None = None
    language: str = "nl"
    reply_by: str = "call"
    preferred: tuple[str, ...] = ()  # "2026-11-30:morning"


@dataclass(frozen=True)
class Receipt:
    reference: str
    status: str
    expected_callback: datetime | None
    withdraw_token: str | None  # None when an existing request was found: its token was given before
    existing: bool = False
    reply_by: str = "call"  # how the citizen is contacted (an existing request: as it was asked the first time)
    channel: str = "web"  # how it was asked (an existing request: the first time), where INTREKKEN is to be sent
    language: str = "nl"  # the call language (an existing request: the one it has, whatever a repeat says)


@dataclass(frozen=True)
class Attempt:
    """One call staff recorded: when, what happened, and which employee (their account id; no number)."""

    at: datetime
    result: str
    by: str
    counted: bool = True  # False: a "not reached" soon after one that counted (routing.attempts)


@dataclass
class CallbackRequest:
    reference: str
    location: str
    state: str
    channel: str
    created: datetime
    topic: str | None = None
    language: str = "nl"
    reply_by: str = "call"
    preferred: tuple[str, ...] = ()
    release: datetime | None = None
    updated: datetime | None = None  # when it last changed (to the second): for people
    rev: int = 0  # how many changes it went through: what staff forms compare
    asked: int = 1
    attempts: int = 0
    last_attempt: str | None = None
    tries: tuple[Attempt, ...] = ()  # oldest first; empty on requests from before it was kept
    next_attempt: datetime | None = None
    outcome: str | None = None
    handover: str | None = None
    assignee: str | None = None
    # A request a partner took over at intake and sent back to the loket: which partner, and why
    # ("partner": its own choice, with a note; "max_attempts": it could not reach them. A number it found
    # wrong closes the request instead: see handovers.service._callback_after).
    returned_by: str | None = None
    return_reason: str | None = None
    # Personal fields: None unless decrypted for someone allowed to see them (and not deleted yet).
    phone: str | None = None
    name: str | None = None
    note: str | None = None
    return_note: str | None = None  # the partner's note when it sent the request back (free text)


def clock() -> datetime:
    """The current time; tests pin it for the pages and webhooks that have no `now` parameter."""
    return datetime.now(UTC)


# --- settings -------------------------------------------------------------------------------------------

DAY_S = 86400


def _days(name: str) -> int:
    value = current.app().config[name]
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value) * DAY_S


def expire_after_s() -> int:
    return _days("CALLBACK_EXPIRE_AFTER")


# The personal fields' own TTL on a live request: a backstop only, a day after the purge job should have
# expired it (it expires requests on time and counts what it did).
PERSONAL_BACKSTOP_S = DAY_S


def retention_done_s() -> int:
    return _days("CALLBACK_RETENTION_DONE")


def intake_limit(config: Config, name: str) -> tuple[int, int]:
    """A CALLBACK_RATE_* setting ("5 per day") as (attempts, seconds); (0, 0) when limits are off."""
    if not config.get("RATELIMIT_ENABLED", True):
        return 0, 0
    return _parse_limit(config[name])


@lru_cache(maxsize=16)
def _parse_limit(text: str) -> tuple[int, int]:
    from limits import parse

    item = parse(text)
    return item.amount, item.get_expiry()


def phone_key(phone: str) -> str:
    """Lookup key for a number (dedup, STOP, rate limits)."""
    return crypto.pseudonym_key("callback-phone", phone)


def _token_hash(token: str) -> str:
    return urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).decode().rstrip("=")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _from_epoch(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(int(value), schedule.TZ) if value else None


def _day(moment: datetime) -> str:
    return moment.astimezone(schedule.TZ).date().isoformat()


def new_reference(length: int = REFERENCE_LENGTH) -> str:
    # One random byte per character, read in one call (secrets.choice reads the OS once per character).
    # The alphabet has 32 letters, so the low five bits of a byte pick one without bias.
    return REFERENCE_PREFIX + "".join(REFERENCE_ALPHABET[byte & 31] for byte in secrets.token_bytes(length))


def normalise_reference(text: str) -> str:
    """Accept what people type: lower case, spaces, a missing dash ("tb 7kq4" is TB-7KQ4)."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum())[:10]
    return REFERENCE_PREFIX + cleaned.removeprefix("TB")


# --- directory ----------------------------------------------------------------------------------------

def location_for(location_id: str) -> Location:
    from routing.directory import service as directory

    return directory.get_location(location_id)


def known_location(location_id: str) -> Location | None:
    """A request's location, or None when it has left the directory (its requests outlive it)."""
    try:
        return location_for(location_id)
    except ApiError:
        return None


def preferred_options(location: Location, now: datetime, days: int = 3) -> list[str]:
    """Day parts a citizen can pick, as they are sent ("2026-11-30:morning"): the staffed parts (part_window) of
    the next `days` days with a shift at this location, not over yet."""
    options: list[str] = []
    after = now - timedelta(seconds=1)
    today = now.astimezone(schedule.TZ).date()
    if schedule.is_present(location, now):
        after = datetime.combine(today, time(0), tzinfo=schedule.TZ)
    seen: list[date] = []
    while len(seen) < days:
        start = schedule.next_shift_start(location, after)
        if start is None:
            break
        day = start.date()
        if day not in seen:
            seen.append(day)
            for part in DAY_PARTS:
                window = part_window(location, day, part)
                if window is not None and window[1] > now:
                    options.append(f"{day.isoformat()}:{part}")
        after = datetime.combine(day + timedelta(days=1), time(0), tzinfo=schedule.TZ)
    return options


def slot_code(slot: str) -> str:
    """'2026-11-30:morning' -> '20261130m' (how it is stored)."""
    day, part = slot.split(":")
    return day.replace("-", "") + PART_CODES[part]


def slot_from_code(code: str) -> str:
    part = next(name for name, c in PART_CODES.items() if c == code[-1])
    return f"{code[:4]}-{code[4:6]}-{code[6:8]}:{part}"


def part_window(location: Location, day: date, part: str,
                minimum: timedelta = MIN_PART) -> tuple[datetime, datetime] | None:
    """A day part as this location staffs it on `day`: from the first moment to the last that a shift covers
    in it; None when the shifts cover less than `minimum` of it."""
    part_start, part_end = DAY_PARTS[part]
    covered = timedelta(0)
    first: time | None = None
    last: time | None = None
    for interval in schedule.intervals_on(location.presence, day):
        start, end = max(interval.start, part_start), min(interval.end, part_end)
        if start < end:
            covered += datetime.combine(day, end) - datetime.combine(day, start)
            first, last = min(first or start, start), max(last or end, end)
    if first is None or last is None or covered < minimum:
        return None
    return datetime.combine(day, first, tzinfo=schedule.TZ), datetime.combine(day, last, tzinfo=schedule.TZ)


def slot_window(location: Location | None, slot: str) -> tuple[datetime, datetime]:
    """When a chosen day part is: as the location staffs it that day (however briefly: its shifts may have
    changed since the citizen chose it), or, when nobody is there in it at all (or the location is gone), the
    part at its widest."""
    day, part = slot.split(":")
    d = date.fromisoformat(day)
    start, end = DAY_PARTS[part]
    window = part_window(location, d, part, minimum=timedelta(0)) if location is not None else None
    return window or (datetime.combine(d, start, tzinfo=schedule.TZ), datetime.combine(d, end, tzinfo=schedule.TZ))


# A request made in a shift's last minutes is promised for the next shift: the employee may still call
# today, but we do not promise what they may not manage.
LAST_CALL_MARGIN = timedelta(minutes=15)


def expected_callback(location: Location, state: str, release: datetime | None, preferred: tuple[str, ...],
                      now: datetime, next_attempt: datetime | None = None) -> datetime | None:
    """From when the citizen can expect the call: the release, or now while the dienstverlener is there for
    a while yet, else the next shift's start; after a call that did not reach them, not before the next attempt
    staff planned; moved to their first preferred day part that is not over by then. None when the loket will
    not call (finished, or with a partner)."""
    if state not in ("waiting", "open", "in_progress"):
        return None
    earliest = release if state == "waiting" and release else _next_call_moment(location, now)
    if next_attempt is not None and next_attempt > earliest:
        earliest = next_attempt
    windows = sorted(slot_window(location, s) for s in preferred)
    for start, end in windows:
        if end > earliest:
            return max(start, earliest).astimezone(schedule.TZ)
    return earliest.astimezone(schedule.TZ)


def expected_callback_of(request: CallbackRequest, now: datetime) -> datetime | None:
    """expected_callback for a stored request: its release, preferred moments and planned next attempt."""
    return expected_callback(location_for(request.location), request.state, request.release, request.preferred,
                             now, request.next_attempt)


def _next_call_moment(location: Location, now: datetime) -> datetime:
    """Now, while someone is at the counter for LAST_CALL_MARGIN or longer; else the next shift's start (now
    when no shift is planned: the request is open for whoever comes)."""
    until = schedule.present_until(location, now)
    if until is not None and until - now >= LAST_CALL_MARGIN:
        return now
    return schedule.next_shift_start(location, now) or now


def queue_place(location: Location, now: datetime) -> tuple[str, datetime | None]:
    """Where a request for the loket goes now, and when it is released: open while the dienstverlener is
    there, else waiting until the next shift's start. No shift planned at all: open, so the request is not
    hidden in a queue nobody empties."""
    release = None if schedule.is_present(location, now) else schedule.next_shift_start(location, now)
    return ("waiting" if release is not None else "open"), release


def _sole_handover_partner(location: Location, topic: str | None) -> str | None:
    """The one partner that serves this location, takes this topic and has a handover channel here."""
    if not topic:
        return None
    from routing.directory import service as directory

    found_topic = directory.get_directory().topics.get(topic)
    if found_topic is None:
        return None
    found = []
    for partner_id in found_topic.partners:
        partner = directory.get_directory().partners.get(partner_id)
        if partner is None or not directory.serves(partner, location):
            continue
        channels = directory.partner_channels(partner_id, location.id)
        if channels.sms or channels.email:
            found.append(partner_id)
    return found[0] if len(found) == 1 else None


# --- intake -------------------------------------------------------------------------------------------

def intake_limits(client_address: str | None, client_key: str | None = None,
                  channel: str = "web", now: datetime | None = None) -> store.IntakeLimits:
    """The CALLBACK_RATE_* limits for one intake. The per-client limit counts per API key for API clients
    (a partner portal sends for many citizens from one address: CALLBACK_RATE_API_KEY), else per address
    (CALLBACK_RATE_IP; `clients.rate_limit_id`: a keyed pseudonym, an IPv6 client by its /64), and not at
    all for a webhook (whose address is Twilio's). CALLBACK_RATE_PHONE and CALLBACK_RATE_LOCATION count the
    phone channels (SMS, WhatsApp, voice) apart from the web form and API: whoever types someone else's
    number into the form until its limit is reached does not stop that person from texting or calling.
    The windows follow Amsterdam's clock at `now`: a daily limit starts afresh at local midnight."""
    config = current.app().config
    common = {"phone": intake_limit(config, "CALLBACK_RATE_PHONE"),
              "location": intake_limit(config, "CALLBACK_RATE_LOCATION"),
              "pool": _pool(channel), "utc_offset": _utc_offset(now or clock())}
    if client_key:
        return store.IntakeLimits(ip=intake_limit(config, "CALLBACK_RATE_API_KEY"), ip_key=f"key-{client_key}",
                                  **common)
    if client_address:
        shared = clients.shared_network(client_address, config["CALLBACK_SHARED_NETWORKS"])
        if shared is not None:  # one client with a budget of its own: a town hall's network, not one person
            return store.IntakeLimits(ip=intake_limit(config, "CALLBACK_RATE_SHARED_NETWORK"),
                                      ip_key=clients.rate_limit_id(str(shared)), **common)
        return store.IntakeLimits(ip=intake_limit(config, "CALLBACK_RATE_IP"),
                                  ip_key=clients.rate_limit_id(client_address), **common)
    return store.IntakeLimits(**common)


def _utc_offset(now: datetime) -> int:
    offset = now.astimezone(schedule.TZ).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _pool(channel: str) -> str:
    return "phone" if channel in PHONE_CHANNELS else "online"


def sentences(*parts: str | None) -> str:
    """Sentences of a message, the missing ones left out (a hint a location does not have)."""
    return " ".join(part for part in parts if part)


def walk_in_hint(location: Location) -> str | None:
    """Another way to get help when a request cannot be made: coming by, where the location takes walk-ins."""
    if not location.walk_in:
        return None
    return _("Of kom langs op %(address)s als er een medewerker is.", address=location.address)


def _limited(limit: str, location: Location, channel: str, retry_after: int, window: int) -> ApiError:
    """429 with how long to wait and what the citizen can do instead. `limit`: which one was reached ("ip",
    "phone", "location"); `retry_after`: seconds until its window ends (also sent as Retry-After); `window`:
    its length. A daily window ends at midnight: "tomorrow" says that better than "in 10 hours"."""
    if limit == "ip":
        parts = [_("Er kwamen te veel verzoeken van dit apparaat of netwerk.")]
    elif limit == "phone":
        parts = [_("Voor dit telefoonnummer zijn al te veel terugbelverzoeken gedaan.")]
    else:
        parts = [_("Er kwamen hier net heel veel terugbelverzoeken tegelijk binnen.")]
    if window == DAY_S and retry_after > 2 * 3600:
        parts.append(_("Probeer het morgen opnieuw."))
    else:
        parts.append(try_again_in(retry_after))
    if _pool(channel) == "online" and location.inbound_number:
        # Texting from one's own phone counts in budgets of its own (intake_limits).
        parts.append(_("Of stuur een sms met uw vraag naar %(number)s. Wij bellen u dan terug op het nummer "
                       "waarmee u de sms stuurt.", number=phones.display_in_text(location.inbound_number)))
    return ApiError(429, sentences(*parts, walk_in_hint(location)), retry_after=retry_after)


def create_request(r: redis.Redis, intake: Intake, *, now: datetime | None = None,
                   client_address: str | None = None, client_key: str | None = None) -> Receipt:
    """Store a request (or find the live one of this number here). `client_address`: the web client's IP
    address, for the per-client limit; `client_key`: the API client (`apikey:<id>`, or `user:<id>` for an
    account calling the API with its session), for the per-client limit and named in the audit record (the
    address never is); webhooks have neither of their own."""
    now = now or clock()
    location = location_for(intake.location)
    state, release = queue_place(location, now)
    token = secrets.token_urlsafe(18)
    created = _epoch(now)
    facts = {
        "location": location.id, "state": state, "channel": intake.channel, "language": intake.language,
        "reply_by": intake.reply_by, "created": str(created), "updated": str(created), "asked": "1",
        "withdraw": _token_hash(token), "phone_key": phone_key(intake.phone), "attempts": "0",
    }
    if intake.topic:
        facts["topic"] = intake.topic
    if intake.preferred:
        facts["preferred"] = ",".join(slot_code(s) for s in intake.preferred)
    if release is not None:
        facts["release"] = str(_epoch(release))
    blob = _seal(intake.phone, intake.name, intake.note)
    index_key = store.WAITING if state == "waiting" else store.ACTIVE.format(location=location.id)
    expire = expire_after_s()
    limits = intake_limits(client_address, client_key, intake.channel, now)
    for attempt in range(REFERENCE_TRIES + 1):
        reference = new_reference(REFERENCE_LENGTH if attempt < REFERENCE_TRIES else REFERENCE_LENGTH + 2)
        # Written in the same atomic step as the request, and only if the request is stored.
        audit_write = audit.prepare(action="callback.create", activity="callbacks",
                                    actor=f"citizen:{intake.channel}", subject=intake.phone, reference=reference,
                                    client=client_key, started_at=now)
        result = store.intake(
            r, reference=reference, location=location.id, phone_key=facts["phone_key"], facts=facts,
            personal_blob=blob, now=created, index_key=index_key,
            index_score=_epoch(release) if release else created,
            facts_ttl=expire + retention_done_s() + store.FINISHED_FACTS_TTL_S,
            personal_ttl=expire + PERSONAL_BACKSTOP_S, stats_key=store.STATS.format(day=_day(now)),
            stats_field=f"{location.id}|{intake.channel}|{intake.topic or ''}|received",
            notify_window=store.ARRIVAL_NOTICE_WINDOW_S if state == "open" else 0,
            audit_write=audit_write, limits=limits,
        )
        if result.outcome != "taken":
            break
    else:  # pragma: no cover - 32^6 references
        raise RuntimeError("no free callback reference")
    if result.outcome == "limited":
        limit = result.state or "location"
        raise _limited(limit, location, intake.channel, limits.retry_after(limit, created), limits.length(limit))
    if result.outcome == "existing":
        # The same promise as the first time: its release and its preferred moments (read again: rare path).
        existing = get_status(r, result.reference)
        return Receipt(existing.reference, existing.state,
                       expected_callback_of(existing, now),
                       None,
                       existing=True, reply_by=existing.reply_by, channel=existing.channel,
                       language=existing.language)
    if state == "waiting" and location.handover_when_absent:
        state = _try_handover(r, reference, location, intake.topic) or state
    if result.notify:
        notify_on_duty(r, location, now)
    return Receipt(reference, state, expected_callback(location, state, release, intake.preferred, now), token,
                   reply_by=intake.reply_by, channel=intake.channel, language=intake.language)


def _try_handover(r: redis.Redis, reference: str, location: Location, topic: str | None) -> str | None:
    """Absent dienstverlener, one partner for this topic: hand it over warm instead of queueing it."""
    partner_id = _sole_handover_partner(location, topic)
    if partner_id is None:
        return None
    try:
        from routing.handovers.service import create_from_callback
    except ImportError:
        return None
    try:
        create_from_callback(r, reference, partner_id)
    except Exception as error:  # the request is stored and keeps waiting; staff still get it
        log.error("warm handover of a callback request failed (%s); it waits for the next shift",
                  type(error).__name__)
        return None
    facts, _ = store.load(r, reference)
    return facts.get("state")


# --- reading ------------------------------------------------------------------------------------------

def _from_facts(reference: str, facts: dict[str, str]) -> CallbackRequest:
    return CallbackRequest(
        reference=reference, location=facts["location"], state=facts["state"], channel=facts["channel"],
        created=_from_epoch(facts["created"]), topic=facts.get("topic") or None,
        language=facts.get("language", "nl"), reply_by=facts.get("reply_by", "call"),
        preferred=tuple(slot_from_code(c) for c in facts.get("preferred", "").split(",") if c),
        release=_from_epoch(facts.get("release")), updated=_from_epoch(facts.get("updated")),
        rev=int(facts.get("rev") or 0), asked=int(facts.get("asked", 1)), attempts=int(facts.get("attempts", 0)),
        last_attempt=facts.get("last_attempt"), tries=_tries(facts.get("tries")),
        next_attempt=_from_epoch(facts.get("next_attempt")),
        outcome=facts.get("outcome"), handover=facts.get("handover"), assignee=facts.get("assignee"),
        returned_by=facts.get("returned_by") or None, return_reason=facts.get("return_reason") or None,
    )


def _tries(stored: str | None) -> tuple[Attempt, ...]:
    """The `tries` field: [[epoch, result, account id], ...], oldest first; an attempt that did not count has
    a fourth element, 0."""
    return tuple(Attempt(_from_epoch(str(one[0])), one[1], one[2], counted=len(one) < 4 or bool(one[3]))
                 for one in json.loads(stored or "[]"))


def _try_entry(one: Attempt) -> list:
    return [_epoch(one.at), one.result, one.by, *([] if one.counted else [0])]


def _tries_with(request: CallbackRequest, attempt: Attempt) -> str:
    """The `tries` field with one more attempt: written with the attempt, in the same checked transition."""
    return json.dumps([_try_entry(one) for one in (*request.tries, attempt)], separators=(",", ":"))


def _not_found() -> NotFound:
    return NotFound(_("Dit terugbelverzoek bestaat niet (meer)."))


def get_status(r: redis.Redis, reference: str) -> CallbackRequest:
    """The anonymous facts only (what anyone with the reference may know)."""
    reference = normalise_reference(reference)
    facts, _ = store.load(r, reference)
    if not facts:
        raise _not_found()
    return _from_facts(reference, facts)


def _seal(phone: str, name: str, note: str, *, return_note: str | None = None) -> str:
    """The personal fields as the one encrypted blob a request keeps (store.PERSONAL); `return_note` only on a
    request a partner sent back."""
    fields = {"p": phone, "n": name, "t": note}
    if return_note is not None:
        fields["r"] = return_note
    return crypto.encrypt(json.dumps(fields, separators=(",", ":")))


def _unseal(blob: str) -> dict[str, str]:
    return json.loads(crypto.decrypt(blob))


def _phone_in(blob: str | None) -> str | None:
    """The number in a request's blob (the audit record's data subject), None when its data is gone."""
    return _unseal(blob)["p"] if blob else None


def _decrypt_into(request: CallbackRequest, blob: str | None) -> CallbackRequest:
    if blob:
        personal = _unseal(blob)
        request.phone, request.name, request.note = personal["p"], personal["n"], personal["t"]
        request.return_note = personal.get("r") or None
    return request


def get_request(r: redis.Redis, reference: str, *, actor: str = "system:handover") -> CallbackRequest:
    """The request with its personal fields decrypted (for the warm handover); the read is audit-logged."""
    started = datetime.now(UTC)
    reference = normalise_reference(reference)
    facts, blob = store.load(r, reference, with_personal=True)
    if not facts:
        raise _not_found()
    request = _decrypt_into(_from_facts(reference, facts), blob)
    audit.record(r, action="callback.read", activity="callbacks", actor=actor, subject=request.phone,
                 reference=reference, started_at=started)
    return request


# --- state changes ------------------------------------------------------------------------------------

def _move(r: redis.Redis, reference: str, to: str, now: datetime, *, fields: dict[str, str] | None = None,
          personal_ttl: int | None = None, facts_ttl: int | None = None, expect_version: str | None = None,
          allowed_from: tuple[str, ...] | None = None, personal_blob: str | None = None) -> tuple[str, str]:
    """A checked transition; `allowed_from` narrows the states it may come from (default: every state the
    state machine allows). `personal_blob`: encrypted personal fields stored with it (see store.transition)."""
    try:
        return store.transition(r, reference, to, allowed_from or states.allowed_from(to), now=_epoch(now),
                                stats_key=store.STATS.format(day=_day(now)), fields=fields,
                                personal_ttl=personal_ttl, facts_ttl=facts_ttl, expect_version=expect_version,
                                personal_blob=personal_blob)
    except store.StaleChange:
        raise _changed_meanwhile() from None
    except store.TransitionRefused as refused:
        if refused.state is None:
            raise _not_found() from None
        if expect_version is not None:  # a staff form, and the request ended since it was read: say how
            raise _changed_meanwhile(refused.state) from None
        raise ApiError(409, states.refusal_message(refused.state)) from None


def _finish(r: redis.Redis, reference: str, to: str, now: datetime, fields: dict[str, str] | None = None,
            expect_version: str | None = None):
    """Into a final state; personal data goes now (withdrawn, expired) or after the retention (done): then the
    purge job deletes it and counts it, and a Redis TTL a day later is the backstop."""
    personal_ttl = retention_done_s() + DAY_S if to == "done" else 0
    return _move(r, reference, to, now, fields=fields, personal_ttl=personal_ttl,
                 facts_ttl=personal_ttl + store.FINISHED_FACTS_TTL_S, expect_version=expect_version)


def withdraw_link(r: redis.Redis, reference: str, token: str) -> CallbackRequest:
    """The request behind a withdrawal link, for its holder only: an unknown reference and a wrong token look
    the same (404), so the link page tells nobody else whether a reference exists or how it ended."""
    reference = normalise_reference(reference)
    facts, _blob = store.load(r, reference)
    expected = facts.get("withdraw")
    if not facts or not expected or not hmac.compare_digest(expected, _token_hash(token or "")):
        raise ApiError(404, _("Deze link om in te trekken klopt niet."))
    return _from_facts(reference, facts)


def withdraw(r: redis.Redis, reference: str, token: str, *, now: datetime | None = None) -> CallbackRequest:
    """The citizen withdraws with the token from the confirmation: personal fields are deleted at once. A
    finished request is refused (409) with its state in words ("al ingetrokken"), unless staff passed it on
    and a partner still has it (passed_on)."""
    now = now or clock()
    request = withdraw_link(r, reference, token)
    if is_withdrawn(request):
        raise ApiError(409, states.refusal_message("withdrawn"))
    if request.state in states.FINAL:
        withdrawn = _withdraw_passed_on(r, request, now, actor="citizen:link")
        if withdrawn is None:
            raise ApiError(409, states.refusal_message(request.state))
        return withdrawn
    facts, blob = store.load(r, request.reference, with_personal=True)
    return _withdraw(r, request.reference, facts, blob, now, actor="citizen:link")


def is_withdrawn(request: CallbackRequest) -> bool:
    """Withdrawn by the citizen: before anyone took it up, or after staff passed it on (done, outcome
    "withdrawn")."""
    return request.state == "withdrawn" or (request.state == "done" and request.outcome == "withdrawn")


def passed_on(r: redis.Redis, request: CallbackRequest) -> list[Handover]:
    """The handovers still open of a request passed on to partners and done with on the loket's side (one
    per partner, and any the loket made again from one that came back): the citizen may still withdraw it
    until every partner has finished."""
    return [handover for handover in _passed_on_as(r, request) if handover.is_open]


def with_partners(r: redis.Redis, request: CallbackRequest) -> list[Handover]:
    """The open handovers through which partners are to contact the citizen: the one a partner took over at
    intake (the request still live, "handed_over"), or those staff passed it on as (passed_on)."""
    if request.state == "handed_over" and request.handover:
        from routing.handovers import service as handovers

        taken = handovers.find(r, request.handover)
        return [taken] if taken is not None and taken.is_open else []
    return passed_on(r, request)


def made_for(r: redis.Redis, request: CallbackRequest) -> list[Handover]:
    """Every handover made for this request, in any state (handovers.made_for_same_citizen: one per partner of
    the group, and any made again from one that came back). Empty without one, or when its record is gone."""
    if not request.handover:
        return []
    from routing.handovers import service as handovers

    first = handovers.find(r, request.handover)
    return handovers.made_for_same_citizen(r, first) if first is not None else []


def handovers_made(r: redis.Redis, request: CallbackRequest) -> list[Handover]:
    """made_for, oldest first, as the loket sees them, for the staff page (which names the bare reference when
    the records are gone)."""
    from routing.handovers import service as handovers

    return handovers.for_loket(r, sorted(made_for(r, request), key=lambda h: (h.created_at, h.reference)))


def _passed_on_as(r: redis.Redis, request: CallbackRequest) -> list[Handover]:
    """Every handover made for a done request (staff passed it on), open or not."""
    return made_for(r, request) if request.state == "done" else []


def _withdraw_passed_on(r: redis.Redis, request: CallbackRequest, now: datetime,
                        actor: str) -> CallbackRequest | None:
    """A request staff passed on, while a partner still has it or is about to (None when none has): nobody is
    to call any more. The open handovers end, every one of them (also one a partner finished or sent back) loses
    its copy, and so does the request, at once instead of after the retention.

    The request is marked withdrawn before the handovers are read again: a colleague handing a returned one over
    again links the follow-up first and then looks at the request (handovers.service._again), so either that
    look sees the withdrawal or this reading sees the link, and the follow-up's partner does not call."""
    from routing.handovers.service import withdraw_by_citizen

    if not any(handover.is_open or handover.being_handed_over_again for handover in _passed_on_as(r, request)):
        return None
    reference = request.reference
    _facts, blob = store.load(r, reference, with_personal=True)
    if store.withdrawn_after_done(r, reference, outcome="withdrawn", now=_epoch(now)):
        audit.record(r, action="callback.withdraw", activity="callbacks", actor=actor,
                     subject=_phone_in(blob), reference=reference, started_at=now)
    for handover in _passed_on_as(r, request):
        withdraw_by_citizen(r, handover.reference, now)
    return get_status(r, reference)


def withdraw_by_phone(r: redis.Redis, location_id: str, phone: str, *,
                      now: datetime | None = None) -> CallbackRequest | None:
    """STOP / INTREKKEN from the number itself: withdraws that number's live request at this location, or the
    one staff passed on there while a partner still has it (passed_on)."""
    now = now or clock()
    reference = store.reference_for_phone(r, location_id, phone_key(phone))
    if reference is None:
        return None
    facts, blob = store.load(r, reference, with_personal=True)
    if facts.get("state") not in store.LIVE_STATES:
        return _withdraw_passed_on(r, _from_facts(reference, facts), now, actor="citizen:sms") if facts else None
    return _withdraw(r, reference, facts, blob, now, actor="citizen:sms")


def _withdraw(r: redis.Redis, reference: str, facts: dict[str, str], blob: str | None, now: datetime,
              actor: str) -> CallbackRequest:
    subject = _phone_in(blob)
    _finish(r, reference, "withdrawn", now, {"outcome": "withdrawn"})
    audit.record(r, action="callback.withdraw", activity="callbacks", actor=actor, subject=subject,
                 reference=reference, started_at=now)
    if facts.get("handover") and (facts.get("state") == "handed_over" or facts.get("returned_by")):
        from routing.handovers.service import withdraw_by_citizen

        # The partner need not call any more; and a handover it sent back keeps no copy of the fields either.
        withdraw_by_citizen(r, facts["handover"], now)
    return get_status(r, reference)


def mark_handed_over(r: redis.Redis, reference: str, handover_reference: str, *,
                     now: datetime | None = None) -> None:
    """Called when staff hand a request over: their part is done, the request lives on as that handover."""
    _finish(r, reference, "done", now or clock(),
            {"outcome": "handed_over", "handover": handover_reference})


def pass_to_partner(r: redis.Redis, reference: str, handover_reference: str, partner_id: str, *,
                    now: datetime | None = None) -> None:
    """Called when a partner takes a request over at intake: it stays live (the citizen can still withdraw it,
    and asking again finds it) until the partner finishes the handover."""
    # One copy of the personal data, the handover's: the request's own goes now.
    _move(r, reference, "handed_over", now or clock(),
          fields={"handover": handover_reference, "assignee": PARTNER_ASSIGNEE + partner_id}, personal_ttl=0)


def handling_partner(request: CallbackRequest) -> str | None:
    """The partner that took the request over at intake (see pass_to_partner), if any."""
    assignee = request.assignee or ""
    return assignee.removeprefix(PARTNER_ASSIGNEE) if assignee.startswith(PARTNER_ASSIGNEE) else None


def handover_finished(r: redis.Redis, reference: str, *, outcome: str = "handed_over",
                      now: datetime | None = None) -> None:
    """The partner finished the handover of a request passed on at intake: the request is done (`outcome`
    "wrong_number" when the partner found the number wrong, as staff record it). Nothing happens to a request
    in any other state (handed over by staff, or withdrawn meanwhile)."""
    try:
        _move(r, reference, "done", now or clock(), fields={"outcome": outcome},
              facts_ttl=store.FINISHED_FACTS_TTL_S, allowed_from=("handed_over",))
    except ApiError:
        pass


def handover_returned(r: redis.Redis, reference: str, personal: dict[str, str] | None, *, partner: str,
                      reason: str, actor: str, now: datetime | None = None) -> str | None:
    """The partner sent back a request it took over at intake ("not ours"): the request is the loket's
    again, in its queue as if it came in now (open while the location is staffed, else waiting for the next
    shift, whose release tells the on-duty channel), with its own copy of the personal fields again — taken
    from the handover's (`personal`: phone, name, note and the partner's `return_note`) — under the same
    retention as any live request. Returns the new state; None when nothing changed: not handed over at
    intake (staff handed it over: done already), or withdrawn or finished meanwhile (final never changes).

    Sent back so late that it would expire before its release (CALLBACK_EXPIRE_AFTER after it came in), or
    without personal fields left to call with, it expires instead: the queue would expire it unseen. The
    caller then leaves the returned handover to the loket's aftercare, as for any other returned handover."""
    now = now or clock()
    facts, _blob = store.load(r, reference)
    if facts.get("state") != "handed_over":
        return None
    location = location_for(facts["location"])
    expires_at = int(facts["created"]) + expire_after_s()
    fields = {"assignee": "", "returned_by": partner, "return_reason": reason}
    phone = (personal or {}).get("phone")
    queue_state, release = queue_place(location, now)
    try:
        # Released only after it expires (sent back on the last day, the next shift after it): the purge job
        # would expire it unseen, so it expires now and the loket follows the handover up instead.
        if not phone or _epoch(release or now) >= expires_at:
            to = "expired"  # as _finish does, but only from handed_over
            _move(r, reference, to, now, fields={**fields, "outcome": "expired"}, personal_ttl=0,
                  facts_ttl=store.FINISHED_FACTS_TTL_S, allowed_from=("handed_over",))
        else:
            to = queue_state
            backstop = expires_at + PERSONAL_BACKSTOP_S - _epoch(now)  # as set at intake
            if release is not None:
                fields["release"] = str(_epoch(release))
            blob = _seal(phone, personal.get("name", ""), personal.get("note", ""),
                         return_note=personal.get("return_note", ""))
            _move(r, reference, to, now, fields=fields, personal_ttl=backstop, personal_blob=blob,
                  allowed_from=("handed_over",))
    except ApiError:  # withdrawn (or otherwise changed) in the meantime: as it is
        return None
    audit.record(r, action=f"callback.return.{to}", activity="callbacks", actor=actor, subject=phone,
                 reference=reference, started_at=now)
    if to == "open":
        notify_on_duty(r, location, now)
    return to


# --- queue --------------------------------------------------------------------------------------------

def release_waiting(r: redis.Redis, *, now: datetime | None = None) -> dict[str, int]:
    """Open the waiting requests of every location that is staffed right now: at their release time (the next
    shift's start), or sooner when the location is staffed before it (a presence exception added for today):
    they waited only because nobody was there. One whose release time came at a location that is not staffed
    (a late or catching-up scheduler never releases at 3 a.m.) waits for the next shift. Notify each location
    once."""
    now = now or clock()
    released: dict[str, int] = {}
    staffed: dict[str, bool] = {}  # per location, worked out once per run
    planned = store.releases(r)
    for (reference, release), facts in zip(planned, store.load_many(r, [ref for ref, _release in planned])):
        if not facts:
            store.drop_from_indexes(r, reference)
            continue
        if facts.get("state") != "waiting":
            continue
        location = known_location(facts["location"])
        if location is None:  # gone from the directory: nobody to release it to; the purge job expires it
            continue
        if location.id not in staffed:
            staffed[location.id] = schedule.is_present(location, now)
        if not staffed[location.id]:
            if release > _epoch(now):  # not due: it waits as planned
                continue
            next_start = schedule.next_shift_start(location, now)
            if next_start is not None:
                store.reschedule(r, reference, _epoch(next_start))
                continue
            # No shift planned at all: open, so it is not hidden in a queue nobody empties (as queue_place).
        try:
            _move(r, reference, "open", now, allowed_from=("waiting",))
        except ApiError:
            continue  # withdrawn or handed over in the meantime
        released[location.id] = released.get(location.id, 0) + 1
    for location_id in released:
        notify_on_duty(r, location_for(location_id), now)
    return released


def tell_later_arrivals(r: redis.Redis, *, now: datetime | None = None) -> dict[str, int]:
    """The arrivals a notice window held back: one notice per location whose window is over, with the
    count then (every minute, from the scheduler). Returns the counts told, per location: none where
    colleagues picked them all up within the window."""
    from routing.directory import service as directory

    now = now or clock()
    told = {}
    for location_id in store.arrivals_to_tell(r, sorted(directory.get_directory().locations)):
        count = notify_on_duty(r, location_for(location_id), now)
        if count:
            told[location_id] = count
    return told


def waiting_for_someone(r: redis.Redis, location_id: str, now: datetime) -> int:
    """The requests here that nobody is working on: open ones (those released at the shift's start are open
    too) and those whose claim expired, which the worklist offers to anyone again. One a colleague is calling
    back is not waiting, and the on-duty notice says "N wachten"."""
    return sum(1 for request in active_requests(r, [location_id])
               if request.state == "open" or claim_expired(request, now))


def notify_on_duty(r: redis.Redis, location: Location, now: datetime) -> int:
    """'N callback requests waiting' to whoever answers this location's requests; never personal data.
    Nothing waiting (all picked up meanwhile), nothing sent. Returns N."""
    count = waiting_for_someone(r, location.id, now)
    if not count:
        return 0
    try:
        from routing.notices.service import NoticeContextError, Recipient, create_notice
    except ImportError:
        log.info("notice dispatch not available; %s requests waiting at %s", count, location.id)
        return count
    channels = location.on_duty
    if location.callbacks_to != DIENSTVERLENER:
        from routing.directory import service as directory

        channels = directory.partner_channels(location.callbacks_to, location.id)
    try:
        create_notice(r, "callbacks_waiting", Recipient(sms=channels.sms, email=channels.email),
                      {"location": location.name, "count": count,
                       "link": f"{base_url()}{WORKLIST_PATH}?location={location.id}"})
    except Exception as error:  # the requests are stored and listed; a lost notice must not undo that
        # A refused context names the key at fault and never its value; any other error only by its type.
        reason = f": {error}" if isinstance(error, NoticeContextError) else ""
        log.error("on-duty notice for %s not created (%s%s)", location.id, type(error).__name__, reason)
    return count


# --- retention ----------------------------------------------------------------------------------------

def purge_expired(r: redis.Redis, *, now: datetime | None = None) -> dict[str, int]:
    """Expire what nobody picked up (its personal data deleted with it) and delete the personal data of requests
    done past their retention. Returns counts only: {"expired": …, "personal_deleted": … (the done ones)}."""
    now = now or clock()
    expired = 0
    for reference in store.live_created_before(r, _epoch(now) - expire_after_s()):
        try:
            _finish(r, reference, "expired", now, {"outcome": "expired"})
        except ApiError as refused:
            if refused.status == 404:  # its facts outlived their TTL: only the index entries are left
                store.drop_from_indexes(r, reference)
            continue
        expired += 1
        audit.record(r, action="callback.expire", activity="retention", actor="system:retention",
                     subject=None, reference=reference, started_at=now)
    forgotten = store.forget_personal(r, store.done_before(r, _epoch(now) - retention_done_s()))
    return {"expired": expired, "personal_deleted": forgotten}


def personal_deleted_on(r: redis.Redis, request: CallbackRequest) -> datetime | None:
    """When the purge job deletes a done request's personal fields (its retention after it was done; the job runs
    every hour); None when they are gone already or the request is not done."""
    if request.state != "done":
        return None
    done_at = store.personal_kept_since(r, request.reference)
    return None if done_at is None else _from_epoch(str(done_at + retention_done_s()))


# --- staff --------------------------------------------------------------------------------------------

def due_since(request: CallbackRequest) -> datetime:
    """From when staff should call: its next attempt once one is planned, or else its first preferred moment (a
    missed moment stays due; not before it came in), or, without a preference, when it came in."""
    if request.next_attempt is not None:
        return request.next_attempt
    if request.preferred:
        return max(request.created, min(start for start, _end in _windows(request)))
    return request.created


def due_now(request: CallbackRequest, now: datetime) -> bool:
    return due_since(request) <= now


def missed(request: CallbackRequest, now: datetime) -> bool:
    """A preferred moment has passed without a call (and no next attempt is planned)."""
    return request.next_attempt is None and any(end <= now for _start, end in _windows(request))


def _windows(request: CallbackRequest) -> list[tuple[datetime, datetime]]:
    """The request's day parts as its location staffs them; worked out once per location and day part (a
    worklist asks for the same few of them for every request, twice)."""
    from routing.directory.service import derived

    return [derived(("slot_window", request.location, slot),
                    lambda slot=slot: slot_window(known_location(request.location), slot))
            for slot in request.preferred]


def worklist(r: redis.Redis, location_ids: list[str], *, now: datetime | None = None) -> list[CallbackRequest]:
    """Open and in-progress requests, most urgent first: due now (a missed moment before the others),
    then asked more than once, then oldest. Asking again counts once: anyone who knows a number can send it
    again and again, so a count would let them move that request past people who have waited longer."""
    now = now or clock()
    return sorted(active_requests(r, location_ids),
                  key=lambda q: (not due_now(q, now), not missed(q, now), q.asked <= 1, q.created))


def active_requests(r: redis.Redis, location_ids: list[str]) -> list[CallbackRequest]:
    """The open and in-progress requests of these locations (their facts: nothing personal)."""
    requests: list[CallbackRequest] = []
    for location_id in location_ids:
        references = store.active(r, location_id)
        for reference, facts in zip(references, store.load_many(r, references)):
            if facts:
                requests.append(_from_facts(reference, facts))
    return requests


def get_visible(r: redis.Redis, reference: str, principal) -> CallbackRequest:
    """The anonymous facts for whoever may follow the request's location (404 for anyone else, so
    references cannot be probed)."""
    request = get_status(r, reference) if principal is not None else None
    if request is None or not may_follow(principal, request.location):
        raise _not_found()
    return request


def held_for_next_shift(r: redis.Redis, location_ids: list[str]) -> list[CallbackRequest]:
    """Waiting requests of these locations, soonest release first: staff see what the next shift brings
    (facts only; they cannot be opened before their release)."""
    wanted = set(location_ids)
    references = store.waiting(r)
    held = [_from_facts(ref, facts) for ref, facts in zip(references, store.load_many(r, references))
            if facts and facts.get("state") == "waiting" and facts["location"] in wanted]
    return sorted(held, key=lambda q: (q.release or q.created, q.created))


def open_for_staff(r: redis.Redis, reference: str, principal, *, now: datetime | None = None,
                   claim: bool = True) -> CallbackRequest:
    """Show one request with its number to who handles it (404 for anyone else); audit-logged.
    Opening an open request takes it in progress (unless `claim` is off), so colleagues see someone is on
    it. A request a colleague is working on is not taken over: it shows its facts only, without the number,
    until this employee takes it over (`take_over`), unless that claim expired (`claim_expired`): then opening
    takes it, as an open one."""
    now = now or clock()
    facts, blob = store.load(r, reference, with_personal=True)
    if not facts or not may_handle(principal, facts["location"]):
        raise _not_found()
    _refuse_while_waiting(facts["state"])
    if facts["state"] == "open" and claim:
        try:
            _move(r, reference, "in_progress", now, fields={"assignee": principal.id})
        except ApiError as refused:
            if refused.status != 409:  # a colleague opened it at the same moment: theirs, shown as such
                raise
        facts, blob = store.load(r, reference, with_personal=True)
    elif claim and claim_expired(_from_facts(reference, facts), now):
        # Forgotten (the employee went home): opening it takes it, as an open one, also for its owner, whose claim
        # starts again. A colleague taking it at the same moment wins; it is then shown as theirs.
        try:
            _take(r, reference, _from_facts(reference, facts), principal, now)
        except ApiError as refused:
            if refused.status != 409:
                raise
        facts, blob = store.load(r, reference, with_personal=True)
    if held_by_colleague(_from_facts(reference, facts), principal) or facts["state"] in states.DONE_FOR_LOKET:
        # A colleague's (until taken over), or nothing left to call about: the facts, no number, no access.
        return _from_facts(reference, facts)
    request = _decrypt_into(_from_facts(reference, facts), blob)
    audit.record(r, action="callback.view", activity="callbacks", actor=principal.qualified_id, subject=request.phone,
                 reference=reference, started_at=now)
    return request


def _refuse_while_waiting(state: str) -> None:
    """Held for the next shift: not worked on, nor its number read, before it is released."""
    if state == "waiting":
        raise ApiError(409, _("Dit verzoek wacht op de volgende dienst. U kunt het openen zodra die begint."))


def claim_expired(request: CallbackRequest, now: datetime) -> bool:
    """In progress for CALLBACK_CLAIM_HOURS or longer: no longer keeps colleagues off (open_for_staff takes it).
    `updated` is when it was taken: every move into in_progress sets it, and nothing else changes it meanwhile."""
    hours = int(current_app.config["CALLBACK_CLAIM_HOURS"])
    return request.state == "in_progress" and request.updated is not None and \
        now - request.updated >= timedelta(hours=hours)


def held_by_colleague(request: CallbackRequest, principal) -> bool:
    """In progress with someone else: this employee should not call before taking it over."""
    return request.state == "in_progress" and bool(request.assignee) and request.assignee != principal.id


def version(request: CallbackRequest) -> str:
    """What a staff form sends back (its field is still called `updated`): the request's change count when the
    page was loaded. A count, not a time: two changes within one second differ as well."""
    return str(request.rev)


def _changed_meanwhile(state: str | None = None) -> ApiError:
    """A staff form that came too late. When the request ended meanwhile (the citizen withdrew it while the page
    was open, a colleague finished it, it expired) the employee is told that, not only that it changed: it tells
    them whether to call at all. `state`: the request's state now."""
    ended = {
        "withdrawn": _("De inwoner heeft het verzoek ingetrokken. U hoeft niet meer te bellen. Er is niets "
                       "opgeslagen."),
        "done": _("Dit verzoek is al afgehandeld. U hoeft niet meer te bellen. Er is niets opgeslagen."),
        "expired": _("Dit verzoek is verlopen: het wachtte te lang. U hoeft niet meer te bellen. Er is niets "
                     "opgeslagen."),
    }
    if state in ended:
        return ApiError(409, ended[state])
    return ApiError(409, _("Dit verzoek is veranderd sinds u de pagina opende. Er is niets opgeslagen. "
                           "Open het verzoek opnieuw en kijk wat er nu staat."))


def _refuse_if_stale(request: CallbackRequest, seen: str | None) -> None:
    """A change since the form was loaded (a colleague took it over, gave it back or recorded an attempt)
    refuses the form instead of overwriting what happened. A form without the field is not checked. (The
    moves below also pass what was read as `expect_version`: a change in between is refused the same way.)"""
    if seen is not None and seen != version(request):
        raise _changed_meanwhile(request.state)


def _refuse_if_colleagues(request: CallbackRequest, principal) -> None:
    if held_by_colleague(request, principal):
        raise ApiError(409, _("Een collega is met dit verzoek bezig. Neem het eerst over als u het wilt doen."))


def _handled_request(r: redis.Redis, reference: str, principal) -> CallbackRequest:
    request = get_visible(r, reference, principal)
    if not may_handle(principal, request.location):
        raise ApiError(403, _("Alleen wie dit verzoek afhandelt, legt pogingen vast."))
    _refuse_while_waiting(request.state)
    if request.state == "handed_over":  # the partner calls and finishes it; the loket must not close it
        raise ApiError(409, _("Dit verzoek is doorgegeven aan de organisatie die over de vraag gaat. Die belt "
                              "de inwoner; u hoeft niets te doen."))
    return request


def take_over(r: redis.Redis, reference: str, principal, *, seen: str | None = None,
              now: datetime | None = None) -> CallbackRequest:
    """This employee works on it now, also when a colleague had it (asked for explicitly, never on opening, unless
    the colleague's claim expired: see open_for_staff).
    Through open, so each step is the store's checked transition: a colleague who takes it in between wins
    and this one gets a 409."""
    now = now or clock()
    request = _handled_request(r, reference, principal)
    _refuse_if_stale(request, seen)
    _take(r, reference, request, principal, now)
    return get_status(r, reference)


def _take(r: redis.Redis, reference: str, request: CallbackRequest, principal, now: datetime) -> None:
    """Into this employee's hands as `request` was read (a change since refuses it, 409); audit-logged."""
    if request.state == "in_progress":
        _move(r, reference, "open", now, fields={"assignee": ""}, expect_version=version(request))
        _move(r, reference, "in_progress", now, fields={"assignee": principal.id})
    else:
        _move(r, reference, "in_progress", now, fields={"assignee": principal.id}, expect_version=version(request))
    audit.record(r, action="callback.take_over", activity="callbacks", actor=principal.qualified_id, subject=None,
                 reference=reference, started_at=now)


def give_back(r: redis.Redis, reference: str, principal, *, seen: str | None = None,
              now: datetime | None = None) -> CallbackRequest:
    """In progress → open, with nobody on it: back on the list for whoever picks it up next."""
    now = now or clock()
    request = _handled_request(r, reference, principal)
    _refuse_if_stale(request, seen)
    _refuse_if_colleagues(request, principal)  # only who has it gives it back; others take it over first
    if request.state != "in_progress":
        raise ApiError(409, states.refusal_message(request.state))
    _move(r, reference, "open", now, fields={"assignee": ""}, expect_version=version(request))
    audit.record(r, action="callback.give_back", activity="callbacks", actor=principal.qualified_id, subject=None,
                 reference=reference, started_at=now)
    return get_status(r, reference)


def may_handle(principal, location_id: str) -> bool:
    """Personal fields, opening and attempts: only who handles the location's requests — loket staff bound
    to it, or the employees of the partner holding its counter (callbacks_to). Not coordinators or
    administrators: personal data only for who handles the request (docs/privacy.md)."""
    if principal is None:
        return False
    if principal.role == "staff":
        return location_id in principal.locations
    if principal.role == "partner" and principal.partner:
        try:
            return location_for(location_id).callbacks_to == principal.partner
        except ApiError:
            return False
    return False


def may_follow(principal, location_id: str) -> bool:
    """References, status and counts (no personal fields): who handles them, plus coordinators and admins."""
    if principal is not None and principal.role == "kiosk":
        return location_id in principal.locations
    return principal is not None and (principal.sees_everything or may_handle(principal, location_id))


def suggest_next_attempt(location: Location, now: datetime) -> datetime:
    later = now + RETRY_AFTER
    if schedule.is_present(location, later):
        return later
    return schedule.next_shift_start(location, now) or later


def is_last_attempt(request: CallbackRequest) -> bool:
    """The next attempt is the last: "not reached" then closes the request (CALLBACK_MAX_ATTEMPTS)."""
    return request.attempts + 1 >= int(current_app.config["CALLBACK_MAX_ATTEMPTS"])


def miss_counts_from(request: CallbackRequest, now: datetime) -> datetime | None:
    """From when "not reached" counts as an attempt again; None when it does now. Within an hour of the last
    one that counted it is recorded but not counted (routing.attempts)."""
    return attempt_spacing.counting_from(request.tries, now)


def record_attempt(r: redis.Redis, reference: str, principal, result: str, outcome: str | None = None, *,
                   seen: str | None = None, now: datetime | None = None) -> CallbackRequest:
    """reached (with an outcome) and wrong number finish the request; not reached keeps it open with
    a suggested next attempt, until CALLBACK_MAX_ATTEMPTS is used up. `seen`: the form's `version`;
    a request changed since (or that a colleague is working on) is refused with 409."""
    now = now or clock()
    request = _handled_request(r, reference, principal)
    _refuse_if_stale(request, seen)
    _refuse_if_colleagues(request, principal)
    if result not in ATTEMPT_RESULTS:
        raise ApiError(422, _("Kies wat er gebeurde."), {"result": [_("Kies het resultaat van de poging.")]})
    counted = result != "not_reached" or miss_counts_from(request, now) is None
    fields = {"last_attempt": result, "assignee": principal.id,
              "tries": _tries_with(request, Attempt(now, result, principal.id, counted))}
    if counted:  # written only if nobody changed the request since it was read
        fields["attempts"] = str(request.attempts + 1)
    read = version(request)
    if outcome and result != "reached":
        # An outcome says the citizen was spoken to, "Niet bereikt" or "Verkeerd nummer" that they were not: one of
        # the two is a slip, and guessing which could mean a citizen who was helped is called again, or the reverse.
        slip = _("Er is niets opgeslagen: een uitkomst hoort alleen bij Bereikt. Sprak u de inwoner? Kies dan "
                 "Bereikt en de uitkomst. Sprak u de inwoner niet? Kies dan geen uitkomst.")
        raise ApiError(422, slip, {"outcome": [slip]})
    if result == "reached":
        if outcome == "handed_over":
            # Closing it as handed over without a handover would leave nobody to call the citizen.
            raise ApiError(422, _("Er is niets opgeslagen. Overdragen doet u met de knop Warm overdragen aan een "
                                  "organisatie. Dan krijgt de organisatie het verzoek en belt zij de inwoner."),
                           {"outcome": [_("Kies Geholpen, Doorverwezen of Anders. Wilt u overdragen? Gebruik dan de "
                                          "knop Warm overdragen aan een organisatie.")]})
        if outcome not in OUTCOMES:
            raise ApiError(422, _("Kies de uitkomst."), {"outcome": [_("Kies een uitkomst.")]})
        _finish(r, reference, "done", now, {**fields, "outcome": outcome}, expect_version=read)
    elif result == "wrong_number":
        _finish(r, reference, "done", now, {**fields, "outcome": "wrong_number"}, expect_version=read)
    elif not counted:  # soon after one that counted: noted, and the planned next attempt stays
        _move(r, reference, "open", now, fields=fields, expect_version=read)
    elif is_last_attempt(request):
        _finish(r, reference, "done", now, {**fields, "outcome": "not_reached"}, expect_version=read)
    else:
        next_attempt = suggest_next_attempt(location_for(request.location), now)
        _move(r, reference, "open", now, fields={**fields, "next_attempt": str(_epoch(next_attempt))},
              expect_version=read)
    audit.record(r, action=f"callback.attempt.{result}", activity="callbacks", actor=principal.qualified_id,
                 subject=None, reference=reference, started_at=now)
    return get_status(r, reference)
