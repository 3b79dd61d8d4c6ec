"""Read and validate a directory folder as a whole: all of it, or nothing.

Layout: ``partners.yaml``, ``topics.yaml`` (curated), optional ``topics-upl.yaml`` (written by
``flask directory import-upl``), ``laws.yaml`` (law → partner table for that import) and one file per location
under ``locations/``. Every problem names its file, entry and field; its message is in the language the
directory is loaded in (see ``schema.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext
from marshmallow import Schema, ValidationError

from .model import DIENSTVERLENER, Directory, Location, Partner, Topic
from .schema import (LawSchema, LocationSchema, PartnerSchema, Phone, TopicSchema, make_line, make_topic,
                     parse_days)

PARTNERS_FILE = "partners.yaml"
TOPICS_FILE = "topics.yaml"
UPL_TOPICS_FILE = "topics-upl.yaml"
LAWS_FILE = "laws.yaml"
LOCATIONS_DIR = "locations"
# libyaml's safe loader when PyYAML was built with it: a national directory is thousands of entries.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.entry:
            where.append(f"entry '{self.entry}'")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"


class DirectoryInvalid(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the directory")


@dataclass(frozen=True)
class Law:
    law: str
    partners: tuple[str, ...]


def _flatten(messages: Any, path: tuple[str, ...] = ()) -> list[tuple[str | None, str]]:
    """Marshmallow's nested messages → (dotted field, message); dict-value and schema levels dropped."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            step = () if key in ("value", "_schema") else (str(key),)
            out.extend(_flatten(value, path + step))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(".".join(path) or None, m) for m in messages]
    if isinstance(messages, list):
        return [item for m in messages for item in _flatten(m, path)]
    return [(".".join(path) or None, str(messages))]


