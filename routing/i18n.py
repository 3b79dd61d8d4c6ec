"""Locale choice: ?lang= (remembered in the session), then the browser's preference, then Dutch."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale

from routing.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # jobs and CLI: messages in the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
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
