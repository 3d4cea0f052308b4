"""Schema 1 (one JSON object rewritten whole on every change) to schema 2 (reader.store.logfile + marks).

Done once, under the lock, by the first process that opens the old store for writing: the
old file is kept as ``NAME.schema1.bak`` (never replaced later), read marks and first-seen
dates move to the marks file, the journal's steps become one document each. A read-only
open reads the old store in memory and writes nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import orjson

import reader.store.marks as marksfile
from reader.store.errors import StoreCorrupt
from reader.store.logfile import SCHEMA, LogStorage, NeedsMigration, Tables, check_tables, is_log


class Opening(Protocol):
    """What migrating needs of the store being opened (reader.store.store.Store is one)."""

    target: Path  # the file (a symlink's target)
    readonly: bool
    storage: LogStorage
    marks: marksfile.Marks

    def lock(self) -> AbstractContextManager[None]:
        """Hold the store's lock."""
        ...

    def write_whole(self, tables: Tables) -> None:
        """Replace the annotations file with these tables (the caller holds the lock)."""
        ...


def parse_schema1(store: Opening, raw: bytes) -> Tables:
    """The tables of a schema-1 store, refused as corrupt when they do not parse."""
    path = store.target
    try:
        data: Tables = orjson.loads(raw)  # checked just below
    except orjson.JSONDecodeError as err:
        raise StoreCorrupt(path, f"store is corrupt ({err}); it was left as it is{store.storage.hint()}") from None
    check_tables(path, data)
    meta: dict[str, Any] = next(iter(data.get("meta", {}).values()), {})
    if not isinstance(meta, dict):
        raise StoreCorrupt(path, "store is corrupt (its meta entry is not an object); it was left as it is")
    schema = meta.get("schema", 1)
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise StoreCorrupt(path, f"store is corrupt (schema {schema!r} is not a number); it was left as it is")
    if schema > SCHEMA:
        raise StoreCorrupt(path, f"store has schema {schema}, newer than this paper-reader knows ({SCHEMA})")
    return data


def convert(tables: Tables) -> tuple[Tables, list[tuple[str, int, int]]]:
    """Schema-2 tables and the marks-file events for the same store."""
    events: list[tuple[str, int, int]] = []
    papers: dict[str, dict[str, Any]] = {}
    for key, doc in tables.get("papers", {}).items():
        doc = dict(doc)
        pid = doc["id"]
        read_at = doc.get("read_at")
        if marksfile.fits(pid) and isinstance(read_at, str) and read_at:
            with contextlib.suppress(ValueError):
                events.append((pid, marksfile.READ, marksfile.minute_of(read_at)))
                doc.pop("read_at")
        if any(doc.get(f) for f in ("bookmarked_at", "tags", "note", "link", "title")) or "read_at" in doc:
            papers[key] = doc
    seen_long: dict[str, str] = {}
    for pid, day in (next(iter(tables.get("seen", {}).values()), None) or {}).items():
        if isinstance(day, str) and marksfile.fits(pid):
            with contextlib.suppress(ValueError):
                events.append((pid, marksfile.SEEN, marksfile.minute_of(day[:10])))
                continue
        seen_long[pid] = day
    journal: dict[str, dict[str, Any]] = {}
    old = tables.get("journal", {}).get("1", {})
    if isinstance(old, dict):
        seq = 0
        for side in ("undo", "redo"):
            found = old.get(side)
            steps: list[Any] = found if isinstance(found, list) else []
            for step in steps if side == "undo" else reversed(steps):
                if (
                    isinstance(step, dict)
                    and isinstance(step.get("before"), dict)
                    and isinstance(step.get("after"), dict)
                ):
                    seq += 1
                    journal[str(seq)] = {**step, "label": str(step.get("label", "")), "side": side}
    out: Tables = {"meta": {"1": {"schema": SCHEMA}}, "papers": papers, "journal": journal}
    if isinstance(tables.get("settings", {}).get("1"), dict):
        out["settings"] = {"1": tables["settings"]["1"]}
    if seen_long:
        out["seen"] = {"1": seen_long}
    return out, events


def migrate(store: Opening, raw: bytes) -> None:
    """Open a schema-1 store: in memory when read-only, else converted on disk once (old file kept)."""
    tables = parse_schema1(store, raw)
    converted, events = convert(tables)
    if store.readonly:
        store.storage.hold(converted)
        store.marks.hold(events)
        return
    with store.lock():
        current = store.target.read_bytes()
        if is_log(current):
            store.storage.tables = None  # another process migrated it meanwhile
            store.storage.read()
            return
        if current != raw:
            raise NeedsMigration(current)
        backup = store.target.with_name(store.target.name + ".schema1.bak")
        if not backup.exists():
            tmp = backup.with_name(backup.name + ".tmp")
            shutil.copyfile(store.target, tmp)
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, backup)
        if events:
            store.marks.append(events)
        store.write_whole(converted)