class _Reader:
    """Collects problems while reading; callers check ``problems`` at the end."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []

    def problem(self, file: str, entry: str | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(file, entry, field, message))

    def yaml(self, name: str, key: str | None, required: bool = True) -> list | dict | None:
        path = self.root / name
        if not path.exists():
            if required:
                self.problem(name, None, None, gettext("bestand ontbreekt"))
            return None
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
        except yaml.YAMLError as err:
            self.problem(name, None, None, gettext("geen geldige YAML: %(error)s", error=err))
            return None
        if key is None:
            return data if isinstance(data, dict) else self._shape(name, gettext("verwacht een mapping"))
        if not isinstance(data, dict) or not isinstance(data.get(key), list):
            return self._shape(name, gettext("verwacht een lijst onder '%(key)s:'", key=key))
        return data[key]

    def _shape(self, name: str, message: str) -> None:
        self.problem(name, None, None, message)
        return None

    def entries(self, name: str, items: list, schema: Schema) -> list[tuple[str, Any]]:
        """Load each list entry on its own so every problem names the entry; duplicate ids are problems."""
        loaded: list[tuple[str, Any]] = []
        seen: set[str] = set()
        for index, raw in enumerate(items or []):
            entry = str(raw.get("id") or raw.get("law") or f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
            if entry in seen:
                self.problem(name, entry, "id", gettext("deze id komt vaker voor"))
                continue
            seen.add(entry)
            value = self.load(name, entry, raw, schema)
            if value is not None:
                loaded.append((entry, value))
        return loaded

    def load(self, name: str, entry: str | None, raw: Any, schema: Schema) -> Any:
        try:
            return schema.load(raw if isinstance(raw, dict) else {})
        except ValidationError as err:
            for field, message in _flatten(err.messages):
                self.problem(name, entry, field, message)
            return None


def _unknown_partner(partner_id: str) -> str:
    return gettext("onbekende partner '%(id)s'", id=partner_id)


def _topics(reader: _Reader, partner_ids: set[str]) -> dict[str, Topic]:
    raw: dict[str, tuple[str, dict]] = {}
    # Curated topics are read last so they win over an imported topic with the same id.
    for name in (UPL_TOPICS_FILE, TOPICS_FILE):
        items = reader.yaml(name, "topics", required=name == TOPICS_FILE)
        for topic_id, data in reader.entries(name, items or [], TopicSchema()):
            raw[topic_id] = (name, data)
    topics: dict[str, Topic] = {}
    for topic_id, (name, data) in raw.items():
        for pid in data["partners"]:
            if pid not in partner_ids:
                reader.problem(name, topic_id, "partners", _unknown_partner(pid))
        for included in data["includes"]:
            if included not in raw:
                reader.problem(name, topic_id, "includes", gettext("onbekend onderwerp '%(id)s'", id=included))
        partners = list(data["partners"])
        for included in data["includes"]:
            partners.extend(raw[included][1]["partners"] if included in raw else ())
        topics[topic_id] = make_topic(data, tuple(dict.fromkeys(p for p in partners if p in partner_ids)))
    return topics


def _location(reader: _Reader, path: Path, partner_ids: set[str],
              schema: LocationSchema) -> tuple[Location | None, dict[str, Any] | None]:
    """The location, or None when its file has a problem; and what it refers to (partners, its id, its inbound
    number) either way, for the checks across files. Both None when the file is not YAML of the right shape."""
    name = f"{LOCATIONS_DIR}/{path.name}"
    raw = reader.yaml(name, None)
    if raw is None:
        return None, None
    entry = str(raw.get("id") or path.stem)
    data = reader.load(name, entry, raw, schema)
    # The references are checked even when a field is wrong, so that one run names every problem.
    refs = data if data is not None else _references(raw, path.stem)
    ok = data is not None
    if refs["id"] != path.stem:
        reader.problem(name, entry, "id", gettext("de id hoort gelijk te zijn aan de bestandsnaam '%(name)s'",
                                                  name=path.stem))
        ok = False
    for field in ("lines", "on_site"):
        for pid in refs[field]:
            if pid not in partner_ids:
                reader.problem(name, entry, f"{field}.{pid}", _unknown_partner(pid))
                ok = False
    if refs["callbacks_to"] != DIENSTVERLENER and refs["callbacks_to"] not in partner_ids:
        reader.problem(name, entry, "callbacks_to", gettext("'%(id)s' is geen partner en niet '%(loket)s'",
                                                            id=refs["callbacks_to"], loket=DIENSTVERLENER))
        ok = False
    if not ok or data is None:
        return None, refs
    return Location(
        **{
            **data,
            "lines": {pid: make_line(pid, line) for pid, line in data["lines"].items()},
            "on_site": {pid: frozenset(parse_days(spec)) for pid, spec in data["on_site"].items()},
            "call_languages": tuple(data["call_languages"]),
        }
    ), refs


def _references(raw: dict, stem: str) -> dict[str, Any]:
    """The partner ids and the id a location file names, read from the file as it is (its fields did not all
    load); what is not in the expected shape is left out: its field has its own problem already."""
    def keys(field: str) -> list[str]:
        value = raw.get(field)
        return [str(k) for k in value] if isinstance(value, dict) else []

    return {"id": str(raw.get("id") or stem), "lines": keys("lines"), "on_site": keys("on_site"),
            "callbacks_to": str(raw.get("callbacks_to") or DIENSTVERLENER),
            "inbound_number": _number(raw.get("inbound_number"))}


def _number(value: Any) -> str | None:
    """An inbound number as E.164, as the schema would store it; None when it is absent or not a number (its
    field has its own problem already)."""
    if value is None:
        return None
    try:
        return Phone().deserialize(value)
    except ValidationError:
        return None


def _check_inbound_numbers(reader: _Reader, numbers: list[tuple[str, str, str | None]]) -> None:
    """A webhook finds its location by the number that was called: one number, one location. `numbers`: (file,
    location id, E.164 number) of every location file, also one with other problems, so that one run names a
    number used twice as well as whatever else is wrong in those files."""
    owner: dict[str, str] = {}
    for name, location_id, number in numbers:
        if number is None:
            continue
        if number in owner:
            reader.problem(name, location_id, "inbound_number",
                           gettext("%(number)s is al het nummer van locatie '%(id)s'", number=number,
                                   id=owner[number]))
        else:
            owner[number] = location_id


def _check_handover(reader: _Reader, partners: dict[str, Partner], locations: dict[str, Location],
                    location_ids: set[str]) -> None:
    """Runs on what loaded, whatever else is wrong: a partner or location with problems of its own is left out
    (its own problems are named), and `location_ids` (every location file's id) keeps a location that did not
    load from being called unknown."""
    for partner in partners.values():
        for loc_id in partner.handover_by_location:
            if loc_id not in location_ids:
                reader.problem(PARTNERS_FILE, partner.id, f"handover_by_location.{loc_id}",
                               gettext("onbekende locatie '%(id)s'", id=loc_id))
    # A warm handover needs somewhere to go for every line that is offered.
    for location in locations.values():
        for pid in location.lines:
            if pid not in partners:
                continue
            channels = partners[pid].handover_by_location.get(location.id, partners[pid].handover)
            if not (channels.sms or channels.email):
                reader.problem(PARTNERS_FILE, pid, "handover",
                               gettext("geen SMS-nummer of e-mailadres voor %(id)s", id=location.id))


def load_laws(root: Path, partner_ids: set[str] | None = None) -> list[Law]:
    """The curated law → partner table; raises DirectoryInvalid on problems."""
    reader = _Reader(Path(root))
    laws = _laws(reader, partner_ids)
    if reader.problems:
        raise DirectoryInvalid(reader.problems)
    return laws


def _laws(reader: _Reader, partner_ids: set[str] | None) -> list[Law]:
    laws = []
    for entry, data in reader.entries(LAWS_FILE, reader.yaml(LAWS_FILE, "laws") or [], LawSchema()):
        unknown = [p for p in data["partners"] if partner_ids is not None and p not in partner_ids]
        for pid in unknown:
            reader.problem(LAWS_FILE, entry, "partners", _unknown_partner(pid))
        if not unknown:
            laws.append(Law(data["law"], tuple(data["partners"])))
    return laws


def load_directory(root: str | Path) -> Directory:
    """Read the whole folder; raise DirectoryInvalid listing every problem, else return the Directory."""
    root = Path(root)
    reader = _Reader(root)
    if not root.is_dir():
        raise DirectoryInvalid([Problem(str(root), None, None, gettext("map bestaat niet"))])
    partner_items = reader.yaml(PARTNERS_FILE, "partners") or []
    partner_list = reader.entries(PARTNERS_FILE, partner_items, PartnerSchema())
    # References are checked against every partner the file names, also one whose entry has a problem of its
    # own: that problem is named; calling the partner "unknown" in every topic and location would bury it.
    partner_ids = {pid for pid, _ in partner_list} | {
        str(raw["id"]) for raw in partner_items if isinstance(raw, dict) and raw.get("id")}
    topics = _topics(reader, partner_ids)
    locations: dict[str, Location] = {}
    files = sorted((root / LOCATIONS_DIR).glob("*.yaml"))
    if not files:
        reader.problem(LOCATIONS_DIR, None, None, gettext("geen locaties gevonden"))
    schema = LocationSchema()  # one instance: building its nested schemas costs more than a file
    numbers: list[tuple[str, str, str | None]] = []
    location_ids: set[str] = set()
    for path in files:
        location, refs = _location(reader, path, partner_ids, schema)
        if location is not None:
            locations[location.id] = location
        if refs is not None:
            location_ids.update((refs["id"], path.stem))
            numbers.append((f"{LOCATIONS_DIR}/{path.name}", refs["id"], refs["inbound_number"]))
    _laws(reader, partner_ids)
    _check_inbound_numbers(reader, numbers)
    handled: dict[str, list[str]] = {}
    for topic in topics.values():
        for pid in topic.partners:
            handled.setdefault(pid, []).append(topic.id)
    partners = {pid: dataclasses.replace(p, topics=tuple(handled.get(pid, ()))) for pid, p in partner_list}
    _check_handover(reader, partners, locations, location_ids)
    if reader.problems:
        raise DirectoryInvalid(reader.problems)
    return Directory(locations=locations, partners=partners, topics=topics)
