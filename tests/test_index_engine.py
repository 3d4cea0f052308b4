"""Unit tests of the search index: the fast paths must give what the plain definitions give."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reader.digest import bundled_digest, load_library
from reader.index.engine import SearchEngine, State
from reader.index.tokenizer import CHUNK, fold_words
from reader.paper import Paper
from reader.text import fold

TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ éÉöμß-_.,'\"()[]{}\t\n\x00\u0301\u2009İﬁ½0123")), max_size=40)


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_fold_words_is_fold_split(text: str) -> None:
    assert fold_words(text) == fold(text).split()


@pytest.fixture(scope="module")
def real() -> SearchEngine:
    return SearchEngine(load_library([bundled_digest()]).papers)


def test_postings_are_the_words_of_each_paper(real: SearchEngine) -> None:
    title_words = [set(fold(p.title).split()) for p in real.papers]
    abstract_words = [set(fold(p.abstract).split()) for p in real.papers]
    assert set(real.words) == set().union(*title_words, *abstract_words)
    for word, wid in real.vocab.items():
        assert real.words[wid] == word
        assert list(real.title_postings[wid]) == [i for i, ws in enumerate(title_words) if word in ws]
        assert list(real.abstract_postings[wid]) == [i for i, ws in enumerate(abstract_words) if word in ws]


def test_chunks_join_up() -> None:
    # More papers than one build chunk, and a word in every one of them.
    papers = [
        Paper.make(f"Paper number {i} on graphs", f"Abstract {i} about graphs and w{i % 7}") for i in range(CHUNK + 7)
    ]
    engine = SearchEngine(papers)
    assert list(engine.title_postings[engine.vocab["graphs"]]) == list(range(len(papers)))
    assert list(engine.abstract_postings[engine.vocab["w3"]]) == list(range(3, len(papers), 7))
    result = engine.search("w3")
    assert list(result.indices) == list(range(3, len(papers), 7))


def _brute_exact(engine: SearchEngine, needle: str) -> list[int]:
    needle = needle.casefold()
    hits = []
    for i, p in enumerate(engine.papers):
        if needle in p.title.casefold():
            hits.append((0, i))
        elif needle in p.abstract.casefold():
            hits.append((1, i))
    return [i for _, i in sorted(hits)]


@pytest.mark.parametrize("needle", ["relu", "ReLU", "μ", "schrö", "pad", "gpt-4", "c++", "a", "e", "-", "ll", "12"])
def test_exact_terms_match_a_scan_of_the_text(real: SearchEngine, needle: str) -> None:
    assert list(real.search("'" + needle).indices) == _brute_exact(real, needle)
    excluded = set(_brute_exact(real, needle))
    assert list(real.search("!'" + needle).indices) == [i for i in range(len(real.papers)) if i not in excluded]


@pytest.mark.parametrize("phrase", ["neural tangent kernel", "large language models", "of the", "padé", "x y z"])
def test_phrases_match_a_scan_of_the_text(real: SearchEngine, phrase: str) -> None:
    needle = f" {fold(phrase)} "
    hits = []
    for i, p in enumerate(real.papers):
        if needle in f" {fold(p.title)} ":
            hits.append((0, i))
        elif needle in f" {fold(p.abstract)} ":
            hits.append((1, i))
    assert list(real.search(f'"{phrase}"').indices) == [i for _, i in sorted(hits)]


def test_filters(real: SearchEngine) -> None:
    papers = real.papers
    state = State(
        bookmarked={papers[3].id, papers[10].id},
        read={papers[0].id},
        tags={papers[10].id: {"todo"}, papers[20].id: {"todo", "x"}},
    )
    assert list(real.search("is:bookmarked", state).indices) == [3, 10]
    assert list(real.search("#todo", state).indices) == [10, 20]
    assert list(real.search("#todo !is:bookmarked", state).indices) == [20]
    assert 0 not in real.search("is:unread", state).indices
    assert len(real.search("is:unread", state)) == len(papers) - 1
    assert list(real.search("is:read", state).indices) == [0]


def test_scores_are_exact_multiples(real: SearchEngine) -> None:
    result = real.search("neural operator learning")
    units = result.scores / 0.05
    assert np.allclose(units, np.round(units), atol=1e-3)
    assert list(result.scores) == sorted(result.scores, reverse=True)


def test_caches_do_not_change_answers(real: SearchEngine) -> None:
    queries = ["n", "ne", "neu", "neural", "neural o", "neural op", "nueral opertor", "'relu", '"of the"']
    first = [list(real.search(q).indices) for q in queries]
    again = [list(real.search(q).indices) for q in queries]
    real.clear_caches()
    cold = [list(real.search(q).indices) for q in queries]
    assert first == again == cold


def test_searches_from_threads_agree(real: SearchEngine) -> None:
    queries = ["math reason", "nueral", "approx", "'relu", "transf", "mcculloch"]
    want = {q: list(real.search(q).indices) for q in queries}
    real.clear_caches()
    errors: list[str] = []

    def worker() -> None:
        for q in queries * 5:
            if list(real.search(q).indices) != want[q]:
                errors.append(q)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_empty_engine() -> None:
    engine = SearchEngine([])
    assert len(engine.search("anything")) == 0
    assert len(engine.search("")) == 0
    assert len(engine.search("'x")) == 0


def test_line_breaks_and_nul_inside_texts_keep_papers_apart() -> None:
    papers = [
        Paper.make("First\npaper", "alpha\nbeta \x00 gamma"),
        Paper.make("Second paper", "delta"),
        Paper.make("Third\x00paper", "epsilon\n"),
    ]
    engine = SearchEngine(papers)
    assert list(engine.search("delta").indices) == [1]
    assert list(engine.search("gamma").indices) == [0]
    assert list(engine.search("epsilon").indices) == [2]
    assert list(engine.search("third").indices) == [2]


def test_common_words_kept_as_bitmaps_rank_exactly_as_posting_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """A big library keeps its common words as bitmaps too (a short prefix stands for hundreds
    of them, a compound typed joined may have common parts); every search, partial matches
    included, answers as it does from the posting lists alone."""
    from reader.index import engine as engine_module
    from reader.index import postings

    # The bundled digest's papers, repeated into a library big enough for common words to be dense.
    base = load_library([bundled_digest()]).papers
    papers = [
        Paper(f"{k:06x}{p.id}", f"{p.title} {k}", p.abstract, order=k * len(base) + i)
        for k in range(30)
        for i, p in enumerate(base)
    ]
    queries = [
        *("s", "m", "a", "t", "o", "th", "de", "neural o", "low-rank a", "model", "learn", "apprximation"),
        *("stepbystep diffusion", "lowrank adaptation tales", "selfattention feedforward", "finetuning silver"),
        *("math nerosurgr", "scorebased generative", "diffusion modle tutorial", "qwen 2.5", "language m"),
    ]
    dense = SearchEngine(papers)
    assert any(dense._bitmaps), "no word is common enough to be a bitmap: the test tests nothing"
    answers = [dense.search(query) for query in queries]
    monkeypatch.setattr(postings, "DENSE_MIN", len(papers) + 1)
    monkeypatch.setattr(engine_module, "DENSE_PARTS", 0)
    sparse = SearchEngine(papers)
    assert not any(sparse._bitmaps)
    for query, a in zip(queries, answers):
        b = sparse.search(query)
        assert a.indices.tolist() == b.indices.tolist(), query
        assert a.scores.tolist() == b.scores.tolist(), query
        assert a.partial.tolist() == b.partial.tolist(), query
        assert a.missing == b.missing, query


def test_an_engine_loaded_from_an_index_searches_the_same_before_its_bitmaps_are_made() -> None:
    """An engine from a cached index searches at once and makes its bitmaps after (the app, once
    search is ready): every answer is the same before and after, and as a fresh build's."""
    base = load_library([bundled_digest()]).papers
    papers = [
        Paper(f"{k:06x}{p.id}", f"{p.title} {k}", p.abstract, order=k * len(base) + i)
        for k in range(30)
        for i, p in enumerate(base)
    ]
    built = SearchEngine(papers)
    loaded = SearchEngine.from_index(
        papers, built.words, built.title_postings, built.abstract_postings, built.ascii_only, built.sorted_ids
    )
    assert not any(loaded._bitmaps) and any(built._bitmaps)
    queries = ["s", "th", "neural o", "low-rank a", "stepbystep diffusion", "apprximation", "model"]
    before = [loaded.search(query) for query in queries]
    loaded.clear_caches()
    loaded.build_bitmaps()
    assert any(loaded._bitmaps)
    for query, a in zip(queries, before):
        for b in (loaded.search(query), built.search(query)):
            assert a.indices.tolist() == b.indices.tolist(), query
            assert a.scores.tolist() == b.scores.tolist(), query
            assert a.partial.tolist() == b.partial.tolist(), query


