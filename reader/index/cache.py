"""An on-disk cache of search indexes, keyed by the papers' content and never trusted blindly.

Building the index of a 100k-paper digest takes seconds; loading it back takes a
fraction of that. ``cached_engine(papers)`` returns the same engine
``SearchEngine(papers)`` would, from the cache when an entry for exactly these papers
is there and sound, else by building it (and then saving it for next time).

The key is a blake2b hash of:

- what decides how an index is built and laid out: ``storage.INDEX_FORMAT`` (bumped
  whenever the tokenizer or the file layout changes), the package version, the Python
  version and its Unicode database (folding), numpy's major version, the byte order;
- the number of papers and the digests' content: the hash of their bytes as they were
  parsed (``Library.content_key``, taken while reading them, in order, with the
  encoding) and what the parse made of them, cheaply: every paper's id (from its
  title) and the lengths of its title and abstract; without a content key (papers that
  did not come from a LibraryLoader), every paper's id, title and abstract;
- the papers after the digests' (the store's snapshots), in order: id, title,
  abstract and whether it is a snapshot, with the length of each field, so that no two
  different lists of papers hash the same stream.

A change to a digest, to how it is parsed, to the store's snapshots or to the order of
the files all give another key. An entry is also checked when read (CRC of every array,
the checksum of all of them saved with them, format version, key, shapes, ranges, and
the words of a sample of papers; see ``storage.load``); anything wrong and the index is
built and the entry rewritten.
Nothing here raises: a cache that cannot be read or written only costs the build.

Where: the user cache folder's ``paper-reader/index``, or with ``$PAPER_READER_CACHE=DIR``
the folder ``DIR/paper-reader-index`` (DIR may hold other files: they are never touched).
Only libraries of at least MIN_PAPERS papers are cached (smaller ones build about as
fast as they load); at most KEEP entries and MAX_BYTES are kept, least recently used
go first. Pruning removes only files this module wrote, known by name and content.
Entries are written to a temporary file and renamed into place, so a reader never sees
half an entry, and two processes writing the same entry write the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import Protocol

import numpy as np

import reader
from reader import locations
from reader.index import storage
from reader.index.engine import SearchEngine
from reader.paper import Paper

SUBFOLDER = locations.CACHE_SUBFOLDER  # the folder of entries inside $PAPER_READER_CACHE
MIN_PAPERS = 20_000
KEEP = 5
MAX_BYTES = 2 * 1024**3  # ~3.5M papers of index; the newest entry is kept whatever its size
SUFFIX = ".npz"
HINT_SUFFIX = ".hint"  # files signature -> the key of the entry last used for those files
TEMP_PREFIX = ".paper-reader-tmp-"
STALE_TEMP_S = 3600  # a temporary file this old was left by a killed process
_CHUNK = 8192  # papers encoded at a time while hashing (bounds the memory it takes)
_ENTRY_NAME = re.compile(r"[0-9a-f]{40}\.npz")
_HINT_NAME = re.compile(r"[0-9a-f]{32}\.hint")
_KEY = re.compile(rb"[0-9a-f]{40}")

_id, _title, _abstract, _from_store = (attrgetter(a) for a in ("id", "title", "abstract", "from_store"))


class Builder(Protocol):
    """What builds the index on a cache miss (reader.index.build.IndexBuilder)."""

    def engine(self, papers: list[Paper]) -> SearchEngine:
        """The index of ``papers``."""
        ...

    def close(self) -> None:
        """The index is not needed after all (it was in the cache)."""
        ...


def default_cache_dir() -> Path:
    """``$PAPER_READER_CACHE/paper-reader-index``, or ``index`` in the user cache folder (reader.locations)."""
    return locations.index_cache_dir()


@functools.cache
def fingerprint() -> bytes:
    """What, besides the papers, decides the index: the index format and the versions involved."""
    h = hashlib.blake2b(digest_size=32)
    for part in (
        f"format {storage.INDEX_FORMAT}",
        f"reader {reader.__version__}",
        f"python {sys.version_info[0]}.{sys.version_info[1]}",
        f"unicode {unicodedata.unidata_version}",
        f"numpy {np.__version__.split('.')[0]}",
        sys.byteorder,
    ):
        h.update(part.encode() + b"\n")
    return h.digest()


def papers_key(papers: list[Paper], content_key: str | None = None, file_count: int = 0) -> str:
    """The cache key of an index over these papers (hex).

    Per chunk of papers: the lengths (in characters) of every id, title and abstract
    and the snapshot flags, then the ids, titles and abstracts, UTF-8 encoded (lone
    surrogates too). The lengths cut the text back into its fields, so the stream, and
    barring a blake2b collision the key, differs whenever any paper does.

    With ``content_key`` (``Library.content_key``: a hash of the digests' bytes), the first
    ``file_count`` papers are the digests' papers and follow from it and the parser: of
    them only the ids and the lengths of the titles and abstracts are hashed (what a
    change in the parser would change), then the papers after them in full (stored snapshots).
    """
    h = hashlib.blake2b(digest_size=20, person=b"paper-reader-ix")
    h.update(fingerprint())
    h.update(np.array([len(papers)], dtype="<i8").tobytes())
    if content_key is not None:
        h.update(f"digests {content_key} {file_count}\n".encode())
        for start in range(0, min(file_count, len(papers)), _CHUNK):
            chunk = papers[start : min(start + _CHUNK, file_count)]
            ids = list(map(_id, chunk))
            lengths = [list(map(len, ids)), [len(p.title) for p in chunk], [len(p.abstract) for p in chunk]]
            h.update(np.array(lengths, dtype="<i8").tobytes())
            h.update("".join(ids).encode("utf-8", "surrogatepass"))
    else:
        file_count = 0
    for start in range(file_count, len(papers), _CHUNK):
        chunk = papers[start : start + _CHUNK]
        columns = [list(map(get, chunk)) for get in (_id, _title, _abstract)]
        lengths = [list(map(len, column)) for column in columns] + [list(map(_from_store, chunk))]
        h.update(np.array(lengths, dtype="<i8").tobytes())
        for column in columns:
            h.update("".join(column).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def cached_engine(
    papers: list[Paper],
    cache_dir: str | os.PathLike | None = None,
    ready: Callable[[SearchEngine], None] | None = None,
    content_key: str | None = None,
    file_count: int = 0,
    builder: Builder | None = None,
    signature: str | None = None,
) -> SearchEngine:
    """``SearchEngine(papers)``, loaded from the cache when it holds a sound index of exactly these papers.

    The engine is built over a copy of the list: papers appended to ``papers`` later
    (while this runs on a worker thread, say) are neither hashed nor indexed. ``ready``
    is called with the engine as soon as it can search, before a new entry is saved.
    ``content_key`` and ``file_count``: see ``papers_key``. A ``builder`` fed the papers
    as they were parsed (reader.index.build) builds the index on a miss, and is stopped on a hit.
    ``signature`` (``files_signature``) is remembered with the entry, for ``probably_cached``.
    """
    papers = list(papers)

    def build() -> SearchEngine:
        return _ready(builder.engine(papers) if builder is not None else SearchEngine(papers, bitmaps=False), ready)

    if len(papers) < MIN_PAPERS:
        return build()
    try:
        directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        key = papers_key(papers, content_key, file_count)
    except Exception:
        return build()
    path = directory / f"{key}{SUFFIX}"
    engine = _load_entry(path, papers, key) if path.exists() else None
    if engine is not None:
        if builder is not None:
            builder.close()
        _remember(directory, signature, key)
        return _ready(engine, ready)
    engine = build()
    if save_entry(engine, directory, key):
        _remember(directory, signature, key)
    return engine


def files_signature(files: list[str] | list[Path], encoding: str | None) -> str | None:
    """A cheap stand-in for the digests' content, read before they are: where they are, their
    sizes, change times and inodes (None if one cannot be read). Only a hint (see ``probably_cached``)."""
    h = hashlib.blake2b(fingerprint(), digest_size=16)
    h.update(f"{encoding}\n".encode())
    try:
        for file in files:
            st = os.stat(file)
            h.update(
                f"{os.path.abspath(file)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n".encode()
            )
    except OSError:
        return None
    return h.hexdigest()


def probably_cached(signature: str | None, cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether the entry last used for files with this signature is still in the cache.

    A guess made before parsing (to skip starting reader.index.build's helper): the entry
    is still checked by its real key, which only the parse gives.
    """
    if signature is None:
        return False
    try:
        directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        key = (directory / f"{signature}{HINT_SUFFIX}").read_text(encoding="ascii").strip()
        return _KEY.fullmatch(key.encode()) is not None and (directory / f"{key}{SUFFIX}").exists()
    except (OSError, UnicodeDecodeError):
        return False


def _remember(directory: Path, signature: str | None, key: str) -> None:
    if signature is None:
        return
    try:
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=HINT_SUFFIX, dir=directory)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key)
        os.replace(temp, directory / f"{signature}{HINT_SUFFIX}")
    except OSError:
        pass


