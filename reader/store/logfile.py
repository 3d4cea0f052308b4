"""The annotations file: a TinyDB storage that appends each change as one line and compacts now and then.

Line 1 is a header with the whole store as it was at the last compaction::

    {"paper-reader":"store","schema":2,"gen":"…","tables":{"papers":{…},…}}

Every later line is one transaction, ``{"c":[[op, table, key, value], …]}``, where op
``p`` updates the listed fields of a document (creating it), ``r`` replaces it and ``d``
deletes it. A change appends only what it changed (a bookmark is ~100 bytes, never the
title and abstract again), then fsyncs: the cost does not grow with the store. When the
lines outweigh the header, the store is compacted: written whole to a temp file,
fsynced, renamed over the file (the folder fsynced), the file it replaced kept as
``NAME.bak``. A line cut short by a kill (no newline at its end) was never acknowledged:
it is ignored and cut off before the next append. Another process's lines are read
incrementally: only the bytes past what this process has folded in.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from reader.store.errors import StoreCorrupt, StoreError, stat_or_none

SCHEMA = 2
META = "meta"
HEAD = b'{"paper-reader":"store"'
TMP_PREFIX = "~paper-reader-"  # "~*.tmp": a name Dropbox and Nextcloud do not sync
COMPACT_MIN = 256 * 1024  # lines below this never trigger a compaction
BACKUP_AGE = 24 * 3600  # a backup older than this is renewed by the next change

Tables = dict[str, dict[str, dict[str, Any]]]


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` at ``fd``'s offset (one os.write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_dir(folder: Path) -> None:
    """fsync a folder so a rename in it survives a crash (a no-op where the file system cannot)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)


def header(tables: Tables, gen: str) -> bytes:
    """The first line of a compacted file."""
    return orjson.dumps({"paper-reader": "store", "schema": SCHEMA, "gen": gen, "tables": tables}) + b"\n"


def apply(tables: Tables, ops: list[list[Any]], touched: set[tuple[str, str]] | None = None) -> None:
    """Apply one transaction's operations to the tables (noting each document touched in ``touched``)."""
    for op in ops:
        kind, table, key = op[0], op[1], op[2]
        if touched is not None:
            touched.add((table, key))
        docs = tables.setdefault(table, {})
        if kind == "d":
            docs.pop(key, None)
        elif kind == "r":
            docs[key] = op[3]
        else:
            doc = docs.get(key)
            docs[key] = {**doc, **op[3]} if doc is not None else dict(op[3])


def diff(old: Tables, new: Tables) -> list[list[Any]]:
    """The operations that turn ``old`` into ``new`` (whole documents: the fallback for TinyDB's own writes)."""
    ops: list[list[Any]] = []
    for table, docs in new.items():
        before = old.get(table, {})
        for key, doc in docs.items():
            if before.get(key) != doc:
                ops.append(["r", table, key, doc])
        ops.extend(["d", table, key] for key in before if key not in docs)
    for table, docs in old.items():
        if table not in new:
            ops.extend(["d", table, key] for key in docs)
    return ops


_HEAD_RE = re.compile(rb'\A\s*\{\s*"paper-reader"\s*:\s*"store"')


def is_log(raw: bytes) -> bool:
    """True when these bytes start like a schema-2 store (not a schema-1 JSON object), however spaced."""
    return raw.startswith(HEAD) or _HEAD_RE.match(raw[:200]) is not None


