"""Renders a notice per kind and language: a subject, a short SMS text, a plain text and an HTML e-mail.

Each kind has one template per language (`routing/templates/notices/messages/<kind>.<locale>.jinja`) with four
blocks: subject, sms, text, html. The text blocks render without escaping, the html block with it, and
only the allowed context keys are ever passed in (an unknown name in a template is an error, not empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from routing.directory.schedule import TZ
from routing.notices.kinds import ALLOWED_KEYS, LOCALES

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "notices" / "messages"
_DEADLINE_FORMATS = {
    "nl": ("EEEE d MMMM", "EEEE d MMMM 'om' HH:mm"),
    "en": ("EEEE d MMMM", "EEEE d MMMM 'at' HH:mm"),
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    sms: str
    text: str
    html: str


@lru_cache(maxsize=2)
def _env(autoescape: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def format_deadline(value: str, locale: str) -> str:
    day_format, time_format = _DEADLINE_FORMATS[locale]
    if "T" not in value:
        return format_date(date.fromisoformat(value), day_format, locale=locale)
    return format_datetime(datetime.fromisoformat(value), time_format, tzinfo=TZ, locale=locale)


def _values(context: dict[str, Any], locale: str) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(ALLOWED_KEYS)
    values.update({k: v for k, v in context.items() if k in ALLOWED_KEYS})
    if values["deadline"]:
        values["deadline"] = format_deadline(values["deadline"], locale)
    return values


def _block(template: Template, name: str, values: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(values))).strip()


def render(kind: str, locale: str, context: dict[str, Any], *, email: bool = True) -> Rendered:
    """All four parts; with email=False only the subject and the SMS text (what SMS and WhatsApp need)."""
    locale = locale if locale in LOCALES else LOCALES[0]
    values = _values(context, locale)
    name = f"{kind}.{locale}.jinja"
    text_template = _env(False).get_template(name)
    subject = _block(text_template, "subject", values)
    sms = " ".join(_block(text_template, "sms", values).split())
    if not email:
        return Rendered(subject=subject, sms=sms, text="", html="")
    html_template = _env(True).get_template(name)
    html = _env(True).get_template("_email.html").render(
        lang=locale, subject=subject, content=Markup(_block(html_template, "html", values))
    )
    return Rendered(subject=subject, sms=sms, text=_block(text_template, "text", values) + "\n", html=html)
