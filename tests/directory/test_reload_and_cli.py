"""A broken directory never half-loads; `flask directory validate` and `import-upl` on real and small files."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml

from routing.directory import service
from routing.directory.loader import UPL_TOPICS_FILE, load_directory
from routing.directory.state import current_state

from .conftest import edit

SMALL_UPL = """UniformeProductnaam,URI,Rijk,Provincie,Waterschap,Gemeente,Burger,Bedrijf,Dienstenwet,SDG,Autonomie,Medebewind,Aanvraag,Subsidie,Melding,Verplichting,DigiDMacht,Grondslag,Grondslaglabel,Grondslaglink
UPL-naam nog niet beschikbaar,http://standaarden.overheid.nl/owms/terms/UPL-naam_nog_niet_beschikbaar,X,X,X,X,,,,,,,,,,,,,,
huurtoeslag,http://standaarden.overheid.nl/owms/terms/huurtoeslag,X,,,,X,,,,,,X,,,,,x,Artikel 7 Wet op de huurtoeslag,https://example.org
kinderopvangtoeslag,http://standaarden.overheid.nl/owms/terms/kinderopvangtoeslag,X,,,,X,,,,,,X,,,,,x,Artikel 1.5 Wet kinderopvang,https://example.org
registratie kinderopvang,http://standaarden.overheid.nl/owms/terms/registratie_kinderopvang,,,,X,,X,,,,,,,,,,x,Artikel 1.45 Wet kinderopvang,https://example.org
vuurwerkontbrandingstoestemming,http://standaarden.overheid.nl/owms/terms/vuurwerkontbrandingstoestemming,,X,,,,X,,,,,,,,,,x,Artikel 3.3.2 Vuurwerkbesluit,https://example.org
"""


@pytest.fixture
def app_config(demo_copy: Path) -> dict:
    # Check for changed files on every request, so a test needs no waiting.
    return {"DIRECTORY_PATH": str(demo_copy), "DIRECTORY_RELOAD_SECONDS": 1e-9}


def test_broken_edit_keeps_the_last_good_directory(app, client, demo_copy):
    edit(demo_copy / "locations" / "utrecht.yaml", '"+31 88 000 0504"', '"12345"')
    assert current_state().reload() is False
    assert "utrecht" in service.get_directory().locations  # still the last good one
    summary = current_state().problem_summary()
    assert "locations/utrecht.yaml, entry 'utrecht', field 'lines.svb.number'" in summary
    assert client.get("/readyz").status_code == 200  # serving the last good directory is ready


def test_changed_files_are_picked_up_without_a_restart(app, demo_copy):
    assert service.get_location("utrecht").lines["svb"].notes == "SVB-kantoor Utrecht."
    edit(demo_copy / "locations" / "utrecht.yaml", 'notes: "SVB-kantoor Utrecht."', 'notes: "Vraag naar Anna."')
    assert service.get_location("utrecht").lines["svb"].notes == "Vraag naar Anna."


def test_coordinators_see_why_the_files_were_not_loaded(app, client, demo_copy, login):
    edit(demo_copy / "topics.yaml", "partners: [svb]", "partners: [nobody]")
    login(client, "coordinator")
    page = client.get("/directory/locations").get_data(as_text=True)
    assert "de vorige, goede versie blijft in gebruik" in page
    assert "onbekende partner" in page


def test_the_coordinators_warning_speaks_the_pages_language(app, client, demo_copy, login):
    edit(demo_copy / "topics.yaml", "partners: [svb]", "partners: [nobody]")
    login(client, "coordinator")
    warning = _alert(client.get("/directory/locations?lang=nl"))
    assert "Herstel deze fout" in warning
    assert "topics.yaml, item 'aow', veld 'partners': onbekende partner 'nobody'" in warning
    # None of the log's English in between ("directory ... has 1 problem(s), keeping the directory loaded at").
    assert not re.search(r"\b(directory|problem|keeping|loaded|entry|field|unknown)\b", warning), warning
    warning = _alert(client.get("/directory/locations?lang=en"))
    assert "The directory files contain errors" in warning and "Correct this error" in warning
    assert "topics.yaml, entry 'aow', field 'partners': unknown partner 'nobody'" in warning
    assert not re.search(r"\b(onbekende|bestanden|fout|item|veld)\b", warning), warning
    # The log and /readyz keep the operators' English.
    assert "unknown partner 'nobody'" in current_state().problem_summary()


def _alert(response) -> str:
    """The text of the page's warning, tags dropped."""
    page = response.get_data(as_text=True)
    found = re.search(r'<div class="alert alert--error" role="alert">(.*?)</div>', page, re.S)
    assert found, page
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


