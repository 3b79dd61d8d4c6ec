"""`flask --app routing directory validate|import-upl`.

In English, as every operator command: the directory's problems too (their Dutch texts are the msgids,
translated as the directory is loaded here; the app loads it in Dutch for the coordinators' pages).
"""

from __future__ import annotations

import shutil
import tempfile
from functools import wraps
from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale
from flask.cli import AppGroup

from . import upl
from .loader import UPL_TOPICS_FILE, DirectoryInvalid, load_directory, load_laws

directory_cli = AppGroup("directory", help="The directory of locations, partners, lines and topics.")


def _in_english(command):
    @wraps(command)
    def in_english(*args, **kwargs):
        with force_locale("en"):
            return command(*args, **kwargs)

    return in_english


def _folder(path: str | None) -> Path:
    return Path(path or current_app.config["DIRECTORY_PATH"])


@directory_cli.command("validate", help="Check a directory folder; exit 0 when valid, 1 with every problem.")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@_in_english
def validate_command(path: str | None) -> None:
    folder = _folder(path)
    try:
        directory = load_directory(folder)
    except DirectoryInvalid as invalid:
        for problem in invalid.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{folder}: {len(invalid.problems)} problem(s)", err=True)
        raise SystemExit(1) from None
    click.echo(f"{folder}: valid ({len(directory.locations)} locations, {len(directory.partners)} partners, "
               f"{len(directory.topics)} topics)")


@directory_cli.command("import-upl", help="Add topics from a UPL product list (CSV), mapped through laws.yaml.")
@click.argument("csv_path", metavar="PATH", type=click.Path(exists=True, dir_okay=False))
@click.option("--directory", "folder", type=click.Path(file_okay=False), help="Directory folder (default: DIRECTORY_PATH).")
@click.option("--show-unmapped", default=10, show_default=True, help="How many unmapped laws to list.")
@_in_english
def import_upl_command(csv_path: str, folder: str | None, show_unmapped: int) -> None:
    root = _folder(folder)
    try:
        current = load_directory(root)
        laws = load_laws(root, set(current.partners))
        rows = upl.read_rows(Path(csv_path))
    except DirectoryInvalid as invalid:
        for problem in invalid.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("fix the directory first (flask --app routing directory validate)") from None
    except upl.UplError as err:
        raise click.ClickException(str(err)) from None
    with click.progressbar(length=len(rows), label="UPL products") as bar:
        topics, report = upl.map_products(rows, laws, progress=lambda row: bar.update(1))
    _write_checked(root, topics, report)
    click.echo(f"rows: {report.rows}; products mapped: {report.mapped}, unmapped: {report.unmapped}; "
               f"rows skipped (no name): {report.skipped}; {UPL_TOPICS_FILE} now holds {report.written} topics")
    for law, count in sorted(report.unmapped_laws.items(), key=lambda kv: -kv[1])[:show_unmapped]:
        click.echo(f"  unmapped {count:4d}  {law}")


def _write_checked(root: Path, topics: list[dict], report: upl.ImportReport) -> None:
    """Write the merged file only if the whole directory still validates with it."""
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / "directory"
        shutil.copytree(root, trial)
        report.written = upl.merge_into(trial, topics)
        try:
            load_directory(trial)
        except DirectoryInvalid as invalid:
            for problem in invalid.problems[:20]:
                click.echo(str(problem), err=True)
            raise click.ClickException("the import would break the directory; nothing was written") from None
        shutil.copyfile(trial / UPL_TOPICS_FILE, root / UPL_TOPICS_FILE)
