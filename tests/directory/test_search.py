"""Search forgives the way staff type: case, diacritics, small typos, synonyms, abbreviations."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.directory.model import Channels, Partner
from routing.directory.search import MAX_TARGETS, SearchIndex, normalize


@pytest.fixture(scope="module")
def index(demo) -> SearchIndex:
    return SearchIndex(demo)


def top(index: SearchIndex, query: str) -> tuple[str, str]:
    hits = index.search(query)
    assert hits, f"nothing for {query!r}"
    return hits[0].kind, hits[0].id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("aow", ("topic", "aow")),
        ("huurtoeslag", ("topic", "huurtoeslag")),
        ("verblijfsvergunning", ("topic", "verblijfsvergunning")),
        ("boete", ("topic", "boete")),
        ("studieschuld", ("topic", "studieschuld")),
        ("WW", ("topic", "ww")),
        ("kinderbijslag", ("topic", "kinderbijslag")),
        ("18 worden", ("topic", "18-worden")),
        ("met pensioen", ("topic", "met-pensioen")),
        ("uit elkaar", ("topic", "uit-elkaar")),
    ],
)
def test_topics_from_the_issue(index, query, expected):
    assert top(index, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("huurtoeslg", "huurtoeslag"),  # a letter missing
        ("huurtoelsag", "huurtoeslag"),  # two letters swapped
        ("Kinderbijslag", "kinderbijslag"),
        ("KINDERBIJSLAG", "kinderbijslag"),
        ("kïnderbijslag", "kinderbijslag"),  # diacritics
        ("  kinderbijslag!  ", "kinderbijslag"),
        ("verblijfsvergunnig", "verblijfsvergunning"),
        ("studieshuld", "studieschuld"),
    ],
)
def test_typos_case_and_diacritics_are_forgiven(index, query, expected):
    assert top(index, query) == ("topic", expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bekeuring", "boete"),
        ("verkeersboete", "boete"),
        ("stufi", "studiefinanciering"),
        ("huursubsidie", "huurtoeslag"),
        ("werkloosheidsuitkering", "ww"),
        ("ik word 18", "18-worden"),
        ("scheiden", "uit-elkaar"),
    ],
)
def test_synonyms(index, query, expected):
    assert top(index, query) == ("topic", expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("svb", "svb"), ("Sociale Verzekeringsbank", "svb"), ("UWV", "uwv"), ("Dienst Toeslagen", "toeslagen"),
     ("immigratie- en naturalisatiedienst", "ind"), ("BD", "belastingdienst"), ("Weener XL", "weener-xl")],
)
def test_organisation_names_and_abbreviations(index, query, expected):
    assert top(index, query) == ("partner", expected)


def test_results_as_you_type_find_a_topic_from_its_start(index):
    assert top(index, "huurt") == ("topic", "huurtoeslag")
    assert top(index, "verblijf") == ("topic", "verblijfsvergunning")


def test_best_match_first(index):
    hits = index.search("toeslag")
    assert hits[0].score >= hits[-1].score
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_nonsense_and_too_short_queries_find_nothing(index):
    assert index.search("xqzvw") == []
    assert index.search("a") == []
    assert index.search("") == []


def test_normalize():
    assert normalize("Kindgebonden-Búdget!") == "kindgebonden budget"


def test_own_municipal_team_is_found_among_hundreds(demo):
    teams = {
        f"gemeente-{i:03d}-wijkteam": Partner(f"gemeente-{i:03d}-wijkteam", f"Gemeente {i:03d}, Wijkteam", "municipal",
                                            (), Channels(email="x@example.org"), municipality=f"Gemeente {i:03d}")
        for i in range(MAX_TARGETS * 3)
    }
    index = SearchIndex(dataclasses.replace(demo, partners={**demo.partners, **teams}))
    hits = index.search("wijkteam", municipality="Gemeente 170")
    assert hits[0].id == "gemeente-170-wijkteam"
    assert all(h.id in ("gemeente-170-wijkteam",) for h in hits if h.kind == "partner")


@settings(max_examples=300, deadline=None)
@given(query=st.text(max_size=100))
def test_any_text_is_a_safe_query(index, query):
    hits = index.search(query)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
