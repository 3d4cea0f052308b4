"""The cache of segments: each digest file parsed and indexed once, found again by its stat signature.

Where: the ``segments`` folder inside reader.index.cache's folder (``~/.cache/paper-reader/index``,
or ``$PAPER_READER_CACHE/paper-reader-index``). What:

- ``KEY.seg``: one file's segment (reader.index.segment), KEY a SHA-256 of the file's bytes,
  the encoding it was read with and what decides the parse and the index (the index format,
  the segment format, the versions: ``cache.fingerprint``);
- ``KEY.set``: a merged segment of a run of files (KEY a hash of their keys, in order), written
  when several segments were combined and merging them on every open would cost more than
  reading one (see ``worth_merging``): a year of daily files reopens as one read;
- ``ENTRY.seal`` (``KEY.seg.seal``, ``KEY.set.seal``): the entry file's size, times, inode and
  device when it was written or last checked whole (``segment.load``: an entry that still has
  them is not CRC-checked in full); its modification time says when the entry was last used;
- ``SIG.fhint``: a file's stat signature (its path, size, modification and change times, inode,
  with the encoding and the fingerprint) -> its key, so an unchanged file is known without
  reading it; ``SIG.shint``: the given paths' signature -> the last merged run opened from them
  and its files' signatures and keys (so the next day's open finds yesterday's merge).

A hint only says which entry to try: the entry itself is checked before it is used (CRCs,
checksum, key, counts, a sample of papers' words; see ``segment.load``), and anything wrong
means the file is parsed again and its entry rewritten. Entries are written to a temporary file
and renamed; pruning removes only files this module wrote (by name and content), least recently
used first. Nothing here raises on a cache that cannot be read or written: it only costs time.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from reader.index import cache, segment
from reader.index.segment import LoadCancelled, Segment, SegmentError
from reader.sources import reading

FOLDER = "segments"
FILE_SUFFIX, SET_SUFFIX = ".seg", ".set"
FILE_HINT, SET_HINT = ".fhint", ".shint"
SEAL = ".seal"
TEMP_PREFIX = cache.TEMP_PREFIX
MAX_FILES = 4000  # file segments kept (more than ten years of daily digests)
MAX_SETS = 4  # merged runs kept
MAX_BYTES = 4 * 1024**3
# A run of segments is merged into one entry when there are more than this many, or when the
# small ones hold more than this share of the papers: till then merging them on open is cheap.
MAX_PARTS = 4
SMALL_SHARE = 0.25
_ENTRY = re.compile(r"[0-9a-f]{40}\.(seg|set)")
_HINT = re.compile(r"[0-9a-f]{32}\.(fhint|shint)")
_SEAL = re.compile(r"[0-9a-f]{40}\.(seg|set)\.seal")
_KEY = re.compile(r"[0-9a-f]{40}")
_SIG = re.compile(r"[0-9a-f]{32}")


def default_dir() -> Path:
    """The segments folder inside the index cache's folder."""
    return cache.default_cache_dir() / FOLDER


def _salt(encoding: str | None) -> bytes:
    return (
        cache.fingerprint()
        + f"\nsegment {segment.SEGMENT_FORMAT}\nparse {reading.PARSE_FORMAT}\nencoding {encoding}\n".encode()
    )


class FileHasher:
    """What a file's key is the digest of, once fed the file's bytes: SHA-256 (which this kind of
    CPU runs in its own instructions, twice as fast as blake2b: 0.08 s against 0.15 s per 126 MB,
    while the file is parsed) of the salt and the bytes, cut to 20 bytes."""

    def __init__(self, encoding: str | None) -> None:
        self._hash = hashlib.sha256(b"paper-reader file key\n" + _salt(encoding))

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()[:20]

    def hexdigest(self) -> str:
        return self.digest().hex()


def set_key(file_keys: list[str]) -> str:
    """The key of a merged run of files (each key holds the encoding and fingerprint already)."""
    return hashlib.blake2b(
        "\n".join(["set", *file_keys]).encode(), digest_size=20, person=b"paper-reader-sk"
    ).hexdigest()


