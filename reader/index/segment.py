"""A segment: what one digest file (or a run of them) parses to, with its index, as one checked file.

A segment holds a run of digest files' papers (id, title, abstract, meta, file order, the
other files a paper also appeared in), each file's warnings, and the search index of those
papers (``RawIndex``: the vocabulary and the two posting tables). Reopening a file whose
segment is cached skips both the parse and the indexing (reader.index.segments keeps them;
reader.index.merge combines several into one index).

On disk it is an uncompressed .npz of plain arrays (no pickles) like reader.index.storage's
entries, each member aligned so that ``load`` maps the file and reads arrays in place (no
copy, and the pages of abstracts no one reads are never read), with a checksum over every
member's name, size and CRC-32. ``load`` checks the checksum, every member's CRC, format,
key, counts, ranges and the words of a sample of papers; anything wrong raises SegmentError
and the caller rebuilds. The bulk members (abstracts and long posting lists: most of the
bytes, read only in part) skip their CRC and full range scans when the file is *sealed*:
its size, times, inode and device are still those recorded when it was written or last
checked whole (reader.index.segments keeps the seal), so nothing has written to it since.
"""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import random
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter
from typing import IO, Any

import numpy as np
import orjson

from reader.index.postings import Postings, merge_postings
from reader.index.storage import TABLES, all_hold, check_tables, per_paper
from reader.index.tokenizer import ascii_flags, fold_words, tokenize_all
from reader.paper import Paper, PaperMeta

# Version of the segment layout and of what goes into it: bump it when either changes
# (reader.index.segments keys entries by it, with storage.INDEX_FORMAT).
SEGMENT_FORMAT = 5
SPOT_CHECKS = 16
KEY_LENGTH = 40  # hex digits of a key
ARRAYS: dict[str, type[np.generic]] = {
    "meta": np.int64,  # format, papers, words, files, whether titles split at _SEP, 0
    "key": np.uint8,
    "file_keys": np.uint8,
    "files": np.uint8,  # the paths the files had when the segment was built (JSON), for warnings
    "ids": np.uint8,
    "titles": np.uint8,
    "title_bytes": np.int64,  # each title's length in bytes (UTF-8): read one by one, when first asked for
    "abstracts": np.uint8,
    "abstract_bytes": np.int64,  # each abstract's length in bytes (UTF-8): read one by one, when first asked for
    "paper_file": np.int32,
    "also_in": np.int32,  # pairs: paper, file
    "metas": np.uint8,  # JSON: [[paper, {field: value}], ...]
    "warnings": np.uint8,  # JSON: one list per file
    **TABLES,  # the index, as an index cache entry holds it
}
CHECKSUM = "checksum"
MEMBERS = frozenset({*ARRAYS, CHECKSUM})
# The members a search reads only in part (most of a segment's bytes): their CRCs are checked
# when the segment file is not sealed, i.e. not exactly as this module wrote it (see ``load``).
BULK = frozenset({"titles", "abstracts", "abstract_docs", "title_docs"})
ALIGN = 64  # each member's bytes start at a multiple of this in the file: arrays map aligned
MAP_ABOVE = 16 * 1024**2  # a segment file this big or bigger is mapped; a smaller one is read
_PAD_FIELD = 0x7061  # the zip extra field that pads a member's local header to ALIGN


class SegmentError(ValueError):
    """A segment file that cannot be used (see ``load``)."""


class LoadCancelled(Exception):
    """The load was stopped (the app is quitting): not a fault of the segment."""


@dataclass
class RawIndex:
    """The index of a list of papers, as arrays: what SearchEngine.from_index takes (and the papers)."""

    words: list[str]
    title: Postings
    abstract: Postings
    ascii: np.ndarray  # per paper: title and abstract are ASCII
    sorted_ids: np.ndarray  # word ids in alphabetical order of the words

    @classmethod
    def build(cls, papers: list[Paper]) -> RawIndex:
        """Index ``papers`` (what ``SearchEngine(papers)`` builds, without what it derives for searching)."""
        title_parts, abstract_parts, words = tokenize_all(papers)
        size = len(words)
        title = merge_postings(title_parts, size)
        abstract = merge_postings(abstract_parts, size)
        return cls(words, title, abstract, ascii_flags(papers), alphabetical(words))

    @classmethod
    def of(cls, engine: Any) -> RawIndex:
        """The index a reader.index.engine.SearchEngine holds."""
        return cls(engine.words, engine.title_postings, engine.abstract_postings, engine.ascii_only, engine.sorted_ids)


