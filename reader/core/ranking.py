"""``rank:tag``: order found papers by likeness to the papers carrying a tag (arxiv-sanity style)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from reader.index.similar import Similarity
from reader.paper import Paper
from reader.query import Query


def rank_tag(query: Query) -> str | None:
    """The tag a query ranks by (the first ``rank:`` term), folded; None without one."""
    tags = [t.text.casefold() for t in query.terms if t.kind == "rank"]
    return tags[0] if tags else None


def rank_by_tag(
    rows: np.ndarray,
    tag: str,
    papers: Sequence[Paper],
    tags_of: Callable[[Paper], list[str]],
    similarity: Similarity,
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """``rows`` reordered by likeness to the papers tagged ``tag``; their scores; a warning or None.

    Papers the comparison was not built on score 0; ties keep the given order.
    """
    if not len(rows):
        return rows, np.zeros(0), None
    tagged = [p.order for p in papers if p.order < similarity.n and tag in {t.casefold() for t in tags_of(p)}]
    if not tagged:
        return rows, np.zeros(len(rows)), f"no papers tagged #{tag} to rank by"
    scores = similarity.ranked_to(tagged)
    row_scores = np.where(rows < similarity.n, scores[np.minimum(rows, similarity.n - 1)], 0.0)
    order = np.argsort(-row_scores, kind="stable")
    return rows[order], row_scores[order], None