def _ready(engine: SearchEngine, ready: Callable[[SearchEngine], None] | None) -> SearchEngine:
    if ready is not None:
        ready(engine)
    return engine


def _load_entry(path: Path, papers: list[Paper], key: str) -> SearchEngine | None:
    """The entry's engine, or None when it cannot be used (it is then rebuilt and overwritten)."""
    try:
        engine = storage.load(path, papers, key=key)
    except Exception:
        return None
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return engine


def save_entry(engine: SearchEngine, directory: Path, key: str) -> bool:
    """Write an entry atomically (temporary file, then rename) and prune old ones. False if it could not."""
    temp: str | None = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=SUFFIX, dir=directory)
        with os.fdopen(fd, "wb") as f:
            storage.save(engine, f, key=key)
        os.replace(temp, directory / f"{key}{SUFFIX}")
        temp = None
    except Exception:
        return False
    finally:
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass
    prune(directory, keep=key)
    return True


def is_entry(path: str | os.PathLike[str]) -> bool:
    """Whether a file is an index entry this module wrote: its name, and the arrays inside it."""
    if not _ENTRY_NAME.fullmatch(os.path.basename(path)):
        return False
    try:
        with zipfile.ZipFile(path) as npz:
            return {name.removesuffix(".npy") for name in npz.namelist()} in (storage.MEMBERS, storage.OLD_MEMBERS)
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def is_hint(path: str | os.PathLike[str]) -> bool:
    """Whether a file is a hint this module wrote: its name, and a key inside it."""
    if not _HINT_NAME.fullmatch(os.path.basename(path)):
        return False
    try:
        with open(path, "rb") as f:
            return _KEY.fullmatch(f.read(41)) is not None
    except OSError:
        return False


