"""Posting lists: for each word id, the sorted numbers of the papers holding it (one CSR table)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

import numpy as np

from reader.index.tokenizer import Parts

DENSE_SHARE = 32  # a word in at least 1/DENSE_SHARE of the papers also gets a bitmap
DENSE_MIN = 2048  # ... and in at least this many papers (small libraries scatter fast enough)


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

    def bitmaps(self, n: int) -> dict[int, np.ndarray]:
        """Packed bitmaps (``np.packbits`` over the ``n`` papers) of the words in at least
        ``1/DENSE_SHARE`` of them and ``DENSE_MIN`` papers.

        A common word's posting list is long: scattering it costs several ns per paper,
        while OR-ing bitmaps costs a fraction of a ns per paper, whatever their number.
        A word in 1/32 of the papers takes as many bytes as a bitmap as its int32 list.
        """
        threshold = max(n // DENSE_SHARE, DENSE_MIN, 1)
        dense = np.flatnonzero(self.lengths() >= threshold).tolist()
        out: dict[int, np.ndarray] = {}
        for wid in dense:
            bits = np.zeros(n, dtype=bool)
            bits[self[wid].astype(np.intp)] = True  # numpy scatters int32 indexes 3x slower
            out[wid] = np.packbits(bits)
        return out


PARALLEL_ABOVE = 4_000_000  # postings laid out by two threads from this many on (numpy lets go of the GIL)


def merge_postings(parts: Parts, size: int) -> Postings:
    """Lay per-chunk (words, counts, papers) out in one CSR posting table, chunk after chunk.

    Where each chunk's lists start is worked out in order (cheap); scattering its papers there
    (most of the time, half a second per 50M postings) is shared by two threads for a big table.
    """
    counts = np.zeros(size, dtype=np.int64)
    for words, c, _ in parts:
        counts[words] += c
    starts = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    docs = np.empty(int(starts[-1]), dtype=np.int32)
    cursor = starts[:-1].copy()

    def scatter(where: np.ndarray, c: np.ndarray, chunk_docs: np.ndarray) -> None:
        first = np.cumsum(c, dtype=np.int64) - c
        docs[np.repeat(where - first, c) + np.arange(len(chunk_docs))] = chunk_docs

    if len(docs) < PARALLEL_ABOVE:
        for k, (words, c, chunk_docs) in enumerate(parts):
            scatter(cursor[words], c, chunk_docs)
            cursor[words] += c
            parts[k] = None  # type: ignore[call-overload]  # free as we go
        return Postings(starts, docs)
    work: queue.Queue[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def worker() -> None:
        while (item := work.get()) is not None:
            try:
                if not failed:
                    scatter(*item)
            except BaseException as err:  # raised again by the caller's thread
                failed.append(err)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for k, (words, c, chunk_docs) in enumerate(parts):
            work.put((cursor[words], c, chunk_docs))
            cursor[words] += c
            parts[k] = None  # type: ignore[call-overload]  # free as we go
    finally:
        for _ in threads:
            work.put(None)
        for thread in threads:
            thread.join()
    if failed:
        raise failed[0]
    return Postings(starts, docs)
