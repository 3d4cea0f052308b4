"""Known-answer ranking tests on the real digest: speed work must not make search worse.

Each query was chosen by reading reader/data/trending-papers.txt; each asserts
that a specific paper comes back within the top k.
"""

from __future__ import annotations

import pytest

from reader.digest import bundled_digest, load_library
from reader.index.engine import SearchEngine
from reader.index.highlight import title_spans


@pytest.fixture(scope="module")
def engine() -> SearchEngine:
    return SearchEngine(load_library([bundled_digest()]).papers)


def titles(engine: SearchEngine, query: str, k: int | None = None) -> list[str]:
    result = engine.search(query, limit=k)
    return [engine.papers[int(i)].title for i in result.indices]


@pytest.mark.parametrize(
    ("query", "expected", "k"),
    [
        # typos in both words
        ("nueral opertor", "Neural Operator: Learning Maps Between Function Spaces", 3),
        ("chinchila", "Chinchilla Scaling: A replication attempt", 1),
        ("quantizaton", "A Survey of Quantization Methods for Efficient Neural Network Inference", 1),
        ("reinforcment symbolic", "RSRM: Reinforcement Symbolic Regression Machine", 1),
        # partial words, as while typing
        ("mathemat reason", "A Survey of Deep Learning for Mathematical Reasoning", 1),
        ("lottery tick", "A Neural Scaling Law from Lottery Ticket Ensembling", 1),
        ("neural tang", "A Fast, Well-Founded Approximation to the Empirical Neural Tangent Kernel", 2),
        # words found only in abstracts
        ("mcculloch pitts", "PAON: A New Neuron Model using Padé Approximants", 1),
        ("mcculloch", "PAON: A New Neuron Model using Padé Approximants", 1),
        # accents folded both ways, word order free
        (
            "schrodinger wkb",
            "Optimally truncated WKB approximation for the highly oscillatory stationary 1D Schrödinger equation",
            1,
        ),
        ("padé", "PAON: A New Neuron Model using Padé Approximants", 1),
        (
            "wasserstein bures",
            "Forward-backward Gaussian variational inference via JKO in the Bures-Wasserstein Space",
            1,
        ),
        # inside a word
        ("coreset", "AutoCoreset: An Automatic Practical Coreset Construction Framework", 2),
    ],
)
def test_known_answer(engine: SearchEngine, query: str, expected: str, k: int) -> None:
    assert expected in titles(engine, query, k), titles(engine, query, 10)


def test_title_hit_beats_abstract_hit(engine: SearchEngine) -> None:
    result = engine.search("shapley")
    top = engine.papers[int(result.indices[0])]
    assert top.title == "Approximating the Shapley Value without Marginal Contributions"
    assert len(result) > 1  # the others mention Shapley in their abstracts only
    for i, score in zip(result.indices[1:], result.scores[1:]):
        assert "shapley" not in engine.papers[int(i)].title.lower()
        assert score < result.scores[0]


def test_title_hits_come_before_abstract_hits(engine: SearchEngine) -> None:
    result = engine.search("transf")
    in_title = ["transf" in engine.papers[int(i)].title.lower() for i in result.indices]
    assert in_title[:3] == [True, True, True]
    assert in_title == sorted(in_title, reverse=True)  # no abstract hit above a title hit


def test_ties_keep_file_order(engine: SearchEngine) -> None:
    result = engine.search("coreset")
    got = [engine.papers[int(i)].title for i in result.indices]
    assert got == [
        "Near-Optimal Quantum Coreset Construction Algorithms for Clustering",
        "AutoCoreset: An Automatic Practical Coreset Construction Framework",
    ]
    assert result.scores[0] == result.scores[1]
    # Every run of equal scores is in file order.
    result = engine.search("mathematical reasoning")
    for a, b, sa, sb in zip(result.indices, result.indices[1:], result.scores, result.scores[1:]):
        if sa == sb:
            assert a < b


def test_empty_query_is_file_order(engine: SearchEngine) -> None:
    for query in ("", "   "):
        result = engine.search(query)
        assert list(result.indices) == list(range(len(engine.papers)))


def test_exact_and_phrase(engine: SearchEngine) -> None:
    phrase = titles(engine, '"neural tangent kernel"')
    assert phrase[:2] == [
        "Faithful and Efficient Explanations for Neural Networks via Neural Tangent Kernel Surrogate Models",
        "A Fast, Well-Founded Approximation to the Empirical Neural Tangent Kernel",
    ]
    exact = titles(engine, "'ReLU")
    assert "Minimum Width of Leaky-ReLU Neural Networks for Uniform Universal Approximation" in exact[:4]
    assert all("relu" in t.lower() for t in exact[:4])


def test_exclusion(engine: SearchEngine) -> None:
    got = titles(engine, "reasoning !math")
    assert got
    for title in got:
        paper = next(p for p in engine.papers if p.title == title)
        assert "math" not in paper.title.lower() and "math" not in paper.abstract.lower()


def test_typo_highlight_spans(engine: SearchEngine) -> None:
    paper = next(p for p in engine.papers if p.title.startswith("Neural Operator: Learning Maps"))
    spans = title_spans(engine, paper, "nueral opertor")
    assert [paper.title[a:b] for a, b in spans] == ["Neural", "Operator"]
