"""The app's loaded directory: swapped whole, never half, and re-read when its files change.

One ``DirectoryState`` per app (``app.extensions``). A reload that finds problems keeps the last good
directory in use and remembers why, for ``/readyz``, the log and the coordinators' directory pages.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask
from flask_babel import force_locale

from routing import current

from . import schedule
from .loader import DirectoryInvalid, Problem, load_directory
from .model import Directory
from .search import SearchIndex

log = logging.getLogger(__name__)

EXTENSION = "loketlijn.directory"
EMPTY = Directory(locations={}, partners={}, topics={})
# The log and /readyz speak English, as every operator command; the coordinators' pages their own language.
LOG_LOCALE = "en"


@dataclass
class Loaded:
    """What one successful load produced; replaced as a whole."""

    directory: Directory
    index: SearchIndex
    loaded_at: datetime | None
    # Values worked out from this directory (service.derived), kept as long as it is the one in use.
    derived: dict = field(default_factory=dict)


@dataclass
class DirectoryState:
    path: Path
    reload_seconds: float
    # Freeze the loaded directory out of the cyclic GC's reach (see reload); off in tests, where many
    # short-lived apps would otherwise be frozen and never collected.
    freeze: bool = True
    current: Loaded = field(default_factory=lambda: Loaded(EMPTY, SearchIndex(EMPTY), None))
    # The languages the pages speak (app.config["LANGUAGES"]): a broken edit's problems are kept in each.
    languages: tuple[str, ...] = ("nl", "en")
    # Why the files on disk are not in use, in each language: {locale: [Problem, ...]}; empty when they are.
    problems: dict[str, list[Problem]] = field(default_factory=dict)
    fingerprint: tuple = ()
    checked_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def files_fingerprint(self) -> tuple:
        try:
            return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in self.path.rglob("*.yaml")))
        except OSError:
            return ()

    def reload(self, announce: bool = True) -> bool:
        """Load the folder again; on problems keep what is loaded. True when the new files are in use.
        `announce`: log the loaded counts at INFO (else DEBUG); problems are logged either way."""
        with self.lock:
            self.fingerprint = self.files_fingerprint()
            self.checked_at = time.monotonic()
            try:
                # In English whatever language the request this reload happens to run in speaks: the log's.
                with force_locale(LOG_LOCALE):
                    directory = load_directory(self.path)
            except DirectoryInvalid as invalid:
                self.problems = self._in_every_language(invalid.problems)
                logged = self.problems[LOG_LOCALE]
                log.error("directory %s not loaded (%d problems; %s): %s",
                          self.path, len(logged), self._kept(), "; ".join(map(str, logged[:5])))
                return False
            self.current = Loaded(directory, SearchIndex(directory), datetime.now(UTC))
            self.problems = {}
            # The directory lives until the next reload: keep the cyclic GC from re-scanning its ~10^5
            # objects on every full collection, which otherwise shows as 10-100 ms pauses in searches.
            if self.freeze:
                gc.collect()
                gc.freeze()
            log.log(logging.INFO if announce else logging.DEBUG, "directory loaded: %d locations, %d partners, "
                    "%d topics", len(directory.locations), len(directory.partners), len(directory.topics))
            return True

    def _in_every_language(self, in_english: list[Problem]) -> dict[str, list[Problem]]:
        """The problems in each page language too, so a coordinator reads them in the page's language and not
        half in another. Loading is the only way to word them (marshmallow's messages are made while loading);
        only a broken edit pays for it. Files mended between the loads leave that language out: the next check
        sees the change and loads them."""
        found = {LOG_LOCALE: in_english}
        for locale in self.languages:
            if locale in found:
                continue
            try:
                with force_locale(locale):
                    load_directory(self.path)
            except DirectoryInvalid as invalid:
                found[locale] = invalid.problems
        return found

    def problems_in(self, locale: str) -> list[Problem]:
        """Why the files on disk are not in use, worded in `locale` (English when that is missing)."""
        return self.problems.get(locale) or self.problems.get(LOG_LOCALE, [])

    def fresh(self) -> Loaded:
        """The loaded directory, after a cheap check (at most every ``reload_seconds``) for changed files."""
        if self.reload_seconds > 0 and time.monotonic() - self.checked_at >= self.reload_seconds:
            if self.files_fingerprint() != self.fingerprint:
                self.reload()
            else:
                self.checked_at = time.monotonic()
        return self.current

    def problem_summary(self) -> str | None:
        """Why the files on disk are not the ones in use, or None."""
        problems = self.problems_in(LOG_LOCALE)
        if not problems:
            return None
        return f"directory {self.path} has {len(problems)} problem(s), {self._kept()}: {problems[0]}"

    def _kept(self) -> str:
        return (f"keeping the directory loaded at {self.current.loaded_at:%Y-%m-%d %H:%M} UTC"
                if self.current.loaded_at else "no directory loaded")

    def status(self) -> str | None:
        """A reason to be not ready: only when no directory at all is loaded. Serving the last good one
        is ready (taking every instance out of rotation over a typo would be worse); pages show that."""
        return self.problem_summary() if self.current.loaded_at is None else None


def install(app: Flask) -> DirectoryState:
    # The holidays package imports its country modules on first use (~1 s): pay that at start-up, not
    # in a staff member's first search.
    schedule.holiday_name(datetime.now(UTC).date())
    state = DirectoryState(Path(app.config["DIRECTORY_PATH"]), float(app.config.get("DIRECTORY_RELOAD_SECONDS", 10)),
                           freeze=not app.config.get("TESTING"), languages=tuple(app.config["LANGUAGES"]))
    # The counts tell whoever reads a web or worker process's start-up (and a later reload) which directory it
    # serves. An operator command is quiet about it: its own output is what the operator asked for, and a
    # directory it cannot load is still logged (`directory validate` names every problem itself).
    state.reload(announce=not operator_command())
    app.extensions[EXTENSION] = state
    return state


def operator_command() -> bool:
    """Whether the app is being built for a `flask` command (`--help` included): the flask CLI builds it while
    click resolves the command line; gunicorn, the workers and the scheduler build it outside any click
    command."""
    return click.get_current_context(silent=True) is not None


def current_state() -> DirectoryState:
    return current.app().extensions[EXTENSION]


def directory_status() -> str | None:
    """For ``/readyz``: why no directory is loaded, or None."""
    return current_state().status()
