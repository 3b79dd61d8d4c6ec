"""Fixtures for the directory tests: the demo directory, and writable copies of it to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from routing.directory.loader import load_directory
from routing.directory.model import Directory

DEMO = Path(__file__).resolve().parents[2] / "config" / "directory"


@pytest.fixture(scope="session")
def demo() -> Directory:
    return load_directory(DEMO)


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo directory."""
    target = tmp_path / "directory"
    shutil.copytree(DEMO, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a copied directory file; the test fails loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