@pytest.mark.parametrize("app_config", [{"DIRECTORY_PATH": "/nonexistent/directory"}])
def test_no_directory_at_all_is_not_ready(app, client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert any("/nonexistent/directory" in reason for reason in response.json["reasons"])
    # A citizen at the door is told it is temporary, not that their location does not exist.
    form = client.get("/l/utrecht/terugbellen", headers={"Accept": "text/html"})
    assert form.status_code == 503 and form.headers["Retry-After"] == "60"
    assert "Het lukt nu even niet" in form.get_data(as_text=True) and "bestaat niet" not in form.get_data(as_text=True)


def test_validate_command_accepts_the_demo(app):
    result = app.test_cli_runner().invoke(args=["directory", "validate"])
    assert result.exit_code == 0, result.output
    assert "valid (7 locations" in result.output


def test_validate_command_names_every_problem(app, demo_copy):
    edit(demo_copy / "locations" / "utrecht.yaml", "  svb:\n    number:", "  sbv:\n    number:")
    edit(demo_copy / "partners.yaml", 'email: loketlijn@cak.example.org', "email: not-an-address")
    result = app.test_cli_runner().invoke(args=["directory", "validate", str(demo_copy)])
    assert result.exit_code == 1
    # In English, as every operator command (the app keeps them Dutch for the coordinators' pages, below).
    assert "locations/utrecht.yaml, entry 'utrecht', field 'lines.sbv': unknown partner 'sbv'" in result.output
    assert "partners.yaml, entry 'cak', field 'handover.email': Not a valid e-mail address." in result.output
    assert f"{demo_copy}: 2 problem(s)" in result.output


def test_validate_speaks_english_throughout(app, tmp_path, demo_copy):
    missing = app.test_cli_runner().invoke(args=["directory", "validate", str(tmp_path / "nothing")])
    assert missing.exit_code == 1 and f"{tmp_path / 'nothing'}: folder does not exist" in missing.output
    edit(demo_copy / "locations" / "utrecht.yaml", 'mon-fri: ["09:00-17:00"]', 'mon-fri: ["09:00-25:00"]')
    edit(demo_copy / "locations" / "utrecht.yaml", "walk_in: true", "walk_in: soms")
    edit(demo_copy / "locations" / "utrecht.yaml", "name:", "nam:")
    result = app.test_cli_runner().invoke(args=["directory", "validate", str(demo_copy)])
    assert "'09:00-25:00' contains an invalid time." in result.output
    assert "field 'walk_in': Write true or false." in result.output
    assert "field 'name': Missing." in result.output and "field 'nam': This field does not exist." in result.output


def test_a_reload_in_an_english_request_words_the_problems_for_dutch_pages_too(app, client, login, demo_copy):
    login(client, "coordinator")
    edit(demo_copy / "partners.yaml", 'email: loketlijn@cak.example.org', "email: not-an-address")
    # The reload happens inside an English request; a Dutch page later reads the problem in Dutch all the same
    # (marshmallow's own message too, which is worded while loading).
    assert "field 'handover.email': Not a valid e-mail address." in _alert(client.get("/directory/locations?lang=en"))
    assert "veld 'handover.email': Geen geldig e-mailadres." in _alert(client.get("/directory/locations?lang=nl"))


def test_import_upl_from_a_small_file(app, demo_copy, tmp_path):
    csv_path = tmp_path / "upl.csv"
    csv_path.write_text(SMALL_UPL, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["directory", "import-upl", str(csv_path)])
    assert result.exit_code == 0, result.output
    assert "rows: 5; products mapped: 2, unmapped: 2; rows skipped (no name): 1" in result.output
    assert "Vuurwerkbesluit" in result.output  # the unmapped laws are listed
    written = yaml.safe_load((demo_copy / UPL_TOPICS_FILE).read_text(encoding="utf-8"))["topics"]
    by_id = {t["id"]: t for t in written}
    assert by_id["upl-kinderopvangtoeslag"]["partners"] == ["toeslagen"]  # the article narrows the law
    assert "upl-registratie-kinderopvang" not in by_id
    # Running it again merges: same ids replaced, nothing doubled.
    assert runner.invoke(args=["directory", "import-upl", str(csv_path)]).exit_code == 0
    again = yaml.safe_load((demo_copy / UPL_TOPICS_FILE).read_text(encoding="utf-8"))["topics"]
    assert len(again) == len(written)
    directory = load_directory(demo_copy)
    assert directory.topics["huurtoeslag"].upl_uri is None  # curated topic untouched
    assert directory.topics["upl-huurtoeslag"].partners == ("toeslagen",)


def test_import_upl_refuses_a_file_without_the_columns(app, tmp_path):
    csv_path = tmp_path / "other.csv"
    csv_path.write_text("naam,adres\nx,y\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["directory", "import-upl", str(csv_path)])
    assert result.exit_code != 0
    assert "missing column(s) UniformeProductnaam" in result.output


def test_import_the_real_upl_list(app, demo_copy, shared_dir):
    csv_path = shared_dir / "data" / "upl" / "UPL-actueel.csv"
    if not csv_path.exists():
        pytest.skip("UPL-actueel.csv is not in ../shared")
    result = app.test_cli_runner().invoke(args=["directory", "import-upl", str(csv_path)])
    assert result.exit_code == 0, result.output
    numbers = {k: int(v) for k, v in re.findall(r"(rows|mapped|unmapped|skipped \(no name\)): (\d+)", result.output)}
    assert numbers["rows"] == 1121
    assert numbers["mapped"] >= 200  # products whose legal basis names a partner's law
    directory = load_directory(demo_copy)
    assert directory.topics["upl-aow-uitkering"].partners == ("svb",)
    assert directory.topics["upl-kinderbijslag"].partners == ("svb",)
    assert directory.topics["upl-zorgtoeslag"].partners == ("toeslagen",)
    assert directory.topics["upl-aanvinkvzouder"].partners == ("svb",)  # an article narrows the law


# --- operator commands are quiet unless they have something to say -----------------------------------------

def _flask(args: list[str], redis_url: str, folder: Path | None = None):
    """`flask --app routing ...` as an operator runs it: a process of its own, building the app itself."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url}
    if folder is not None:
        env["DIRECTORY_PATH"] = str(folder)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "routing", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_operator_commands_do_not_announce_the_directory(redis_url, demo_copy):
    helped = _flask(["--help"], redis_url)
    assert helped.returncode == 0 and "directory" in helped.stdout
    assert helped.stderr == ""
    checked = _flask(["directory", "validate"], redis_url, demo_copy)
    assert checked.returncode == 0 and checked.stderr == ""
    assert checked.stdout == f"{demo_copy}: valid (7 locations, 19 partners, 30 topics)\n"
    # A directory the command's own app cannot load is still said (the app starts without one).
    edit(demo_copy / "partners.yaml", "  - id: cjib", "  - id: cjib\n    bogus: 1")
    listed = _flask(["--help"], redis_url, demo_copy)
    assert listed.returncode == 0 and "not loaded" in listed.stderr


def test_a_web_or_worker_process_still_says_which_directory_it_serves(redis_url, caplog):
    import logging

    from routing import create_app

    caplog.set_level(logging.INFO, logger="routing.directory.state")
    create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url})
    assert "directory loaded: 7 locations, 19 partners, 30 topics" in caplog.text
