"""One index from the indexes of several segments: a vocabulary union and posting lists with new paper numbers.

Opening several digest files combines their papers (reader.digest: the same paper in two
files is one paper, its first place and longest abstract kept) and their indexes here:
each segment's paper numbers are mapped to the combined ones, the postings of the copies
that lost (a later copy of a title, a shorter abstract) are left out, and the lists are
laid out again by word. The result holds exactly the (word, paper) pairs an index built
over the combined papers holds (word ids may differ, which the engine never shows: its
orders are alphabetical), and costs a few passes of numpy over the postings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reader.index.postings import Postings, merge_postings
from reader.index.segment import RawIndex, alphabetical
from reader.index.tokenizer import ascii_flags
from reader.paper import Paper


@dataclass
class Part:
    """A segment's index and where its papers went: ``papers[k]`` is the combined number of its
    paper k; ``title[k]``/``abstract[k]``: whether that copy's title/abstract is the combined paper's."""

    index: RawIndex
    papers: np.ndarray
    title: np.ndarray
    abstract: np.ndarray


def merge(parts: list[Part], n: int, ascii_flags: np.ndarray) -> RawIndex:
    """The index of the ``n`` combined papers (``ascii_flags``: theirs, per paper).

    The biggest part goes first (its word ids stay); when it is whole (no copy of it left
    out) and its papers keep their order, the others' postings are inserted into its lists
    (one pass over its postings) rather than every list being laid out again.
    """
    parts = sorted(parts, key=lambda part: -len(part.papers))
    words: list[str] = []
    vocab: dict[str, int] = {}
    maps = []
    hint: list[int] = []
    for part in parts:
        before = len(words)
        if not words:
            words = list(part.index.words)
            vocab = dict(zip(words, range(len(words))))
            wmap = np.arange(len(words), dtype=np.int64)
        else:
            ids = []
            for word in part.index.words:
                wid = vocab.get(word)
                if wid is None:
                    wid = vocab[word] = len(words)
                    words.append(word)
                ids.append(wid)
            wmap = np.array(ids, dtype=np.int64)
        maps.append(wmap)
        ordered = wmap[part.index.sorted_ids]
        hint.extend(ordered[ordered >= before].tolist())  # the words new here, alphabetically: one run
    size = len(words)
    tables = []
    whole = len(parts) > 1 and _in_place(parts[0])
    for which in ("title", "abstract"):
        if whole:  # the biggest part's lists stay as they are: only the others' postings are laid out
            pieces = [
                _piece(getattr(p.index, which), wmap, p.papers, getattr(p, which))
                for p, wmap in zip(parts[1:], maps[1:])
            ]
            tables.append(
                _insert(getattr(parts[0].index, which), int(parts[0].papers[0]), len(parts[0].papers), pieces, size)
            )
            continue
        pieces = [_piece(getattr(p.index, which), wmap, p.papers, getattr(p, which)) for p, wmap in zip(parts, maps)]
        in_order = sorted(range(len(parts)), key=lambda k: int(parts[k].papers.min()) if len(parts[k].papers) else 0)
        postings = merge_postings([pieces[k] for k in in_order], size)  # lists laid out in paper order
        _sort_lists(postings, n)
        tables.append(postings)
    title, abstract = tables
    totals = title.lengths() + abstract.lengths()
    if size and not totals.all():  # words only the left-out copies had
        kept = np.flatnonzero(totals)
        new_id = np.full(size, -1, dtype=np.int64)
        new_id[kept] = np.arange(len(kept))
        title = _compact(title, kept)
        abstract = _compact(abstract, kept)
        words = [words[i] for i in kept.tolist()]
        hint = [w for w in new_id[hint].tolist() if w >= 0]
    return RawIndex(words, title, abstract, ascii_flags, alphabetical(words, hint))


def _in_place(part: Part) -> bool:
    """Whether a part's papers are all kept and keep their order, as one run: paper k at start + k."""
    papers = part.papers
    return (
        len(papers) > 0
        and bool(part.title.all() and part.abstract.all())
        and int(papers[-1]) - int(papers[0]) == len(papers) - 1
        and bool(np.all(papers[1:] > papers[:-1]))
    )


def _insert(
    base: Postings, shift: int, count: int, pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]], size: int
) -> Postings:
    """``base``'s lists (its papers numbered from ``shift``) with the pieces' postings inserted in order."""
    words = np.concatenate([np.repeat(w, c) for w, c, _d in pieces]) if pieces else np.zeros(0, dtype=np.int64)
    docs = np.concatenate([d for _w, _c, d in pieces]).astype(np.int32) if pieces else np.zeros(0, dtype=np.int32)
    known = len(base)
    starts = np.concatenate([base.starts, np.full(size - known, base.starts[-1], dtype=np.int64)])
    lo, hi = starts[words], starts[words + 1]
    where = np.where(docs < shift, lo, hi)
    inside = np.flatnonzero((docs >= shift) & (docs < shift + count))  # a copy's abstract that won: rare
    for k in inside.tolist():
        where[k] = lo[k] + int(np.searchsorted(base.docs[lo[k] : hi[k]], docs[k] - shift))
    order = np.lexsort((docs, words, where))
    base_docs = base.docs + np.int32(shift) if shift else base.docs
    merged = np.insert(base_docs, where[order], docs[order])
    lengths = np.zeros(size, dtype=np.int64)
    lengths[:known] = base.lengths()
    lengths += np.bincount(words, minlength=size)
    out = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return Postings(out, merged)


