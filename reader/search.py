"""Search: an index of folded words over titles and abstracts, ranked with rapidfuzz.

Each query word is mapped to nearby words of the vocabulary (exact, prefix for
the word being typed, inside-word, and typo-tolerant via rapidfuzz's OSA
distance); their posting lists give the candidates, which are scored with title
hits weighing more than abstract hits. Nothing here touches the disk.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from reader.links import has_code
from reader.paper import Paper
from reader.query import Query, Term, parse_query
from reader.text import fold, fold_with_offsets

TITLE_WEIGHT = 2.0
ABSTRACT_WEIGHT = 1.0
EXACT, PREFIX, INFIX = 1.0, 0.9, 0.75
MAX_PREFIX = 200  # the word being typed: at most this many vocabulary words it starts
MAX_FUZZY = 50


@dataclass
class State:
    """What the store knows, as the search needs it (a snapshot: search never reads disk)."""

    bookmarked: set[str] = field(default_factory=set)
    read: set[str] = field(default_factory=set)
    noted: set[str] = field(default_factory=set)
    linked: set[str] = field(default_factory=set)
    tags: dict[str, set[str]] = field(default_factory=dict)  # paper id -> folded tags

    @classmethod
    def from_records(cls, records: Mapping[str, Mapping[str, Any]]) -> State:
        """Build from the store's records."""
        state = cls()
        for pid, r in records.items():
            if r.get("bookmarked_at"):
                state.bookmarked.add(pid)
            if r.get("read_at"):
                state.read.add(pid)
            if r.get("note"):
                state.noted.add(pid)
            if r.get("link"):
                state.linked.add(pid)
            if r.get("tags"):
                state.tags[pid] = {t.casefold() for t in r["tags"]}
        return state


@dataclass
class Result:
    """Ranked papers for a query: indices into the engine's papers, and their scores."""

    query: Query
    indices: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)


