"""The Store: bookmarks, tags, notes and links (TinyDB over an append-only file), read marks and
first-seen dates (their own binary file), one undo journal, safe across processes.

Every change is a transaction: take the file lock, fold in what other processes appended,
apply the change, append it (and its journal step) and fsync before returning. Reads never
take the lock. Files, for a store at ``store.json`` (a symlink is followed: these sit beside
its target):

- ``store.json`` — annotations, settings and the journal (see reader.store.logfile);
- ``store.json.marks`` — read marks and first-seen dates (see reader.store.marks);
- ``store.json.bak`` — the annotations file as it was before the last compaction;
- ``store.json.schema1.bak`` — a schema-1 store as it was before it was migrated;
- ``.~lock.store.json#`` and ``~paper-reader-store.json-*.tmp`` — the lock and temp files,
  named so Dropbox and Nextcloud leave them alone.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from tinydb import TinyDB

import reader.store.marks as marksfile
from reader import locations
from reader.paper import Paper, id_number
from reader.store.errors import InvalidText, StoreCorrupt, StoreError, check_text
from reader.store.folding import fold_change
from reader.store.logfile import TMP_PREFIX, LogStorage, NeedsMigration, Tables, check_tables
from reader.store.records import (
    ANNOTATION_FIELDS,
    JSON,
    Annotation,
    check_record,
    clean_tags,
    empty_record,
    is_kept,
)
from reader.text import clean_line

PAPERS = "papers"
SETTINGS = "settings"
JOURNAL = "journal"
SEEN = "seen"  # first-seen dates of ids too long for the marks file
SET_ASIDE = "set_aside"  # settings and journal steps of the wrong shape, kept for the user
SETTING_TIMES = "times"  # in the settings document: setting name -> when it was last changed
SETTING_TYPES: dict[str, tuple[type, str]] = {
    SETTING_TIMES: (dict, "an object"),
    "theme": (str, "text"),
    "saved_searches": (list, "a list"),
    "sessions": (dict, "an object"),
}
JOURNAL_LENGTH = 100  # undo steps kept
STEP_FIELDS = (*ANNOTATION_FIELDS, "read_at")  # what undo and redo restore
FLUSH_SECONDS = 0.5  # how long a read mark from a cursor move may wait before it is written
MINUTES_A_DAY = 24 * 60
NO_DAY = marksfile.NO_MINUTE  # "never seen" in arrays of days (later than any day, so min() keeps the others)

__all__ = [
    "JOURNAL",
    "NO_DAY",
    "PAPERS",
    "SEEN",
    "ReadIds",
    "SETTINGS",
    "Sighting",
    "Store",
    "clean_tags",
    "default_path",
    "now",
    "tag_counts",
    "take_warnings",
]


_UNTOLD: list[str] = []  # warnings of every store opened in this process, not yet told


def take_warnings() -> list[str]:
    """What loading stores repaired since the last call (one line each): for the shell to tell the user."""
    told = list(_UNTOLD)
    _UNTOLD.clear()
    return told


def default_path() -> Path:
    """Where the store lives: ``$PAPER_READER_DB`` or the user data folder."""
    return locations.store_path()


def now() -> str:
    """The current time as an ISO 8601 string in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def label(what: str, papers: Sequence[Paper | str]) -> str:
    """What a journal step did, for the undo notice: 'bookmark · Title' or 'tag #x · 3 papers'."""
    if len(papers) == 1:
        paper = papers[0]
        name = paper.title if isinstance(paper, Paper) else paper
        return f"{what} · {name[:80]}"
    return f"{what} · {len(papers)} papers"


def lock_path(target: Path) -> Path:
    """The lock file beside the store (".~lock.*#": a name sync tools leave alone)."""
    return target.with_name(f".~lock.{target.name}#")


def resolve(path: Path) -> Path:
    """The file to write: a symlink's target (followed to the end), else the path itself.

    A store path that exists but is not a regular file (a FIFO, a device, a folder) is
    refused at once: opening a FIFO would hang and /dev/zero never ends. So is a symlink
    whose target's folder is missing (a drive not mounted): the annotations are there, not lost.
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        if target != path and not target.parent.is_dir():
            # A link into a synced drive that is not mounted: never create its folders and an empty store there.
            raise StoreError(path, f"the store's link points into a missing folder: {target}") from None
        folder = Path(os.path.abspath(target)).parent
        while not folder.exists() and folder != folder.parent:
            if folder.is_symlink():  # a folder on the way is a link to nowhere (the same unmounted drive)
                raise StoreError(
                    path, f"the store's folder {folder} is a link to a missing folder: {os.readlink(folder)}"
                ) from None
            folder = folder.parent
        return target
    except OSError as err:
        raise StoreError(path, f"cannot read store: {err.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(path, "store path is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "not a regular file"
        )
        raise StoreError(path, f"store path is {kind}, not a file")
    return target


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic garbage collection for a while: a big import or a load makes millions of small
    objects, and the collector's passes over them cost more than the work (100k imports: 3x)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# What a merge does to the settings: given the settings and their times, the ones to change
# (name -> (new value, or None to remove it; the time it was changed)).
SettingsChange = Callable[[dict[str, JSON], dict[str, str]], dict[str, tuple[JSON, str]]]


class _Unwritten(StoreError):
    """Read marks that could not be written (kept to try again)."""

    def __init__(self, err: StoreError, pending: list[tuple[str, int, int]]) -> None:
        super().__init__(err.path, err.message)
        self.pending = pending


@dataclass(frozen=True)
class Sighting:
    """The papers of one digest file and the day they were seen in it.

    ``key`` names the file as it is now (a hash of its stat signature, at least 10 bytes), or is
    empty for papers with no file to name: their dates are looked up on every open.
    """

    key: bytes
    day: str  # ISO date
    pids: list[str]


class ReadIds(AbstractSet[str]):
    """The ids of the papers marked read, live: membership is a dict lookup, never a copy of a million ids."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __contains__(self, pid: object) -> bool:
        return isinstance(pid, str) and self._store.is_read(pid)

    def _long(self) -> list[str]:
        # A copy first (one C call, whole under the GIL): a search on a worker may ask while a change is made.
        docs = list((self._store.storage.tables or {}).get(PAPERS, {}).values())
        return [doc["id"] for doc in docs if doc.get("read_at") and not marksfile.fits(doc["id"])]

    def __iter__(self) -> Iterator[str]:
        yield from list(self._store.marks.read)
        yield from self._long()

    def __len__(self) -> int:
        return len(self._store.marks.read) + len(self._long())


