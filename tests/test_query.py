"""The query language, and search through it on the real digest (SearchEngine's public API)."""

from __future__ import annotations

import pytest
from conftest import ABSTRACT

from reader.digest import load_library
from reader.index.engine import SearchEngine, State
from reader.paper import Paper
from reader.query import Term, parse_query

NEURAL_OPERATOR = "Neural Operator: Learning Maps Between Function Spaces"


# -- parsing --------------------------------------------------------------------------------


def test_terms_exact_exclude_phrase_tag_and_filters():
    q = parse_query('neural \'exact !skip "a  phrase" #ToRead is:bookmarked IS:Unread has:note has:code')
    assert q.terms == [
        Term("fuzzy", "neural"),
        Term("exact", "exact"),
        Term("exact", "skip", negate=True),
        Term("phrase", "a phrase"),
        Term("tag", "ToRead"),
        Term("filter", "is:bookmarked"),
        Term("filter", "is:unread"),
        Term("filter", "has:note"),
        Term("filter", "has:code"),
    ]
    assert q.errors == []


def test_negated_phrase_tag_and_filter():
    q = parse_query('!"deep learning" !#done !is:bookmarked')
    assert q.terms == [
        Term("phrase", "deep learning", negate=True),
        Term("tag", "done", negate=True),
        Term("filter", "is:bookmarked", negate=True),
    ]


@pytest.mark.parametrize("text", ["is:starred", "has:pdf", "is:bookmarkd neural"])
def test_unknown_filter_is_reported(text):
    q = parse_query(text)
    assert len(q.errors) == 1
    assert text.split()[0] in q.errors[0]
    assert not q.is_empty


@pytest.mark.parametrize("text", ["", "   ", "!", "'", "#", '""'])
def test_empty_queries(text):
    q = parse_query(text)
    assert q.is_empty and q.errors == []


def test_unclosed_quote_is_a_phrase_to_the_end():
    assert parse_query('"neural oper').terms == [Term("phrase", "neural oper")]


# -- searching the real digest ------------------------------------------------------------------


@pytest.fixture(scope="module")
def papers():
    from reader.digest import bundled_digest

    return load_library([bundled_digest()]).papers


@pytest.fixture(scope="module")
def engine(papers):
    return SearchEngine(papers)


def titles(engine, query, state=None, limit=None):
    result = engine.search(query, state or State(), limit=limit)
    return [engine.papers[i].title for i in result.indices]


def test_typos_still_find_neural_operator(engine):
    assert NEURAL_OPERATOR in titles(engine, "nueral opertor")[:3]
    assert NEURAL_OPERATOR in titles(engine, "neural operator")[:3]


def test_empty_query_lists_everything_in_file_order(engine, papers):
    assert titles(engine, "") == [p.title for p in papers]


def test_limit(engine):
    assert len(titles(engine, "", limit=5)) == 5
    assert len(titles(engine, "learning", limit=3)) == 3


def test_title_hit_beats_abstract_hit():
    papers = [
        Paper.make("A study of optimisation", "We use a zebrafish model. " + ABSTRACT, order=0),
        Paper.make("Zebrafish tracking in video", ABSTRACT, order=1),
    ]
    assert titles(SearchEngine(papers), "zebrafish") == ["Zebrafish tracking in video", "A study of optimisation"]


def test_ties_keep_file_order():
    papers = [Paper.make(f"Graph networks part {n}", ABSTRACT, order=n) for n in range(5)]
    assert titles(SearchEngine(papers), "graph") == [p.title for p in papers]


@pytest.mark.parametrize("word", ["neural", "learning", "math", "operator", "quantum"])
def test_exclusion_never_returns_a_title_containing_the_word(engine, word):
    found = titles(engine, f"!{word}")
    assert found
    assert not [t for t in found if word in t.casefold()]


def test_exact_term_needs_the_substring(engine, papers):
    found = titles(engine, "'operator")
    everything = {p.title: p for p in papers}
    assert all("operator" in (t + " " + everything[t].abstract).casefold() for t in found)
    assert NEURAL_OPERATOR in found
    assert titles(engine, "'opertor") == []


def test_phrase_needs_the_words_together(engine, papers):
    found = titles(engine, '"function spaces"')
    assert NEURAL_OPERATOR in found
    everything = {p.title: p for p in papers}
    assert all("function spaces" in (everything[t].title + " " + everything[t].abstract).lower() for t in found)


def test_all_terms_must_match(engine):
    both = set(titles(engine, "neural operator"))
    assert both <= set(titles(engine, "neural")) & set(titles(engine, "operator"))


def test_unknown_filter_returns_nothing_and_says_why(engine):
    result = engine.search("is:starred", State())
    assert len(result) == 0 and result.query.errors


def test_annotation_filters(engine, papers):
    first, second, third = papers[0].id, papers[1].id, papers[2].id
    state = State.from_records(
        {
            first: {"bookmarked_at": "2024-01-01T00:00:00+00:00", "tags": ["ToRead"], "read_at": None},
            second: {"note": "look again", "read_at": "2024-01-01T00:00:00+00:00", "tags": []},
            third: {"tags": ["done"]},
        }
    )
    assert titles(engine, "is:bookmarked", state) == [papers[0].title]
    assert titles(engine, "#toread", state) == [papers[0].title]
    assert titles(engine, "#TOREAD", state) == [papers[0].title]
    assert titles(engine, "has:note", state) == [papers[1].title]
    unread = titles(engine, "is:unread", state)
    assert papers[1].title not in unread and len(unread) == len(papers) - 1
    assert papers[2].title not in titles(engine, "!#done", state)
    assert len(titles(engine, "!is:bookmarked", state)) == len(papers) - 1


def test_has_code_filter(engine):
    found = titles(engine, "has:code")
    assert len(found) == 18
    assert titles(engine, "has:code mathcoder")
