"""The schema-1 Store as it was before issue 11 (one JSON file rewritten whole per change), kept only
so benchmarks/store.py can measure it side by side with the store of today. Not used by paper-reader."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from tinydb import TinyDB
from tinydb.storages import Storage

from reader.paper import Paper, id_number

try:  # orjson is several times faster on big stores; json is the fallback.
    import orjson

    def _dumps(data: Any) -> bytes:
        return orjson.dumps(data)

    def _loads(data: bytes) -> Any:
        return orjson.loads(data)

except ImportError:  # pragma: no cover - orjson is a dependency

    def _dumps(data: Any) -> bytes:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _loads(data: bytes) -> Any:
        return json.loads(data.decode("utf-8"))


SCHEMA = 1
PAPERS = "papers"
META = "meta"
SETTINGS = "settings"
JOURNAL = "journal"
SEEN = "seen"
JOURNAL_LENGTH = 100  # undo steps kept
ENV_VAR = "PAPER_READER_DB"
TMP_PREFIX = ".paper-reader-tmp-"


class StoreError(Exception):
    """The store cannot be read or written; ``str()`` is ``PATH: what is wrong``."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(f"{os.fspath(path)}: {message}")
        self.path = os.fspath(path)
        self.message = message


class StoreCorrupt(StoreError):
    """The store file exists but does not parse, or is from a newer schema."""


