"""The directory as plain, immutable values.

Loaded once from the reviewed files under ``config/directory/`` (see ``loader.py``) and swapped as a whole,
so a request never sees half a directory. Nothing here talks to Flask or Redis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Literal

PartnerKind = Literal["national", "municipal"]

# Who receives callback requests left at a location: the location's own dienstverlener, or a partner id
# (Nijmegen: the Belastingdienst support point answers them itself).
DIENSTVERLENER = "dienstverlener"


@dataclass(frozen=True)
class Channels:
    """Where a notice goes: a team SMS number (E.164) and/or an e-mail address."""

    sms: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Interval:
    """Opening on one day, local (Europe/Amsterdam) wall-clock time, end exclusive."""

    start: time
    end: time


@dataclass(frozen=True)
class Hours:
    """Weekly hours (0 = Monday) plus dated exceptions; an exception with no intervals means closed.

    Dutch public holidays are closed unless a dated exception gives hours for that day.
    """

    weekly: dict[int, tuple[Interval, ...]] = field(default_factory=dict)
    exceptions: dict[date, tuple[Interval, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    kind: PartnerKind
    topics: tuple[str, ...]
    handover: Channels
    handover_by_location: dict[str, Channels] = field(default_factory=dict)
    # Abbreviations and other names staff type ("BD", "Dienst Toeslagen").
    aliases: tuple[str, ...] = ()
    # Municipal teams serve one municipality only; None for national partners.
    municipality: str | None = None
    # What a citizen can do without a professional line: the public number or website.
    public_contact: str = ""


@dataclass(frozen=True)
class Line:
    """A professional line: a direct, non-public number from the counter to a partner."""

    partner_id: str
    number: str
    hours: Hours
    fallback_number: str | None = None
    notes: str = ""
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class Location:
    id: str
    name: str
    municipality: str
    address: str
    presence: Hours
    walk_in: bool
    lines: dict[str, Line]
    on_site: dict[str, frozenset[int]]
    callbacks_to: str
    on_duty: Channels
    handover_when_absent: bool
    # The location's own Twilio number (SMS, WhatsApp, calls), E.164: webhooks find the location by it.
    inbound_number: str | None = None
    # Languages its callbacks can be made in besides Dutch and English (ISO 639 codes: staff who speak them,
    # or an interpreter the location arranges); the citizen form offers them.
    call_languages: tuple[str, ...] = ()

    @property
    def all_call_languages(self) -> tuple[str, ...]:
        """Dutch and English, which every location calls back in, and its own `call_languages`."""
        return ("nl", "en") + self.call_languages


@dataclass(frozen=True)
class Topic:
    id: str
    name_nl: str
    name_en: str
    partners: tuple[str, ...]
    synonyms: tuple[str, ...] = ()
    life_event: bool = False
    # Topics a life event touches (their partners are already merged into ``partners``).
    includes: tuple[str, ...] = ()
    # Offered on the citizen callback form, under ``citizen_label`` (plain words, B1).
    citizen: bool = False
    citizen_label: str = ""
    # Set for topics imported from the government's product list (UPL).
    upl_uri: str | None = None


@dataclass(frozen=True)
class Directory:
    locations: dict[str, Location]
    partners: dict[str, Partner]
    topics: dict[str, Topic]
