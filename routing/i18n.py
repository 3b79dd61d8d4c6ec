"""Locale choice: ?lang= (remembered in the session), then the browser's preference, then Dutch."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import click
from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale, get_translations, refresh
from jinja2 import pass_context
from jinja2.runtime import Context

from routing.extensions import babel
from routing.http import API_PREFIX


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # jobs and CLI: messages in the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang")
    if asked in languages:
        if not request.path.startswith(API_PREFIX):  # a page remembers it; an API client asks each time (no cookie)
            session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    if request.path.startswith(API_PREFIX):  # a machine client says what it wants in each request
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    # Pages are Dutch until the reader switches: a phone set to English is no sign that its owner wants the form,
    # and the call it asks for, in English (many Dutch speakers' phones are); the switch is on every page.
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def use_locale(asked: str) -> bool:
    """Switch this request (and the session) to `asked` when it is offered; a form's language button uses it."""
    if asked not in current_app.config["LANGUAGES"]:
        return False
    session["lang"] = asked
    refresh()  # the locale and catalogue this request already looked up
    return True


def other_locale() -> str:
    """The language the switch in the page header offers: the first one that is not the current one."""
    current = str(get_locale())
    return next((lang for lang in current_app.config["LANGUAGES"] if lang != current), current)


def language_switch_url(lang: str) -> str:
    """This page in `lang`: the same path and every query parameter (a withdrawal token, a search), only
    `lang` replaced."""
    args = [(name, value) for name, value in request.args.items(multi=True) if name != "lang"]
    return quote(request.script_root + request.path) + "?" + urlencode([*args, ("lang", lang)])


# Each language in its own name, as the citizen form offers it.
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


@lru_cache(maxsize=256)
def _language_names(code: str, page_locale: str) -> tuple[str | None, str | None]:
    own = LANGUAGE_NAMES.get(code) or _own_name(code)
    here = None if code in LANGUAGE_NAMES else Locale.parse(page_locale).languages.get(code)
    if own is None:  # Babel cannot write it in itself (Limburgs, Moroccan Arabic): the page's name only
        return None, here or code
    return own[:1].upper() + own[1:], here if here and here.lower() != own.lower() else None


def _own_name(code: str) -> str | None:
    try:
        return Locale.parse(code).get_display_name(code)
    except (ValueError, UnknownLocaleError):
        return None


def language_names_of(code: str) -> tuple[str | None, str | None]:
    """A call language as people recognise it: its own name ("Türkçe"), and, for one the pages are not in, its
    name in the page's language too ("Turks"; None for Dutch and English, each named in itself already). When
    Babel has no name of a language in itself, the first is None and the second is the page's name."""
    return _language_names(code, str(get_locale()))


# The page's catalogue, looked up once per render_template (see _install_template_gettext).
_PAGE_TRANSLATIONS = "_page_translations"


def _install_template_gettext(app: Flask) -> None:
    """Templates look the catalogue up once per page instead of once per text.

    Flask-Babel's template callables find the locale and catalogue again for every `_()` (a dozen lookups
    through `g` each, and a page has a dozen texts). A context processor now puts the catalogue in the
    page's context; macros imported without context do not see it and look it up as before.
    """

    def catalogue(context: Context) -> Any:
        return context.get(_PAGE_TRANSLATIONS) or get_translations()

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=pass_context(lambda context, s: catalogue(context).ugettext(s)),
        ngettext=pass_context(lambda context, s, p, n: catalogue(context).ungettext(s, p, n)),
        pgettext=pass_context(lambda context, c, s: catalogue(context).upgettext(c, s)),
        npgettext=pass_context(lambda context, c, s, p, n: catalogue(context).unpgettext(c, s, p, n)),
        newstyle=True,
    )
    app.context_processor(lambda: {_PAGE_TRANSLATIONS: get_translations()})


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    _install_template_gettext(app)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
    app.jinja_env.globals["language_names_of"] = language_names_of
    app.jinja_env.globals["other_locale"] = other_locale
    app.jinja_env.globals["language_switch_url"] = language_switch_url
    app.cli.add_command(translations)


@click.group(help="Translation catalogues (Dutch source text, English in messages.po).")
def translations() -> None:
    pass


@translations.command("compile", help="Compile the .po files into the .mo files Flask-Babel reads.")
def compile_command() -> None:
    for path in compile_translations():
        click.echo(f"compiled {path}")


def compile_translations(root: Path | None = None) -> list[Path]:
    """Compile every messages.po next to it (the .mo files are build output, not committed)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = root or Path(__file__).parent / "translations"
    written = []
    for po_path in sorted(root.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written