def alphabetical(words: list[str], hint: list[int] | None = None) -> np.ndarray:
    """Word ids in alphabetical order of the words; ``hint``: the ids in an almost sorted order (runs sort fast)."""
    ids = hint if hint is not None else range(len(words))
    return np.array(sorted(ids, key=words.__getitem__), dtype=np.int64)


@dataclass
class Segment:
    """A run of digest files, parsed and indexed: papers in file order, each paper once."""

    key: str
    file_keys: list[str]
    files: list[str]  # where the files are (saved: where they were, which their warnings name)
    papers: list[Paper]
    paper_file: np.ndarray  # per paper: which of the files it is from (its first)
    also_in: list[tuple[int, int]]  # (paper, file): the other files a paper also appeared in
    warnings: list[list[str]]  # per file
    index: RawIndex | None  # None: not built yet
    seal: str = ""  # loaded from a file checked whole: its stat_text, to be kept as its seal ("" none new)


_SEP = "\x1f"  # joins texts on disk (their byte sizes cut them apart: a text may hold it)
_SEP_BYTE = 0x1F
_WRITE_CHUNK = 8192  # texts encoded and written at a time


class Texts:
    """A segment's titles or abstracts as UTF-8 bytes, each decoded when first asked for (see
    StoredPaper): reopening a big digest does not wait for texts no screen and no search has read yet."""

    __slots__ = ("blob", "starts", "ends", "edited")

    def __init__(self, blob: memoryview, starts: np.ndarray, ends: np.ndarray) -> None:
        self.blob, self.starts, self.ends = blob, starts, ends
        self.edited: set[int] = set()  # the texts a paper was given since (its bytes here are not its text)

    @classmethod
    def check(cls, blob: np.ndarray, sizes: np.ndarray, whole: bool = True) -> Texts | None:
        """The texts of a blob joined by _SEP, cut by their byte ``sizes``; None if they do not fit it
        (``whole`` false: their separators are not looked at, which would read every page of the blob)."""
        n = len(sizes)
        if n and int(sizes.min()) < 0:
            return None
        ends = np.cumsum(sizes + 1) - 1  # each ends where its separator (or the blob) begins
        starts = ends - sizes
        if (int(ends[-1]) if n else 0) != len(blob):
            return None
        if whole and n > 1 and not bool(np.all(blob[ends[:-1]] == _SEP_BYTE)):
            return None
        return cls(blob.data, starts, ends)  # no copy of the bytes

    def raw(self, k: int) -> memoryview:
        return self.blob[self.starts[k] : self.ends[k]]

    def size(self, k: int) -> int:
        return int(self.ends[k] - self.starts[k])

    def text(self, k: int) -> str:
        raw = self.raw(k)
        try:
            return str(raw, "utf-8", "surrogatepass")
        except UnicodeDecodeError:  # cannot be in a segment this module wrote (its CRCs held)
            return str(raw, "utf-8", "replace")


@dataclass(frozen=True, slots=True)
class StoredTexts:
    """Where a segment's papers' texts are (one for all its papers)."""

    titles: Texts
    abstracts: Texts


_SLOTS = {"title": Paper.__dict__["title"], "abstract": Paper.__dict__["abstract"]}  # the slots under them


def _lazy(which: str) -> property:
    """A text read from the paper's segment when first asked for, then kept in the slot."""
    slot = _SLOTS[which]
    where = f"{which}s"  # the StoredTexts field

    def get(paper: StoredPaper) -> str:
        try:
            read: str = slot.__get__(paper, Paper)
            return read
        except AttributeError:  # not read yet
            texts: Texts = getattr(paper.stored, where)
            text = texts.text(paper.stored_number)
            slot.__set__(paper, text)
            return text

    def put(paper: StoredPaper, text: str) -> None:
        slot.__set__(paper, text)
        try:
            texts: Texts = getattr(paper.stored, where)
        except AttributeError:  # a copy made by dataclasses.replace: its texts are its own
            return
        texts.edited.add(paper.stored_number)

    return property(get, put)