def default_path() -> Path:
    """Where the store lives: ``$PAPER_READER_DB`` or the user data folder."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir("paper-reader", appauthor=False)) / "store.json"


def now() -> str:
    """The current time as an ISO 8601 string in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class AtomicStorage(Storage):
    """TinyDB storage that reads through a cache keyed on the file's stat and writes atomically."""

    def __init__(self, path: str, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._data: dict[str, Any] | None = None
        self._stamp: tuple[int, int, int] | None = None
        # The bytes ``_data`` was parsed from or written as: a transaction that finds the
        # file byte for byte the same can skip parsing it again (the slow part of a big store).
        self._raw: bytes | None = None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StoreError(self.path, f"cannot read store: {err.strerror}") from None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def changed(self) -> bool:
        """True when the file on disk is not what this process last read or wrote."""
        return self._data is None or self._stat() != self._stamp

    def reload(self) -> dict[str, Any]:
        """Read the file afresh, whatever the cache says.

        Transactions call this under the lock: a file's (inode, size, mtime) can repeat
        (inodes are reused, coarse timestamps), so the stamp alone could hide another
        process's write and this one would then drop it. The contents cannot: when the
        file holds exactly the bytes last read or written here, the cache is kept.
        """
        raw = self._raw
        if self._data is not None and raw is not None:
            try:
                same = self.path.read_bytes() == raw
            except OSError:
                same = False
            if same:
                self._stamp = self._stat()
                return self._data
        self.forget()
        return self.read()

    def forget(self) -> None:
        """Drop the cache: the next read parses the file."""
        self._data = self._stamp = self._raw = None

    def read(self) -> dict[str, Any]:
        stamp = self._stat()
        if self._data is not None and stamp == self._stamp:
            return self._data
        if stamp is None:
            data: dict[str, Any] = {}
            self._raw = None
        else:
            data = self._parse()
        self._data, self._stamp = data, stamp
        return data

    def _parse(self) -> dict[str, Any]:
        self._raw = None
        if self.path.is_dir():
            raise StoreError(self.path, "store path is a folder, not a file")
        try:
            raw = self.path.read_bytes()
        except PermissionError:
            raise StoreError(self.path, "permission denied reading the store") from None
        except OSError as err:
            raise StoreError(self.path, f"cannot read store: {err.strerror}") from None
        if not raw.strip():
            # Never written like this: a store cut short. Taking it for a new, empty store
            # would hide every annotation and the next save would make that final.
            raise StoreCorrupt(self.path, "store file is empty (cut short?); it was left as it is" + self._hint())
        self._raw = raw
        try:
            data = _loads(raw)
        except ValueError as err:
            raise StoreCorrupt(self.path, f"store is corrupt ({err}); it was left as it is{self._hint()}") from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise StoreCorrupt(self.path, "store is not a paper-reader store; it was left as it is")
        # Every document must be an object, and every paper record must carry its id and
        # list its tags: a bad entry here would break listing later, far from its cause.
        for name, table in data.items():
            for key, doc in table.items():
                if not isinstance(doc, dict):
                    raise StoreCorrupt(
                        self.path, f"store is corrupt ({name} entry {key} is not an object); it was left as it is"
                    )
                if name == PAPERS and (
                    not isinstance(doc.get("id"), str)
                    or not isinstance(doc.get("tags", []), list)
                    or not all(isinstance(t, str) for t in doc.get("tags", []))
                ):
                    raise StoreCorrupt(
                        self.path, f"store is corrupt (paper entry {key} has no id or bad tags); it was left as it is"
                    )
        meta: dict[str, Any] = next(iter(data.get(META, {}).values()), {})
        schema = meta.get("schema", SCHEMA)
        if not isinstance(schema, int) or isinstance(schema, bool):
            raise StoreCorrupt(self.path, f"store is corrupt (schema {schema!r} is not a number); it was left as it is")
        if schema > SCHEMA:
            raise StoreCorrupt(self.path, f"store has schema {schema}, newer than this paper-reader knows ({SCHEMA})")
        return data

    def _hint(self) -> str:
        """Where the last good version is, for a message about a store that does not parse."""
        backup = self.path.with_name(self.path.name + ".bak")
        with contextlib.suppress(OSError):
            if backup.stat().st_size:
                return f"; the previous version is in {backup}"
        return ""

    @property
    def temp_prefix(self) -> str:
        """How this store's temp files start (other stores in the folder have their own)."""
        return f"{TMP_PREFIX}{self.path.name}-"

    def write(self, data: dict[str, Any]) -> None:
        if self.readonly:
            raise StoreError(self.path, "store is open read-only")
        data.setdefault(META, {"1": {"schema": SCHEMA}})
        payload = _dumps(data)
        folder = self.path.parent
        tmp: str | None = None
        link: Path | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.temp_prefix, dir=folder)
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            link = self._backup_link()
            os.replace(tmp, self.path)
            tmp = None
        except OSError as err:
            # What is in memory was not written: forget it so the next read comes from disk.
            # The store and its backup are as they were; the temp files go.
            self.forget()
            for leftover in (tmp, link):
                if leftover is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(leftover)
            raise StoreError(self.path, f"could not save the store: {err.strerror or err}") from None
        if link is not None:
            # The store that was replaced becomes the backup.
            try:
                os.replace(link, self.path.with_name(self.path.name + ".bak"))
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(link)
        try:
            _fsync_dir(folder)
        except OSError as err:
            self.forget()
            raise StoreError(
                self.path,
                f"the change was written, but the disk reported an error ({err.strerror or err}); "
                "it may not survive a crash",
            ) from None
        self._data, self._stamp, self._raw = data, self._stat(), payload

    def _backup_link(self) -> Path | None:
        """A hard link to the store about to be replaced (renamed to NAME.bak once it is)."""
        try:
            if os.path.getsize(self.path) < 16:
                return None  # no store yet, or one with no record: keep the last good backup
        except OSError:
            return None
        link = self.path.with_name(f"{self.temp_prefix}bak-{os.getpid()}")
        with contextlib.suppress(OSError):
            os.unlink(link)
        try:
            os.link(self.path, link)
        except OSError:
            return None  # no hard links here; the store itself is still written atomically
        return link

    def close(self) -> None:
        pass


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno != errno.EINVAL:  # EINVAL: this file system cannot fsync a folder
            raise
    finally:
        os.close(fd)


def _clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        tag = " ".join(tag.split()).lstrip("#")
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            out.append(tag)
    return out


ANNOTATION_FIELDS = ("id", "bookmarked_at", "tags", "note", "link")


