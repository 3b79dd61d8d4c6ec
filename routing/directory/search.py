"""Topic and organisation search, forgiving the way staff type.

The index is built once per loaded directory. A query is normalised (case, diacritics, punctuation) and
matched against every name, synonym and alias, in this order of strength: the whole term, the start of a
term (results as you type), every query word starting a word of the term, and finally small typos
(rapidfuzz). Each search touches only the candidate terms, so it stays fast on the full UPL list.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process
from unidecode import unidecode

from .model import Directory

Kind = Literal["topic", "partner"]

EXACT = 100.0
PREFIX = 90.0  # up to 99 as the query covers more of the term
WORDS = 80.0  # up to 89 as the query covers more of the term
TYPO = 0.8  # a typo match scores its similarity (0-100) times this
MIN_QUERY = 2
MIN_TYPO = 4  # shorter words have too many neighbours to guess a typo
TYPO_CUTOFF = 80.0
MAX_TARGETS = 60

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lower case, ASCII, words separated by one space: "Kindgebonden-Búdget" → "kindgebonden budget"."""
    return _NON_WORD.sub(" ", unidecode(text).lower()).strip()


@dataclass(frozen=True)
class Hit:
    kind: Kind
    id: str
    score: float


class SearchIndex:
    def __init__(self, directory: Directory):
        targets: dict[str, dict[tuple[Kind, str], float]] = {}

        def add(text: str, kind: Kind, target: str, weight: float) -> None:
            term = normalize(text)
            if term:
                per_term = targets.setdefault(term, {})
                per_term[(kind, target)] = max(per_term.get((kind, target), 0.0), weight)

        for topic in directory.topics.values():
            # Curated topics outrank imported UPL products that match equally well.
            weight = 0.9 if topic.upl_uri else 1.0
            for text in (topic.name_nl, topic.id, *topic.synonyms):
                add(text, "topic", topic.id, weight)
            add(topic.name_en, "topic", topic.id, weight * 0.95)
        for partner in directory.partners.values():
            for text in (partner.name, partner.id, *partner.aliases):
                add(text, "partner", partner.id, 1.0)

        self.terms: list[str] = sorted(targets)
        self.targets: list[tuple[tuple[Kind, str, float], ...]] = [
            tuple((kind, tid, w) for (kind, tid), w in targets[term].items()) for term in self.terms
        ]
        self.term_words: list[tuple[str, ...]] = [tuple(term.split()) for term in self.terms]
        team_of = {p.id: p.municipality for p in directory.partners.values() if p.kind == "municipal"}
        # A term that names only teams of one municipality belongs to it; nationally "gemeente" or
        # "wijkteam" start hundreds of such terms, and a search needs only its own municipality's.
        self.term_owner: list[str | None] = [
            owners.pop() if len(owners := {team_of.get(t) if k == "partner" else None for k, t, _ in ts}) == 1 else None
            for ts in self.targets
        ]
        by_word: dict[str, dict[str | None, set[int]]] = {}
        for i, words in enumerate(self.term_words):
            for word in words:
                by_word.setdefault(word, {}).setdefault(self.term_owner[i], set()).add(i)
        self.words: list[str] = sorted(by_word)
        self.word_terms: list[dict[str | None, frozenset[int]]] = [
            {owner: frozenset(terms) for owner, terms in by_word[w].items()} for w in self.words
        ]
        self.exact: dict[str, int] = {term: i for i, term in enumerate(self.terms)}
        self._near_length: dict[tuple[str, int], tuple[list[str], list[int]]] = {}
        self._topic_partners = _partners_by_municipality(directory)
        self._team_of = team_of

    def partners_for(self, topic_id: str, municipality: str) -> tuple[str, ...]:
        """The topic's partners that serve ``municipality`` (national ones and its own teams), in topic
        order; a national topic such as "bijstand" lists hundreds of teams, so this is a lookup."""
        national, by_municipality = self._topic_partners[topic_id]
        return by_municipality.get(municipality, national)

    def _prefixed(self, sorted_list: list[str], prefix: str) -> range:
        start = bisect_left(sorted_list, prefix)
        end = bisect_left(sorted_list, prefix + "\x7f")
        return range(start, end)

    def _typos(self, text: str, pool: str) -> list[tuple[float, int]]:
        """(similarity, index) of words or terms within TYPO_CUTOFF of ``text``. Only candidates of a
        near length can reach the cutoff (ratio = 2·matches / total length), so only those are compared."""
        key = (pool, len(text))
        if key not in self._near_length:
            items = self.words if pool == "words" else self.terms
            low, high = len(text) * 2 / 3, len(text) * 3 / 2
            indexes = [i for i, item in enumerate(items) if low <= len(item) <= high]
            self._near_length[key] = ([items[i] for i in indexes], indexes)
        candidates, indexes = self._near_length[key]
        return [(similarity, indexes[k]) for _, similarity, k in process.extract(
            text, candidates, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=None)]

    def _terms_with(self, w: int, municipality: str | None) -> Iterable[int]:
        by_owner = self.word_terms[w]
        if municipality is None:
            return (term for terms in by_owner.values() for term in terms)
        return (*by_owner.get(None, ()), *by_owner.get(municipality, ()))

    def _word_matches(self, word: str, municipality: str | None) -> dict[int, float]:
        """Term index → how well ``word`` matches one of its words (1.0 prefix, less for a typo)."""
        found: dict[int, float] = {}
        for w in self._prefixed(self.words, word):
            for term in self._terms_with(w, municipality):
                found[term] = 1.0
        if not found and len(word) >= MIN_TYPO:  # a typo only when the word itself leads nowhere
            for similarity, w in self._typos(word, "words"):
                for term in self._terms_with(w, municipality):
                    found.setdefault(term, similarity / 100)
        return found

    def term_scores(self, query: str, municipality: str | None = None) -> dict[int, float]:
        """Term index → score; with ``municipality``, terms of other municipalities' teams are skipped."""
        q = normalize(query)
        if len(q) < MIN_QUERY:
            return {}
        scores: dict[int, float] = {}
        owner = self.term_owner

        def offer(i: int, score: float) -> None:
            if score > scores.get(i, 0.0) and (municipality is None or owner[i] in (None, municipality)):
                scores[i] = score

        if q in self.exact:
            offer(self.exact[q], EXACT)
        for i in self._prefixed(self.terms, q):
            offer(i, PREFIX + 9 * len(q) / len(self.terms[i]))
        words = q.split()
        per_word = [self._word_matches(w, municipality) for w in words]
        common = set.intersection(*(set(m) for m in per_word)) if per_word else set()
        for i in common:
            quality = min(m[i] for m in per_word)
            coverage = min(1.0, len(words) / len(self.term_words[i]))
            offer(i, (WORDS + 9 * coverage) * quality)
        if not scores and len(q) >= MIN_TYPO:  # last resort: words run together or split apart
            for similarity, i in self._typos(q, "terms"):
                offer(i, similarity * TYPO)
        return scores

    def search(self, query: str, limit: int = MAX_TARGETS, municipality: str | None = None) -> list[Hit]:
        """Topics and partners matching ``query``, best first; with ``municipality``, other
        municipalities' teams are left out before the limit (nationally, "wijkteam" names hundreds)."""
        best: dict[tuple[Kind, str], float] = {}
        for i, score in self.term_scores(query, municipality).items():
            for kind, target, weight in self.targets[i]:
                if municipality and kind == "partner" and self._team_of.get(target, municipality) != municipality:
                    continue
                key = (kind, target)
                best[key] = max(best.get(key, 0.0), score * weight)
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        return [Hit(kind, target, round(score, 2)) for (kind, target), score in ranked[:limit]]


def _partners_by_municipality(directory: Directory) -> dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]]:
    """Per topic: its national partners, and per municipality those plus that municipality's teams, in
    topic order. One pass per topic: a national topic can list a team for every municipality."""
    result = {}
    for topic in directory.topics.values():
        national: list[str] = []
        by_municipality: dict[str, list[str]] = {}
        for pid in topic.partners:
            partner = directory.partners[pid]
            if partner.kind == "national":
                national.append(pid)
                for ids in by_municipality.values():
                    ids.append(pid)
            else:
                by_municipality.setdefault(partner.municipality, list(national)).append(pid)
        result[topic.id] = (tuple(national), {m: tuple(ids) for m, ids in by_municipality.items()})
    return result