class StoredPaper(Paper):
    """A paper read from a segment: a Paper in every way, its title and abstract decoded when first read."""

    __slots__ = ("stored", "stored_number")
    stored: StoredTexts
    stored_number: int

    title = _lazy("title")
    abstract = _lazy("abstract")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Paper):
            return NotImplemented
        fields = ("id", "title", "abstract", "source", "order", "from_store", "meta")
        return all(getattr(self, f) == getattr(other, f) for f in fields)

    __hash__ = None  # type: ignore[assignment]  # as Paper's


def _unread(paper: Paper, which: str) -> Texts | None:
    """Where a stored paper's text still is, when it was never read (None: it is in the paper)."""
    if isinstance(paper, StoredPaper):
        try:
            _SLOTS[which].__get__(paper, Paper)
        except AttributeError:
            texts: Texts = getattr(paper.stored, f"{which}s")
            return texts
    return None


def _text_bytes(paper: Paper, which: str) -> bytes:
    """A paper's title or abstract as UTF-8: straight from its segment's bytes when it was never read."""
    texts = _unread(paper, which)
    if texts is not None:
        return bytes(texts.raw(paper.stored_number))  # type: ignore[attr-defined]
    text: str = getattr(paper, which)
    return text.encode("utf-8", "surrogatepass")


def _text_size(paper: Paper, which: str) -> int:
    """The length of ``_text_bytes(paper, which)``, without encoding ASCII text (its length is its size)."""
    texts = _unread(paper, which)
    if texts is not None:
        return texts.size(paper.stored_number)  # type: ignore[attr-defined]
    text: str = getattr(paper, which)
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def stored_papers(ids: list[str], sources: Iterable[str], texts: StoredTexts) -> list[Paper]:
    """Papers in file order whose titles and abstracts stay in ``texts`` until read."""
    papers: list[Paper] = []
    append = papers.append
    new = StoredPaper.__new__
    for k, (pid, source) in enumerate(zip(ids, sources)):
        paper = new(StoredPaper)
        paper.id = pid
        paper.source = source
        paper.order = k
        paper.from_store = False
        paper.meta = None
        paper.stored = texts
        paper.stored_number = k
        append(paper)
    return papers


def _json(value: Any) -> np.ndarray:
    return np.frombuffer(orjson.dumps(value), dtype=np.uint8)


def _meta_json(meta: PaperMeta) -> dict[str, Any]:
    return {
        "arxiv_id": meta.arxiv_id,
        "authors": list(meta.authors),
        "published": meta.published,
        "submitted": meta.submitted,
        "upvotes": meta.upvotes,
        "github_repo": meta.github_repo,
        "project_page": meta.project_page,
        "keywords": list(meta.keywords),
    }


