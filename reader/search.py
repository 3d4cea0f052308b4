"""Search: an index of folded words over titles and abstracts, ranked with rapidfuzz.

Each query word is mapped to nearby words of the vocabulary (exact, prefix for
the word being typed, inside-word, and typo-tolerant via rapidfuzz's OSA
distance); their posting lists give the candidates, which are scored with title
hits weighing more than abstract hits. Nothing here touches the disk but
SearchEngine.save and SearchEngine.load (the index as plain numpy arrays, which
reader.index_cache keeps keyed by the papers' content).

How it stays fast (benchmarks/run.py measures it):

- The index is two CSR tables (title, abstract) of int32 paper numbers, built in
  chunks: a chunk's text is folded with one ``str.translate``, split once, mapped
  to word ids through one dict, and its (word, paper) pairs sorted and
  de-duplicated as int64 keys; the chunks are then laid out word by word.
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
import os
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from reader.links import has_code
from reader.paper import Paper
from reader.query import Query, Term, parse_query
from reader.tex import SYMBOLS, clean_tex
from reader.text import ASCII_FOLD, fold, fold_with_offsets

TITLE_WEIGHT = 2.0
ABSTRACT_WEIGHT = 1.0
EXACT, PREFIX, INFIX = 1.0, 0.9, 0.75
MAX_PREFIX = 200  # the word being typed: at most this many vocabulary words it starts
MAX_FUZZY = 50
# Scores are whole multiples of this, summed as integers: equal scores are real ties
# (no float noise), and ranking is a radix sort of small integers.
SCORE_UNIT = 0.05
CHUNK = 5_000  # papers tokenized at a time while building the index (bounds the token list)
WORD_CACHE = 32  # per-word score arrays kept (the words before the one being typed)
EXPAND_CACHE = 2048
# Version of what SearchEngine.save writes and of what the build produces: bump it when
# either changes (reader.index_cache also keys its entries by this module's source).
INDEX_FORMAT = 1
SPOT_CHECKS = 16  # papers whose words a loaded index is checked against

# reader.text's ASCII folding, keeping "\n": it separates papers while tokenizing a chunk.
_ASCII_FOLD_KEEP_NL = {**ASCII_FOLD, ord("\n"): "\n"}
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_NON_ALNUM = re.compile(r"[\W_]+")
_SEPARATOR = "\x00"  # a token no folded text can contain (NUL folds to a space)


def _fold_run(match: re.Match[str]) -> str:
    decomposed = unicodedata.normalize("NFKD", match.group())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", stripped.casefold())


def fold_words(text: str) -> list[str]:
    """The words of ``fold(text)`` (``fold(text).split()``), faster: ASCII goes through one translate."""
    if not text.isascii():
        text = _NON_ASCII_RUN.sub(_fold_run, text)
    return text.translate(ASCII_FOLD).split()


def _code(value: float) -> int:
    return int(round(value / SCORE_UNIT))


class _Vocab(dict):
    """word -> id, giving each new word the next id."""

    def __missing__(self, word: str) -> int:
        wid = self[word] = len(self)
        return wid


class Postings(Sequence):
    """Posting lists in one array (CSR): ``postings[wid]`` is the sorted paper indices of a word."""

    def __init__(self, starts: np.ndarray, docs: np.ndarray) -> None:
        self.starts = starts
        self.docs = docs

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, wid: int) -> np.ndarray:  # type: ignore[override]
        return self.docs[self.starts[wid] : self.starts[wid + 1]]

    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)


def _one_per_line(texts: list[str]) -> str:
    """The texts, non-ASCII runs folded as ``fold`` does, one per line (a newline inside one becomes a space)."""
    texts = [t if t.isascii() else _NON_ASCII_RUN.sub(_fold_run, t) for t in texts]
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        joined = "\n".join(t.replace("\n", " ") for t in texts)
    return joined


def _tokenize(vocab: _Vocab, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (word, text number) pairs of the texts, each distinct pair once, sorted by word then text.

    Returned compactly: the distinct word ids, how many texts have each, and the text
    numbers. Word ids are the vocabulary's minus one (id 0 is the separator between texts).
    """
    tokens = _one_per_line(texts).translate(_ASCII_FOLD_KEEP_NL).replace("\n", f" {_SEPARATOR} ").split()
    key = np.fromiter(map(vocab.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    del tokens
    doc = np.cumsum(key == 0)  # text number: separators seen before
    key <<= 32
    key |= doc
    del doc
    key.sort()
    key = key[np.searchsorted(key, 1 << 32) :]  # the separators (word id 0) sort first
    if len(key):
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    words = (key >> 32).astype(np.int32)
    words -= 1
    # The runs of equal words: their ids and lengths.
    run_starts = np.flatnonzero(np.concatenate(([True], words[1:] != words[:-1]))) if len(words) else words[:0]
    counts = np.diff(np.append(run_starts, len(words))).astype(np.int32)
    return words[run_starts], counts, (key & 0xFFFFFFFF).astype(np.int32)


# The fast tokenizer (_Tokenizer) works on bytes with numpy, never making a Python object per
# word: text is folded to bytes with one bytes.translate (A-Z to a-z, other ASCII that is not
# a letter or digit to a space, "\n" kept; bytes of non-ASCII letters stay word bytes).
_BYTE_FOLD = bytes(
    10 if c == 10 else c + 32 if 65 <= c <= 90 else 32 if c < 128 and not chr(c).isalnum() else c for c in range(256)
)
_PACKED = 16  # words up to this many bytes are hashed from their bytes packed in two uint64
_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
DOC_BITS = 13  # a chunk's paper number sits in the low bits of each sort key
_DOC_MASK = np.uint64((1 << DOC_BITS) - 1)
# Two independent hashes of a word: a 64-bit finalizer (splitmix64's, murmur3's multipliers)
# of its first 8 bytes, xor its length times an odd constant, xor (for a longer word) a
# finalizer of its bytes 9-16 under another salt. Words of the same length differ in one
# of the one-to-one parts; the two hashes share no constant, so words colliding in one
# hash collide in the other only by chance.
_MIXERS = (
    (np.uint64(0x2545F4914F6CDD1D), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)),
    (np.uint64(0xD6E8FEB86659FD93), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)),
)
_TAIL_SALTS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0x632BE59BD9B4E019))
_LENGTH_STEPS = (np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


def _mix(x: np.ndarray, salt: np.uint64, m1: np.uint64, m2: np.uint64) -> np.ndarray:
    """A one-to-one 64-bit finalizer of ``x ^ salt``, into a new array."""
    x = x ^ salt
    x ^= x >> np.uint64(31)
    x *= m1
    x ^= x >> np.uint64(29)
    x *= m2
    x ^= x >> np.uint64(32)
    return x


def fold_bytes(texts: list[str]) -> bytes:
    """Texts folded for ``_Tokenizer``: one per line, UTF-8, ASCII lowercased and punctuation to spaces.

    See ``_one_per_line``. A space comes first, and the end is padded with spaces so a
    word's 16 bytes can always be read.
    """
    return b" " + _one_per_line(texts).encode("utf-8", "surrogatepass").translate(_BYTE_FOLD) + b" " * _PACKED


class _Collision(Exception):
    """Two words hashed alike: the index is built again with the exact tokenizer."""


class _Tokenizer:
    """``_tokenize`` without a Python object per word: same output, same word ids, ~2x faster.

    Each word is hashed twice (51 bits each, from its bytes); a chunk's (hash, paper)
    keys are sorted and de-duplicated as uint64, and its distinct words are looked up
    among the words so far with a binary search. The second hash checks the first: two
    words sharing a hash make the distinct counts of the two hashes differ, which raises
    _Collision (about once in 10**14 builds) and the caller builds with the exact
    tokenizer instead.
    """

    def __init__(self) -> None:
        self.words: list[str] = []  # by word id, in order of first appearance
        # The words so far by hash (low DOC_BITS clear), sorted, with their ids; the second hashes, sorted.
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._ids = np.zeros(0, dtype=np.int32)
        self._others = np.zeros(0, dtype=np.uint64)

    def tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As ``_tokenize``: distinct word ids, how many texts have each, and the text numbers."""
        return self.tokenize_folded(fold_bytes(texts), len(texts))

    def tokenize_folded(self, buf: bytes, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``tokenize`` of ``count`` texts that ``fold_bytes`` made into ``buf``."""
        if count > 1 << DOC_BITS:
            raise ValueError(f"at most {1 << DOC_BITS} texts at a time")
        chars = np.frombuffer(buf, dtype=np.uint8)
        newlines = np.flatnonzero(chars == 10)
        if len(newlines) != max(count - 1, 0) or buf[:1] != b" " or buf[-_PACKED:] != b" " * _PACKED:
            raise ValueError("not the folded text of that many texts")
        in_word = chars > 32
        edges = np.flatnonzero(in_word[1:] != in_word[:-1]) + 1  # buf starts and ends with a space
        starts, ends = edges[0::2], edges[1::2]
        if not len(starts):
            empty = np.zeros(0, dtype=np.int32)
            return empty, empty, empty
        lengths = ends - starts
        # Words per text: how many start before each text's closing newline.
        bounds = np.concatenate(([0], np.searchsorted(starts, newlines), [len(starts)]))
        docs = np.repeat(np.arange(count, dtype=np.uint64), np.diff(bounds))
        # Each word's first 16 bytes as two little-endian uint64 (read unaligned at any byte),
        # bytes past its end masked off; the second only for words longer than 8 bytes.
        at = np.ndarray(shape=(len(buf) - 7,), dtype=np.uint64, buffer=buf, strides=(1,))
        head = at[starts] & np.take(_BYTE_MASKS, np.minimum(lengths, 8))
        longer = np.flatnonzero(lengths > 8)
        rest = at[starts[longer] + 8] & np.take(_BYTE_MASKS, np.minimum(lengths[longer] - 8, 8))
        size = lengths.astype(np.uint64)
        long = np.flatnonzero(lengths > _PACKED)
        spans = list(zip(starts[long].tolist(), ends[long].tolist()))
        hashes, runs = [], []
        for which, (salt, m1, m2) in enumerate(_MIXERS):
            h = _mix(head, salt, m1, m2)
            h ^= size * _LENGTH_STEPS[which]
            h[longer] ^= _mix(rest, _TAIL_SALTS[which], m1, m2)
            if spans:  # longer words (under 0.1% of them): Python's hash of their bytes
                h[long] = [hash(buf[s:e] + b"\x01" * which) & 0xFFFFFFFFFFFFFFFF for s, e in spans]
            h &= ~_DOC_MASK
            hashes.append(h)
            key = h | docs
            key.sort()
            key = key[np.concatenate(([True], key[1:] != key[:-1]))]
            word_of = key & ~_DOC_MASK
            first = np.flatnonzero(np.concatenate(([True], word_of[1:] != word_of[:-1])))
            runs.append((key, first, word_of[first]))
        (key, first, distinct), (other_key, _, other_distinct) = runs
        if len(key) != len(other_key) or len(distinct) != len(other_distinct):
            raise _Collision
        where, known = _find_sorted(distinct, self._hashes)
        ids = np.empty(len(distinct), dtype=np.int32)
        ids[known] = self._ids[where[known]]
        new = np.flatnonzero(~known)
        if len(new) != len(other_distinct) - int(np.count_nonzero(_find_sorted(other_distinct, self._others)[1])):
            raise _Collision
        if len(new):
            ids[new] = self._add(distinct[new], key[first[new]] & _DOC_MASK, bounds, hashes, buf, starts, ends)
        counts = np.diff(np.append(first, len(key))).astype(np.int32)
        return ids, counts, (key & _DOC_MASK).astype(np.int32)

    def _add(
        self,
        values: np.ndarray,
        first_docs: np.ndarray,
        bounds: np.ndarray,
        hashes: list[np.ndarray],
        buf: bytes,
        starts: np.ndarray,
        ends: np.ndarray,
    ) -> np.ndarray:
        """Give new words (their hashes, the first text each is in) ids in order of first
        appearance, as ``_tokenize`` does; returns the ids."""
        h, other = hashes
        # Look for each new word among the words of the first text it is in (a few hundred).
        first_docs = first_docs.astype(np.int64)
        lo, sizes = bounds[first_docs], bounds[first_docs + 1] - bounds[first_docs]
        offsets = np.cumsum(sizes) - sizes
        where = np.arange(int(sizes.sum())) + np.repeat(lo - offsets, sizes)
        hits = np.flatnonzero(h[where] == np.repeat(values, sizes))
        segment = np.searchsorted(offsets, hits, side="right") - 1
        firsts = np.concatenate(([True], segment[1:] != segment[:-1]))
        positions = where[hits[firsts]]  # for each new word, in the order of ``values``
        if len(positions) != len(values):
            raise _Collision  # cannot be, barring a bug: the exact tokenizer is always right
        order = np.argsort(positions, kind="stable")
        ids = np.empty(len(positions), dtype=np.int32)
        ids[order] = np.arange(len(self.words), len(self.words) + len(positions), dtype=np.int32)
        in_order = positions[order]
        self.words.extend(
            buf[s:e].decode("utf-8", "surrogatepass")
            for s, e in zip(starts[in_order].tolist(), ends[in_order].tolist())
        )
        others = np.sort(other[positions])
        # Two new words alike in the second hash, or like a word seen before: a collision.
        if np.any(others[1:] == others[:-1]) or np.any(_find_sorted(others, self._others)[1]):
            raise _Collision
        hashes_all = np.concatenate((self._hashes, values))
        order = np.argsort(hashes_all, kind="stable")
        self._hashes = hashes_all[order]
        self._ids = np.concatenate((self._ids, ids))[order]
        self._others = np.sort(np.concatenate((self._others, others)))
        return ids


def _find_sorted(values: np.ndarray, sorted_array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``values`` is in ``sorted_array``, and whether it is there (a binary search each)."""
    if not len(sorted_array):
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    where = np.minimum(np.searchsorted(sorted_array, values), len(sorted_array) - 1)
    return where, sorted_array[where] == values


# Per chunk of papers: the distinct word ids, how many papers have each, the paper numbers.
Parts = list[tuple[np.ndarray, np.ndarray, np.ndarray]]
Tokenized = tuple[Parts, Parts, list[str]]  # titles, abstracts, the words by id


def _merge_postings(parts: Parts, size: int) -> Postings:
    """Lay per-chunk (words, counts, papers) out in one CSR posting table, chunk after chunk."""
    counts = np.zeros(size, dtype=np.int64)
    for words, c, _ in parts:
        counts[words] += c
    starts = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    docs = np.empty(int(starts[-1]), dtype=np.int32)
    cursor = starts[:-1].copy()
    for k, (words, c, chunk_docs) in enumerate(parts):
        first = np.cumsum(c, dtype=np.int64) - c
        docs[np.repeat(cursor[words] - first, c) + np.arange(len(chunk_docs))] = chunk_docs
        cursor[words] += c
        parts[k] = None  # type: ignore[call-overload]  # free as we go
    return Postings(starts, docs)


@dataclass
class State:
    """What the store knows, as the search needs it (a snapshot: search never reads disk)."""

    bookmarked: set[str] = field(default_factory=set)
    read: set[str] = field(default_factory=set)
    noted: set[str] = field(default_factory=set)
    linked: set[str] = field(default_factory=set)
    tags: dict[str, set[str]] = field(default_factory=dict)  # paper id -> folded tags
    new: set[str] = field(default_factory=set)  # first seen in the newest open digest

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


class IndexFileError(ValueError):
    """A saved index that cannot be used (see SearchEngine.load)."""


class SearchEngine:
    """A search index over a fixed list of papers; build once, query per keystroke.

    The index is built in chunks with numpy: each chunk's words are mapped to ids
    through one dict, the (word, paper) pairs are sorted and de-duplicated as int64
    keys, and the chunks are laid out in two CSR tables (title and abstract). A
    query word's expansion is turned into a per-paper score array (uint8, in
    SCORE_UNIT steps) with one scatter per posting list; those arrays are cached
    for the words before the one being typed. Searching is thread-safe.
    """

    def __init__(self, papers: list[Paper], tokenized: Tokenized | None = None) -> None:
        """Index ``papers``; ``tokenized``: their chunks, tokenized already (see reader.index_build)."""
        self.papers = papers
        self.n = n = len(papers)
        self.order = np.arange(n, dtype=np.int64)
        self.in_files = np.fromiter((not p.from_store for p in papers), dtype=bool, count=n)
        if tokenized is not None:
            title_parts, abstract_parts, self.words = tokenized
        else:
            try:
                title_parts, abstract_parts, self.words = self._tokenize_all(_Tokenizer())
            except _Collision:
                title_parts, abstract_parts, self.words = self._tokenize_all(None)
        self.vocab: dict[str, int] = dict(zip(self.words, range(len(self.words))))
        self._ascii = np.fromiter((p.title.isascii() and p.abstract.isascii() for p in papers), dtype=bool, count=n)
        size = len(self.words)
        self.title_postings = _merge_postings(title_parts, size)
        self.abstract_postings = _merge_postings(abstract_parts, size)
        del title_parts, abstract_parts
        self._finish(np.array(sorted(range(size), key=self.words.__getitem__), dtype=np.int64))

    def _tokenize_all(self, tokenizer: _Tokenizer | None) -> Tokenized:
        """Every chunk's (words, counts, papers) for titles and abstracts, and the vocabulary.

        With no tokenizer, the exact (slower) one: each word a Python string looked up in a dict.
        """
        vocab = _Vocab()
        vocab[_SEPARATOR]  # id 0
        title_parts: Parts = []
        abstract_parts: Parts = []
        for start in range(0, self.n, CHUNK):
            chunk = self.papers[start : start + CHUNK]
            titles, abstracts = [p.title for p in chunk], [p.abstract for p in chunk]
            for texts, parts in ((titles, title_parts), (abstracts, abstract_parts)):
                words, counts, docs = tokenizer.tokenize(texts) if tokenizer else _tokenize(vocab, texts)
                docs += start
                parts.append((words, counts, docs))
        if tokenizer:
            return title_parts, abstract_parts, tokenizer.words
        del vocab[_SEPARATOR]
        return title_parts, abstract_parts, list(vocab)

    def _finish(self, sorted_ids: np.ndarray) -> None:
        """What follows from the words, the posting tables and the alphabetical order (built or loaded)."""
        size = len(self.words)
        self.df = self.title_postings.lengths() + self.abstract_postings.lengths()
        order = sorted_ids.tolist()
        self.sorted_words = [self.words[i] for i in order]
        self._sorted_ids = sorted_ids
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
        self._word_arrays: OrderedDict[str, np.ndarray] = OrderedDict()

    # -- saving and loading ----------------------------------------------------------------
    def save(self, file: Any, key: str = "") -> None:
        """Write the index (not the papers) as an uncompressed .npz: plain arrays, no pickles.

        ``file`` is a path or a binary file object; ``key`` is kept so that ``load`` can check it.
        """
        # Plain dtypes only, so no pickle is ever written (load refuses pickles). np.savez's own
        # allow_pickle argument is not passed: older numpy (pyproject allows 1.26) would store it as an array.
        arrays: dict[str, np.ndarray] = {
            "meta": np.array([INDEX_FORMAT, self.n, len(self.words)], dtype=np.int64),
            "key": np.frombuffer(key.encode("ascii"), dtype=np.uint8),
            "words": np.frombuffer("\n".join(self.words).encode("utf-8", "surrogatepass"), dtype=np.uint8),
            "title_starts": self.title_postings.starts,
            "title_docs": self.title_postings.docs,
            "abstract_starts": self.abstract_postings.starts,
            "abstract_docs": self.abstract_postings.docs,
            "ascii": self._ascii,
            "sorted_ids": self._sorted_ids,
        }
        if isinstance(file, (str, os.PathLike)):
            with open(file, "wb") as f:  # a path given to np.savez gets ".npz" appended
                np.savez(f, **arrays)  # type: ignore[arg-type]  # the stubs see allow_pickle in **
        else:
            np.savez(file, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, file: Any, papers: list[Paper], key: str | None = None) -> SearchEngine:
        """An engine over ``papers`` from an index ``save`` wrote for exactly these papers.

        Raises IndexFileError when the file is not such an index: unreadable, truncated
        (the .npz members are CRC-checked), another format version or key, or arrays of
        the wrong type, shape or range. It cannot tell papers with other text apart: the
        caller keys the file by the papers' content (see reader.index_cache).
        """
        try:
            with np.load(file, allow_pickle=False) as npz:
                data = {name: npz[name] for name in npz.files}
        except Exception as err:  # zipfile, OSError, ValueError, EOFError...: all mean "unusable"
            raise IndexFileError(f"unreadable index: {err}") from err
        n = len(papers)

        def check(ok: bool, what: str) -> None:
            if not ok:
                raise IndexFileError(f"bad index: {what}")

        expected = {
            "meta": np.int64,
            "key": np.uint8,
            "words": np.uint8,
            "title_starts": np.int64,
            "title_docs": np.int32,
            "abstract_starts": np.int64,
            "abstract_docs": np.int32,
            "ascii": np.bool_,
            "sorted_ids": np.int64,
        }
        for name, dtype in expected.items():
            check(name in data and data[name].dtype == dtype and data[name].ndim == 1, f"array {name}")
        meta = data["meta"]
        check(len(meta) == 3 and int(meta[0]) == INDEX_FORMAT, "format version")
        check(int(meta[1]) == n, f"built for {int(meta[1])} papers, not {n}")
        if key is not None:
            check(data["key"].tobytes() == key.encode("ascii"), "key")
        try:
            words = data["words"].tobytes().decode("utf-8", "surrogatepass").split("\n") if int(meta[2]) else []
        except UnicodeDecodeError as err:
            raise IndexFileError(f"bad index: words: {err}") from err
        size = len(words)
        check(size == int(meta[2]) and len(set(words)) == size and all(words), "vocabulary")
        tables = []
        for which in ("title", "abstract"):
            starts, docs = data[f"{which}_starts"], data[f"{which}_docs"]
            check(len(starts) == size + 1 and int(starts[0]) == 0 and int(starts[-1]) == len(docs), f"{which} starts")
            check(bool(np.all(starts[1:] >= starts[:-1])), f"{which} starts order")
            check(not len(docs) or (int(docs.min()) >= 0 and int(docs.max()) < n), f"{which} paper numbers")
            tables.append(Postings(starts, docs))
        check(len(data["ascii"]) == n, "ascii flags")
        sorted_ids = data["sorted_ids"]
        check(len(sorted_ids) == size, "alphabetical order")
        if size:  # a permutation of the word ids
            check(int(sorted_ids.min()) >= 0 and int(sorted_ids.max()) < size, "alphabetical order")
            check(bool(np.all(np.bincount(sorted_ids, minlength=size) == 1)), "alphabetical order")
        engine = cls.__new__(cls)
        engine.papers = papers
        engine.n = n
        engine.order = np.arange(n, dtype=np.int64)
        engine.in_files = np.fromiter((not p.from_store for p in papers), dtype=bool, count=n)
        engine.words = words
        engine.vocab = dict(zip(words, range(size)))
        engine.title_postings, engine.abstract_postings = tables
        engine._ascii = data["ascii"]
        engine._finish(sorted_ids)
        check(all(a < b for a, b in zip(engine.sorted_words, engine.sorted_words[1:])), "alphabetical order")
        check(engine._indexes_their_words(SPOT_CHECKS), "the papers' words are not what was indexed")
        return engine

    def _indexes_their_words(self, count: int) -> bool:
        """Whether the first, the last and ``count`` random papers have exactly their words indexed.

        A loaded index of other text (a stale or misplaced file) fails this unless the
        papers checked all happen to be unchanged.
        """
        if not self.n:
            return True
        sample = {0, self.n - 1, *np.random.default_rng().integers(0, self.n, count).tolist()}
        for which, postings in (("title", self.title_postings), ("abstract", self.abstract_postings)):
            per_paper = np.bincount(postings.docs, minlength=self.n)
            for i in sample:
                words = set(fold_words(getattr(self.papers[i], which)))
                if len(words) != per_paper[i]:
                    return False
                for word in words:
                    wid = self.vocab.get(word)
                    if wid is None:
                        return False
                    post = postings[wid]
                    k = int(np.searchsorted(post, i))
                    if k == len(post) or post[k] != i:
                        return False
        return True

    # -- caches --------------------------------------------------------------------------
    def clear_caches(self) -> None:
        """Forget cached expansions and per-word scores (benchmarks use this to time cold keystrokes)."""
        with self._lock:
            self._expansions.clear()
            self._wanted.clear()
            self._word_arrays.clear()

    def _cached(self, cache: OrderedDict, key: str, size: int, make: Any) -> Any:
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
        prefixed = self._sorted_ids[lo:hi]
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
            for wid, dist in self._fuzzy(word, max_dist):
                quality = 0.7 - 0.1 * dist
                if found.get(wid, 0) < quality:
                    found[wid] = quality
        return found

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
        return self._sorted_ids[k].tolist()

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

    def _df(self, word: str) -> int:
        return int(self.df[self.vocab[word]])

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
        # Ascending, so that the best code a paper gets is the one it keeps.
        for code, which, wid in sorted(scatters):
            post = (self.title_postings if which == 0 else self.abstract_postings)[wid]
            if len(post):
                codes[post] = code
        return codes

    def _word_scores(self, expansion: dict[int, float]) -> np.ndarray:
        """Per-paper score of an expansion, as floats (kept for callers of the old API)."""
        codes = np.zeros(self.n, dtype=np.uint8)
        for code, which, wid in sorted(
            [(_code(q * ABSTRACT_WEIGHT), 1, w) for w, q in expansion.items()]
            + [(_code(q * TITLE_WEIGHT), 0, w) for w, q in expansion.items()]
        ):
            post = (self.title_postings if which == 0 else self.abstract_postings)[wid]
            codes[post] = code
        return (codes * SCORE_UNIT).astype(np.float32)

    # -- searching ---------------------------------------------------------------------
    def search(self, query: str | Query, state: State | None = None, limit: int | None = None) -> Result:
        """Rank papers for a query: best first, ties in file order."""
        q = parse_query(query) if isinstance(query, str) else query
        state = state or State()
        if q.errors:
            empty = np.zeros(0, dtype=np.int64)
            return Result(q, empty, np.zeros(0, dtype=np.float32))
        total: np.ndarray | None = None
        mask = self._visible(q, state)
        for term in q.terms:
            if term.kind == "fuzzy":
                for word in fold(term.text).split():
                    codes = self._word_codes(word)
                    for name in _LETTER_NAMES.get(word, ()):
                        # A Greek letter as shown (ε) also finds the TeX name it was written as (varepsilon).
                        codes = np.maximum(codes, self._exact_word_codes(name))
                    np.logical_and(mask, codes, out=mask)
                    total = codes.astype(np.uint16) if total is None else np.add(total, codes, out=total)
            elif term.kind in ("exact", "phrase"):
                codes = self._substring_codes(term, mask)
                if term.negate:
                    np.logical_and(mask, codes == 0, out=mask)
                else:
                    np.logical_and(mask, codes, out=mask)
                    total = codes.astype(np.uint16) if total is None else np.add(total, codes, out=total)
            elif term.kind == "rank":
                continue  # an ordering, applied by the caller (see reader.similar)
            else:
                hit = self._filter_mask(term, state)
                if term.negate:
                    mask &= ~hit
                else:
                    mask &= hit
        idx = np.flatnonzero(mask)
        if total is None:
            key = np.zeros(len(idx), dtype=np.uint16)
        else:
            key = total[idx]
            if len(key) and key.any():
                ranked = np.argsort(key.max() - key, kind="stable")  # radix sort; ties keep file order
                idx, key = idx[ranked], key[ranked]
        if limit is not None:
            idx, key = idx[:limit], key[:limit]
        return Result(q, idx, (key * SCORE_UNIT).astype(np.float32))

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
                sure = candidates & self._ascii
                codes[sure & in_abstract] = abstract_code
                codes[sure & in_title] = title_code
                np.logical_and(candidates, ~self._ascii, out=candidates)
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
        if term.text == "has:code":
            if self._code is None:
                self._code = np.array([has_code(p.abstract) for p in self.papers], dtype=bool)
            return self._code.copy()
        chosen = {
            "is:bookmarked": state.bookmarked,
            "is:read": state.read,
            "is:new": state.new,
            "has:note": state.noted,
            "has:link": state.linked,
            "has:tags": state.tags.keys(),
        }.get(term.text)
        if chosen is not None:
            return self._ids_mask(chosen)
        # is:unread
        return ~self._ids_mask(state.read)

    # -- highlighting ------------------------------------------------------------------
    def _wanted_words(self, word: str) -> frozenset[str]:
        return self._cached(
            self._wanted,
            word,
            EXPAND_CACHE,
            lambda w: frozenset(self.words[i] for i in self._cached(self._expansions, w, EXPAND_CACHE, self._expand)),
        )

    def title_spans(self, paper: Paper, query: str | Query) -> list[tuple[int, int]]:
        """Character spans of ``paper.title`` that the query's terms matched, merged and sorted."""
        q = parse_query(query) if isinstance(query, str) else query
        where: Sequence[int]
        if paper.title.isascii():
            folded, where = paper.title.translate(ASCII_FOLD), range(len(paper.title))
        else:
            folded, where = fold_with_offsets(paper.title)
        spans: list[tuple[int, int]] = []
        words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", folded)]
        for term in q.terms:
            if term.negate:
                continue
            if term.kind == "fuzzy":
                for word in fold(term.text).split():
                    wanted = self._wanted_words(word)
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


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
