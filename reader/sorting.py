"""Sort orders for a list of papers: relevance, file order, title, first seen, bookmarked time,
upvotes and publication date (from sources that give them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from reader.paper import Paper
from reader.store.records import Annotation
from reader.text import fold

SORTS = ("relevance", "file", "title", "first-seen", "bookmarked", "upvotes", "date")


def sort_rows(
    rows: np.ndarray,
    papers: list[Paper],
    mode: str,
    annotations: Mapping[str, Annotation],
    seen: Mapping[str, str],
    title_of: Callable[[Paper], str] = lambda paper: paper.title,
) -> np.ndarray:
    """Reorder ``rows`` (indices into ``papers``, ranked by relevance) by ``mode``; ties keep the given order.

    ``first-seen``, ``bookmarked`` and ``date`` (published, else listed) put the most recent first
    and papers without a date last; ``upvotes`` puts the most upvoted first, papers without any last.
    """
    if mode == "relevance" or len(rows) < 2:
        return rows
    if mode == "file":
        return np.sort(rows, kind="stable")
    if mode == "title":
        keys = [fold(title_of(papers[i])) for i in rows]
        return rows[sorted(range(len(rows)), key=keys.__getitem__)]
    if mode == "first-seen":
        dates = [seen.get(papers[i].id, "") for i in rows]
    elif mode == "bookmarked":
        dates = [(a.bookmarked_at if (a := annotations.get(papers[i].id)) else None) or "" for i in rows]
    elif mode == "date":
        metas = [papers[i].meta for i in rows]
        dates = [(m.published or m.submitted) if m is not None else "" for m in metas]
    elif mode == "upvotes":
        votes = [(m.upvotes if m is not None else None) for m in (papers[i].meta for i in rows)]
        return rows[sorted(range(len(rows)), key=lambda k: (votes[k] is None, -(votes[k] or 0)))]
    else:
        raise ValueError(f"unknown sort {mode!r} (one of {', '.join(SORTS)})")
    # Most recent first, undated last, ties in the given order.
    order = sorted(range(len(rows)), key=lambda k: (dates[k] == "", _descending(dates[k])))
    return rows[order]


def _descending(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)