def stat_signature(path: str | os.PathLike[str], encoding: str | None) -> str | None:
    """Where a file is, its size, times and inode (with the encoding and fingerprint); None if unreadable."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    h = hashlib.blake2b(_salt(encoding), digest_size=16, person=b"paper-reader-fs")
    h.update(f"{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}".encode())
    return h.hexdigest()


def paths_signature(paths: list[str], encoding: str | None) -> str:
    """What the files were given as (a folder, say), for the hint of the last merged run."""
    h = hashlib.blake2b(_salt(encoding), digest_size=16, person=b"paper-reader-ps")
    h.update("\0".join(os.path.abspath(p) for p in paths).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class SegmentCache:
    """The segments folder (see the module's docstring)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_dir()

    # -- hints -------------------------------------------------------------------------
    def file_key(self, sig: str | None) -> str | None:
        """The key of the file last seen with this stat signature, if its segment is still here."""
        if sig is None:
            return None
        try:
            key = (self.directory / f"{sig}{FILE_HINT}").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return key if _KEY.fullmatch(key) and (self.directory / f"{key}{FILE_SUFFIX}").exists() else None

    def last_set(self, sig: str) -> tuple[str, list[tuple[str, str]]] | None:
        """The merged run last opened from these paths: its key and its files' (stat signature, key)."""
        try:
            lines = (self.directory / f"{sig}{SET_HINT}").read_text(encoding="ascii").split("\n")
        except (OSError, UnicodeDecodeError):
            return None
        if not lines or not _KEY.fullmatch(lines[0]):
            return None
        files = []
        for line in lines[1:]:
            if not line:
                continue
            parts = line.split(" ")
            if len(parts) != 2 or not _SIG.fullmatch(parts[0]) or not _KEY.fullmatch(parts[1]):
                return None
            files.append((parts[0], parts[1]))
        if not files or not (self.directory / f"{lines[0]}{SET_SUFFIX}").exists():
            return None
        return lines[0], files

    def unrecognised(self, given: list[str | os.PathLike[str]], files: list[Path], encoding: str | None) -> list[Path]:
        """The files not known by their stat signature: those an open will read (a guess made before
        reading them: the segments of the others are still checked when loaded)."""
        last = self.last_set(paths_signature([os.fspath(p) for p in given], encoding))
        known = dict(last[1]) if last is not None else {}
        unknown = []
        for path in files:
            sig = stat_signature(path, encoding)
            if sig is None or (sig not in known and self.file_key(sig) is None):
                unknown.append(path)
        return unknown

    def remember_file(self, sig: str | None, key: str) -> None:
        if sig is not None:
            self._write_text(f"{sig}{FILE_HINT}", key)

    def remember_set(self, sig: str, key: str, files: list[tuple[str | None, str]]) -> None:
        self._write_text(f"{sig}{SET_HINT}", "\n".join([key, *(f"{s} {k}" for s, k in files if s is not None)]) + "\n")

    def _write_text(self, name: str, text: str) -> None:
        temp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".hint", dir=self.directory)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(text)
            os.replace(temp, self.directory / name)
            temp = None
        except OSError:
            pass
        finally:
            _unlink(temp)

    # -- entries -----------------------------------------------------------------------
    def path(self, key: str, merged: bool = False) -> Path:
        return self.directory / f"{key}{SET_SUFFIX if merged else FILE_SUFFIX}"

    def has(self, key: str, merged: bool = False) -> bool:
        return self.path(key, merged).exists()

    def load(
        self, key: str, paths: list[str], merged: bool = False, stop: Callable[[], bool] | None = None
    ) -> Segment | None:
        """The segment saved under ``key`` (its files now at ``paths``), or None if it is missing or unsound.

        Raises segment.LoadCancelled when ``stop()`` turns true while it is read.
        """
        path = self.path(key, merged)
        seal = self.directory / f"{path.name}{SEAL}"
        try:
            kept = seal.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            kept = None
        try:
            loaded = segment.load(path, key, paths, stop, kept)
        except LoadCancelled:
            raise
        except (SegmentError, OSError):
            return None
        except Exception:  # a damaged file can fail in ways no check names: it is rebuilt all the same
            return None
        if loaded.seal:  # checked whole: the next open trusts its bulk while the file is unchanged
            self._write_text(seal.name, loaded.seal)
        try:
            os.utime(seal)  # recently used: pruned last (the entry's own times are its seal)
        except OSError:
            pass
        return loaded

    def save(self, seg: Segment, stop: Callable[[], bool] | None = None) -> bool:
        """Write a segment (temporary file, then rename), and prune after a merged one (the caller
        prunes once after writing file segments); False if it could not be written."""
        merged = len(seg.file_keys) > 1
        temp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(
                prefix=TEMP_PREFIX, suffix=SET_SUFFIX if merged else FILE_SUFFIX, dir=self.directory
            )
            with os.fdopen(fd, "wb") as f:
                segment.save(seg, f, stop)
            path = self.path(seg.key, merged)
            os.replace(temp, path)
            temp = None
            self._write_text(f"{path.name}{SEAL}", segment.stat_text(os.stat(path)))
        except Exception:
            return False
        finally:
            _unlink(temp)
        if merged:
            self.prune()
        return True

    def prune(self) -> None:
        """Drop the least recently used entries beyond MAX_FILES / MAX_SETS / MAX_BYTES, hints to
        entries that are gone, and old temporary files: only files this module wrote (name and content)."""
        files: list[tuple[float, int, str]] = []
        sets: list[tuple[float, int, str]] = []
        hints: list[str] = []
        seals: dict[str, tuple[float, str]] = {}  # entry name -> when last used, the seal's path
        try:
            for entry, st in cache.cache_files(self.directory, _is_temp):
                if _ENTRY.fullmatch(entry.name):
                    (sets if entry.name.endswith(SET_SUFFIX) else files).append((st.st_mtime, st.st_size, entry.path))
                elif _HINT.fullmatch(entry.name):
                    hints.append(entry.path)
                elif _SEAL.fullmatch(entry.name):
                    seals[entry.name.removesuffix(SEAL)] = (st.st_mtime, entry.path)
        except OSError:
            return
        total = 0
        present = {os.path.basename(path) for _mtime, _size, path in (*sets, *files)}
        removed = 0
        for kept, entries in ((MAX_SETS, sets), (MAX_FILES, files)):
            # Most recently used first: an entry's seal is touched whenever it is loaded.
            used = [
                (max(mtime, seals.get(os.path.basename(path), (0.0, ""))[0]), size, path)
                for mtime, size, path in entries
            ]
            used.sort(reverse=True)
            for k, (_used, size, path) in enumerate(used):
                total += size
                if (k >= kept or (k and total > MAX_BYTES)) and segment.is_segment(path):
                    _unlink(path)
                    present.discard(os.path.basename(path))
                    removed += 1
        for name, (_used, path) in seals.items():
            if name not in present:
                _unlink(path)
        # Hints are read (one file each) only when entries went, here or by hand (more hints than
        # twice the entries): a hint to a missing entry is harmless, only clutter.
        if not removed and len(hints) <= 2 * len(present) + 16:
            return
        for hint in hints:
            try:
                with open(hint, encoding="ascii") as f:
                    key = f.read(41).strip()
            except (OSError, UnicodeDecodeError):
                continue
            suffix = SET_SUFFIX if hint.endswith(SET_HINT) else FILE_SUFFIX
            if _KEY.fullmatch(key) and f"{key}{suffix}" not in present:
                _unlink(hint)


def worth_merging(sizes: list[int]) -> bool:
    """Whether segments of these paper counts, combined on this open, should be saved merged."""
    if len(sizes) < 2:
        return False
    return len(sizes) > MAX_PARTS or sum(sizes) - max(sizes) > SMALL_SHARE * sum(sizes)


def _is_temp(_name: str, path: str) -> bool:
    """A temporary file this module made: what it had begun to hold (or nothing)."""
    try:
        with open(path, "rb") as f:
            start = f.read(41)
    except OSError:
        return False
    return start[:2] in (b"", b"PK") or re.fullmatch(rb"[0-9a-f \n]{0,41}", start) is not None


def _unlink(path: str | None) -> None:
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass
