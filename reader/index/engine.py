"""The search engine: an index of folded words over titles and abstracts, ranked per keystroke.

Each query word is mapped to nearby words of the vocabulary (exact, prefix for
the word being typed, inside-word, and typo-tolerant via rapidfuzz's OSA
distance); their posting lists give the candidates, which are scored with title
hits weighing more than abstract hits. Nothing here touches the disk
(reader.index.storage writes and reads the index, reader.index.cache keeps it).

How it stays fast (benchmarks/run.py measures it):

- The index is two CSR tables (title, abstract) of int32 paper numbers, built in
  chunks by reader.index.tokenizer and laid out by reader.index.postings.
- A query word becomes a uint8 score per paper (in SCORE_UNIT steps) with one
  numpy scatter per posting list; the arrays of the words before the one being
  typed are cached, so a keystroke recomputes only the last word.
- Scores add up as integers; ranking is a stable radix argsort (ties in file order).
- Exact ('x) and phrase ("x y") terms are narrowed down with the index and only the
  papers left are checked against their text; filters map ids through one dict.
- Typo matching compares only vocabulary words of a near length (OSA distance is at
  least the length difference).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from reader.index.forms import splits, word_forms
from reader.index.postings import Postings, merge_postings
from reader.index.similar import STOPWORDS
from reader.index.tokenizer import Tokenized, ascii_flags, fold_words, tokenize_all
from reader.links import has_code
from reader.paper import Paper
from reader.query import Query, Term, parse_query
from reader.sources.authors import author_matches
from reader.tex import SYMBOLS, clean_tex
from reader.text import fold

_FROM_STORE = operator.attrgetter("from_store")
TITLE_WEIGHT = 2.0
ABSTRACT_WEIGHT = 1.0
# How well a vocabulary word matches a query word (0-1): typed as is, the start of it,
# inside it, another form of it (plural, stem, other spelling), its parts (a compound
# typed joined: the paper has them all), a form of a word one typo away.
EXACT, PREFIX, FORM, JOINED, INFIX = 1.0, 0.9, 0.85, 0.8, 0.75
TYPO = 0.6  # one typo away (0.1 less per further typo)
FUZZY_FORM = 0.5
NEAR_FORMS = 10  # words one typo away whose forms are looked up too
MAX_SPLITS = 3  # ways to cut a compound typed joined that are tried
MAX_VERIFIED = 500  # papers holding a compound's parts whose text is read to see them side by side
DENSE_PARTS = 64  # a compound's rarest part in more than 1/DENSE_PARTS of the papers: bitmaps, not lists
# Fewer papers than this matching every plain word, and those matching all but one follow.
PARTIAL_BELOW = 10
MAX_PARTIAL = 200
MAX_PREFIX = 200  # the word being typed: at most this many vocabulary words it starts
MAX_FUZZY = 50
# Scores are whole multiples of this, summed as integers: equal scores are real ties
# (no float noise), and ranking is a radix sort of small integers.
SCORE_UNIT = 0.05
WORD_CACHE = 32  # per-word score arrays kept (the words before the one being typed)
EXPAND_CACHE = 2048


def _code(value: float) -> int:
    return int(round(value / SCORE_UNIT))


class PaperRows(AbstractSet[str]):
    """A set of paper ids that can also say, cheaply, which papers of a list it holds
    (``is:new`` over a million papers: a mask, not a million ids looked up one by one)."""

    def rows_in(self, papers: list[Paper]) -> np.ndarray | None:
        """Per paper of ``papers``, whether the set holds it; None when it cannot say for this list."""
        return None


@dataclass
class State:
    """What the store knows, as the search needs it (a snapshot: search never reads disk)."""

    bookmarked: set[str] = field(default_factory=set)
    read: AbstractSet[str] = field(default_factory=set)  # the store's live set: may hold a million ids
    noted: set[str] = field(default_factory=set)
    linked: set[str] = field(default_factory=set)
    tags: dict[str, set[str]] = field(default_factory=dict)  # paper id -> folded tags
    new: AbstractSet[str] = field(default_factory=set)  # first seen in the newest open digest (may be lazy)

    @classmethod
    def from_records(cls, records: Mapping[str, Mapping[str, Any]]) -> State:
        """Build from the store's records."""
        read: set[str] = set()
        state = cls(read=read)
        for pid, r in records.items():
            if r.get("bookmarked_at"):
                state.bookmarked.add(pid)
            if r.get("read_at"):
                read.add(pid)
            if r.get("note"):
                state.noted.add(pid)
            if r.get("link"):
                state.linked.add(pid)
            if r.get("tags"):
                state.tags[pid] = {t.casefold() for t in r["tags"]}
        return state


def _no_rows() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass
class Result:
    """Ranked papers for a query: indices into the engine's papers, and their scores.

    ``indices`` are the papers matching the whole query (its length is the result's).
    When fewer than PARTIAL_BELOW do, ``partial`` holds the papers matching all of it
    but one plain word (``missing[k]`` is the word ``partial[k]`` lacks), best first: a
    separate group, shown after the full matches, never counted or acted on with them.
    """

    query: Query
    indices: np.ndarray
    scores: np.ndarray
    partial: np.ndarray = field(default_factory=_no_rows)
    partial_scores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    missing: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.indices)

    def missing_word(self, index: int) -> str | None:
        """The query word a partial match lacks (None for a full match or a paper not in the result)."""
        hits = np.flatnonzero(self.partial == index)
        return self.missing[int(hits[0])] if len(hits) else None


class SearchEngine:
    """A search index over a fixed list of papers; build once, query per keystroke.

    The index is built in chunks with numpy: each chunk's words are mapped to ids
    through one dict, the (word, paper) pairs are sorted and de-duplicated as int64
    keys, and the chunks are laid out in two CSR tables (title and abstract). A
    query word's expansion is turned into a per-paper score array (uint8, in
    SCORE_UNIT steps) with one scatter per posting list; those arrays are cached
    for the words before the one being typed. Searching is thread-safe.
    """

    def __init__(self, papers: list[Paper], tokenized: Tokenized | None = None, bitmaps: bool = True) -> None:
        """Index ``papers``; ``tokenized``: their chunks, tokenized already (see reader.index.build);
        ``bitmaps`` false: searchable sooner, the common words' bitmaps left to ``build_bitmaps``."""
        title_parts, abstract_parts, words = tokenized if tokenized is not None else tokenize_all(papers)
        size = len(words)
        title_postings = merge_postings(title_parts, size)
        abstract_postings = merge_postings(abstract_parts, size)
        del title_parts, abstract_parts
        sorted_ids = np.array(sorted(range(size), key=words.__getitem__), dtype=np.int64)
        self._setup(papers, words, title_postings, abstract_postings, ascii_flags(papers), sorted_ids)
        if bitmaps:
            self.build_bitmaps()

    @classmethod
    def from_index(
        cls,
        papers: list[Paper],
        words: list[str],
        title_postings: Postings,
        abstract_postings: Postings,
        ascii_only: np.ndarray,
        sorted_ids: np.ndarray,
    ) -> SearchEngine:
        """An engine over ``papers`` from an index built before (reader.index.storage checks it first).

        It searches at once; its common words' bitmaps are left to ``build_bitmaps`` (the caller
        makes them once search is ready, or never for one search)."""
        engine = cls.__new__(cls)
        engine._setup(papers, words, title_postings, abstract_postings, ascii_only, sorted_ids)
        return engine

    def _setup(
        self,
        papers: list[Paper],
        words: list[str],
        title_postings: Postings,
        abstract_postings: Postings,
        ascii_only: np.ndarray,
        sorted_ids: np.ndarray,
    ) -> None:
        """What follows from the words, the posting tables and the alphabetical order (built or loaded)."""
        self.papers = papers
        self.n = n = len(papers)
        self.order = np.arange(n, dtype=np.int64)
        self.in_files = ~np.fromiter(map(_FROM_STORE, papers), dtype=bool, count=n)
        self.words = words
        self.vocab: dict[str, int] = dict(zip(words, range(len(words))))
        self.title_postings = title_postings
        self.abstract_postings = abstract_postings
        self.ascii_only = ascii_only  # per paper: title and abstract are ASCII
        self.sorted_ids = sorted_ids  # word ids in alphabetical order of the words
        size = len(self.words)
        self.df = self.title_postings.lengths() + self.abstract_postings.lengths()
        # Common words as bitmaps too (see build_bitmaps): none till then, which searches the same.
        self._bitmaps: tuple[dict[int, np.ndarray], dict[int, np.ndarray]] = ({}, {})
        self.has_bitmaps = False
        order = sorted_ids.tolist()
        self.sorted_words = [self.words[i] for i in order]
        self._blob = "\n" + "\n".join(self.sorted_words) + "\n"
        self._offsets = np.zeros(size + 1, dtype=np.int64)
        np.cumsum([len(w) + 1 for w in self.sorted_words], out=self._offsets[1:])
        by_length: dict[int, list[int]] = {}
        for wid in order:  # ties go alphabetically, whatever the build order
            by_length.setdefault(len(self.words[wid]), []).append(wid)
        self._by_length = {
            length: ([self.words[i] for i in ids], np.array(ids, dtype=np.int64)) for length, ids in by_length.items()
        }
        self._code: np.ndarray | None = None
        self._index_of: dict[str, int] | None = None
        self._lock = threading.Lock()
        self._expansions: OrderedDict[str, dict[int, float]] = OrderedDict()
        self._wanted: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._compounds: OrderedDict[str, list[tuple[str, ...]]] = OrderedDict()
        self._joined: OrderedDict[str, list[str]] = OrderedDict()
        self._word_arrays: OrderedDict[str, np.ndarray] = OrderedDict()

    def build_bitmaps(self) -> None:
        """Keep the common words as bitmaps too: a short prefix (``s``) stands for hundreds of them,
        and OR-ing their bitmaps costs far less than scattering their lists (0.2 s at a million
        papers, so an engine loaded from an index searches before it has them: both give the
        same scores, and a search running meanwhile sees the old or the new set, never half)."""
        if not self.has_bitmaps:
            self._bitmaps = (self.title_postings.bitmaps(self.n), self.abstract_postings.bitmaps(self.n))
            self.has_bitmaps = True

    # -- caches --------------------------------------------------------------------------
    def clear_caches(self) -> None:
        """Forget cached expansions and per-word scores (benchmarks use this to time cold keystrokes)."""
        with self._lock:
            self._expansions.clear()
            self._wanted.clear()
            self._compounds.clear()
            self._joined.clear()
            self._word_arrays.clear()

    def _cached(self, cache: OrderedDict, key: str, size: int, make: Callable[[str], Any]) -> Any:
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = make(key)
        with self._lock:
            cache[key] = value
            while len(cache) > size:
                cache.popitem(last=False)
        return value

    # -- word expansion --------------------------------------------------------------
    def expand(self, word: str) -> dict[int, float]:
        """Vocabulary words a query word stands for, with how well each matches (0-1)."""
        return dict(self._cached(self._expansions, word, EXPAND_CACHE, self._expand))

    def _expand(self, word: str) -> dict[int, float]:
        found: dict[int, float] = {}
        exact = self.vocab.get(word)
        if exact is not None:
            found[exact] = EXACT
        lo = bisect.bisect_left(self.sorted_words, word)
        hi = bisect.bisect_left(self.sorted_words, word + "\uffff", lo)
        prefixed = self.sorted_ids[lo:hi]
        if len(prefixed) > MAX_PREFIX:
            # The most frequent ones; equal counts in alphabetical order.
            prefixed = prefixed[np.argsort(-self.df[prefixed], kind="stable")[:MAX_PREFIX]]
        for wid in prefixed.tolist():
            found.setdefault(wid, PREFIX)
        if len(word) >= 4:
            for wid in self._containing(word, MAX_PREFIX * 2 + 1 - len(found)):
                found.setdefault(wid, INFIX)
                if len(found) > MAX_PREFIX * 2:
                    break
            max_dist = 1 if len(word) < 7 else 2
            near: list[str] = []
            for wid, dist in self._fuzzy(word, max_dist):
                quality = TYPO + 0.1 - 0.1 * dist
                if found.get(wid, 0) < quality:
                    found[wid] = quality
                if dist == 1 and len(near) < NEAR_FORMS:
                    near.append(self.words[wid])
            # A typo and another form at once: "modle" for "models" (a transposition, then a plural).
            self._add_forms(found, near, FUZZY_FORM)
        # Two letters swapped are one typo, in short words too, and in a word whose other
        # form the paper has ("modle" for "models").
        swapped = [word[:k] + word[k + 1] + word[k] + word[k + 2 :] for k in range(len(word) - 1)]
        swapped = [w for w in swapped if w != word and len(w) >= 3]
        for wid in (self.vocab.get(w) for w in swapped):
            if wid is not None and found.get(wid, 0) < TYPO:
                found[wid] = TYPO
        # Their other forms only where the vocabulary has words starting as they do.
        self._add_forms(found, [w for w in swapped if self._starts_some_word(w[: max(3, len(w) - 3)])], FUZZY_FORM)
        self._add_forms(found, [word], FORM)
        return found

    def _starts_some_word(self, prefix: str) -> bool:
        """Whether some vocabulary word starts with ``prefix``."""
        k = bisect.bisect_left(self.sorted_words, prefix)
        return k < len(self.sorted_words) and self.sorted_words[k].startswith(prefix)

    def _add_forms(self, found: dict[int, float], words: Iterable[str], quality: float) -> None:
        """Raise the vocabulary's other forms of these words to ``quality`` in ``found``."""
        for word in words:
            for form in word_forms(word):
                wid = self.vocab.get(form)
                if wid is not None and found.get(wid, 0) < quality:
                    found[wid] = quality

    def _containing(self, part: str, limit: int | None = None) -> list[int]:
        """Ids of vocabulary words containing ``part``, in alphabetical order (at most ``limit``)."""
        starts = []
        for match in re.finditer(re.escape(part), self._blob):
            starts.append(match.start())
            if limit is not None and len(starts) >= limit:
                break
        if not starts:
            return []
        k = np.searchsorted(self._offsets, np.array(starts), side="right") - 1
        # Several matches inside one word give one word.
        k = k[np.concatenate(([True], k[1:] != k[:-1]))]
        return self.sorted_ids[k].tolist()

    def _fuzzy(self, word: str, max_dist: int) -> list[tuple[int, int]]:
        """(id, OSA distance) of the MAX_FUZZY nearest words, nearest first, ties alphabetically.

        Only words whose length is within ``max_dist`` can be that near, so only those are compared.
        """
        hits: list[tuple[int, str, int]] = []
        for length in range(len(word) - max_dist, len(word) + max_dist + 1):
            bucket = self._by_length.get(length)
            if bucket is None:
                continue
            words, ids = bucket
            for w, dist, k in process.extract(word, words, scorer=OSA.distance, score_cutoff=max_dist, limit=MAX_FUZZY):
                hits.append((int(dist), w, int(ids[k])))
        hits.sort()
        return [(wid, dist) for dist, _, wid in hits[:MAX_FUZZY]]

    def _word_codes(self, word: str) -> np.ndarray:
        """Per-paper score of one query word (uint8, in SCORE_UNITs; 0 where it is absent)."""
        return self._cached(self._word_arrays, word, WORD_CACHE, self._make_word_codes)

    def _make_word_codes(self, word: str) -> np.ndarray:
        expansion = self._cached(self._expansions, word, EXPAND_CACHE, self._expand)
        scatters = []
        for wid, quality in expansion.items():
            scatters.append((_code(quality * ABSTRACT_WEIGHT), 1, wid))
            scatters.append((_code(quality * TITLE_WEIGHT), 0, wid))
        codes = np.zeros(self.n, dtype=np.uint8)
        # Ascending, so that the best code a paper gets is the one it keeps. A code's common
        # words are OR-ed as bitmaps (one pass over the papers), its other words scattered.
        # The scattered lists go in one int64 array: numpy scatters int64 indexes ~3x faster.
        for code, group in itertools.groupby(sorted(scatters), key=lambda s: s[0]):
            union: np.ndarray | None = None
            lists = []
            for _, which, wid in group:
                bitmap = self._bitmaps[which].get(wid)
                if bitmap is not None:
                    union = bitmap.copy() if union is None else np.bitwise_or(union, bitmap, out=union)
                else:
                    lists.append((self.title_postings if which == 0 else self.abstract_postings)[wid])
            if lists:
                codes[np.concatenate(lists, dtype=np.int64, casting="safe")] = code
            if union is not None:  # 0/1 per paper, times the code, kept where higher: no branches
                hit = np.unpackbits(union, count=self.n)
                np.maximum(codes, np.multiply(hit, code, out=hit), out=codes)
        for parts in self.compound_parts(word):
            self._raise_to_parts(codes, parts)
        return codes

    def compound_parts(self, word: str) -> list[tuple[str, ...]]:
        """Vocabulary words a query word may be typed-joined from (``stepbystep``: step, by, step).

        A word the vocabulary holds itself is cut only into parts of three letters or more,
        two of them content words ("finetuning", not "without" or "however").
        """
        return list(self._cached(self._compounds, word, EXPAND_CACHE, self._compound_parts))

    def _compound_parts(self, word: str) -> list[tuple[str, ...]]:
        if len(word) < 3 or not word.isalnum():
            return []
        has_digit = not word.isalpha()
        ways = [
            way
            for way in splits(word, self.vocab.__contains__)
            # A part of one or two letters is a small word (by, to, of) or sits by digits (pg 19, o1
            # mini); small words join others, they do not start or end a compound ("operto").
            if has_digit
            or (
                all(len(part) > 2 or part in STOPWORDS for part in way)
                and way[0] not in STOPWORDS
                and way[-1] not in STOPWORDS
            )
        ]
        if word in self.vocab:
            ways = [
                way
                for way in ways
                if all(len(part) >= 3 for part in way) and sum(part not in STOPWORDS for part in way) >= 2
            ]
        return ways[:MAX_SPLITS]

    def _raise_to_parts(self, codes: np.ndarray, parts: tuple[str, ...]) -> None:
        """Raise ``codes`` of the papers holding the parts one after the other (``step-by-step``,
        ``step by step``): at JOINED title level when their title does, else at abstract level."""
        wids = sorted({self.vocab[part] for part in parts}, key=lambda wid: int(self.df[wid]))
        first = wids[0]
        if int(self.df[first]) * DENSE_PARTS > self.n:
            # Every part is common: AND their bitmaps (a pass over the papers per part).
            held = np.bitwise_or(self._packed(0, first), self._packed(1, first))
            title_all = self._packed(0, first).copy()
            for wid in wids[1:]:
                in_this_title = self._packed(0, wid)
                np.bitwise_and(held, np.bitwise_or(in_this_title, self._packed(1, wid)), out=held)
                np.bitwise_and(title_all, in_this_title, out=title_all)
            candidates = np.flatnonzero(np.unpackbits(held, count=self.n))
            in_title = np.unpackbits(title_all, count=self.n).view(bool)[candidates]
        else:
            # The rarest part's papers, then those holding each other part (binary searches).
            both = np.concatenate((self.title_postings[first], self.abstract_postings[first]))
            both.sort()
            candidates = both[np.concatenate(([True], both[1:] != both[:-1]))] if len(both) else both
            in_title = _holds(self.title_postings[first], candidates)
            for wid in wids[1:]:
                if not len(candidates):
                    return
                title_has = _holds(self.title_postings[wid], candidates)
                keep = title_has | _holds(self.abstract_postings[wid], candidates)
                in_title &= title_has
                candidates, in_title = candidates[keep], in_title[keep]
        # Read the texts of at most MAX_VERIFIED of them, those with every part in the title
        # first; the rest (a big library and common parts) count, unread, below any that were read.
        order = np.argsort(~in_title, kind="stable")
        read, unread = order[:MAX_VERIFIED], order[MAX_VERIFIED:]
        if len(unread):
            codes[candidates[unread]] = np.maximum(codes[candidates[unread]], _code(TYPO * ABSTRACT_WEIGHT))
        # Lowercased text and a pattern with no look-around: sre finds the first part's letters
        # fast; that the match is whole words is checked on the few matches (see _side_by_side).
        together = re.compile("[^a-z0-9]*".join(map(re.escape, parts)))
        title_code, abstract_code = _code(JOINED * TITLE_WEIGHT), _code(JOINED * ABSTRACT_WEIGHT)
        ascii_only = self.ascii_only
        for i, title_has in zip(candidates[read].tolist(), in_title[read].tolist()):
            paper = self.papers[i]
            plain = bool(ascii_only[i])
            if title_has and _side_by_side(together, paper.title, plain):
                codes[i] = max(codes[i], title_code)
            elif _side_by_side(together, paper.abstract, plain):
                codes[i] = max(codes[i], abstract_code)

    def _packed(self, which: int, wid: int) -> np.ndarray:
        """The papers holding a word in their title (``which`` 0) or abstract (1), as a packed
        bitmap (``np.packbits``; the engine's own for a common word: never change it)."""
        bitmap = self._bitmaps[which].get(wid)
        if bitmap is not None:
            return bitmap
        bits = np.zeros(self.n, dtype=bool)
        bits[(self.title_postings if which == 0 else self.abstract_postings)[wid]] = True
        return np.packbits(bits)

    def _joined_codes(self, word: str) -> np.ndarray | None:
        """Scores of the papers holding ``word`` or another form of it, at JOINED level (two query
        words typed apart that the paper writes as one: "llama 2" for llama2); None if none do."""
        wids = [self.vocab[w] for w in self.joined_forms(word)]
        if not wids:
            return None
        codes = np.zeros(self.n, dtype=np.uint8)
        for wid in wids:
            codes[self.abstract_postings[wid]] = _code(JOINED * ABSTRACT_WEIGHT)
        for wid in wids:
            codes[self.title_postings[wid]] = _code(JOINED * TITLE_WEIGHT)
        return codes

    def joined_forms(self, word: str) -> list[str]:
        """The vocabulary's words among ``word`` and its other forms (two query words typed apart, glued)."""
        return list(self._cached(self._joined, word, EXPAND_CACHE, self._joined_forms))

    def _joined_forms(self, word: str) -> list[str]:
        return [w for w in (word, *sorted(word_forms(word))) if w in self.vocab]

    def _plain_codes(self, words: list[str]) -> list[np.ndarray]:
        """Per-paper score of each plain query word; two neighbours the paper writes as one word count for both."""
        arrays = []
        for word in words:
            codes = self._word_codes(word)
            for name in _LETTER_NAMES.get(word, ()):
                # A Greek letter as shown (ε) also finds the TeX name it was written as (varepsilon).
                codes = np.maximum(codes, self._exact_word_codes(name))
            arrays.append(codes)
        for k in range(len(words) - 1):
            joined = self._joined_codes(words[k] + words[k + 1])
            if joined is not None:
                arrays[k] = np.maximum(arrays[k], joined)
                arrays[k + 1] = np.maximum(arrays[k + 1], joined)
        return arrays

    # -- searching ---------------------------------------------------------------------
    def search(self, query: str | Query, state: State | None = None, limit: int | None = None) -> Result:
        """Rank papers for a query: best first, ties in file order; partial matches apart (see Result)."""
        q = parse_query(query) if isinstance(query, str) else query
        state = state or State()
        if q.errors:
            return Result(q, _no_rows(), np.zeros(0, dtype=np.float32))
        total: np.ndarray | None = None
        mask = self._visible(q, state)  # what every result, full or partial, must pass
        plain: list[str] = []
        for term in q.terms:
            if term.kind == "fuzzy":
                plain.extend(fold(term.text).split())
            elif term.kind in ("exact", "phrase"):
                codes = self._substring_codes(term, mask)
                if term.negate:
                    np.logical_and(mask, codes == 0, out=mask)
                else:
                    np.logical_and(mask, codes, out=mask)
                    total = codes.astype(np.uint16) if total is None else np.add(total, codes, out=total)
            elif term.kind == "rank":
                continue  # an ordering, applied by the caller (see reader.index.similar)
            else:
                hit = self._filter_mask(term, state)
                if term.negate:
                    mask &= ~hit
                else:
                    mask &= hit
        word_codes = self._plain_codes(plain)
        full = mask.copy()
        for codes in word_codes:
            np.logical_and(full, codes, out=full)
            total = codes.astype(np.uint16) if total is None else np.add(total, codes, out=total)
        idx, key = _ranked(np.flatnonzero(full), total)
        if limit is not None:
            idx, key = idx[:limit], key[:limit]
        result = Result(q, idx, (key * SCORE_UNIT).astype(np.float32))
        room = MAX_PARTIAL if limit is None else min(MAX_PARTIAL, limit - len(idx))
        if len(plain) >= 2 and len(idx) < PARTIAL_BELOW and room > 0:
            self._add_partial(result, mask, plain, word_codes, total, room)
        return result

    def _add_partial(
        self,
        result: Result,
        mask: np.ndarray,
        plain: list[str],
        word_codes: list[np.ndarray],
        total: np.ndarray | None,
        room: int,
    ) -> None:
        """Fill ``result.partial``: the papers passing ``mask`` that match every plain word but one."""
        present = np.zeros(self.n, dtype=np.uint8)
        for codes in word_codes:
            present += codes.astype(bool)
        idx = np.flatnonzero(mask & (present == len(plain) - 1))
        if total is not None and len(idx) > room:
            # Only the best ``room`` are kept: those above the room-th best key, then that key's
            # first ones in file order (idx is in file order), before any sorting.
            key = total[idx]
            threshold = kth_largest(key, room)
            above = np.flatnonzero(key > threshold)
            tied = np.flatnonzero(key == threshold)[: room - len(above)]
            idx = idx[np.sort(np.concatenate((above, tied)))]
        idx, key = _ranked(idx, total)
        idx, key = idx[:room], key[:room]
        lacking = np.zeros(len(idx), dtype=np.int64)
        for k, codes in enumerate(word_codes):
            lacking[codes[idx] == 0] = k
        result.partial = idx
        result.partial_scores = (key * SCORE_UNIT).astype(np.float32)
        result.missing = tuple(plain[k] for k in lacking.tolist())

    def _visible(self, q: Query, state: State) -> np.ndarray:
        """Papers in the open files; stored snapshots too when the query asks for annotations."""
        if q.has_filter("filter", "is:bookmarked") or q.has_filter("tag") or q.has_filter("filter", "has:note"):
            return np.ones(self.n, dtype=bool)
        return self.in_files.copy()

    def _union(self, wids: Iterable[int], out: np.ndarray | None = None) -> np.ndarray:
        """Papers with any of these words in the title or the abstract."""
        hit = np.zeros(self.n, dtype=bool) if out is None else out
        for wid in wids:
            hit[self.title_postings[wid]] = True
            hit[self.abstract_postings[wid]] = True
        return hit

    def _substring_codes(self, term: Term, mask: np.ndarray) -> np.ndarray:
        """Per-paper code of an exact ('x) or phrase ("x y") term among ``mask``; the index
        narrows the papers down, the text of the few left is checked."""
        needle = fold(term.text) if term.kind == "phrase" else term.text.casefold()
        codes = np.zeros(self.n, dtype=np.uint8)
        if not needle:
            return codes
        title_code, abstract_code = _code(EXACT * TITLE_WEIGHT), _code(EXACT * ABSTRACT_WEIGHT)
        candidates = mask.copy()
        if term.kind == "phrase":
            # Every word of the phrase is a whole word of the text.
            for word in needle.split():
                wid = self.vocab.get(word)
                if wid is None:
                    return codes
                np.logical_and(candidates, self._union([wid]), out=candidates)
        else:
            words = fold(needle).split()
            if needle.isascii() and needle.isalnum():
                # A run of letters and digits is in the lowercased text exactly when it is
                # inside one of its words: for ASCII papers the index is the whole answer.
                wids = self._containing(needle)
                in_title = np.zeros(self.n, dtype=bool)
                in_abstract = np.zeros(self.n, dtype=bool)
                for wid in wids:
                    in_title[self.title_postings[wid]] = True
                    in_abstract[self.abstract_postings[wid]] = True
                sure = candidates & self.ascii_only
                codes[sure & in_abstract] = abstract_code
                codes[sure & in_title] = title_code
                np.logical_and(candidates, ~self.ascii_only, out=candidates)
                np.logical_and(candidates, in_title | in_abstract, out=candidates)
            else:
                # Each folded word of the needle is inside some word of a matching text
                # (a superset: the text itself decides). Cheapest words first.
                sets = sorted(
                    ((self._containing(word), word) for word in words), key=lambda x: int(self.df[x[0]].sum())
                )
                for k, (wids, _) in enumerate(sets):
                    if k and int(self.df[wids].sum()) > 4 * self.n:
                        break
                    np.logical_and(candidates, self._union(wids), out=candidates)
        needle_phrase = f" {needle} "
        for i in np.flatnonzero(candidates).tolist():
            paper = self.papers[i]
            if term.kind == "phrase":
                title, abstract = f" {fold(paper.title)} ", f" {fold(paper.abstract)} "
                found_title, found_abstract = needle_phrase in title, needle_phrase in abstract
            else:
                # As written or as shown (TeX made readable: `projection\_ntk` shows as projection_ntk).
                found_title = needle in paper.title.casefold() or needle in _shown(paper.title).casefold()
                found_abstract = not found_title and (
                    needle in paper.abstract.casefold() or needle in _shown(paper.abstract).casefold()
                )
            if found_title:
                codes[i] = title_code
            elif found_abstract:
                codes[i] = abstract_code
        return codes

    def _exact_word_codes(self, word: str) -> np.ndarray:
        """Scores of the papers holding exactly this word (no prefix or typo expansion)."""
        codes = np.zeros(self.n, dtype=np.uint8)
        wid = self.vocab.get(word)
        if wid is not None:
            codes[self.abstract_postings[wid]] = _code(EXACT * ABSTRACT_WEIGHT)
            codes[self.title_postings[wid]] = _code(EXACT * TITLE_WEIGHT)
        return codes

    def _ids_mask(self, pids: Iterable[str]) -> np.ndarray:
        """Papers whose id is one of ``pids``."""
        if self._index_of is None:
            index_of = {p.id: i for i, p in enumerate(self.papers)}
            self._index_of = index_of if len(index_of) == self.n else {}
        if isinstance(pids, AbstractSet) and len(pids) > self.n:  # a million read marks: ask per paper
            return np.fromiter((p.id in pids for p in self.papers), dtype=bool, count=self.n)
        hit = np.zeros(self.n, dtype=bool)
        if self._index_of or not self.n:
            found = [self._index_of[pid] for pid in pids if pid in self._index_of]
            hit[found] = True
        else:  # the same id twice: look at every paper
            wanted = set(pids)
            hit[:] = [p.id in wanted for p in self.papers]
        return hit

    def _filter_mask(self, term: Term, state: State) -> np.ndarray:
        if term.kind == "tag":
            tag = term.text.casefold()
            return self._ids_mask(pid for pid, tags in state.tags.items() if tag in tags)
        if term.kind == "author":  # the authors a structured source gave (reader.sources.authors)
            return np.array([p.meta is not None and author_matches(term.text, p.meta.authors) for p in self.papers])
        if term.text == "has:code":
            if self._code is None:
                self._code = np.array([has_code(p.abstract, p.meta) for p in self.papers], dtype=bool)
            return self._code.copy()
        chosen = {
            "is:bookmarked": state.bookmarked,
            "is:read": state.read,
            "is:new": state.new,
            "has:note": state.noted,
            "has:link": state.linked,
            "has:tags": state.tags.keys(),
        }.get(term.text)
        if isinstance(chosen, PaperRows):
            rows = chosen.rows_in(self.papers)
            if rows is not None:
                return rows.copy()
        if chosen is not None:
            return self._ids_mask(chosen)
        # is:unread
        return ~self._ids_mask(state.read)

    def matching_words(self, word: str) -> frozenset[str]:
        """The vocabulary words a query word stands for (its expansion, as words)."""
        return self._cached(
            self._wanted,
            word,
            EXPAND_CACHE,
            lambda w: frozenset(self.words[i] for i in self._cached(self._expansions, w, EXPAND_CACHE, self._expand)),
        )


