"""The language of a citizen's SMS or WhatsApp message: English or Dutch (the default).

Why a word count and not a language-detection library: a callback message is a line or two ("Hello, please
call me back about my benefits", "Graag terugbellen over mijn toeslag"), too short for statistical detectors
to be reliable, and there are only two outcomes. Counting common words of each language is small, needs no
dependency, and its outcome can be explained to anyone: these words are English, those are Dutch.

The rule: a message that asks for a language gets it ("Graag in het Engels", "English please"; "Ik spreek
geen Nederlands" and "I don't speak Dutch" ask for the other one). Otherwise English only when the message has
at least two English words and more than twice as many English as Dutch words; else Dutch, also for an empty
message, a reference ("TB?") or a bare number. A Dutch reply to an English speaker is the cost of a wrong guess
either way; for most citizens it is the right one.
"""

from __future__ import annotations

import re

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


def asked_for(text: str) -> str | None:
    """The language the message asks for by name, if it asks for exactly one."""
    words = _WORDS.findall(text.lower())
    wishes = set()
    for i, word in enumerate(words):
        named = LANGUAGE_NAMES.get(word)
        if named:
            negated = not NEGATIONS.isdisjoint(words[max(0, i - 2):i])
            wishes.add(OTHER[named] if negated else named)
    return wishes.pop() if len(wishes) == 1 else None


def detect(text: str | None) -> str:
    """The language asked for, else "en" when the text is clearly English (see the module docstring), else "nl"."""
    wish = asked_for(text or "")
    if wish:
        return wish
    english, dutch = word_counts(text or "")
    return ENGLISH if english >= 2 and english > 2 * dutch else DUTCH