class SearchEngine:
    """A search index over a fixed list of papers; build once, query per keystroke."""

    def __init__(self, papers: list[Paper]) -> None:
        self.papers = papers
        self.n = len(papers)
        self.order = np.arange(self.n, dtype=np.int64)
        self.in_files = np.array([not p.from_store for p in papers], dtype=bool)
        vocab: dict[str, int] = {}
        title_lists: list[list[int]] = []
        abstract_lists: list[list[int]] = []
        for i, paper in enumerate(papers):
            for word in set(fold(paper.title).split()):
                wid = vocab.setdefault(word, len(vocab))
                if wid == len(title_lists):
                    title_lists.append([])
                    abstract_lists.append([])
                title_lists[wid].append(i)
            for word in set(fold(paper.abstract).split()):
                wid = vocab.setdefault(word, len(vocab))
                if wid == len(title_lists):
                    title_lists.append([])
                    abstract_lists.append([])
                abstract_lists[wid].append(i)
        self.words = list(vocab)
        self.vocab = vocab
        self.title_postings = [np.array(p, dtype=np.int32) for p in title_lists]
        self.abstract_postings = [np.array(p, dtype=np.int32) for p in abstract_lists]
        self.sorted_words = sorted(vocab)
        self._blob = "\n" + "\n".join(self.sorted_words) + "\n"
        self._offsets = np.cumsum([0] + [len(w) + 1 for w in self.sorted_words])
        self._code: np.ndarray | None = None

    # -- word expansion --------------------------------------------------------------
    def expand(self, word: str) -> dict[int, float]:
        """Vocabulary words a query word stands for, with how well each matches (0-1)."""
        found: dict[int, float] = {}
        exact = self.vocab.get(word)
        if exact is not None:
            found[exact] = EXACT
        lo = bisect.bisect_left(self.sorted_words, word)
        hi = bisect.bisect_left(self.sorted_words, word + "\uffff", lo)
        prefixed = self.sorted_words[lo:hi]
        if len(prefixed) > MAX_PREFIX:
            prefixed = sorted(prefixed, key=lambda w: -self._df(w))[:MAX_PREFIX]
        for w in prefixed:
            found.setdefault(self.vocab[w], PREFIX)
        if len(word) >= 4:
            for match in re.finditer(re.escape(word), self._blob):
                k = int(np.searchsorted(self._offsets, match.start(), side="right")) - 1
                found.setdefault(self.vocab[self.sorted_words[k]], INFIX)
                if len(found) > MAX_PREFIX * 2:
                    break
            max_dist = 1 if len(word) < 7 else 2
            for w, dist, _ in process.extract(
                word, self.words, scorer=OSA.distance, score_cutoff=max_dist, limit=MAX_FUZZY
            ):
                quality = 0.7 - 0.1 * dist
                wid = self.vocab[w]
                if found.get(wid, 0) < quality:
                    found[wid] = quality
        return found

    def _df(self, word: str) -> int:
        wid = self.vocab[word]
        return len(self.title_postings[wid]) + len(self.abstract_postings[wid])

    def _word_scores(self, expansion: dict[int, float]) -> np.ndarray:
        score = np.zeros(self.n, dtype=np.float32)
        for wid, quality in expansion.items():
            post = self.abstract_postings[wid]
            if len(post):
                score[post] = np.maximum(score[post], quality * ABSTRACT_WEIGHT)
        for wid, quality in expansion.items():
            post = self.title_postings[wid]
            if len(post):
                score[post] = np.maximum(score[post], quality * TITLE_WEIGHT)
        return score

    # -- searching ---------------------------------------------------------------------
    def search(self, query: str | Query, state: State | None = None, limit: int | None = None) -> Result:
        """Rank papers for a query: best first, ties in file order."""
        q = parse_query(query) if isinstance(query, str) else query
        state = state or State()
        if q.errors:
            empty = np.zeros(0, dtype=np.int64)
            return Result(q, empty, np.zeros(0, dtype=np.float32))
        total = np.zeros(self.n, dtype=np.float32)
        mask = self._visible(q, state)
        for term in q.terms:
            if term.kind == "fuzzy":
                for word in fold(term.text).split():
                    s = self._word_scores(self.expand(word))
                    mask &= s > 0
                    total += s
            elif term.kind in ("exact", "phrase"):
                s = self._substring_scores(term, mask)
                if term.negate:
                    mask &= s == 0
                else:
                    mask &= s > 0
                    total += s
            else:
                hit = self._filter_mask(term, state)
                mask &= ~hit if term.negate else hit
        idx = np.flatnonzero(mask)
        scores = total[idx]
        if len(idx) and scores.any():
            ranked = np.lexsort((idx, -scores))
            idx, scores = idx[ranked], scores[ranked]
        if limit is not None:
            idx, scores = idx[:limit], scores[:limit]
        return Result(q, idx, scores)

    def _visible(self, q: Query, state: State) -> np.ndarray:
        """Papers in the open files; stored snapshots too when the query asks for annotations."""
        if q.has_filter("filter", "is:bookmarked") or q.has_filter("tag") or q.has_filter("filter", "has:note"):
            return np.ones(self.n, dtype=bool)
        return self.in_files.copy()

    def _substring_scores(self, term: Term, mask: np.ndarray) -> np.ndarray:
        needle = fold(term.text) if term.kind == "phrase" else term.text.casefold()
        score = np.zeros(self.n, dtype=np.float32)
        if not needle:
            return score
        if term.kind == "phrase":
            needle = f" {needle} "
        for i in np.flatnonzero(mask):
            paper = self.papers[i]
            if term.kind == "phrase":
                title, abstract = f" {fold(paper.title)} ", f" {fold(paper.abstract)} "
            else:
                title, abstract = paper.title.casefold(), paper.abstract.casefold()
            if needle in title:
                score[i] = EXACT * TITLE_WEIGHT
            elif needle in abstract:
                score[i] = EXACT * ABSTRACT_WEIGHT
        return score

    def _filter_mask(self, term: Term, state: State) -> np.ndarray:
        ids = [p.id for p in self.papers]
        if term.kind == "tag":
            tag = term.text.casefold()
            return np.array([tag in state.tags.get(pid, ()) for pid in ids], dtype=bool)
        if term.text == "has:code":
            if self._code is None:
                self._code = np.array([has_code(p.abstract) for p in self.papers], dtype=bool)
            return self._code.copy()
        chosen = {
            "is:bookmarked": state.bookmarked,
            "is:read": state.read,
            "has:note": state.noted,
            "has:link": state.linked,
            "has:tags": state.tags.keys(),
        }.get(term.text)
        if chosen is not None:
            return np.array([pid in chosen for pid in ids], dtype=bool)
        # is:unread
        return np.array([pid not in state.read for pid in ids], dtype=bool)

    # -- highlighting ------------------------------------------------------------------
    def title_spans(self, paper: Paper, query: str | Query) -> list[tuple[int, int]]:
        """Character spans of ``paper.title`` that the query's terms matched, merged and sorted."""
        q = parse_query(query) if isinstance(query, str) else query
        folded, where = fold_with_offsets(paper.title)
        spans: list[tuple[int, int]] = []
        words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", folded)]
        for term in q.terms:
            if term.negate:
                continue
            if term.kind == "fuzzy":
                for word in fold(term.text).split():
                    wanted = {self.words[w] for w in self.expand(word)}
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
        return _merge(spans)


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
