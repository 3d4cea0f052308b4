"""The index on disk: plain numpy arrays in an uncompressed .npz, checked before it is trusted.

``save`` writes an engine's index (not the papers), each paper's number of indexed
words and a checksum of it all; ``load`` gives back an engine over the papers it was
built for, or raises IndexFileError. Trusting an entry costs the read (which checks
every member's CRC-32), the checksum over those CRCs, range checks at C speed and the
words of a sample of papers, never a pass over the postings in Python.
reader.index.cache keys the files by the papers' content and by INDEX_FORMAT.
"""

from __future__ import annotations

import hashlib
import os
import random
import zipfile
from collections.abc import Callable
from typing import IO

import numpy as np

from reader.index.engine import SearchEngine
from reader.index.postings import Postings
from reader.index.tokenizer import fold_words
from reader.paper import Paper

# Version of what ``save`` writes and of what a build produces from the same papers (the
# tokenizer, the posting tables): bump it when either changes, and every cached index is
# rebuilt. The cache key holds it; nothing else in the code decides the key.
INDEX_FORMAT = 3
SPOT_CHECKS = 16  # papers whose words a loaded index is checked against
# The index proper (checked by check_tables), the same in an entry and in a segment (reader.index.segment).
TABLES: dict[str, type[np.generic]] = {
    "words": np.uint8,
    "title_starts": np.int64,
    "title_docs": np.int32,
    "title_counts": np.int32,  # per paper: how many words its title has indexed
    "abstract_starts": np.int64,
    "abstract_docs": np.int32,
    "abstract_counts": np.int32,
    "ascii": np.bool_,
    "sorted_ids": np.int64,
}
# The arrays of an entry, in the order the checksum reads them, with their types.
ARRAYS: dict[str, type[np.generic]] = {"meta": np.int64, "key": np.uint8, **TABLES}
CHECKSUM = "checksum"
MEMBERS = frozenset({*ARRAYS, CHECKSUM})
# The members of entries earlier versions wrote: reader.index.cache still knows them as its own files (to prune them).
OLD_MEMBERS = frozenset(MEMBERS - {CHECKSUM, "title_counts", "abstract_counts"})


class IndexFileError(ValueError):
    """A saved index that cannot be used (see ``load``)."""


def save(engine: SearchEngine, file: str | os.PathLike[str] | IO[bytes], key: str = "") -> None:
    """Write the index (not the papers) as an uncompressed .npz: plain arrays, no pickles.

    ``file`` is a path or a seekable binary file object; ``key`` is kept so that ``load``
    can check it. The last member is the checksum (see ``checksum``).
    """
    n = engine.n
    arrays: dict[str, np.ndarray] = {
        "meta": np.array([INDEX_FORMAT, n, len(engine.words)], dtype=np.int64),
        "key": np.frombuffer(key.encode("ascii"), dtype=np.uint8),
        "words": np.frombuffer("\n".join(engine.words).encode("utf-8", "surrogatepass"), dtype=np.uint8),
        "title_starts": engine.title_postings.starts,
        "title_docs": engine.title_postings.docs,
        "title_counts": per_paper(engine.title_postings.docs, n),
        "abstract_starts": engine.abstract_postings.starts,
        "abstract_docs": engine.abstract_postings.docs,
        "abstract_counts": per_paper(engine.abstract_postings.docs, n),
        "ascii": engine.ascii_only,
        "sorted_ids": engine.sorted_ids,
    }
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as npz:  # what np.savez writes
        for name, dtype in ARRAYS.items():
            _write(npz, name, np.ascontiguousarray(arrays[name], dtype=dtype))
        _write(npz, CHECKSUM, np.frombuffer(checksum(npz), dtype=np.uint8))


def _write(npz: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with npz.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, array, allow_pickle=False)


def checksum(npz: zipfile.ZipFile) -> bytes:
    """blake2b of the name, size and CRC-32 of each array's member (ARRAYS, in that order).

    Reading a member checks its bytes against its CRC-32 (zipfile does, at its end), so an
    entry whose arrays are not exactly the ones ``save`` wrote (damaged, rewritten, mixed
    from other entries) fails either that check or this one, barring a CRC-32 collision,
    and verifying it costs no pass over the arrays besides the read itself.
    """
    h = hashlib.blake2b(digest_size=32, person=b"paper-reader-ix")
    for name in ARRAYS:
        info = npz.getinfo(f"{name}.npy")
        h.update(f"{name} {info.file_size} {info.CRC}\n".encode())
    return h.digest()