def test_posting_lists_laid_out_by_two_threads_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A big table's postings are scattered by two threads: every list holds the same papers in
    the same order as when laid out by one (so every search answers the same)."""
    from reader.index import postings, tokenizer

    base = load_library([bundled_digest()]).papers
    papers = [
        Paper(f"{k:06x}{p.id}", f"{p.title} {k}", p.abstract, order=k * len(base) + i)
        for k in range(6)
        for i, p in enumerate(base)
    ]
    monkeypatch.setattr(tokenizer, "CHUNK", 97)  # many chunks, in flight at once
    one = SearchEngine(papers)
    monkeypatch.setattr(postings, "PARALLEL_ABOVE", 0)
    two = SearchEngine(papers)
    assert one.words == two.words
    for which in ("title_postings", "abstract_postings"):
        a, b = getattr(one, which), getattr(two, which)
        assert a.starts.tolist() == b.starts.tolist() and a.docs.tolist() == b.docs.tolist()
    assert one.search("neural o").indices.tolist() == two.search("neural o").indices.tolist()


@given(st.lists(st.integers(0, 300), min_size=1, max_size=400), st.data())
def test_kth_largest_key_is_what_sorting_says(keys: list[int], data: st.DataObject) -> None:
    from reader.index.engine import kth_largest

    k = data.draw(st.integers(1, len(keys)))
    assert kth_largest(np.array(keys, dtype=np.uint16), k) == sorted(keys, reverse=True)[k - 1]
