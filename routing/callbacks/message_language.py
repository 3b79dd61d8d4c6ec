"""The language of a citizen's SMS or WhatsApp message: Dutch (the default), English, or another language the
location calls back in (its `call_languages`, such as Turkish and Arabic in Utrecht).

Why a word count and not a language-detection library: a callback message is a line or two ("Hello, please
call me back about my benefits", "Graag terugbellen over mijn toeslag"), too short for statistical detectors
to be reliable, and there are only two outcomes. Counting common words of each language is small, needs no
dependency, and its outcome can be explained to anyone: these words are English, those are Dutch.

The rule: a message that asks for a language gets it ("Graag in het Engels", "English please"; "Ik spreek
geen Nederlands" and "I don't speak Dutch" ask for the other one). Otherwise English only when the message has
at least two English words and more than twice as many English as Dutch words; else Dutch, also for an empty
message, a reference ("TB?") or a bare number. A Dutch reply to an English speaker is the cost of a wrong guess
either way; for most citizens it is the right one.

A location's other call languages are found in three plain ways, never by guessing from a few words: the
message names one ("Türkçe lütfen", "in het Turks", "Arabic please"; the names come from Babel, in Dutch, in
English and in the language itself), most of its letters are of a script that one of them alone is written in
(Arabic, Cyrillic, ...), or it has no Dutch or English words at all and letters that one of them alone uses
(Turkish ğ ı ş, Polish ł ą ę ...). A Dutch message from someone named Ayşe stays Dutch, and so does one that
names two languages ("mijn moeder spreekt alleen Turks, ik spreek Nederlands"): the words decide.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

from babel import Locale, UnknownLocaleError

ENGLISH = "en"
DUTCH = "nl"

# Function words and the words of a typical request. Words both languages use ("help", "in", "is", "we",
# "was", "over", "of", "want") are in neither list: they say nothing about the language.
ENGLISH_WORDS = frozenset("""
    i my mine you your the and to for with about from on at this that it am are be been have has
    please call calling called back hello hi thanks thank can could would will need like speak english
    question questions regarding dear sir madam good morning afternoon evening yes not what when how why
    where number phone tomorrow today
""".split())
DUTCH_WORDS = frozenset("""
    ik mij mijn u uw jij je jou de het een en met voor van naar aan bij op om dat die deze er niet wel
    graag bel bellen belt terug terugbellen teruggebeld hallo hoi dag goedemorgen goedemiddag dank bedankt
    alstublieft alsjeblieft kunt kan kunnen wil wilt willen zou zijn ben heb heeft hebben nodig vraag
    vragen ja nee wat wanneer hoe waarom waar nummer morgen vandaag
""".split())

# Runs of letters, lowercased: "Can't" gives "can" and "t", "a.u.b." gives "a", "u" and "b".
_WORDS = re.compile(r"[^\W\d_]+")


def word_counts(text: str) -> tuple[int, int]:
    """(English words, Dutch words) in the text; a word counts each time it occurs."""
    words = _WORDS.findall(text.lower())
    return sum(w in ENGLISH_WORDS for w in words), sum(w in DUTCH_WORDS for w in words)


# A language named in the message, and the words that say "not this one" when they come just before its name.
LANGUAGE_NAMES = {"english": ENGLISH, "engels": ENGLISH, "engelstalig": ENGLISH,
                  "dutch": DUTCH, "nederlands": DUTCH, "nederlandstalig": DUTCH}
NEGATIONS = frozenset({"no", "not", "t", "never", "geen", "niet", "nooit"})  # "t": don't, can't
OTHER = {ENGLISH: DUTCH, DUTCH: ENGLISH}


def asked_for(text: str, others: tuple[str, ...] = ()) -> str | None:
    """The language the message asks for by name ("in het Engels", "Türkçe lütfen"; one of `others`, the
    location's other call languages, too), if it names exactly one; a language not wanted ("ik spreek geen
    Nederlands") asks for the other of Dutch and English only when no language is named as wanted."""
    words = _WORDS.findall(text.lower())
    named, instead = set(), set()
    for i, word in enumerate(words):
        language = LANGUAGE_NAMES.get(word) or next((code for code in others if word in _names(code)), None)
        if language is None:
            continue
        if NEGATIONS.isdisjoint(words[max(0, i - 2):i]):
            named.add(language)
        elif language in OTHER:
            instead.add(OTHER[language])
    wishes = named or instead
    return wishes.pop() if len(wishes) == 1 else None


# The script a language is written in, as Unicode's character names begin ("ARABIC LETTER ALEF"): a message
# mostly in that script is in one of the location's languages written in it.
SCRIPTS = {"ar": "ARABIC", "fa": "ARABIC", "ur": "ARABIC", "ps": "ARABIC", "ckb": "ARABIC",
           "ru": "CYRILLIC", "uk": "CYRILLIC", "bg": "CYRILLIC", "el": "GREEK", "he": "HEBREW",
           "ti": "ETHIOPIC", "am": "ETHIOPIC", "zh": "CJK", "hi": "DEVANAGARI", "th": "THAI",
           "hy": "ARMENIAN", "ka": "GEORGIAN"}
# Letters of a Latin-script language that neither Dutch nor English nor the others here use.
LETTERS = {"tr": frozenset("ğış"), "pl": frozenset("łąęśźżćń")}


def detect(text: str | None, others: tuple[str, ...] = ()) -> str:
    """The language of the message: asked for by name, else one of `others` (the location's call languages
    besides Dutch and English) that its script or letters show, else "en" when the text is clearly English, else
    "nl" (see the module docstring)."""
    text = text or ""
    wish = asked_for(text, others) or in_script(text, others)
    if wish:
        return wish
    english, dutch = word_counts(text)
    if english == dutch == 0:
        return by_letters(text, others) or DUTCH
    return ENGLISH if english >= 2 and english > 2 * dutch else DUTCH


@lru_cache(maxsize=64)
def _names(code: str) -> frozenset[str]:
    """A language's one-word names in Dutch, in English and in itself, lowercased."""
    names = set()
    for locale in (DUTCH, ENGLISH, code):
        try:
            name = Locale.parse(locale).languages.get(code)
        except (ValueError, UnknownLocaleError):
            continue
        if name and len(_WORDS.findall(name)) == 1:
            names.add(name.lower())
    return frozenset(names)


def in_script(text: str, others: tuple[str, ...]) -> str | None:
    """The first of `others` written in the script that most of the message's letters are in."""
    scripts = Counter(unicodedata.name(letter, "").split(" ")[0] for letter in text if letter.isalpha())
    if not scripts:
        return None
    script, letters = scripts.most_common(1)[0]
    if 2 * letters <= sum(scripts.values()):
        return None
    return next((code for code in others if SCRIPTS.get(code) == script), None)


def by_letters(text: str, others: tuple[str, ...]) -> str | None:
    """The one of `others` whose own letters (LETTERS) the message has, if exactly one."""
    found = set(text.lower())
    matches = [code for code in others if not LETTERS.get(code, frozenset()).isdisjoint(found)]
    return matches[0] if len(matches) == 1 else None
