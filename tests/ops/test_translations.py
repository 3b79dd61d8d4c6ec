"""Every text a user can see has its English translation: a missing one shows Dutch on an English page."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "routing" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
TEMPLATES = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
METHODS = [("routing/**.py", "python"), ("workers/**.py", "python"),
           ("routing/templates/**.html", "jinja2"), ("routing/templates/**.txt", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2), "_n": (1, 2),
            "lazy_ngettext": (1, 2)}


def test_every_text_in_code_and_templates_has_an_english_translation():
    with CATALOGUE.open() as file:
        catalogue = read_po(file)
    found, missing, used = 0, [], set()
    for filename, line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, {"routing/templates/**.html": TEMPLATES, "routing/templates/**.txt": TEMPLATES},
            keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        if not msgid:
            continue
        found += 1
        used.add(msgid)
        entry = catalogue.get(msgid)
        translated = entry is not None and (all(entry.string) if isinstance(entry.string, tuple) else entry.string)
        if not translated:
            missing.append(f"{filename}:{line}: {msgid[:70]}")
    assert found > 300  # the extraction itself works (code and templates)
    assert not missing, "\n".join(missing)
    # And no entry that no text uses any more: a text changed in the code leaves its old translation behind,
    # which reads as if it were still in use (and hides that the new one may be missing).
    stale = [message.id for message in catalogue
             if message.id and (message.id[0] if isinstance(message.id, tuple) else message.id) not in used]
    assert not stale, "\n".join(str(entry)[:90] for entry in stale)


def test_no_text_has_two_entries():
    """A second entry for the same text silently replaces the first when the catalogue is read: a correction
    made in one of them may be lost."""
    entries, current = [], []
    for line in CATALOGUE.read_text().splitlines():
        if line.startswith("msgstr"):  # the entry's key (context and text) is complete
            if current:
                entries.append("\n".join(current))
            current = []
        elif line.startswith(("msgctxt ", "msgid ")) or (line.startswith('"') and current):
            current.append(line)
    twice = {entry for entry in entries if entries.count(entry) > 1}
    assert len(entries) > 300 and not twice, "\n".join(sorted(twice))


# The loket in English: "service counter", as the header of every page names it ("Government-wide service counter"),
# not the Dutch word, nor a bare "counter" (which also reads as a tally), on citizen, staff and partner pages alike.
NOT_THE_LOKETS_NAME = re.compile(r"(?<!service )\bcounter\b|(?<![(%])\bloket\b", re.IGNORECASE)


def test_every_english_text_names_the_loket_the_same_way():
    with CATALOGUE.open() as file:
        catalogue = read_po(file)
    texts = [(f"msgid {message.id!r}"[:90], string) for message in catalogue if message.id
             for string in (message.string if isinstance(message.string, tuple) else (message.string,))]
    texts += [(str(path.relative_to(ROOT)), path.read_text())
              for path in (ROOT / "routing" / "templates" / "notices" / "messages").glob("*.en.jinja")]
    other_words = [f"{where}: {found}" for where, text in texts
                   for found in NOT_THE_LOKETS_NAME.findall(" ".join(text.split()))]
    assert not other_words, "\n".join(other_words)
