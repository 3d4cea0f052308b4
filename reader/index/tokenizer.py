"""Turning titles and abstracts into (word, paper) pairs: folding and the two tokenizers.

Words are the runs of letters and digits of ``reader.text.fold``'s text. ``Tokenizer``
works on bytes with numpy and never makes a Python object per word; ``tokenize_exact``
maps each word through a dict. Both give the same pairs and the same word ids (in order
of first appearance); the exact one is the fallback when two words hash alike
(``Collision``). ``tokenize_papers`` runs one of them over papers, CHUNK at a time.
"""

from __future__ import annotations

import re
import unicodedata
from operator import attrgetter

import numpy as np

from reader.paper import Paper
from reader.text import ASCII_FOLD

CHUNK = 5_000  # papers tokenized at a time while building the index (bounds the token list)

# reader.text's ASCII folding, keeping "\n": it separates papers while tokenizing a chunk.
_ASCII_FOLD_KEEP_NL = {**ASCII_FOLD, ord("\n"): "\n"}
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_NON_ALNUM = re.compile(r"[\W_]+")
_SEPARATOR = "\x00"  # a token no folded text can contain (NUL folds to a space)


def _fold_run(match: re.Match[str]) -> str:
    decomposed = unicodedata.normalize("NFKD", match.group())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", stripped.casefold())


_TITLE, _ABSTRACT = attrgetter("title"), attrgetter("abstract")


def ascii_flags(papers: list[Paper]) -> np.ndarray:
    """Per paper: whether its title and abstract are both ASCII (two passes in C, no Python per paper)."""
    n = len(papers)
    titles = np.fromiter(map(str.isascii, map(_TITLE, papers)), dtype=bool, count=n)
    flags: np.ndarray = titles & np.fromiter(map(str.isascii, map(_ABSTRACT, papers)), dtype=bool, count=n)
    return flags


def fold_words(text: str) -> list[str]:
    """The words of ``fold(text)`` (``fold(text).split()``), faster: ASCII goes through one translate."""
    if not text.isascii():
        text = _NON_ASCII_RUN.sub(_fold_run, text)
    return text.translate(ASCII_FOLD).split()


class Vocab(dict):
    """word -> id, giving each new word the next id."""

    def __missing__(self, word: str) -> int:
        wid = self[word] = len(self)
        return wid


def vocab_of(words: list[str]) -> Vocab:
    """The vocabulary ``tokenize_exact`` takes, holding ``words`` (their ids as in the list);
    the words it adds follow them (``list(vocab)[1:]``: every word by id)."""
    vocab = Vocab()
    vocab[_SEPARATOR]  # id 0
    vocab.update(zip(words, range(1, len(words) + 1)))
    return vocab


def one_per_line(texts: list[str]) -> str:
    """The texts, non-ASCII runs folded as ``fold`` does, one per line (a newline inside one becomes a space)."""
    texts = [t if t.isascii() else _NON_ASCII_RUN.sub(_fold_run, t) for t in texts]
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        joined = "\n".join(t.replace("\n", " ") for t in texts)
    return joined