def _meta(data: Any) -> PaperMeta:
    if not isinstance(data, dict):
        raise SegmentError("bad segment: meta")
    try:
        return PaperMeta(
            arxiv_id=str(data["arxiv_id"]),
            authors=tuple(str(a) for a in data["authors"]),
            published=str(data["published"]),
            submitted=str(data["submitted"]),
            upvotes=None if data["upvotes"] is None else int(data["upvotes"]),
            github_repo=str(data["github_repo"]),
            project_page=str(data["project_page"]),
            keywords=tuple(str(k) for k in data["keywords"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise SegmentError(f"bad segment: meta: {err}") from None


def save(segment: Segment, file: str | os.PathLike[str] | IO[bytes], stop: Callable[[], bool] | None = None) -> None:
    """Write the segment as an uncompressed .npz of plain arrays, its checksum last."""
    papers, index = segment.papers, segment.index
    if index is None:
        raise ValueError("a segment is saved once indexed")
    n = len(papers)
    # The texts, the bulk of a segment, are written a chunk at a time (see _write_texts): here
    # only their sizes, so no second copy of them all is ever held.
    plain = not any(isinstance(p, StoredPaper) for p in papers)  # all in memory: texts taken in bulk
    title_bytes = _sizes(papers, "title", plain)
    abstract_bytes = _sizes(papers, "abstract", plain)
    arrays: dict[str, np.ndarray] = {
        "meta": np.array([SEGMENT_FORMAT, n, len(index.words), len(segment.file_keys), 0, 0], dtype=np.int64),
        "key": np.frombuffer(segment.key.encode("ascii"), dtype=np.uint8),
        "file_keys": np.frombuffer("".join(segment.file_keys).encode("ascii"), dtype=np.uint8),
        "files": _json(segment.files),
        "ids": np.frombuffer("\n".join(p.id for p in papers).encode("ascii"), dtype=np.uint8),
        "titles": np.zeros(0, dtype=np.uint8),  # written by _write_texts
        "title_bytes": title_bytes,
        "abstracts": np.zeros(0, dtype=np.uint8),  # written by _write_texts
        "abstract_bytes": abstract_bytes,
        "paper_file": segment.paper_file,
        "also_in": np.array(segment.also_in, dtype=np.int32).reshape(-1),
        "metas": _json([[k, _meta_json(p.meta)] for k, p in enumerate(papers) if p.meta is not None]),
        "warnings": _json(segment.warnings),
        "words": np.frombuffer("\n".join(index.words).encode("utf-8", "surrogatepass"), dtype=np.uint8),
        "title_starts": index.title.starts,
        "title_docs": index.title.docs,
        "title_counts": per_paper(index.title.docs, n),
        "abstract_starts": index.abstract.starts,
        "abstract_docs": index.abstract.docs,
        "abstract_counts": per_paper(index.abstract.docs, n),
        "ascii": index.ascii,
        "sorted_ids": index.sorted_ids,
    }
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as npz:
        for name, dtype in ARRAYS.items():
            if stop is not None and stop():
                raise LoadCancelled  # the app is quitting: the caller drops the half-written file
            with npz.open(_aligned_member(npz, name), "w", force_zip64=True) as member:
                if name in ("titles", "abstracts"):
                    sizes = title_bytes if name == "titles" else abstract_bytes
                    _write_texts(member, papers, name[:-1], int(sizes.sum()) + max(n - 1, 0), plain)
                    continue
                np.lib.format.write_array(member, np.ascontiguousarray(arrays[name], dtype=dtype), allow_pickle=False)
        with npz.open(_aligned_member(npz, CHECKSUM), "w", force_zip64=True) as member:
            np.lib.format.write_array(member, np.frombuffer(checksum(npz), dtype=np.uint8), allow_pickle=False)


_LOCAL_HEADER = 30  # bytes of a zip local file header before its name and extra field
_ZIP64_EXTRA = 20  # the zip64 sizes zipfile adds to the extra field (force_zip64)


def _aligned_member(npz: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """A member whose bytes will start at a multiple of ALIGN in the file (an .npy header is a
    multiple of 64 bytes long, so the array after it is aligned too): its extra field pads it."""
    info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    assert npz.fp is not None
    start = npz.fp.tell() + _LOCAL_HEADER + len(info.filename.encode("ascii")) + 4 + _ZIP64_EXTRA
    pad = -start % ALIGN
    info.extra = struct.pack("<HH", _PAD_FIELD, pad) + bytes(pad)
    return info


def _runs(papers: list[Paper], which: str) -> list[tuple[int, int, Texts | None, int]]:
    """The papers cut into runs ``(i, j, texts, a)``: ``papers[i:j]`` hold, as they are, the texts
    numbered ``a`` on in ``texts`` (their bytes there, joined by _SEP, are what is written), or
    ``texts`` None: papers taken one by one. A merged run of segments is mostly a few such runs."""
    runs: list[tuple[int, int, Texts | None, int]] = []
    where = f"{which}s"
    for k, paper in enumerate(papers):
        texts: Texts | None = None
        number = -1
        if isinstance(paper, StoredPaper):
            try:
                texts = getattr(paper.stored, where)
                number = paper.stored_number
            except AttributeError:  # a copy made by dataclasses.replace: its texts are its own
                texts = None
            if texts is not None and number in texts.edited:
                texts = None
        if runs:
            i, _j, last, a = runs[-1]
            if (texts is None and last is None) or (texts is not None and last is texts and number == a + k - i):
                runs[-1] = (i, k + 1, last, a)
                continue
        runs.append((k, k + 1, texts, number))
    return runs


def _sizes(papers: list[Paper], which: str, plain: bool) -> np.ndarray:
    """Each paper's title or abstract size in UTF-8 bytes (``plain``: no StoredPaper among them, so
    the texts are read in bulk: their lengths, and the few that are not ASCII encoded)."""
    n = len(papers)
    if not plain:
        sizes = np.empty(n, dtype=np.int64)
        for i, j, run, a in _runs(papers, which):
            if run is None:
                sizes[i:j] = np.fromiter((_text_size(p, which) for p in papers[i:j]), dtype=np.int64, count=j - i)
            else:
                sizes[i:j] = run.ends[a : a + j - i] - run.starts[a : a + j - i]
        return sizes
    texts = list(map(attrgetter(which), papers))
    sizes = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    for k in np.flatnonzero(~np.fromiter(map(str.isascii, texts), dtype=bool, count=n)).tolist():
        sizes[k] = len(texts[k].encode("utf-8", "surrogatepass"))
    return sizes


def _write_texts(member: IO[bytes], papers: list[Paper], which: str, total: int, plain: bool) -> None:
    """The papers' titles or abstracts as one uint8 .npy array of ``total`` bytes, joined by _SEP,
    encoded a chunk at a time (``plain``: see ``_sizes``; a chunk is then joined, then encoded)."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros(0, dtype=np.uint8))
    header["shape"] = (total,)
    np.lib.format.write_array_header_2_0(member, header)
    sep = _SEP.encode()
    text_of = attrgetter(which)
    runs: list[tuple[int, int, Texts | None, int]] = [(0, len(papers), None, 0)] if plain else _runs(papers, which)
    for i, j, texts, a in runs:
        if i:
            member.write(sep)
        if texts is not None:  # as they are in their segment, separators and all: no decoding
            member.write(texts.blob[int(texts.starts[a]) : int(texts.ends[a + j - i - 1])])
            continue
        for start in range(i, j, _WRITE_CHUNK):
            some = papers[start : min(j, start + _WRITE_CHUNK)]
            if plain:
                chunk = _SEP.join(map(text_of, some)).encode("utf-8", "surrogatepass")
            else:
                chunk = sep.join(_text_bytes(p, which) for p in some)
            member.write(sep + chunk if start > i else chunk)


def checksum(npz: zipfile.ZipFile) -> bytes:
    """blake2b of each array member's name, size and CRC-32 (see reader.index.storage.checksum)."""
    h = hashlib.blake2b(digest_size=32, person=b"paper-reader-sg")
    for name in ARRAYS:
        info = npz.getinfo(f"{name}.npy")
        h.update(f"{name} {info.file_size} {info.CRC}\n".encode())
    return h.digest()


def is_segment(file: str | os.PathLike[str]) -> bool:
    """Whether a file holds a segment's members (not whether they are sound)."""
    try:
        with zipfile.ZipFile(file) as npz:
            return {name.removesuffix(".npy") for name in npz.namelist()} == MEMBERS
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def stat_text(st: os.stat_result) -> str:
    """What seals a segment file: its size, modification and change times, inode and device."""
    return f"{st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino} {st.st_dev}"


def load(
    file: str | os.PathLike[str] | IO[bytes],
    key: str,
    paths: list[str],
    stop: Callable[[], bool] | None = None,
    seal: str | None = None,
) -> Segment:
    """The segment ``save`` wrote under ``key``; its papers' sources are ``paths`` (one per file,
    where the files are now). Raises SegmentError when the file is not exactly such a segment.

    A file named by its path is mapped, not read: its arrays are views of the file's pages.
    ``seal``: the file's ``stat_text`` when it was written or last checked whole; when the file
    still has it, the bulk members' CRCs are not computed (``Segment.sealed`` says what to keep:
    the file's ``stat_text`` once it was checked whole, else "").
    """

    def check(ok: bool, what: str) -> None:
        if not ok:
            raise SegmentError(f"bad segment: {what}")

    sealed = False
    try:
        if isinstance(file, (str, os.PathLike)):
            data, now = _mapped(file, stop, check, seal)
            sealed = now == seal
            new_seal = "" if sealed else now
        else:
            with zipfile.ZipFile(file) as npz:
                check(set(npz.namelist()) == {f"{name}.npy" for name in MEMBERS}, "arrays")
                data = {}
                for name in MEMBERS:  # each member's CRC-32 is checked as it is read
                    if stop is not None and stop():
                        raise LoadCancelled
                    data[name] = _read(npz, name)
                check(data[CHECKSUM].tobytes() == checksum(npz), "checksum")
            new_seal = ""
    except (SegmentError, LoadCancelled):
        raise
    except Exception as err:  # zipfile, OSError, ValueError, EOFError...: all mean "unusable"
        raise SegmentError(f"unreadable segment: {err}") from err
    for name, dtype in ARRAYS.items():
        check(data[name].dtype == dtype and data[name].ndim == 1, f"array {name}")
    meta = data["meta"]
    check(len(meta) == 6 and int(meta[0]) == SEGMENT_FORMAT, "format version")
    n, size, file_count = int(meta[1]), int(meta[2]), int(meta[3])
    check(data["key"].tobytes() == key.encode("ascii"), "key")
    check(file_count == len(paths) and file_count >= 1, "file count")
    try:
        file_keys_text = data["file_keys"].tobytes().decode("ascii")
        ids = str(data["ids"].data, "ascii").split("\n") if n else []
        files = orjson.loads(data["files"].tobytes())
        metas = orjson.loads(data["metas"].tobytes())
        warnings = orjson.loads(data["warnings"].tobytes())
        words = str(data["words"].data, "utf-8", "surrogatepass").split("\n") if size else []
    except (UnicodeDecodeError, orjson.JSONDecodeError) as err:
        raise SegmentError(f"bad segment: {err}") from None
    check(len(file_keys_text) == KEY_LENGTH * file_count, "file keys")
    file_keys = [file_keys_text[k : k + KEY_LENGTH] for k in range(0, len(file_keys_text), KEY_LENGTH)]
    check(isinstance(files, list) and len(files) == file_count and all(isinstance(f, str) for f in files), "files")
    check(
        isinstance(warnings, list)
        and len(warnings) == file_count
        and all(isinstance(w, list) and all(isinstance(m, str) for m in w) for w in warnings),
        "warnings",
    )
    check(len(ids) == n and all(ids), "ids")
    check(len(data["title_bytes"]) == n and len(data["abstract_bytes"]) == n, "text lengths")
    titles = Texts.check(data["titles"], data["title_bytes"], whole=not sealed)
    abstracts = Texts.check(data["abstracts"], data["abstract_bytes"], whole=not sealed)
    if titles is None or abstracts is None:
        raise SegmentError("bad segment: texts")
    paper_file = data["paper_file"]
    check(
        len(paper_file) == n and (not n or (int(paper_file.min()) >= 0 and int(paper_file.max()) < file_count)),
        "files of papers",
    )
    also = data["also_in"]
    check(len(also) % 2 == 0, "also in")
    also_in = list(zip(also[0::2].tolist(), also[1::2].tolist()))
    check(all(0 <= p < n and 0 <= f < file_count for p, f in also_in), "also in")
    check(isinstance(metas, list), "metas")
    sources = list(paths)
    where = repeat(sources[0], n) if file_count == 1 else map(sources.__getitem__, paper_file.tolist())
    papers: list[Paper] = stored_papers(ids, where, StoredTexts(titles, abstracts))
    for item in metas:
        check(isinstance(item, list) and len(item) == 2 and isinstance(item[0], int) and 0 <= item[0] < n, "metas")
        papers[item[0]].meta = _meta(item[1])
    index = _check_index(data, n, words, size, check, whole=not sealed)
    check(
        spot_check(papers, index, SPOT_CHECKS, data["title_counts"], data["abstract_counts"]),
        "the papers' words are not what was indexed",
    )
    # The warnings name the files where they were when the segment was built: name them where they are now.
    warnings = [
        [
            paths[k] + message[len(files[k]) :] if message.startswith(files[k] + ":") else message
            for message in file_warnings
        ]
        for k, file_warnings in enumerate(warnings)
    ]
    return Segment(key, file_keys, list(paths), papers, paper_file, also_in, warnings, index, new_seal)


def _check_index(
    data: dict[str, np.ndarray], n: int, words: list[str], size: int, check: Any, whole: bool = True
) -> RawIndex:
    check(len(words) == size, "vocabulary")
    title, abstract, sorted_ids = check_tables(data, n, words, check, scan_docs=whole)
    if size:
        ordered = [words[i] for i in sorted_ids.tolist()]
        check(all(a < b for a, b in zip(ordered, ordered[1:])), "alphabetical order")
    return RawIndex(words, title, abstract, data["ascii"], sorted_ids)


def spot_check(
    papers: list[Paper], index: RawIndex, count: int, title_counts: np.ndarray, abstract_counts: np.ndarray
) -> bool:
    """Whether the first, the last and ``count`` random papers have exactly their words indexed."""
    n = len(papers)
    if not n:
        return True
    vocab = dict(zip(index.words, range(len(index.words))))
    sample = {0, n - 1, *(random.randrange(n) for _ in range(count))}
    for which, postings, counts in (
        ("title", index.title, title_counts),
        ("abstract", index.abstract, abstract_counts),
    ):
        for i in sample:
            words = set(fold_words(getattr(papers[i], which)))
            if len(words) != counts[i]:
                return False
            wids = [vocab.get(word) for word in words]
            if None in wids or not all_hold(postings, np.array(wids, dtype=np.int64), i):
                return False
    return True


def _mapped(
    path: str | os.PathLike[str], stop: Callable[[], bool] | None, check: Any, seal: str | None
) -> tuple[dict[str, np.ndarray], str]:
    """The members of a segment file as arrays over its pages (mapped, or read for a small file),
    each CRC checked (the bulk ones only when the file does not have ``seal``), and the file's
    ``stat_text``."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        check(stat.S_ISREG(st.st_mode) and st.st_size > 0, "not a segment file")
        now = stat_text(st)
        sealed = now == seal
        # A small segment (a day's digest) is read: a mapping keeps a file descriptor open while its
        # papers live, and ten years of daily files opened one by one would run out of them.
        pages: bytes | mmap.mmap = (
            f.read() if st.st_size < MAP_ABOVE else mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        )
        check(len(pages) == st.st_size, "file size")
        f.seek(0)
        with zipfile.ZipFile(f) as npz:
            check(set(npz.namelist()) == {f"{name}.npy" for name in MEMBERS}, "arrays")
            infos = {name: npz.getinfo(f"{name}.npy") for name in MEMBERS}
            expected = checksum(npz)
    view = memoryview(pages)
    data = {}
    for name, info in infos.items():
        if stop is not None and stop():
            raise LoadCancelled
        check(info.compress_type == zipfile.ZIP_STORED and info.compress_size == info.file_size, f"member {name}")
        at = info.header_offset
        check(bytes(view[at : at + 4]) == b"PK\x03\x04", f"member {name}")
        name_length, extra_length = struct.unpack("<HH", view[at + 26 : at + _LOCAL_HEADER])
        start = at + _LOCAL_HEADER + name_length + extra_length
        member = view[start : start + info.file_size]
        check(len(member) == info.file_size, f"member {name}")
        if not (sealed and name in BULK):
            check(zlib.crc32(member) == info.CRC, f"CRC of {name}")
        data[name] = _array(pages, member, start, ARRAYS.get(name, np.uint8), check, name)
    check(data[CHECKSUM].tobytes() == expected, "checksum")
    return data, now


def _array(
    pages: bytes | mmap.mmap, member: memoryview, start: int, dtype: type[np.generic], check: Any, name: str
) -> np.ndarray:
    """The 1-D .npy array a member holds, over the mapped pages (copied only if it is not aligned)."""
    header = io.BytesIO(bytes(member[:4096]))
    version = np.lib.format.read_magic(header)
    check(version in ((1, 0), (2, 0)), f"array {name}")
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, found = read_header(header)
    offset = header.tell()
    check(found == np.dtype(dtype) and not fortran and len(shape) == 1, f"array {name}")
    count = int(shape[0])
    check(offset + count * found.itemsize == len(member), f"array {name}")
    array = np.frombuffer(pages, dtype=found, count=count, offset=start + offset)
    return array if array.flags.aligned else array.copy()


def _read(npz: zipfile.ZipFile, name: str) -> np.ndarray:
    with npz.open(f"{name}.npy") as member:
        return np.lib.format.read_array(member, allow_pickle=False)
