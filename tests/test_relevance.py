"""The relevance set is well formed: real papers, every class, issue 12's examples, honest classes.

No recall threshold here: benchmarks/relevance.py prints recall and MRR.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest

from reader.cli import main
from tests.relevance_set import CLASSES, SetFileError, load

# Issue 12's examples: each shows nothing today; each must stay in the set with its paper.
ISSUE_EXAMPLES = {
    "difusion modle tutorial": "Step-by-Step Diffusion: An Elementary Tutorial",
    "stepbystep diffusion": "Step-by-Step Diffusion: An Elementary Tutorial",
    "lowrank adaptation tales": "Low-Rank Approximation, Adaptation, and Other Tales",
    "selfattention feedforward": "Linear Self-Attention Approximation via Trainable Feedforward Kernel",
    "finetuning silver bullet": "Initialization using Update Approximation is a Silver Bullet for Extremely "
    "Efficient Low-Rank Fine-Tuning",
    "spacefilling curves": "Planar Substitutions to Lebesgue type Space-Filling Curves and Relatively Dense "
    "Fractal-like Sets in the Plane",
    "mathematical capability chatgpt": "Mathematical Capabilities of ChatGPT",
    "universal properties rnn": "Minimal Width for Universal Property of Deep RNN",
    "philosophers care complexities": "Why Philosophers Should Care About Computational Complexity",
    "amplifying alchemy capabilities": "Alchemy: Amplifying Theorem-Proving Capability through Symbolic Mutation",
    "hard negative mine isometric": "Mathematical Justification of Hard Negative Mining via Isometric "
    "Approximation Theorem",
}


@pytest.fixture(scope="module")
def listed() -> dict[str, str]:
    """id -> title of every paper of the bundled digest, as `paper-reader list` prints them."""
    import contextlib
    import io

    from reader.digest import bundled_digest

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["list", str(bundled_digest())]) in (0, None)
    return dict(line.split("\t", 1) for line in out.getvalue().splitlines())


@pytest.fixture(scope="module")
def texts() -> dict[str, tuple[str, str]]:
    """id -> (title, abstract) of the bundled digest."""
    from reader.digest import bundled_digest, load_library

    return {p.id: (p.title, p.abstract) for p in load_library([bundled_digest()]).papers}


def _words(text: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return set(re.findall(r"[a-z0-9]+", plain))


def test_every_expected_paper_is_in_the_bundled_digest_with_its_title(listed: dict[str, str]) -> None:
    cases = load()
    assert cases
    for case in cases:
        assert case.paper_id in listed, case
        assert case.title == listed[case.paper_id], case


def test_every_class_is_there_with_enough_queries_and_no_query_twice() -> None:
    cases = load()
    per_class = Counter(c.cls for c in cases)
    assert set(per_class) == set(CLASSES)
    assert min(per_class.values()) >= 15, per_class
    queries = Counter(c.query for c in cases)
    assert [q for q, n in queries.items() if n > 1] == []


def test_issue_12_examples_are_in_the_set_with_their_papers() -> None:
    found = {c.query: c.title for c in load()}
    for query, title in ISSUE_EXAMPLES.items():
        assert found.get(query) == title, query


def test_classes_say_what_the_queries_do(texts: dict[str, tuple[str, str]]) -> None:
    """Checks a wrong label would fail: exact words are there, abstract words not in the title, one extra word."""
    for case in load():
        title, body = texts[case.paper_id]
        in_title, in_paper = _words(title), _words(title + " " + body)
        query = _words(case.query)
        if case.cls == "exact":
            assert query <= in_paper, case
        elif case.cls == "abstract":
            assert query.isdisjoint(in_title), case
        elif case.cls == "extra_word":
            absent = [w for w in query if not any(w in word for word in in_paper)]
            assert len(absent) == 1, (case, absent)
        elif case.cls == "compound":
            # One typed word is two or more of the paper's words glued together.
            glued = {w for w in query if w not in in_paper}
            assert glued, case


def test_a_set_file_of_your_own_loads_and_a_malformed_one_says_where(tmp_path) -> None:
    good = tmp_path / "hidden.tsv"
    good.write_text(
        "# unseen queries\ntypo\tkernal thinning\tiiwodxld6ym4\n\nstem\tmemorize transformers\ti6vygk6xyaqv\tt\n"
    )
    cases = load(good)
    assert [(c.cls, c.query, c.paper_id) for c in cases] == [
        ("typo", "kernal thinning", "iiwodxld6ym4"),
        ("stem", "memorize transformers", "i6vygk6xyaqv"),
    ]
    bad = tmp_path / "bad.tsv"
    bad.write_text("typo\tkernal thinning\tiiwodxld6ym4\nspeling\tx\ty\n")
    with pytest.raises(SetFileError, match=r"bad.tsv:2: unknown class 'speling'"):
        load(bad)
    bad.write_text("typo kernal thinning\n")
    with pytest.raises(SetFileError, match=r"bad.tsv:1: want class"):
        load(bad)