class Store:
    """Annotations per paper id, safe across processes. Reads never block on the lock."""

    def __init__(self, path: str | os.PathLike[str] | None = None, readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.readonly = readonly
        self.target = resolve(self.path)
        self.storage = LogStorage(self.target, readonly)
        self.marks = marksfile.Marks(self.target.with_name(self.target.name + ".marks"), self.storage.temp_prefix)
        self.db = TinyDB(storage=lambda: self.storage)
        self.table = self.db.table(PAPERS, cache_size=0)
        self.warnings: list[str] = []  # one line per field repaired on load
        self._typed: dict[str, Annotation] = {}  # see annotations()
        self._typed_pid: dict[str, str] = {}  # document key -> paper id, of the records in _typed
        self._typed_dirty: set[str] | None = None  # document keys changed since (None: all)
        self._moved: dict[str, str] = {}  # paper key -> the key its record was misfiled under (see _file_home)
        self._pending: list[tuple[str, int, int]] = []
        self._pending_lock = threading.Lock()
        self._flusher: threading.Timer | None = None
        self._exit_hook = False
        self.cleanup_temp_files()
        self._open()

    def _open(self) -> None:
        """Read the store now (fail now, not later); migrate a schema-1 store once."""
        with quiet_gc():
            self._read_now()

    def _read_now(self) -> None:
        marks_path = self.marks.path
        if marks_path.exists() and not marks_path.is_file():
            raise StoreError(marks_path, "read-marks path is not a regular file")
        try:
            self.storage.read()
        except NeedsMigration as old:
            from reader.store.migrate import migrate

            migrate(self, old.raw)
        self._tables()
        self.marks.refresh()

    # -- reading -------------------------------------------------------------------
    def _tables(self) -> Tables:
        """The tables with other processes' changes folded in, every paper record checked once."""
        try:
            tables = self.storage.read()
        except NeedsMigration:
            raise StoreCorrupt(self.target, "store was replaced by a schema-1 store; open it again") from None
        touched = self.storage.touched
        if touched is None or touched:
            papers = tables.get(PAPERS, {})
            keys = list(papers) if touched is None else [k for t, k in touched if t == PAPERS and k in papers]
            if touched is None:
                self._typed_dirty = None
            elif self._typed_dirty is not None:
                self._typed_dirty.update(k for t, k in touched if t == PAPERS)  # deleted ones too
            if touched is None:
                self._moved = {}
            for key in keys:
                fixed, warnings = check_record(papers[key], str(self.path))
                papers[key] = fixed
                for warning in warnings:
                    if warning not in self.warnings:
                        self.warnings.append(warning)
                        _UNTOLD.append(warning)
            self._file_home(tables, keys)
            if touched is None or any(t in (SETTINGS, JOURNAL) for t, _ in touched):
                steps = None if touched is None else {k for t, k in touched if t == JOURNAL}
                self._check_others(tables, steps)
            self.storage.touched = set()
        return tables

    def _file_home(self, tables: Tables, keys: list[str]) -> None:
        """Records filed under a key other than their paper's (a hand-edited store): each is moved to
        its paper's key, or, when the paper has a record there already, merged into it as a merge of
        two copies would (later changes win, both notes kept, tags as sets); written whole under the
        paper's key with the next change to it. A warning names the paper either way.

        Left where it was, the next change would start a fresh, empty record under the paper's key
        and the misfiled one, with its annotations, would be shadowed.
        """
        papers = tables.get(PAPERS, {})
        found: list[str] = []
        for key in keys:
            doc = papers.get(key)
            if doc is None:
                continue
            home = str(id_number(doc["id"]))
            if home == key:
                continue
            papers.pop(key)
            named = f"{self.path}: paper {clean_line(doc['id'])[:40]}"
            if home not in papers:
                papers[home] = doc
                self._moved[home] = key
                found.append(f"{named}: its record was filed under {clean_line(key)[:40]}; read as the paper's own")
            else:
                papers[home] = _folded(papers[home], doc)
                self._moved[home] = key
                found.append(
                    f"{named}: a second record (under {clean_line(key)[:40]}) was merged into its own "
                    "(later changes win, both notes kept)"
                )
        for warning in found:
            if warning not in self.warnings:
                self.warnings.append(warning)
                _UNTOLD.append(warning)

    def _check_others(self, tables: Tables, steps: set[str] | None = None) -> None:
        """Settings and journal steps of the wrong shape: set aside (in the ``set_aside`` table) with a warning.

        ``steps``: the journal steps to check (the ones a change touched; None: every one).
        """
        found: list[str] = []
        aside = tables.setdefault(SET_ASIDE, {})
        settings = tables.get(SETTINGS, {}).get("1")
        if settings is not None:
            for name, expected in SETTING_TYPES.items():
                if name in settings and not isinstance(settings[name], expected[0]):
                    found.append(f"{self.path}: setting {name} is not {expected[1]}; set aside")
                    aside.setdefault("settings", {})[name] = settings.pop(name)
        journal = tables.get(JOURNAL, {})
        for key in list(journal) if steps is None else [k for k in steps if k in journal]:
            step = journal[key]
            if not (
                key.isdigit()
                and isinstance(step.get("label"), str)
                and all(
                    isinstance(step.get(side), dict) and all(isinstance(v, dict) for v in step[side].values())
                    for side in ("before", "after")
                )
            ):
                found.append(f"{self.path}: undo step {key} is not a list of changes; set aside")
                aside.setdefault("journal", {})[key] = journal.pop(key)
        if not aside:
            tables.pop(SET_ASIDE, None)
        for warning in found:
            if warning not in self.warnings:
                self.warnings.append(warning)
                _UNTOLD.append(warning)

    def _doc(self, pid: str) -> dict[str, Any] | None:
        return self._tables().get(PAPERS, {}).get(str(id_number(pid)))

    def _read_at(self, pid: str, doc: dict[str, Any] | None) -> str | None:
        if marksfile.fits(pid):
            minute = self.marks.read.get(pid)
            return marksfile.time_of(minute) if minute is not None else None
        return doc.get("read_at") if doc else None

    def _public(self, doc: dict[str, Any]) -> dict[str, Any]:
        out = dict(doc)
        out["read_at"] = self._read_at(doc["id"], doc)
        return out

    def _refresh(self) -> None:
        self._tables()
        self.marks.refresh()

    def records(self) -> dict[str, dict[str, Any]]:
        """Every record (annotated or only read) as plain data, keyed by paper id (a fresh read if another
        process wrote). For scripts and tests: it builds a dict per read mark (seconds at a million);
        the program itself reads annotations(), read_ids() and is_read()."""
        self._refresh()
        out = {doc["id"]: self._public(doc) for doc in self._tables().get(PAPERS, {}).values()}
        for pid, minute in self.marks.read.items():
            if pid not in out:
                record = empty_record(pid)
                record["read_at"] = marksfile.time_of(minute)
                out[pid] = record
        return out

    def documents(self) -> dict[str, dict[str, Any]]:
        """The stored paper documents as checked on load (with their change times), keyed by paper id."""
        return {doc["id"]: doc for doc in self._tables().get(PAPERS, {}).values()}

    def annotations(self) -> dict[str, Annotation]:
        """The papers with a stored record (annotated, or a snapshot), typed, keyed by paper id.

        Papers only marked read are not here (see read_ids). An unchanged record comes back as
        the same object as last time, so a caller can tell what changed by identity. Kept up to
        date change by change: a call costs what changed since the last one, never the read marks.
        """
        self._refresh()
        papers = self._tables().get(PAPERS, {})
        dirty, self._typed_dirty = self._typed_dirty, set()
        reads = self.marks.take_touched()
        typed = self._typed
        if dirty is None or reads is None:
            typed.clear()
            self._typed_pid.clear()
            dirty = set(papers)
        for key in dirty:
            old = self._typed_pid.pop(key, None)
            if old is not None:
                typed.pop(old, None)
            doc = papers.get(key)
            if doc is not None:
                typed[doc["id"]] = self._typed_one(doc)
                self._typed_pid[key] = doc["id"]
        for pid in reads or ():
            known = typed.get(pid)
            if known is not None and marksfile.fits(pid):
                read_at = self._read_at(pid, None)
                if known.read_at != read_at:
                    typed[pid] = replace(known, read_at=read_at)
        return dict(typed)

    def _typed_one(self, doc: dict[str, Any]) -> Annotation:
        typed = Annotation.of(doc)
        pid = doc["id"]
        if marksfile.fits(pid):  # its read mark is in the marks file, not in the document
            read_at = self._read_at(pid, None)
            typed = typed if typed.read_at == read_at else replace(typed, read_at=read_at)
        return typed

    def annotation(self, pid: str) -> Annotation | None:
        """One paper's typed record (a paper only marked read has one with just ``read_at``), or None."""
        record = self.get(pid)
        return Annotation.of(record) if record is not None else None

    def read_marks(self) -> dict[str, int]:
        """Paper id -> minute (since 1970, UTC) it was marked read; the live dict, do not change it.

        Ids too long for the marks file are not here (their mark is in their record): see read_ids.
        """
        self.marks.refresh()
        return self.marks.read

    def read_ids(self) -> ReadIds:
        """The ids of every paper marked read, as a live set (no copy: it follows later marks)."""
        return ReadIds(self)

    def read_at(self, pid: str) -> str | None:
        """When the paper was marked read (ISO time, UTC), or None (no file access)."""
        if marksfile.fits(pid):
            minute = self.marks.read.get(pid)
            return marksfile.time_of(minute) if minute is not None else None
        doc = (self.storage.tables or {}).get(PAPERS, {}).get(str(id_number(pid)))
        value = doc.get("read_at") if doc is not None and doc["id"] == pid else None
        return value if isinstance(value, str) else None

    def is_read(self, pid: str) -> bool:
        """True when the paper is marked read (no file access)."""
        if marksfile.fits(pid):
            return pid in self.marks.read
        doc = (self.storage.tables or {}).get(PAPERS, {}).get(str(id_number(pid)))
        return bool(doc and doc["id"] == pid and doc.get("read_at"))

    def get(self, pid: str) -> dict[str, Any] | None:
        """The record for one paper id, or None."""
        self._refresh()
        doc = self._doc(pid)
        if doc is not None and doc["id"] == pid:
            return self._public(doc)
        read_at = self._read_at(pid, None)
        if read_at or (marksfile.fits(pid) and self.marks.known(pid)):
            record = empty_record(pid)
            record["read_at"] = read_at
            return record
        return None

    def changed(self) -> bool:
        """True when another process changed the store since we last looked."""
        return self.storage.changed() or self.marks.changed()

    # -- writing -------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's lock (every change is made holding it; reads never take it)."""
        if self.readonly:
            raise StoreError(self.path, "store is open read-only")
        path = lock_path(self.target)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreError(self.path, f"cannot lock the store: {err.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        except BaseException:
            self.storage.tables = None  # a transaction that failed half-way: read afresh next time
            self.storage.version += 1
            raise
        finally:
            os.close(fd)

    def _check(self, what: str, text: str) -> str:
        return check_text(self.path, what, text)

    def _apply(
        self,
        tables: Tables,
        ops: list[list[Any]],
        events: list[tuple[str, int, int]],
        key: str,
        pid: str,
        fields: dict[str, Any],
        stamp: str,
        when: dict[str, Any] | None = None,
    ) -> None:
        """Queue the writes that give paper ``pid`` these field values (read_at goes to the marks file).

        Each changed field is stamped ``stamp``; ``when`` (a merge) gives fields and tags their
        own times instead: ``{"times": {field: time}, "tag_times": {tag: [time, present]}}``.
        """
        when = when or {}
        patch = {k: v for k, v in fields.items() if k != "read_at" or not marksfile.fits(pid)}
        if "read_at" in fields and marksfile.fits(pid):
            value = fields["read_at"]
            if value:
                events.append((pid, marksfile.READ, marksfile.minute_of(value)))
            else:
                events.append((pid, marksfile.UNREAD, marksfile.minute_of(stamp)))
        if not patch:
            return
        doc = tables.setdefault(PAPERS, {}).get(key)
        misfiled = self._moved.pop(key, None)
        if misfiled is not None and doc is not None and doc["id"] == pid:
            # Read from another key on load: written whole under its own key now, the old one removed.
            if misfiled not in tables[PAPERS]:
                ops.append(["d", PAPERS, misfiled])
            ops.append(["r", PAPERS, key, doc])
        times = dict(doc.get("times") or {}) if doc is not None and doc["id"] == pid else {}
        aside = doc.get(SET_ASIDE) if doc is not None and doc["id"] == pid else None
        if isinstance(aside, dict) and any(field in aside for field in patch):
            # A field repaired on load is overwritten now: its original goes to the file with it.
            patch = {**patch, SET_ASIDE: aside}
        for field in patch:
            if field in STEP_FIELDS:
                times[field] = stamp
        if doc is None or doc["id"] != pid:
            doc = {**empty_record(pid), "first_seen": stamp}
            if marksfile.fits(pid):
                doc.pop("read_at")
            patch = {**doc, **patch}
        if "tags" in patch:
            tag_times = dict(doc.get("tag_times") or {})
            old = {t.casefold() for t in doc.get("tags", [])}
            new = {t.casefold() for t in patch["tags"]}
            for tag in old ^ new:
                tag_times[tag] = [stamp, int(tag in new)]
            tag_times.update(when.get("tag_times") or {})
            patch["tag_times"] = tag_times
        times.update({k: v for k, v in (when.get("times") or {}).items() if k in patch})
        patch["times"] = times
        ops.append(["p", PAPERS, key, patch])
        tables[PAPERS][key] = {**doc, **patch}

    def _commit(self, ops: list[list[Any]], events: list[tuple[str, int, int]]) -> None:
        """Write read marks, then the annotations and journal line; both fsync'd before returning."""
        self.marks.append(events)
        self.storage.commit(ops)

    def _journal_step(self, tables: Tables, ops: list[list[Any]], entry: dict[str, Any]) -> None:
        """Add a journal step: the redo side is dropped, the oldest steps beyond JOURNAL_LENGTH go."""
        journal = tables.setdefault(JOURNAL, {})
        steps = sorted(((int(k), doc) for k, doc in journal.items() if k.isdigit()), key=lambda kv: kv[0])
        for seq, doc in steps:
            if doc.get("side") == "redo":
                ops.append(["d", JOURNAL, str(seq)])
                journal.pop(str(seq))
        undo = [seq for seq, doc in steps if doc.get("side") != "redo"]
        for seq in undo[: max(0, len(undo) + 1 - JOURNAL_LENGTH)]:
            ops.append(["d", JOURNAL, str(seq)])
            journal.pop(str(seq))
        seq = (steps[-1][0] + 1) if steps else 1
        doc = {**entry, "side": "undo"}
        ops.append(["r", JOURNAL, str(seq), doc])
        journal[str(seq)] = doc

    def transaction(
        self,
        changes: Sequence[tuple[Paper | str, Callable[[dict[str, Any]], None]]],
        step: str | None,
        sync: bool = True,
        settings: SettingsChange | None = None,
    ) -> list[dict[str, Any]]:
        """Apply each change to its paper's record under the lock; one journal step when ``step`` names one.

        ``settings`` gets the settings and their times as they are under the lock and returns
        the ones to change (name -> (value or None to remove, its time)): in the same step.
        Returns the records as they are after it, in the order of ``changes``.
        """
        with self.lock(), quiet_gc():
            self.storage.refresh()
            tables = self._tables()
            self.marks.refresh()
            stamp = now()
            ops: list[list[Any]] = []
            events: list[tuple[str, int, int]] = []
            before_all: dict[str, dict[str, Any]] = {}
            after_all: dict[str, dict[str, Any]] = {}
            out_keys: list[tuple[str, str]] = []
            for paper, change in changes:
                pid = paper if isinstance(paper, str) else paper.id
                key = str(id_number(pid))
                doc = tables.get(PAPERS, {}).get(key)
                current = self._public(doc) if doc is not None and doc["id"] == pid else empty_record(pid)
                if doc is None or doc["id"] != pid:
                    current["read_at"] = self._read_at(pid, None)
                record = {k: (list(v) if isinstance(v, list) else v) for k, v in current.items()}
                change(record)
                for field in ("note", "link", "title", "abstract"):
                    if record.get(field) != current.get(field):
                        self._check(field, str(record[field]))
                record["tags"] = [self._check("tag", t) for t in record.get("tags", [])]
                if (
                    isinstance(paper, Paper)
                    and is_kept(record)
                    and (record.get("title") != paper.title or record.get("abstract") != paper.abstract)
                ):
                    # A snapshot, so a bookmark outlives the digest it came from (written once).
                    record["title"], record["abstract"] = paper.title, paper.abstract
                when = {"times": record.pop("_times", None), "tag_times": record.pop("_tag_times", None)}
                changed = {k: v for k, v in record.items() if current.get(k) != v and k not in ("times", "tag_times")}
                if changed:
                    self._apply(tables, ops, events, key, pid, changed, stamp, when)
                    step_fields = [f for f in changed if f in STEP_FIELDS]
                    if step_fields:
                        before_all.setdefault(key, {"id": pid}).update({f: current.get(f) for f in step_fields})
                        after_all.setdefault(key, {"id": pid}).update({f: changed[f] for f in step_fields})
                out_keys.append((key, pid))
            setting_steps: dict[str, dict[str, Any]] = {}
            if settings is not None:
                values, times = self.settings()
                wanted = {k: v for k, v in settings(values, times).items() if values.get(k) != v[0]}
                if wanted:
                    self._set_settings(
                        tables, ops, {k: v for k, (v, _) in wanted.items()}, {k: t for k, (_, t) in wanted.items()}
                    )
                    setting_steps = {
                        "before": {k: values.get(k) for k in wanted},
                        "after": {k: v for k, (v, _) in wanted.items()},
                    }
            if ops or events:
                self.storage.backup()
            if step is not None and (after_all or setting_steps):
                entry = {"label": step, "before": before_all, "after": after_all, "at": stamp}
                if setting_steps:
                    entry["settings"] = setting_steps
                self._journal_step(tables, ops, entry)
            self.marks.append(events, sync=sync)
            self.storage.commit(ops)
            return [self._record_now(key, pid) for key, pid in out_keys]

    def _record_now(self, key: str, pid: str) -> dict[str, Any]:
        doc = (self.storage.tables or {}).get(PAPERS, {}).get(key)
        if doc is not None and doc["id"] == pid:
            return self._public(doc)
        record = empty_record(pid)
        record["read_at"] = self._read_at(pid, None)
        return record

    def update_many(
        self,
        papers: Sequence[Paper | str],
        change: Callable[[dict[str, Any]], None],
        label: str | None = None,
    ) -> list[dict[str, Any]]:
        """Apply ``change`` to the records of several papers in one transaction; return them.

        With a ``label`` the change is one step of the undo journal (kept in the store).
        """
        return self.transaction([(paper, change) for paper in papers], label)

    def update(
        self, paper: Paper | str, change: Callable[[dict[str, Any]], None], label: str | None = None
    ) -> dict[str, Any]:
        """Apply ``change`` to one paper's record in a transaction; return the new record."""
        return self.update_many([paper], change, label)[0]

    def undo(self) -> str | None:
        """Undo the last journal step (this or another process's); its label, or None."""
        return self._replay("undo")

    def redo(self) -> str | None:
        """Redo the last undone step; its label, or None."""
        return self._replay("redo")

    def _replay(self, side: str) -> str | None:
        with self.lock():
            self.storage.refresh()
            tables = self._tables()
            self.marks.refresh()
            journal = tables.get(JOURNAL, {})
            steps = sorted(
                (int(k), doc) for k, doc in journal.items() if k.isdigit() and doc.get("side", "undo") == side
            )
            if not steps:
                return None
            seq, entry = steps[-1] if side == "undo" else steps[0]
            values = entry["before"] if side == "undo" else entry["after"]
            stamp = now()
            ops: list[list[Any]] = []
            events: list[tuple[str, int, int]] = []
            for key, fields in values.items():
                pid = fields.get("id") or (tables.get(PAPERS, {}).get(key) or {}).get("id", "")
                self._apply(tables, ops, events, key, pid, {k: v for k, v in fields.items() if k != "id"}, stamp)
            setting_steps = entry.get("settings")
            if isinstance(setting_steps, dict) and isinstance(
                setting_steps.get("before" if side == "undo" else "after"), dict
            ):
                self._set_settings(tables, ops, setting_steps["before" if side == "undo" else "after"], stamp)
            moved = {**entry, "side": "redo" if side == "undo" else "undo"}
            ops.append(["r", JOURNAL, str(seq), moved])
            journal[str(seq)] = moved
            self._commit(ops, events)
            return str(entry["label"])

    def journal(self) -> dict[str, list[str]]:
        """Labels of what can be undone and redone, oldest first (the last redo label is redone next)."""
        steps = sorted((int(k), doc) for k, doc in self._tables().get(JOURNAL, {}).items() if k.isdigit())
        undo = [str(doc["label"]) for _, doc in steps if doc.get("side", "undo") == "undo"]
        redo = [str(doc["label"]) for _, doc in reversed(steps) if doc.get("side") == "redo"]
        return {"undo": undo, "redo": redo}

    def set_bookmark(self, paper: Paper | str, on: bool) -> Annotation:
        """Bookmark a paper (keeping the first bookmark time) or remove the bookmark."""
        return self.set_bookmarks([paper], on)[0]

    def set_bookmarks(self, papers: Sequence[Paper | str], on: bool) -> list[Annotation]:
        """Bookmark several papers (or remove their bookmarks) in one undoable step."""

        def change(r: dict[str, Any]) -> None:
            r["bookmarked_at"] = (r.get("bookmarked_at") or now()) if on else None

        return _typed(self.update_many(papers, change, label("bookmark" if on else "bookmark removed", papers)))

    def add_tags(self, paper: Paper | str, tags: list[str]) -> Annotation:
        """Add tags (case-insensitively unique, order kept)."""
        return self.add_tags_many([paper], tags)[0]

    def add_tags_many(self, papers: Sequence[Paper | str], tags: list[str]) -> list[Annotation]:
        """Add tags to several papers in one undoable step."""
        tags = [self._check("tag", t) for t in tags]
        name = label("tag " + " ".join("#" + t for t in clean_tags(tags)), papers)
        return _typed(
            self.update_many(papers, lambda r: r.__setitem__("tags", clean_tags(r.get("tags", []) + tags)), name)
        )

    def remove_tags(self, paper: Paper | str, tags: list[str]) -> Annotation:
        """Remove tags, matched case-insensitively."""
        tags = [self._check("tag", t) for t in tags]
        gone = {t.casefold() for t in clean_tags(tags)}
        name = label("untag " + " ".join("#" + t for t in clean_tags(tags)), [paper])
        return Annotation.of(
            self.update(
                paper, lambda r: r.__setitem__("tags", [t for t in r.get("tags", []) if t.casefold() not in gone]), name
            )
        )

    def set_note(self, paper: Paper | str, note: str) -> Annotation:
        """Replace the paper's note ('' clears it)."""
        self._check("note", note)
        return Annotation.of(self.update(paper, lambda r: r.__setitem__("note", note), label("note", [paper])))

    def set_link(self, paper: Paper | str, link: str) -> Annotation:
        """Attach the user's own link ('' clears it)."""
        self._check("link", link)
        return Annotation.of(self.update(paper, lambda r: r.__setitem__("link", link.strip()), label("link", [paper])))

    def mark_read(self, papers: Sequence[Paper | str], read: bool = True, undoable: bool = False) -> list[Annotation]:
        """Mark papers read (keeping the first read time) or unread; on disk before this returns.

        ``undoable``: one journal step that undo reverses (``R``, marking unread), unlike the
        read mark the cursor leaves moving onto a paper.
        """
        self.flush()

        def change(r: dict[str, Any]) -> None:
            r["read_at"] = (r.get("read_at") or now()) if read else None

        name = label("read" if read else "unread", papers) if undoable else None
        return _typed(self.update_many(papers, change, name))

    def mark_read_later(self, paper: Paper | str) -> None:
        """Mark one paper read now in memory; written within FLUSH_SECONDS on a background thread.

        For the cursor landing on a paper: the key returns without waiting for the disk. A
        power cut may lose the last half second of such marks; ``flush()`` (and ``close()``) write them.
        """
        pid = paper if isinstance(paper, str) else paper.id
        if self.readonly or self.is_read(pid):
            return
        if not marksfile.fits(pid):
            self.mark_read([pid])
            return
        minute = int(time.time()) // 60
        with self._pending_lock:
            if not self._pending and not self._exit_hook:
                atexit.register(self.flush)  # a normal exit (quit, SIGTERM handled by the app) writes them
                self._exit_hook = True
            self._pending.append((pid, marksfile.READ, minute))
            self.marks.note_read(pid, minute)
            if self._flusher is None:
                self._flusher = threading.Timer(FLUSH_SECONDS, self._flush_later)
                self._flusher.daemon = True
                self._flusher.start()

    def _flush_later(self) -> None:
        """The timer's flush: a failure keeps the marks waiting (the next mark, flush or exit tries again)."""
        with self._pending_lock:
            self._flusher = None
        try:
            self.flush()
        except StoreError as err:
            with self._pending_lock:
                self._pending[:0] = err.pending if isinstance(err, _Unwritten) else []

    def flush(self) -> None:
        """Write read marks waiting from ``mark_read_later``."""
        with self._pending_lock:
            pending, self._pending = self._pending, []
            if self._flusher is not None:
                self._flusher.cancel()
                self._flusher = None
        if pending:
            # Only written here (this may be the timer's thread): the owner's next read folds them in.
            try:
                with self.lock():
                    self.marks.append(pending, fold=False)
            except StoreError as err:
                raise _Unwritten(err, pending) from None

    def close(self) -> None:
        """Write what is waiting; the store stays usable."""
        self.flush()

    def import_records(self, items: Sequence[Annotation], step: str | None = None) -> list[Annotation]:
        """Merge exported records in, all in one transaction and one undo step (nothing here is dropped)."""
        changes = [(item.id.strip().lower(), _merge_change(item)) for item in items]
        name = step or f"import · {len(items)} paper{'s' if len(items) != 1 else ''}"
        return _typed(self.transaction(changes, name)) if changes else []

    def merge(self, record: Annotation) -> Annotation:
        """Merge one exported record in (one undo step): tags united, nothing that is here dropped."""
        return self.import_records([record], step=label("import", [record.id.strip().lower()]))[0]

    def seen(self) -> dict[str, str]:
        """When each paper was first seen in a digest: paper id -> ISO date (the live dict: do not change it)."""
        self.marks.refresh()
        long_ids = self._tables().get(SEEN, {}).get("1", {})
        return {**self.marks.seen_day, **long_ids} if long_ids else self.marks.seen_day

    def seen_of(self, pids: Iterable[str]) -> dict[str, str]:
        """When each of these papers was first seen (paper id -> ISO date; those the store knows)."""
        self.marks.refresh()
        pids = list(pids)
        out = self.marks.seen_of(pids)
        long_ids = self._tables().get(SEEN, {}).get("1", {})
        if long_ids:
            out.update((pid, long_ids[pid]) for pid in pids if pid in long_ids)
        return out

    def first_seen_days(self, pids: list[str]) -> np.ndarray:
        """Per paper id, the day (counted from 1970-01-01) the store says it was first seen; NO_DAY where none.

        In numpy, a million ids at once: what a lazy look at every open paper's date costs."""
        self.marks.refresh()
        ids, where = marksfile.fitting(pids)
        found = self.marks.first_seen(ids)
        if where is None:
            minutes = found
        else:
            minutes = np.full(len(pids), marksfile.NO_MINUTE, dtype=np.int64)
            minutes[where] = found
            long_ids = self._tables().get(SEEN, {}).get("1", {})
            if long_ids:
                fit = np.zeros(len(pids), bool)
                fit[where] = True
                for k in np.flatnonzero(~fit).tolist():
                    day = long_ids.get(pids[k])
                    if isinstance(day, str):
                        minutes[k] = marksfile.minute_of(day[:10])
        days = minutes // MINUTES_A_DAY
        days[minutes == marksfile.NO_MINUTE] = NO_DAY
        return days

    def digest_stored(self, key: bytes) -> bool:
        """True when the papers of the digest file with this key (its stat signature, see Sighting)
        have their first-seen dates stored: opening it again has nothing to write."""
        return self.marks.digest_minute(marksfile.digest_marker(key)) is not None

    def record_sightings(self, sightings: Sequence[Sighting]) -> None:
        """Store each sighting's day as its papers' first-seen date where no earlier one is stored,
        and mark each file that has a key as stored (see digest_stored); one write for them all."""
        if not sightings:
            return
        with self.lock():
            self.marks.refresh()
            stored_long = self._tables().get(SEEN, {}).get("1", {})
            new_ids, new_minutes = [], []
            long_new: dict[str, str] = {}
            for sighting in sightings:
                minute = marksfile.minute_of(sighting.day[:10])
                ids, where = marksfile.fitting(sighting.pids)
                later = self.marks.first_seen(ids) > minute
                new_ids.append(ids[later])
                new_minutes.append(np.full(int(later.sum()), minute, dtype=np.int64))
                if where is not None:
                    fit = np.zeros(len(sighting.pids), bool)
                    fit[where] = True
                    for k in np.flatnonzero(~fit).tolist():
                        pid = sighting.pids[k]
                        if sighting.day < min(stored_long.get(pid, "~"), long_new.get(pid, "~")):
                            long_new[pid] = sighting.day
                if sighting.key:
                    marker = marksfile.digest_marker(sighting.key)
                    if self.marks.digest_minute(marker) is None:
                        new_ids.append(np.array([marker], dtype=marksfile.RECORD["id"]))
                        new_minutes.append(np.array([minute], dtype=np.int64))
            ids = np.concatenate(new_ids) if new_ids else np.empty(0, marksfile.RECORD["id"])
            if len(ids):
                self.marks.append(marksfile.seen_events(ids, np.concatenate(new_minutes)))
            if self.marks.seen_disorder > marksfile.SEEN_DISORDER:
                self.marks.compact()  # dates in the order an older version wrote them: sorted once
            if long_new:
                self.storage.refresh()
                self._tables()
                self.storage.commit([["p", SEEN, "1", long_new]])

    def record_seen(self, dates: dict[str, str]) -> dict[str, str]:
        """Remember first-seen dates, keeping the earliest known; returns the first-seen dates of these papers."""
        known = self.seen_of(dates)
        new = {pid: day for pid, day in dates.items() if (pid not in known or day < known[pid]) and marksfile.fits(pid)}
        long_ids = {pid: day for pid, day in dates.items() if not marksfile.fits(pid)}
        stored_long = self._tables().get(SEEN, {}).get("1", {})
        long_new = {pid: day for pid, day in long_ids.items() if pid not in stored_long or day < stored_long[pid]}
        if not new and not long_new:
            return {**dates, **known}
        minutes: dict[str, int] = {}
        for day in new.values():
            if day not in minutes:
                minutes[day] = marksfile.minute_of(day[:10])
        with self.lock():
            if new:
                ids = marksfile.id_array(list(new))
                self.marks.append(marksfile.seen_events(ids, np.array([minutes[d] for d in new.values()], np.int64)))
            if long_new:
                self.storage.refresh()
                self._tables()
                self.storage.commit([["p", SEEN, "1", long_new]])
        return {pid: min(day, known.get(pid, day)) for pid, day in dates.items()}

    def setting(self, name: str, default: JSON = None) -> JSON:
        """A user setting kept in the store (the app's theme, for one)."""
        value = self._tables().get(SETTINGS, {}).get("1", {}).get(name)
        return default if value is None or name == SETTING_TIMES else value

    def settings(self) -> tuple[dict[str, JSON], dict[str, str]]:
        """Every setting (name -> value) and when each was last changed (name -> ISO time; '' unknown)."""
        doc = self._tables().get(SETTINGS, {}).get("1", {})
        times = doc.get(SETTING_TIMES)
        stamps = {k: v for k, v in times.items() if isinstance(v, str)} if isinstance(times, dict) else {}
        values = {k: v for k, v in doc.items() if k != SETTING_TIMES and v is not None}
        return values, {name: stamps.get(name, "") for name in values.keys() | stamps.keys()}

    def set_setting(self, name: str, value: object) -> None:
        """Save a user setting in a transaction (stamped with the time, for merging copies)."""
        try:
            orjson.dumps(value)
        except TypeError as err:
            raise InvalidText(self.path, f"setting {name} cannot be saved ({err}); nothing was changed") from None
        with self.lock():
            self.storage.refresh()
            tables = self._tables()
            ops: list[list[Any]] = []
            self._set_settings(tables, ops, {name: value}, now())
            self.storage.commit(ops)

    def _set_settings(
        self, tables: Tables, ops: list[list[Any]], values: dict[str, Any], stamp: str | dict[str, str]
    ) -> None:
        """Queue the write of these settings (None removes one), each stamped ``stamp`` (or its own time)."""
        doc = dict(tables.get(SETTINGS, {}).get("1", {}))
        times = dict(doc.get(SETTING_TIMES) or {})
        for name, value in values.items():
            if value is None:
                doc.pop(name, None)
            else:
                doc[name] = value
            times[name] = stamp if isinstance(stamp, str) else stamp.get(name, now())
        doc[SETTING_TIMES] = times
        ops.append(["r", SETTINGS, "1", doc])
        tables.setdefault(SETTINGS, {})["1"] = doc

    @classmethod
    def detached(cls, path: str | os.PathLike[str]) -> Store:
        """A read-only, empty stand-in for a store that cannot be read: nothing is read or written."""
        store = cls.__new__(cls)
        store.path = Path(path)
        store.target = store.path
        store.readonly = True
        store.storage = LogStorage(store.path, readonly=True)
        store.storage.hold({})
        store.storage.touched = set()
        store.marks = marksfile.Marks(store.path.with_name(store.path.name + ".marks"))
        store.marks.hold([])
        store.db = TinyDB(storage=lambda: store.storage)
        store.table = store.db.table(PAPERS, cache_size=0)
        store.warnings = []
        store._typed, store._typed_pid, store._typed_dirty = {}, {}, None
        store._moved = {}
        store._pending = []
        store._pending_lock = threading.Lock()
        store._flusher = None
        store._exit_hook = False
        return store

    def cleanup_temp_files(self) -> None:
        """Remove temp files a killed writer left beside the store.

        This store's writers make temp files only while holding its lock, so when the lock
        is free every one of them is a leftover, however young. When a writer holds the
        lock (it may own a fresh temp file) and for other stores' files in the same folder,
        only files over a minute old go: no live write takes that long.
        """
        folder = self.target.parent
        if self.readonly or not folder.is_dir():
            return
        try:
            if not any(name.startswith(TMP_PREFIX) for name in os.listdir(folder)):
                return
        except OSError:
            return
        with self._try_lock() as locked, contextlib.suppress(OSError):
            old = time.time() - 60
            for entry in os.scandir(folder):
                if not entry.name.startswith(TMP_PREFIX) or not entry.is_file(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError):
                    if (locked and entry.name.startswith(self.storage.temp_prefix)) or entry.stat().st_mtime < old:
                        os.unlink(entry.path)

    @contextlib.contextmanager
    def _try_lock(self) -> Iterator[bool]:
        """Take the lock if it is free, without waiting; yields whether it was taken."""
        try:
            fd = os.open(lock_path(self.target), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            yield False
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                locked = False
            else:
                locked = True
            yield locked
        finally:
            os.close(fd)

    def compact(self) -> None:
        """Rewrite the annotations file whole (temp, fsync, rename), its old version becoming NAME.bak,
        and the read-marks file with one event per paper (they compact themselves when mostly superseded)."""
        with self.lock():
            self.storage.refresh()
            self.storage.compact(self._tables())
            self.marks.refresh()
            self.marks.compact()

    def write_whole(self, tables: Tables) -> None:
        """Replace the annotations file with these tables (migration and merge use it; the caller holds the lock)."""
        check_tables(self.target, tables)
        self.storage.compact(tables)


def _folded(mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Two records of one paper as one, by the rules a merge of two copies follows (reader.store.folding)."""
    record = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v) for k, v in mine.items()}
    fold_change(theirs)(record)
    for field, folded in (("times", "_times"), ("tag_times", "_tag_times")):
        stamps: dict[str, Any] = dict(record.get(field) or {})
        stamps.update(record.pop(folded, None) or {})
        record[field] = stamps
    if not record.get("read_at") and theirs.get("read_at"):
        record["read_at"] = theirs["read_at"]
    return record


def _typed(records: list[dict[str, Any]]) -> list[Annotation]:
    return [Annotation.of(r) for r in records]


def _merge_change(item: Annotation) -> Callable[[dict[str, Any]], None]:
    """The change that folds one exported record into a stored one: nothing that is here is dropped."""

    def change(r: dict[str, Any]) -> None:
        r["tags"] = clean_tags(r.get("tags", []) + list(item.tags))
        if item.bookmarked_at:
            r["bookmarked_at"] = r.get("bookmarked_at") or item.bookmarked_at
        note = item.note
        if note and not r.get("note"):
            r["note"] = note
        elif note and note not in r["note"]:
            r["note"] = r["note"] + "\n\n" + note
        if item.link and not r.get("link"):
            r["link"] = item.link
        if item.read_at and not r.get("read_at"):
            r["read_at"] = item.read_at
        theirs = item.first_seen
        if theirs and theirs < (r.get("first_seen") or "~"):
            r["first_seen"] = theirs  # the earliest sighting wins
        if not r.get("title"):
            r["title"], r["abstract"] = item.title, item.abstract

    return change


def tag_counts(tag_lists: Iterable[Iterable[str]]) -> dict[str, int]:
    """How many papers carry each tag (first spelling seen wins), most used first; one list of tags per paper."""
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for tags in tag_lists:
        for tag in tags:
            key = tag.casefold()
            names.setdefault(key, tag)
            counts[names[key]] = counts.get(names[key], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold())))
