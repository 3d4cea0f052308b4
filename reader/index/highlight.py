"""Why a paper matched: the character spans of its title and abstract that a query's terms found.

``matched`` gives both (the detail pane highlights them; ``abstract_only`` marks a list
row found through its abstract alone); ``title_spans`` the title's, for list rows. Spans
are of the text given, so pass the text as it is shown (TeX made readable).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reader.index.engine import SearchEngine
from reader.paper import Paper
from reader.query import Query, parse_query
from reader.text import ASCII_FOLD, fold, fold_with_offsets

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Matched:
    """Where a query matched a paper: character spans of its title and of its abstract (merged, sorted)."""

    title: tuple[Span, ...]
    abstract: tuple[Span, ...]

    @property
    def abstract_only(self) -> bool:
        """The abstract matched and the title did not: the paper was found through its abstract."""
        return not self.title and bool(self.abstract)


def matched(engine: SearchEngine, title: str, abstract: str, query: str | Query) -> Matched:
    """Why a paper matched ``query``: the spans of ``title`` and ``abstract`` (as shown) its terms found."""
    q = parse_query(query) if isinstance(query, str) else query
    return Matched(tuple(text_spans(engine, title, q)), tuple(text_spans(engine, abstract, q)))


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
    plain = [word for term in q.terms if term.kind == "fuzzy" and not term.negate for word in fold(term.text).split()]
    # Two neighbouring query words the text writes as one ("llama 2": llama2) match that word.
    glued = {g for a, b in zip(plain, plain[1:]) for g in engine.joined_forms(a + b)}
    for word in plain:
        wanted = engine.matching_words(word)
        for start, end, w in words:
            if w == word or w in wanted or w in glued:
                if w.startswith(word):
                    end = start + len(word)
                elif word in w:
                    start = start + w.index(word)
                    end = start + len(word)
                spans.append((where[start], where[end - 1] + 1))
        for parts in engine.compound_parts(word):  # typed joined: the parts side by side
            together = re.compile(r"(?<!\S)" + r"\s+".join(map(re.escape, parts)) + r"(?!\S)")
            for match in together.finditer(folded):
                spans.append((where[match.start()], where[match.end() - 1] + 1))
    for term in q.terms:
        if term.negate:
            continue
        if term.kind in ("exact", "phrase"):
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
