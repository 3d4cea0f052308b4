"""Why a paper matched: the character spans of its title that a query's terms found."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from reader.index.engine import SearchEngine
from reader.paper import Paper
from reader.query import Query, parse_query
from reader.text import ASCII_FOLD, fold, fold_with_offsets

Span = tuple[int, int]


def title_spans(engine: SearchEngine, paper: Paper, query: str | Query) -> list[Span]:
    """Character spans of ``paper.title`` that the query's terms matched, merged and sorted."""
    return text_spans(engine, paper.title, query)


def text_spans(engine: SearchEngine, text: str, query: str | Query) -> list[Span]:
    """Character spans of ``text`` that the query's terms matched, merged and sorted."""
    q = parse_query(query) if isinstance(query, str) else query
    where: Sequence[int]
    if text.isascii():
        folded, where = text.translate(ASCII_FOLD), range(len(text))
    else:
        folded, where = fold_with_offsets(text)
    spans: list[Span] = []
    words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", folded)]
    for term in q.terms:
        if term.negate:
            continue
        if term.kind == "fuzzy":
            for word in fold(term.text).split():
                wanted = engine.matching_words(word)
                for start, end, w in words:
                    if w == word or w in wanted:
                        if w.startswith(word):
                            end = start + len(word)
                        elif word in w:
                            start = start + w.index(word)
                            end = start + len(word)
                        spans.append((where[start], where[end - 1] + 1))
        elif term.kind in ("exact", "phrase"):
            needle = fold(term.text)
            if not needle:
                continue
            pos = folded.find(needle)
            while pos >= 0:
                spans.append((where[pos], where[pos + len(needle) - 1] + 1))
                pos = folded.find(needle, pos + 1)
    return merge_spans(spans)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined, sorted."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