def load(file: str | os.PathLike[str] | IO[bytes], papers: list[Paper], key: str | None = None) -> SearchEngine:
    """An engine over ``papers`` from an index ``save`` wrote for exactly these papers.

    Raises IndexFileError when the file is not such an index: unreadable, truncated
    (the .npz members are CRC-checked), arrays that are not the ones ``save`` wrote
    (their checksum), another format version or key, or arrays of the wrong type,
    shape or range. It cannot tell papers with other text apart but by a sample of
    them: the caller keys the file by the papers' content (reader.index.cache).
    """

    def check(ok: bool, what: str) -> None:
        if not ok:
            raise IndexFileError(f"bad index: {what}")

    try:
        with zipfile.ZipFile(file) as npz:
            check(set(npz.namelist()) == {f"{name}.npy" for name in MEMBERS}, "arrays")
            data = {name: _read(npz, name) for name in MEMBERS}  # each member's CRC-32 is checked
            check(data[CHECKSUM].tobytes() == checksum(npz), "checksum")
    except IndexFileError:
        raise
    except Exception as err:  # zipfile, OSError, ValueError, EOFError...: all mean "unusable"
        raise IndexFileError(f"unreadable index: {err}") from err
    n = len(papers)
    for name, dtype in ARRAYS.items():
        check(data[name].dtype == dtype and data[name].ndim == 1, f"array {name}")
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
    check(size == int(meta[2]), "vocabulary")
    title, abstract, sorted_ids = check_tables(data, n, words, check)
    engine = SearchEngine.from_index(papers, words, title, abstract, data["ascii"], sorted_ids)
    check(all(a < b for a, b in zip(engine.sorted_words, engine.sorted_words[1:])), "alphabetical order")
    saved_counts = {which: data[f"{which}_counts"] for which in ("title", "abstract")}
    check(indexes_their_words(engine, SPOT_CHECKS, saved_counts), "the papers' words are not what was indexed")
    return engine


def check_tables(
    data: dict[str, np.ndarray],
    n: int,
    words: list[str],
    check: Callable[[bool, str], None],
    scan_docs: bool = True,
) -> tuple[Postings, Postings, np.ndarray]:
    """The title and abstract posting tables and the alphabetical order of ``words``, from
    saved arrays (``{title,abstract}_{starts,docs,counts}``, ``ascii``, ``sorted_ids``) over
    ``n`` papers, each checked for shape and range; ``check(ok, what)`` raises when not ok.
    ``scan_docs`` false: the paper numbers are not range-checked one by one (a pass over the
    biggest arrays, for a file known unchanged since it was checked whole)."""
    size = len(words)
    check(len(set(words)) == size and all(words), "vocabulary")
    tables = []
    for which in ("title", "abstract"):
        starts, docs, counts = data[f"{which}_starts"], data[f"{which}_docs"], data[f"{which}_counts"]
        check(len(starts) == size + 1 and int(starts[0]) == 0 and int(starts[-1]) == len(docs), f"{which} starts")
        check(bool(np.all(starts[1:] >= starts[:-1])), f"{which} starts order")
        if scan_docs:
            check(not len(docs) or (int(docs.min()) >= 0 and int(docs.max()) < n), f"{which} paper numbers")
        check(len(counts) == n and (not n or int(counts.min()) >= 0), f"{which} counts")
        check(int(counts.sum(dtype=np.int64)) == len(docs), f"{which} counts")
        tables.append(Postings(starts, docs))
    check(len(data["ascii"]) == n, "ascii flags")
    sorted_ids = data["sorted_ids"]
    check(len(sorted_ids) == size, "alphabetical order")
    if size:  # a permutation of the word ids
        check(int(sorted_ids.min()) >= 0 and int(sorted_ids.max()) < size, "alphabetical order")
        check(bool(np.all(np.bincount(sorted_ids, minlength=size) == 1)), "alphabetical order")
    return tables[0], tables[1], sorted_ids


def _read(npz: zipfile.ZipFile, name: str) -> np.ndarray:
    with npz.open(f"{name}.npy") as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def per_paper(docs: np.ndarray, n: int) -> np.ndarray:
    """How many postings each of ``n`` papers has (bincount by slices: no int64 copy of all of ``docs``)."""
    counts = np.zeros(n, dtype=np.int64)
    step = 1 << 20
    for start in range(0, len(docs), step):
        counts += np.bincount(docs[start : start + step], minlength=n)
    return counts.astype(np.int32)


def indexes_their_words(engine: SearchEngine, count: int, counts: dict[str, np.ndarray] | None = None) -> bool:
    """Whether the first, the last and ``count`` random papers have exactly their words indexed.

    A loaded index of other text (a stale or misplaced file) fails this unless the
    papers checked all happen to be unchanged. ``counts``: per table ("title",
    "abstract"), each paper's number of postings as saved (else counted here, a pass
    over every posting).
    """
    n = engine.n
    if not n:
        return True
    sample = {0, n - 1, *(random.randrange(n) for _ in range(count))}
    for which, postings in (("title", engine.title_postings), ("abstract", engine.abstract_postings)):
        indexed = counts[which] if counts is not None else per_paper(postings.docs, n)
        for i in sample:
            words = set(fold_words(getattr(engine.papers[i], which)))
            if len(words) != indexed[i]:
                return False
            wids = [engine.vocab.get(word) for word in words]
            if None in wids or not all_hold(postings, np.array(wids, dtype=np.int64), i):
                return False
    return True


def all_hold(postings: Postings, wids: np.ndarray, paper: int) -> bool:
    """Whether the posting list of every word in ``wids`` holds ``paper``: one binary search
    over all the (sorted) lists at once, so a paper's words cost a few numpy calls, not one each."""
    docs = postings.docs
    lo, end = postings.starts[wids], postings.starts[wids + 1]
    hi = end.copy()
    while True:  # lo becomes the first place in [lo, end) whose paper number is >= paper
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        right = active & (docs[np.minimum(mid, len(docs) - 1)] < paper)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
    found = lo < end
    return bool(found.all() and np.all(docs[lo[found]] == paper))
