"""Exact terms match the text as shown (TeX made readable) as well as the text as written."""

from __future__ import annotations

from reader.digest import bundled_digest, load_library
from reader.index.engine import SearchEngine

ENGINE = SearchEngine(load_library([bundled_digest()]).papers)
NTK = "Faithful and Efficient Explanations for Neural Networks via Neural Tangent Kernel Surrogate Models"


def titles(query: str) -> list[str]:
    return [ENGINE.papers[i].title for i in ENGINE.search(query).indices]


def test_an_exact_term_finds_the_url_as_the_detail_pane_shows_it():
    assert titles("'projection_ntk") == [NTK]  # written projection\\_ntk in the digest
    assert titles("'projection\\_ntk") == [NTK]  # and as written


def test_an_exact_term_finds_unescaped_percent_and_emphasis():
    shown = [ENGINE.papers[i] for i in ENGINE.search("'1%").indices]
    assert any("1\\%" in p.abstract and "1%" not in p.abstract for p in shown)  # found only as shown


def test_a_greek_letter_as_shown_finds_the_tex_name_it_was_written_as():
    # The abstract says "varepsilon^2,varphi''"; the detail pane shows "ε²,φ''".
    assert titles("ε oscillatory")[0].startswith("Optimally truncated WKB approximation")
    assert titles("φ oscillatory")[0].startswith("Optimally truncated WKB approximation")
    assert "u-μP: The Unit-Scaled Maximal Update Parametrization" in titles("μ")[:1]  # a real μ still first