def tokenize_exact(vocab: Vocab, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (word, text number) pairs of the texts, each distinct pair once, sorted by word then text.

    Returned compactly: the distinct word ids, how many texts have each, and the text
    numbers. Word ids are the vocabulary's minus one (id 0 is the separator between texts).
    """
    tokens = one_per_line(texts).translate(_ASCII_FOLD_KEEP_NL).replace("\n", f" {_SEPARATOR} ").split()
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


# The fast tokenizer (Tokenizer) works on bytes with numpy, never making a Python object per
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
MIXERS = (
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
    """Texts folded for ``Tokenizer``: one per line, UTF-8, ASCII lowercased and punctuation to spaces.

    See ``one_per_line``. A space comes first, and the end is padded with spaces so a
    word's 16 bytes can always be read.
    """
    return b" " + one_per_line(texts).encode("utf-8", "surrogatepass").translate(_BYTE_FOLD) + b" " * _PACKED


class Collision(Exception):
    """Two words hashed alike: the index is built again with the exact tokenizer."""


class Tokenizer:
    """``tokenize_exact`` without a Python object per word: same output, same word ids, ~2x faster.

    Each word is hashed twice (51 bits each, from its bytes); a chunk's (hash, paper)
    keys are sorted and de-duplicated as uint64, and its distinct words are looked up
    among the words so far with a binary search. The second hash checks the first: the
    second hashes of a chunk's tokens must add up (mod 2**64) to those of the words their
    first hashes name, and a new word's second hash must be like no other word's. Two
    words sharing either hash (in one chunk or across chunks) break one or the other,
    which raises Collision (about once in 10**14 builds) and the caller builds with the
    exact tokenizer instead.
    """

    def __init__(self) -> None:
        self.words: list[str] = []  # by word id, in order of first appearance
        # The words so far by hash (low DOC_BITS clear), sorted, with their ids; the second hashes, sorted.
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._ids = np.zeros(0, dtype=np.int32)
        self._others = np.zeros(0, dtype=np.uint64)
        self._seconds = np.zeros(0, dtype=np.uint64)  # the second hashes by word id

    def tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As ``tokenize_exact``: distinct word ids, how many texts have each, and the text numbers."""
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
        hashes = []
        for which, (salt, m1, m2) in enumerate(MIXERS):
            h = _mix(head, salt, m1, m2)
            h ^= size * _LENGTH_STEPS[which]
            h[longer] ^= _mix(rest, _TAIL_SALTS[which], m1, m2)
            if spans:  # longer words (under 0.1% of them): Python's hash of their bytes
                h[long] = [hash(buf[s:e] + b"\x01" * which) & 0xFFFFFFFFFFFFFFFF for s, e in spans]
            h &= ~_DOC_MASK
            hashes.append(h)
        h, other = hashes
        key = h | docs
        key.sort()
        pair_starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        tokens = np.diff(np.append(pair_starts, len(key)))  # how many times each (word, text) pair occurs
        key = key[pair_starts]
        word_of = key & ~_DOC_MASK
        first = np.flatnonzero(np.concatenate(([True], word_of[1:] != word_of[:-1])))
        distinct = word_of[first]
        where, known = _find_sorted(distinct, self._hashes)
        ids = np.empty(len(distinct), dtype=np.int32)
        ids[known] = self._ids[where[known]]
        new = np.flatnonzero(~known)
        if len(new):
            ids[new] = self._add(distinct[new], key[first[new]] & _DOC_MASK, bounds, hashes, buf, starts, ends)
        # The second hashes of the tokens add up to those of their words (by the first hash) times
        # their counts, unless a token's word only shares its first hash with the word taken for it.
        per_word = np.add.reduceat(tokens, first).astype(np.uint64)
        if other.sum(dtype=np.uint64) != (self._seconds[ids] * per_word).sum(dtype=np.uint64):
            raise Collision
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
        appearance, as ``tokenize_exact`` does; returns the ids."""
        h, other = hashes
        first_docs = first_docs.astype(np.int64)
        lo, sizes = bounds[first_docs], bounds[first_docs + 1] - bounds[first_docs]
        if int(sizes.sum()) > 4 * len(h):
            # Many new words in long texts (one huge abstract): scanning each word's first text
            # would cost words x text length, so find every new word's first position at once.
            positions = _first_positions(h, values)
        else:
            # Look for each new word among the words of the first text it is in (a few hundred).
            offsets = np.cumsum(sizes) - sizes
            where = np.arange(int(sizes.sum())) + np.repeat(lo - offsets, sizes)
            hits = np.flatnonzero(h[where] == np.repeat(values, sizes))
            segment = np.searchsorted(offsets, hits, side="right") - 1
            firsts = np.concatenate(([True], segment[1:] != segment[:-1]))
            positions = where[hits[firsts]]  # for each new word, in the order of ``values``
        if len(positions) != len(values):
            raise Collision  # cannot be, barring a bug: the exact tokenizer is always right
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
            raise Collision
        hashes_all = np.concatenate((self._hashes, values))
        order = np.argsort(hashes_all, kind="stable")
        self._hashes = hashes_all[order]
        self._ids = np.concatenate((self._ids, ids))[order]
        self._others = np.sort(np.concatenate((self._others, others)))
        self._seconds = np.concatenate((self._seconds, other[in_order]))
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


def tokenize_papers(papers: list[Paper], tokenizer: Tokenizer | None) -> Tokenized:
    """Every chunk's (words, counts, papers) for titles and abstracts, and the vocabulary.

    With no tokenizer, the exact (slower) one: each word a Python string looked up in a dict.
    """
    vocab = Vocab()
    vocab[_SEPARATOR]  # id 0
    title_parts: Parts = []
    abstract_parts: Parts = []
    for start in range(0, len(papers), CHUNK):
        chunk = papers[start : start + CHUNK]
        titles, abstracts = [p.title for p in chunk], [p.abstract for p in chunk]
        for texts, parts in ((titles, title_parts), (abstracts, abstract_parts)):
            words, counts, docs = tokenizer.tokenize(texts) if tokenizer else tokenize_exact(vocab, texts)
            docs += start
            parts.append((words, counts, docs))
    if tokenizer:
        return title_parts, abstract_parts, tokenizer.words
    del vocab[_SEPARATOR]
    return title_parts, abstract_parts, list(vocab)


def tokenize_all(papers: list[Paper]) -> Tokenized:
    """``tokenize_papers`` with the byte tokenizer, or the exact one if two words hash alike."""
    try:
        return tokenize_papers(papers, Tokenizer())
    except Collision:
        return tokenize_papers(papers, None)


def _first_positions(h: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where each of ``values`` (distinct hashes) first occurs in ``h``, in the order of ``values``;
    shorter than ``values`` when one does not occur (the caller treats that as a collision)."""
    where = np.flatnonzero(np.isin(h, values))
    order = np.lexsort((where, h[where]))
    found, at = h[where][order], where[order]
    first = np.concatenate(([True], found[1:] != found[:-1])) if len(found) else np.zeros(0, dtype=bool)
    found, at = found[first], at[first]
    index = np.searchsorted(found, values)
    ok = index < len(found)
    ok[ok] = found[index[ok]] == values[ok]
    return at[index[ok]] if ok.all() else at[:0]