def _letter_names() -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    for name, letter in SYMBOLS.items():
        key = fold(letter)
        found = names.setdefault(key, []) if key and not key.isascii() else None
        if found is not None and fold(name) not in found:
            found.append(fold(name))
    return {key: tuple(found) for key, found in names.items() if found}


_LETTER_NAMES = _letter_names()  # folded Greek letter -> the TeX names shown as it
_TEX_TRIGGER = re.compile(r"[\\{}^_$%]")


@functools.lru_cache(maxsize=4096)
def _shown(text: str) -> str:
    """The text as the app shows it (reader.tex); cleaning is slow, so only texts with TeX marks."""
    return clean_tex(text) if _TEX_TRIGGER.search(text) else text


def _holds(postings: np.ndarray, papers: np.ndarray) -> np.ndarray:
    """For each of ``papers`` (sorted), whether the sorted posting list holds it."""
    if not len(postings):
        return np.zeros(len(papers), dtype=bool)
    where = np.minimum(np.searchsorted(postings, papers), len(postings) - 1)
    return postings[where] == papers


def kth_largest(keys: np.ndarray, k: int) -> int:
    """The ``k``-th largest of ``keys`` (small non-negative integers; 1 <= k <= len(keys)), by
    counting: np.partition is slow on their many ties. The highest value that at least ``k`` keys reach."""
    at_or_above = np.cumsum(np.bincount(keys)[::-1])
    return len(at_or_above) - 1 - int(np.searchsorted(at_or_above, k))


def _ranked(idx: np.ndarray, total: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Papers best first by their summed codes (a stable radix sort: ties keep file order), with their keys."""
    if total is None:
        return idx, np.zeros(len(idx), dtype=np.uint16)
    key = total[idx]
    if len(key) and key.any():
        ranked = np.argsort(key.max() - key, kind="stable")
        idx, key = idx[ranked], key[ranked]
    return idx, key


def _side_by_side(pattern: re.Pattern[str], text: str, ascii_text: bool) -> bool:
    """Whether ``pattern`` (lowercase words joined by runs of non-alphanumerics) matches whole
    words of ``text``; ``ascii_text``: the text is ASCII (lowercasing is folding it)."""
    low = text.lower() if ascii_text else " ".join(fold_words(text))
    for match in pattern.finditer(low):
        start, end = match.span()
        if (start == 0 or not low[start - 1].isalnum()) and (end == len(low) or not low[end].isalnum()):
            return True
    return False