def _annotations(record: dict[str, Any]) -> dict[str, Any]:
    """The fields of a record that undo restores (read marks are not undone)."""
    return {k: (list(record[k]) if isinstance(record.get(k), list) else record.get(k)) for k in ANNOTATION_FIELDS}


def _label(what: str, papers: list[Paper] | list[Paper | str]) -> str:
    """What a journal entry did, for the undo notice: 'bookmark · Title' or 'tag #x · 3 papers'."""
    if len(papers) == 1:
        paper = papers[0]
        name = paper.title if isinstance(paper, Paper) else paper
        return f"{what} · {name[:80]}"
    return f"{what} · {len(papers)} papers"


def _journal(tables: dict[str, Any]) -> dict[str, Any]:
    doc = tables.setdefault(JOURNAL, {}).setdefault("1", {})
    doc.setdefault("undo", [])
    doc.setdefault("redo", [])
    return doc


def empty_record(pid: str) -> dict[str, Any]:
    """A paper's record before any annotation."""
    return {
        "id": pid,
        "title": "",
        "abstract": "",
        "bookmarked_at": None,
        "tags": [],
        "note": "",
        "link": "",
        "first_seen": None,
        "read_at": None,
    }


def is_kept(record: dict[str, Any]) -> bool:
    """True when a record carries something the user made (not only a read mark)."""
    return bool(record.get("bookmarked_at") or record.get("tags") or record.get("note") or record.get("link"))