def _is_temp(name: str, path: str) -> bool:
    """A temporary file this module made: its name, and what it had begun to hold (or nothing)."""
    if not name.startswith(TEMP_PREFIX) or not name.endswith((SUFFIX, HINT_SUFFIX)):
        return False
    try:
        with open(path, "rb") as f:
            start = f.read(41)
    except OSError:
        return False
    if name.endswith(SUFFIX):
        return start[:2] in (b"", b"PK")
    return re.fullmatch(rb"[0-9a-f]{0,40}", start) is not None


def cache_files(
    directory: str | os.PathLike[str], is_temp: Callable[[str, str], bool]
) -> Iterator[tuple[os.DirEntry[str], os.stat_result]]:
    """The regular files of a cache folder with their stat, for a prune to sort out; on the way,
    temporary files older than STALE_TEMP_S that ``is_temp(name, path)`` says are ours are removed
    (left by a killed process). A file that cannot be looked at is skipped; OSError if the folder
    cannot be read."""
    now = time.time()
    with os.scandir(directory) as it:
        for entry in it:
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat()
                if entry.name.startswith(TEMP_PREFIX):
                    if now - st.st_mtime > STALE_TEMP_S and is_temp(entry.name, entry.path):
                        os.unlink(entry.path)
                    continue
            except OSError:
                continue
            yield entry, st


def prune(directory: Path, keep: str = "") -> None:
    """Drop the least recently used entries beyond KEEP or MAX_BYTES, old temporary files, and
    hints to entries that are gone: only files this module wrote (by name and content)."""
    entries = []
    hints: list[str] = []
    try:
        for entry, st in cache_files(directory, _is_temp):
            if _ENTRY_NAME.fullmatch(entry.name):
                newest = entry.name == f"{keep}{SUFFIX}"
                entries.append((newest, st.st_mtime, st.st_size, entry.path))
            elif _HINT_NAME.fullmatch(entry.name):
                hints.append(entry.path)
    except OSError:
        return
    entries.sort(reverse=True)  # the entry just written first, then the most recently used
    total = 0
    for k, (_newest, _mtime, size, entry_path) in enumerate(entries):
        total += size
        if k and (k >= KEEP or total > MAX_BYTES) and is_entry(entry_path):
            try:
                os.unlink(entry_path)
            except OSError:
                pass
    for hint in hints:  # a hint to an entry that is gone is no use
        try:
            if is_hint(hint) and not (directory / f"{Path(hint).read_text(encoding='ascii').strip()}{SUFFIX}").exists():
                os.unlink(hint)
        except (OSError, UnicodeDecodeError):
            pass
