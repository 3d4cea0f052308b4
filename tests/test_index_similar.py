"""Building "more like this" (TF-IDF over every paper, seconds at 100k) can be called off:
quitting the app must not wait for it."""

from __future__ import annotations

import numpy as np
import pytest

from reader.digest import bundled_digest, load_library
from reader.index.similar import CHECK_EVERY, Cancelled, Similarity


def test_a_called_off_build_stops_at_the_next_check() -> None:
    papers = load_library([bundled_digest()]).papers * 10  # 1,640 papers: two checks
    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # yes from the second look on

    with pytest.raises(Cancelled):
        Similarity(papers, cancelled=cancelled)
    assert len(asked) == 2 and len(papers) > CHECK_EVERY


def test_a_build_not_called_off_is_the_same_as_without_asking() -> None:
    papers = load_library([bundled_digest()]).papers
    asked = Similarity(papers, cancelled=lambda: False)
    plain = Similarity(papers)
    assert asked.similar(0) == plain.similar(0)
    assert np.array_equal(asked.doc_terms, plain.doc_terms)