def _piece(
    postings: Postings, wmap: np.ndarray, papers: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A segment's postings as (combined word ids, counts, combined paper numbers), kept copies only."""
    lengths = postings.lengths()
    docs = postings.docs
    if keep.all():
        local = np.flatnonzero(lengths)
        return wmap[local], lengths[local], papers[docs].astype(np.int32)
    kept = keep[docs]
    word_of = np.repeat(np.arange(len(lengths)), lengths)
    counts = np.bincount(word_of[kept], minlength=len(lengths))
    local = np.flatnonzero(counts)
    return wmap[local], counts[local], papers[docs[kept]].astype(np.int32)


def _sort_lists(postings: Postings, n: int) -> None:
    """Sort, in place, the posting lists not in order (those holding a copy's abstract that won over an earlier one)."""
    docs, starts = postings.docs, postings.starts
    if len(docs) < 2:
        return
    down = np.flatnonzero(docs[1:] < docs[:-1]) + 1
    starts_here = np.zeros(len(docs) + 1, dtype=bool)
    starts_here[starts] = True
    down = down[~starts_here[down]]  # a list starting below where the one before ended is in order
    if not len(down):
        return
    wids = np.unique(np.searchsorted(starts, down, side="right") - 1)
    lo, hi = starts[wids], starts[wids + 1]
    lengths = hi - lo
    total = int(lengths.sum())
    pos = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
    key = np.repeat(np.arange(len(wids), dtype=np.int64), lengths) * max(n, 1) + docs[pos]
    key.sort()
    docs[pos] = (key % max(n, 1)).astype(docs.dtype)


def _compact(postings: Postings, kept: np.ndarray) -> Postings:
    lengths = postings.lengths()[kept]
    starts = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    return Postings(starts, postings.docs)


def combine_snapshots(
    raw: RawIndex, papers: list[Paper], file_count: int
) -> tuple[list[str], Postings, Postings, np.ndarray, np.ndarray]:
    """What SearchEngine.from_index takes for ``papers``: the digests' first ``file_count``, indexed in
    ``raw``, and papers after them (the store's snapshots) indexed here and merged in."""
    if len(papers) == file_count:
        return raw.words, raw.title, raw.abstract, raw.ascii, raw.sorted_ids
    extra = papers[file_count:]
    everyone = np.ones(file_count, dtype=bool)
    more = np.ones(len(extra), dtype=bool)
    parts = [
        Part(raw, np.arange(file_count, dtype=np.int64), everyone, everyone),
        Part(RawIndex.build(extra), np.arange(file_count, len(papers), dtype=np.int64), more, more),
    ]
    merged = merge(parts, len(papers), np.concatenate([raw.ascii, ascii_flags(extra)]))
    return merged.words, merged.title, merged.abstract, merged.ascii, merged.sorted_ids


def split(index: RawIndex, bounds: list[int]) -> list[RawIndex]:
    """The index of papers ``bounds[k]:bounds[k + 1]`` of an index, for each k (numbered from 0 each).

    Tokenizing many small files together costs much less than one by one: the whole is
    indexed once, then cut apart here (the postings grouped by part with a radix sort).
    """
    cuts = np.array(bounds, dtype=np.int64)
    parts = len(bounds) - 1
    size = len(index.words)
    rank = np.empty(size, dtype=np.int64)
    rank[index.sorted_ids] = np.arange(size)
    part_of_paper = np.repeat(np.arange(parts, dtype=np.int32 if parts > 32767 else np.int16), np.diff(cuts))
    grouped = []
    for postings in (index.title, index.abstract):
        lengths = postings.lengths()
        word_of = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        part_of = part_of_paper[postings.docs]
        order = np.argsort(part_of, kind="stable")  # a radix sort: by part, each still by word then paper
        at = np.searchsorted(part_of[order], np.arange(parts + 1), side="left")
        grouped.append((word_of[order], postings.docs[order], at))
    out = []
    seen = np.zeros(size, dtype=bool)
    for k in range(parts):
        first = int(cuts[k])
        slices = [(w[at[k] : at[k + 1]], d[at[k] : at[k + 1]] - first) for w, d, at in grouped]
        for w, _d in slices:
            seen[w] = True
        local = np.flatnonzero(seen)  # the part's words (ids of the whole), in order
        seen[local] = False
        tables = []
        for w, d in slices:
            counts = np.bincount(np.searchsorted(local, w), minlength=len(local))
            starts = np.zeros(len(local) + 1, dtype=np.int64)
            np.cumsum(counts, out=starts[1:])
            tables.append(Postings(starts, d.astype(np.int32)))
        words = [index.words[i] for i in local.tolist()]
        ascii_part = index.ascii[first : int(cuts[k + 1])]
        out.append(RawIndex(words, tables[0], tables[1], ascii_part, np.argsort(rank[local], kind="stable")))
    return out
