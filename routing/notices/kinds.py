"""Notice kinds and the only context a notice may carry.

A notice passes through third parties (the SMS provider keeps message bodies), so it says no more than:
a reference, a location, a topic, a deadline, whether it is urgent, a link, a count, a list of references. Anything else is
refused here, before it is stored, and the values themselves are checked for what looks like a phone
number, a BSN or an e-mail address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

ALLOWED_KEYS = frozenset({"reference", "location", "topic", "deadline", "urgent", "link", "count", "references"})
MAX_TEXT = 120
MAX_LINK = 500
MAX_REFERENCES = 50

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,39}$")
# Nine or more digits in a row (a BSN, a phone number), also when written with spaces, dashes or dots.
_LONG_NUMBER = re.compile(r"\d(?:[\s.\-/]?\d){8,}")


class NoticeContextError(ValueError):
    """A caller tried to put something into a notice that does not belong there."""


@dataclass(frozen=True)
class Kind:
    name: str
    required: frozenset[str]
    # How long the notice stays useful when the caller does not say: it is not sent after that.
    valid_for: timedelta


def _kind(name: str, required: set[str], hours: int) -> Kind:
    return Kind(name, frozenset(required), timedelta(hours=hours))


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        # "3 terugbelverzoeken wachten" for a location's on-duty channel.
        _kind("callbacks_waiting", {"count", "location"}, 8),
        # To a partner: a citizen was handed over to you; details behind the link.
        _kind("handover_new", {"reference", "location", "link"}, 48),
        # To a partner who asked for a new link ("Stuur mij een nieuwe link"): the same handover, not another one.
        _kind("handover_new_link", {"reference", "link"}, 48),
        # To a partner on the morning of the deadline.
        _kind("handover_reminder", {"reference", "link"}, 12),
        # 07:00 on working days: counts and references only.
        _kind("handover_overdue_overview", {"count", "references"}, 12),
        # To the loket: a handover came back.
        _kind("handover_returned", {"reference"}, 24),
        # To staff or the coordinator: a notice failed on every channel.
        _kind("notice_failed", set(), 24),
    )
}
LOCALES = ("nl", "en")


def _text(key: str, value: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise NoticeContextError(f"{key} must be text")
    if len(value) > limit:
        raise NoticeContextError(f"{key} is longer than {limit} characters")
    if "@" in value or _LONG_NUMBER.search(value):
        raise NoticeContextError(f"{key} looks like it holds personal data (a number or an address)")
    return value


def _reference(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _REFERENCE.match(value) or _LONG_NUMBER.search(value):
        raise NoticeContextError(f"{key} is not a reference")
    return value


def _deadline(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise NoticeContextError("deadline must carry a time zone")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise NoticeContextError("deadline is not an ISO 8601 date or time") from None
        if "T" in value and parsed.tzinfo is None:
            raise NoticeContextError("deadline must carry a time zone")
        return value
    raise NoticeContextError("deadline is not a date or time")


def _link(value: Any, public_base_url: str | None) -> str:
    link = _text("link", value, MAX_LINK)
    if not link.startswith(("https://", "http://")):
        raise NoticeContextError("link must be an absolute http(s) URL")
    if public_base_url and not link.startswith(public_base_url.rstrip("/") + "/"):
        raise NoticeContextError("link must point to this service")
    return link


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise NoticeContextError(f"{key} must be true or false")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise NoticeContextError("count must be a whole number")
    return value


def _references(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or len(value) > MAX_REFERENCES:
        raise NoticeContextError(f"references must be a list of at most {MAX_REFERENCES}")
    return [_reference("references", v) for v in value]


def clean_context(kind: str, context: dict[str, Any], public_base_url: str | None = None) -> dict[str, Any]:
    """The context as stored: only allowed keys, each value checked; raises NoticeContextError."""
    if kind not in KINDS:
        raise NoticeContextError(f"unknown notice kind {kind!r}")
    unknown = sorted(set(context) - ALLOWED_KEYS)
    if unknown:
        raise NoticeContextError(f"a notice may not carry {', '.join(unknown)}")
    present = {k: v for k, v in context.items() if v not in (None, "")}
    missing = sorted(KINDS[kind].required - set(present))
    if missing:
        raise NoticeContextError(f"a {kind} notice needs {', '.join(missing)}")
    clean: dict[str, Any] = {}
    for key, value in present.items():
        if key == "reference":
            clean[key] = _reference(key, value)
        elif key in ("location", "topic"):
            clean[key] = _text(key, value)
        elif key == "deadline":
            clean[key] = _deadline(value)
        elif key == "link":
            clean[key] = _link(value, public_base_url)
        elif key == "urgent":
            clean[key] = _flag(key, value)
        elif key == "count":
            clean[key] = _count(value)
        else:
            clean[key] = _references(value)
    return clean