class LogStorage(Storage):
    """TinyDB storage over the append-only annotations file (see the module docstring)."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self.tables: Tables | None = None
        self.gen = ""
        self.head_size = 0  # bytes of the header line
        self.offset = 0  # bytes folded in (whole lines)
        self.ino: int | None = None
        self.version = 0  # bumped whenever the tables change
        self.canonical = True  # the file is in the line form (else the next write compacts it)
        # Documents changed since the Store last checked them; None: every one (a whole load).
        self.touched: set[tuple[str, str]] | None = None
        self.held = False  # see hold()

    # -- reading ---------------------------------------------------------------------------
    def hold(self, tables: Tables) -> None:
        """Keep these tables in memory and never read the file again (a store that is only shown:
        a read-only open of a schema-1 store, or one that could not be read)."""
        self.tables, self.touched, self.held = tables, None, True
        self.version += 1

    def changed(self) -> bool:
        """True when the file holds changes this process has not folded in."""
        if self.held:
            return False
        st = stat_or_none(self.path, "store")
        if self.tables is None:
            return True
        if st is None:
            return self.ino is not None
        return st.st_ino != self.ino or st.st_size < self.offset or self._has_new_line(st.st_size)

    def _has_new_line(self, size: int) -> bool:
        if size <= self.offset:
            return False
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                return b"\n" in handle.read(size - self.offset)
        except OSError:
            return True

    def read(self) -> Tables:
        """The tables, with whatever other processes appended folded in."""
        self.refresh()
        assert self.tables is not None
        return self.tables

    def refresh(self) -> bool:
        """Fold in new lines (or re-read a compacted or replaced file); True when anything changed."""
        if self.held:
            return False
        st = stat_or_none(self.path, "store")
        if st is None:
            if self.tables is None or self.ino is not None:
                self.tables, self.ino, self.offset, self.head_size, self.gen = {}, None, 0, 0, ""
                self.version += 1
                self.touched = None
                return True
            return False
        if self.tables is not None and st.st_ino == self.ino and st.st_size >= self.offset:
            if st.st_size == self.offset:
                return False
            try:
                with open(self.path, "rb") as handle:
                    if handle.read(len(HEAD) + 60)[: 60 + len(HEAD)].find(self.gen.encode()) < 0:
                        return self._load_whole(st)  # the same inode now holds another file
                    handle.seek(self.offset)
                    tail = handle.read(st.st_size - self.offset)
            except OSError as err:
                raise StoreError(self.path, f"cannot read store: {err.strerror}") from None
            end = tail.rfind(b"\n") + 1
            if not end:
                return False
            self._fold(tail[:end], self.offset)
            self.offset += end
            self.version += 1
            return True
        return self._load_whole(st)

    def _load_whole(self, st: os.stat_result) -> bool:
        if not os.path.isfile(self.path):
            raise StoreError(self.path, "store path is not a regular file")
        try:
            raw = self.path.read_bytes()
        except PermissionError:
            raise StoreError(self.path, "permission denied reading the store") from None
        except OSError as err:
            raise StoreError(self.path, f"cannot read store: {err.strerror}") from None
        if not raw.strip():
            raise StoreCorrupt(self.path, "store file is empty (cut short?); it was left as it is" + self.hint())
        if not is_log(raw):
            if self.tables is not None:
                raise StoreCorrupt(
                    self.path,
                    f"store was replaced by a file that is not a paper-reader store; it was left as it is{self.hint()}",
                )
            raise NeedsMigration(raw)
        first = raw.find(b"\n") + 1
        self.canonical = raw.startswith(HEAD)
        try:
            if not first:
                raise orjson.JSONDecodeError("its first line is cut short", "", 0)
            head = orjson.loads(raw[:first])
        except orjson.JSONDecodeError as err:
            # Edited by hand and saved pretty-printed (or with no newline): one JSON object is
            # a store with no change lines; the first write compacts it into the line form.
            try:
                head = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise StoreCorrupt(self.path, f"store is corrupt ({err}); it was left as it is{self.hint()}") from None
            first = len(raw)
            self.canonical = False
        if not isinstance(head, dict) or not isinstance(head.get("tables"), dict):
            raise StoreCorrupt(self.path, "store is not a paper-reader store; it was left as it is")
        schema = head.get("schema")
        if not isinstance(schema, int) or isinstance(schema, bool):
            raise StoreCorrupt(self.path, f"store is corrupt (schema {schema!r} is not a number); it was left as it is")
        if schema > SCHEMA:
            raise StoreCorrupt(self.path, f"store has schema {schema}, newer than this paper-reader knows ({SCHEMA})")
        tables = head["tables"]
        check_tables(self.path, tables)
        self.tables, self.gen, self.head_size, self.ino = tables, str(head.get("gen", "")), first, st.st_ino
        self.touched = None
        end = raw.rfind(b"\n") + 1
        self._fold(raw[first:end], first)
        self.offset = end
        self.version += 1
        return True

    def _fold(self, lines: bytes, start: int) -> None:
        assert self.tables is not None
        at = start
        for line in lines.split(b"\n")[:-1]:
            try:
                entry = orjson.loads(line)
                ops = entry["c"]
                if not isinstance(ops, list) or not all(
                    isinstance(op, list)
                    and len(op) >= 3
                    and op[0] in "prd"
                    and isinstance(op[1], str)
                    and isinstance(op[2], str)
                    and (op[0] == "d" or isinstance(op[3], dict))
                    for op in ops
                ):
                    raise ValueError("not a list of changes")
            except (ValueError, TypeError, KeyError, IndexError) as err:
                raise StoreCorrupt(
                    self.path, f"store is corrupt at byte {at} ({err}); it was left as it is{self.hint()}"
                ) from None
            apply(self.tables, ops, self.touched)
            at += len(line) + 1

    def hint(self) -> str:
        """Where the last good version is, for a message about a store that does not parse."""
        backup = self.path.with_name(self.path.name + ".bak")
        with contextlib.suppress(OSError):
            if backup.stat().st_size:
                return f"; the previous version is in {backup}"
        return ""

    # -- writing (the caller holds the lock and has called refresh) ------------------------
    def write(self, data: Tables) -> None:
        """TinyDB's whole-store write: appends only the documents that differ."""
        old = self.tables or {}
        ops = diff(old, data)
        self.tables = {t: dict(d) for t, d in old.items()}
        self.commit(ops)

    def commit(self, ops: list[list[Any]]) -> None:
        """Append one transaction, fsync it, fold it in; compact when the lines outweigh the header."""
        if self.readonly:
            raise StoreError(self.path, "store is open read-only")
        if not ops:
            return
        if self.tables is None:
            self.refresh()
        assert self.tables is not None
        if self.ino is None or not self.canonical:
            tables = {k: dict(v) for k, v in self.tables.items()}
            apply(tables, ops)
            self.compact(tables)
            return
        line = orjson.dumps({"c": ops}) + b"\n"
        try:
            fd = os.open(self.path, os.O_WRONLY)
        except OSError as err:
            raise StoreError(self.path, f"could not save the store: {err.strerror or err}") from None
        try:
            size = os.fstat(fd).st_size
            if size != self.offset:
                os.ftruncate(fd, self.offset)  # a line cut short by a kill: never acknowledged
            try:
                os.lseek(fd, self.offset, os.SEEK_SET)
                write_all(fd, line)
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, self.offset)
                raise
        except OSError as err:
            raise StoreError(self.path, f"could not save the store: {err.strerror or err}") from None
        finally:
            os.close(fd)
        apply(self.tables, ops, self.touched)
        self.offset += len(line)
        self.version += 1
        if self.offset - self.head_size > max(COMPACT_MIN, self.head_size):
            with contextlib.suppress(StoreError):  # the change is safe in the log already
                self.compact(self.tables)

    def compact(self, tables: Tables) -> None:
        """Write the whole store afresh (temp, fsync, rename, folder fsync); the old file becomes NAME.bak."""
        gen = secrets.token_hex(8)
        payload = header(tables, gen)
        folder = self.path.parent
        tmp: str | None = None
        link: Path | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.temp_prefix, suffix=".tmp", dir=folder)
            try:
                write_all(fd, payload)
                os.fsync(fd)
            finally:
                os.close(fd)
            link = self._backup_link()
            os.replace(tmp, self.path)
            tmp = None
        except OSError as err:
            for leftover in (tmp, link):
                if leftover is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(leftover)
            raise StoreError(self.path, f"could not save the store: {err.strerror or err}") from None
        if link is not None:
            try:
                os.replace(link, self.path.with_name(self.path.name + ".bak"))
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(link)
        if tables is not self.tables:
            self.touched = None
        self.canonical = True
        self.tables, self.gen, self.head_size, self.offset = tables, gen, len(payload), len(payload)
        self.version += 1
        try:
            self.ino = os.stat(self.path).st_ino
            fsync_dir(folder)
        except OSError as err:
            self.ino = None
            raise StoreError(
                self.path,
                f"the change was written, but the disk reported an error ({err.strerror or err}); "
                "it may not survive a crash",
            ) from None

    def backup(self, max_age: float = BACKUP_AGE) -> None:
        """Copy the file to NAME.bak when the backup is missing or older than ``max_age`` seconds.

        Appends never touch the backup, and compaction turns the old file into it: this copy
        (once a day at most, under the lock) keeps a recent whole version beside a store that
        is rarely compacted. A failure here leaves the store as it is and is not an error.
        """
        backup = self.path.with_name(self.path.name + ".bak")
        try:
            if self.offset < 16 or time.time() - os.stat(backup).st_mtime < max_age:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        tmp: str | None = None
        with contextlib.suppress(OSError):
            fd, tmp = tempfile.mkstemp(prefix=self.temp_prefix, suffix=".tmp", dir=self.path.parent)
            try:
                with open(self.path, "rb") as source:
                    data = source.read(self.offset)  # whole lines only
                write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, backup)
            tmp = None
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    @property
    def temp_prefix(self) -> str:
        """How this store's temp files start (other stores in the folder have their own)."""
        return f"{TMP_PREFIX}{self.path.name}-"

    def _backup_link(self) -> Path | None:
        """A hard link to the file about to be replaced (renamed to NAME.bak once it is)."""
        try:
            if os.path.getsize(self.path) < 16:
                return None
        except OSError:
            return None
        link = self.path.with_name(f"{self.temp_prefix}bak-{os.getpid()}.tmp")
        with contextlib.suppress(OSError):
            os.unlink(link)
        try:
            os.link(self.path, link)
        except OSError:
            return None
        return link

    def close(self) -> None:
        pass


class NeedsMigration(Exception):
    """The file is a schema-1 store (one JSON object): the Store migrates it."""

    def __init__(self, raw: bytes) -> None:
        super().__init__("schema 1")
        self.raw = raw


def check_tables(path: Path, tables: Any) -> None:
    """Refuse what is not a store at all: tables of objects, each document an object, papers with an id."""
    if not isinstance(tables, dict) or not all(isinstance(v, dict) for v in tables.values()):
        raise StoreCorrupt(path, "store is not a paper-reader store; it was left as it is")
    for name, table in tables.items():
        for key, doc in table.items():
            if not isinstance(doc, dict):
                raise StoreCorrupt(
                    path, f"store is corrupt ({name} entry {key} is not an object); it was left as it is"
                )
            if name == "papers" and not isinstance(doc.get("id"), str):
                raise StoreCorrupt(path, f"store is corrupt (paper entry {key} has no id); it was left as it is")
