"""The index on disk: plain numpy arrays in an uncompressed .npz, checked before it is trusted.

``save`` writes an engine's index (not the papers); ``load`` gives back an engine over
the papers it was built for, or raises IndexFileError. reader.index.cache keys the
files by the papers' content and by INDEX_FORMAT.
"""

from __future__ import annotations

import os
from typing import IO

import numpy as np

from reader.index.engine import SearchEngine
from reader.index.postings import Postings
from reader.index.tokenizer import fold_words
from reader.paper import Paper

# Version of what ``save`` writes and of what a build produces from the same papers (the
# tokenizer, the posting tables): bump it when either changes, and every cached index is
# rebuilt. The cache key holds it; nothing else in the code decides the key.
INDEX_FORMAT = 2
SPOT_CHECKS = 16  # papers whose words a loaded index is checked against
MEMBERS = frozenset(
    {"meta", "key", "words", "title_starts", "title_docs", "abstract_starts", "abstract_docs", "ascii", "sorted_ids"}
)


class IndexFileError(ValueError):
    """A saved index that cannot be used (see ``load``)."""


def save(engine: SearchEngine, file: str | os.PathLike[str] | IO[bytes], key: str = "") -> None:
    """Write the index (not the papers) as an uncompressed .npz: plain arrays, no pickles.

    ``file`` is a path or a binary file object; ``key`` is kept so that ``load`` can check it.
    """
    # Plain dtypes only, so no pickle is ever written (load refuses pickles). np.savez's own
    # allow_pickle argument is not passed: older numpy (pyproject allows 1.26) would store it as an array.
    arrays: dict[str, np.ndarray] = {
        "meta": np.array([INDEX_FORMAT, engine.n, len(engine.words)], dtype=np.int64),
        "key": np.frombuffer(key.encode("ascii"), dtype=np.uint8),
        "words": np.frombuffer("\n".join(engine.words).encode("utf-8", "surrogatepass"), dtype=np.uint8),
        "title_starts": engine.title_postings.starts,
        "title_docs": engine.title_postings.docs,
        "abstract_starts": engine.abstract_postings.starts,
        "abstract_docs": engine.abstract_postings.docs,
        "ascii": engine.ascii_only,
        "sorted_ids": engine.sorted_ids,
    }
    if isinstance(file, (str, os.PathLike)):
        with open(file, "wb") as f:  # a path given to np.savez gets ".npz" appended
            np.savez(f, **arrays)  # type: ignore[arg-type]  # the stubs see allow_pickle in **
    else:
        np.savez(file, **arrays)  # type: ignore[arg-type]


def load(file: str | os.PathLike[str] | IO[bytes], papers: list[Paper], key: str | None = None) -> SearchEngine:
    """An engine over ``papers`` from an index ``save`` wrote for exactly these papers.

    Raises IndexFileError when the file is not such an index: unreadable, truncated
    (the .npz members are CRC-checked), another format version or key, or arrays of
    the wrong type, shape or range. It cannot tell papers with other text apart but by
    a sample of them: the caller keys the file by the papers' content (reader.index.cache).
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
    engine = SearchEngine.from_index(papers, words, tables[0], tables[1], data["ascii"], sorted_ids)
    check(all(a < b for a, b in zip(engine.sorted_words, engine.sorted_words[1:])), "alphabetical order")
    check(indexes_their_words(engine, SPOT_CHECKS), "the papers' words are not what was indexed")
    return engine


def indexes_their_words(engine: SearchEngine, count: int) -> bool:
    """Whether the first, the last and ``count`` random papers have exactly their words indexed.

    A loaded index of other text (a stale or misplaced file) fails this unless the
    papers checked all happen to be unchanged.
    """
    n = engine.n
    if not n:
        return True
    sample = {0, n - 1, *np.random.default_rng().integers(0, n, count).tolist()}
    for which, postings in (("title", engine.title_postings), ("abstract", engine.abstract_postings)):
        per_paper = np.bincount(postings.docs, minlength=n)
        for i in sample:
            words = set(fold_words(getattr(engine.papers[i], which)))
            if len(words) != per_paper[i]:
                return False
            for word in words:
                wid = engine.vocab.get(word)
                if wid is None:
                    return False
                post = postings[wid]
                k = int(np.searchsorted(post, i))
                if k == len(post) or post[k] != i:
                    return False
    return True