class Store:
    """Annotations per paper id, safe across processes. Reads never block on the lock."""

    def __init__(self, path: str | os.PathLike[str] | None = None, readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.readonly = readonly
        self.storage = AtomicStorage(str(self.path), readonly)
        self.db = TinyDB(storage=lambda: self.storage)
        self.table = self.db.table(PAPERS, cache_size=0)
        self.cleanup_temp_files()
        self.storage.read()  # fail now, not later, on a corrupt store

    # -- reading -------------------------------------------------------------------
    def records(self) -> dict[str, dict[str, Any]]:
        """Every record, keyed by paper id (a fresh read if another process wrote)."""
        tables = self.storage.read()
        return {doc["id"]: doc for doc in tables.get(PAPERS, {}).values()}

    def get(self, pid: str) -> dict[str, Any] | None:
        """The record for one paper id, or None."""
        doc = self.table.get(doc_id=id_number(pid))
        return dict(doc) if doc is not None else None

    def changed(self) -> bool:
        """True when another process changed the store since we last looked."""
        return self.storage.changed()

    # -- writing -------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        if self.readonly:
            raise StoreError(self.path, "store is open read-only")
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreError(self.path, f"cannot lock the store: {err.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        except BaseException:
            self.storage.forget()  # a transaction that failed half-way may have changed the cache
            raise
        finally:
            os.close(fd)

    def update_many(
        self,
        papers: list[Paper | str],
        change: Callable[[dict[str, Any]], None],
        label: str | None = None,
    ) -> list[dict[str, Any]]:
        """Apply ``change`` to the records of several papers in one transaction; return them.

        With a ``label`` the change goes into the undo journal (kept in the store).
        """
        with self._lock():
            tables = self.storage.reload()  # what other processes wrote, never a stale cache
            raw = tables.setdefault(PAPERS, {})
            out = []
            stamp = now()
            before: dict[str, dict[str, Any]] = {}
            for paper in papers:
                pid = paper if isinstance(paper, str) else paper.id
                key = str(id_number(pid))
                record = dict(raw.get(key) or empty_record(pid))
                before[key] = _annotations(record)
                record["first_seen"] = record.get("first_seen") or stamp
                change(record)
                if isinstance(paper, Paper) and is_kept(record):
                    # A snapshot, so a bookmark outlives the digest it came from.
                    record["title"], record["abstract"] = paper.title, paper.abstract
                raw[key] = record
                out.append(record)
            if label is not None:
                after = {key: _annotations(raw[key]) for key in before}
                if after != before:
                    journal = _journal(tables)
                    journal["undo"] = (journal["undo"] + [{"label": label, "before": before, "after": after}])[
                        -JOURNAL_LENGTH:
                    ]
                    journal["redo"] = []
            self.storage.write(tables)
            self.table.clear_cache()
            return out

    def undo(self) -> str | None:
        """Undo the last journaled change (this or another process's); its label, or None."""
        return self._replay("undo", "redo", "before")

    def redo(self) -> str | None:
        """Redo the last undone change; its label, or None."""
        return self._replay("redo", "undo", "after")

    def _replay(self, source: str, target: str, side: str) -> str | None:
        with self._lock():
            tables = self.storage.reload()
            journal = _journal(tables)
            if not journal[source]:
                return None
            entry = journal[source].pop()
            raw = tables.setdefault(PAPERS, {})
            for key, fields in entry[side].items():
                record = dict(raw.get(key) or empty_record(fields.get("id", "")))
                record.update({k: v for k, v in fields.items() if k != "id"})
                raw[key] = record
            journal[target] = (journal[target] + [entry])[-JOURNAL_LENGTH:]
            self.storage.write(tables)
            self.table.clear_cache()
            return str(entry["label"])

    def journal(self) -> dict[str, list[str]]:
        """Labels of what can be undone and redone, oldest first."""
        journal = self.storage.read().get(JOURNAL, {}).get("1", {})
        return {side: [e["label"] for e in journal.get(side, [])] for side in ("undo", "redo")}

    def update(
        self, paper: Paper | str, change: Callable[[dict[str, Any]], None], label: str | None = None
    ) -> dict[str, Any]:
        """Apply ``change`` to one paper's record in a transaction; return the new record."""
        return self.update_many([paper], change, label)[0]

    def set_bookmark(self, paper: Paper | str, on: bool) -> dict[str, Any]:
        """Bookmark a paper (keeping the first bookmark time) or remove the bookmark."""
        return self.set_bookmarks([paper], on)[0]

    def set_bookmarks(self, papers: list[Paper | str], on: bool) -> list[dict[str, Any]]:
        """Bookmark several papers (or remove their bookmarks) in one undoable step."""

        def change(r: dict[str, Any]) -> None:
            r["bookmarked_at"] = (r.get("bookmarked_at") or now()) if on else None

        return self.update_many(papers, change, _label("bookmark" if on else "bookmark removed", papers))

    def add_tags(self, paper: Paper | str, tags: list[str]) -> dict[str, Any]:
        """Add tags (case-insensitively unique, order kept)."""
        return self.add_tags_many([paper], tags)[0]

    def add_tags_many(self, papers: list[Paper | str], tags: list[str]) -> list[dict[str, Any]]:
        """Add tags to several papers in one undoable step."""
        label = _label("tag " + " ".join("#" + t for t in _clean_tags(tags)), papers)
        return self.update_many(papers, lambda r: r.__setitem__("tags", _clean_tags(r.get("tags", []) + tags)), label)

    def remove_tags(self, paper: Paper | str, tags: list[str]) -> dict[str, Any]:
        """Remove tags, matched case-insensitively."""
        gone = {t.casefold() for t in _clean_tags(tags)}
        label = _label("untag " + " ".join("#" + t for t in _clean_tags(tags)), [paper])
        return self.update(
            paper, lambda r: r.__setitem__("tags", [t for t in r.get("tags", []) if t.casefold() not in gone]), label
        )

    def set_note(self, paper: Paper | str, note: str) -> dict[str, Any]:
        """Replace the paper's note ('' clears it)."""
        return self.update(paper, lambda r: r.__setitem__("note", note), _label("note", [paper]))

    def set_link(self, paper: Paper | str, link: str) -> dict[str, Any]:
        """Attach the user's own link ('' clears it)."""
        return self.update(paper, lambda r: r.__setitem__("link", link.strip()), _label("link", [paper]))

    def mark_read(self, papers: list[Paper | str], read: bool = True) -> list[dict[str, Any]]:
        """Mark papers read (keeping the first read time) or unread."""

        def change(r: dict[str, Any]) -> None:
            r["read_at"] = (r.get("read_at") or now()) if read else None

        return self.update_many(papers, change)

    def merge(self, record: dict[str, Any]) -> dict[str, Any]:
        """Merge an exported record in: tags united, nothing that is here dropped."""

        def change(r: dict[str, Any]) -> None:
            r["tags"] = _clean_tags(r.get("tags", []) + list(record.get("tags") or []))
            if record.get("bookmarked") or record.get("bookmarked_at"):
                r["bookmarked_at"] = r.get("bookmarked_at") or record.get("bookmarked_at") or now()
            if record.get("note") and not r.get("note"):
                r["note"] = record["note"]
            elif record.get("note") and record["note"] not in r["note"]:
                r["note"] = r["note"] + "\n\n" + record["note"]
            if record.get("link") and not r.get("link"):
                r["link"] = record["link"]
            if record.get("read_at") and not r.get("read_at"):
                r["read_at"] = record["read_at"]
            theirs = record.get("first_seen")
            if isinstance(theirs, str) and theirs and theirs < (r.get("first_seen") or "~"):
                r["first_seen"] = theirs  # the earliest sighting wins
            if not r.get("title"):
                r["title"], r["abstract"] = record.get("title", ""), record.get("abstract", "")

        pid = record["id"].strip().lower()
        return self.update(pid, change)

    def seen(self) -> dict[str, str]:
        """When each paper was first seen in a digest: paper id -> ISO date."""
        return dict(self.storage.read().get(SEEN, {}).get("1", {}))

    def record_seen(self, dates: dict[str, str]) -> dict[str, str]:
        """Remember first-seen dates, keeping the earliest known; returns every first-seen date."""
        known = self.seen()
        if all(pid in known and known[pid] <= date for pid, date in dates.items()):
            return known
        with self._lock():
            tables = self.storage.reload()
            seen = tables.setdefault(SEEN, {}).setdefault("1", {})
            for pid, date in dates.items():
                if pid not in seen or date < seen[pid]:
                    seen[pid] = date
            self.storage.write(tables)
            return dict(seen)

    def setting(self, name: str, default: Any = None) -> Any:
        """A user setting kept in the store (the app's theme, for one)."""
        return self.storage.read().get(SETTINGS, {}).get("1", {}).get(name, default)

    def set_setting(self, name: str, value: Any) -> None:
        """Save a user setting in a transaction."""
        with self._lock():
            tables = self.storage.reload()
            tables.setdefault(SETTINGS, {}).setdefault("1", {})[name] = value
            self.storage.write(tables)

    @classmethod
    def detached(cls, path: str | os.PathLike[str]) -> Store:
        """A read-only, empty stand-in for a store that cannot be read: nothing is read or written."""
        store = cls.__new__(cls)
        store.path = Path(path)
        store.readonly = True
        store.storage = AtomicStorage(str(store.path), readonly=True)
        store.storage._data, store.storage._stamp = {}, store.storage._stat()
        store.storage.changed = lambda: False  # type: ignore[method-assign]
        store.storage.read = lambda: {}  # type: ignore[method-assign]
        store.db = TinyDB(storage=lambda: store.storage)
        store.table = store.db.table(PAPERS, cache_size=0)
        return store

    def cleanup_temp_files(self) -> None:
        """Remove temp files a killed writer left beside the store.

        This store's writers make temp files only while holding its lock, so when the lock
        is free every one of them is a leftover, however young. When a writer holds the
        lock (it may own a fresh temp file) and for other stores' files in the same folder,
        only files over a minute old go: no live write takes that long.
        """
        folder = self.path.parent
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
            fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
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


def tag_counts(records: dict[str, dict[str, Any]]) -> dict[str, int]:
    """How many papers carry each tag (first spelling seen wins), most used first."""
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for record in records.values():
        for tag in record.get("tags", []):
            key = tag.casefold()
            names.setdefault(key, tag)
            counts[names[key]] = counts.get(names[key], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold())))
