"""Two machines, one synced folder: find the conflict copies a sync tool left and fold one into the store.

Per field the later change wins, by the time each side stamped it (``times`` in a record);
a note changed on both sides to texts neither of which holds the other keeps both, the
other copy's marked; tags are merged as sets, each tag's latest add or remove winning
(``tag_times``); read marks merge the same way (the later read or unread); first-seen dates
keep the earliest. Settings merge the same way, each by the time it was last changed (a
setting the other copy removed later goes); saved searches merge one by one, each by its
own time, and one deleted later than it was last changed stays deleted. The whole merge
(papers and settings) is one undo step.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reader.store import marks as marksfile
from reader.store.errors import StoreError
from reader.store.folding import fold_change
from reader.store.records import ANNOTATION_FIELDS, JSON
from reader.store.store import SettingsChange, Store

SAVED_SEARCHES = "saved_searches"  # a setting that merges entry by entry

# Syncthing: NAME.sync-conflict-20261129-101500-ABCDEFG.EXT; Dropbox: NAME (Host's conflicted copy
# 2026-11-29).EXT; Nextcloud: NAME (conflicted copy 2026-11-29 101500).EXT or NAME_conflict-20261129-101500.EXT.
CONFLICT = re.compile(
    r"\.sync-conflict-\d{8}-\d{6}(?:-[A-Za-z0-9]+)?"
    r"| \([^()]*conflict[^()]*\)"
    r"|_conflict-\d{8}-\d{6}"
)


@dataclass(frozen=True, slots=True)
class Merged:
    """What a merge did."""

    path: Path
    papers: int  # papers whose annotations or read marks changed
    seen: int  # first-seen dates taken from the other copy
    settings: tuple[str, ...] = ()  # settings taken from the other copy (saved searches among them)
    backup: bool = False  # the copy is one of the store's own backups (kept: never advise deleting it)

    @property
    def message(self) -> str:
        """What to tell the user."""
        what = f"{self.papers} paper{'s' if self.papers != 1 else ''} changed"
        if self.settings:
            what += "; " + ", ".join(name.replace("_", " ") for name in self.settings) + " merged"
        if self.backup:
            return f"merged {self.path}: {what}; it is the store's own backup, keep it"
        return f"merged {self.path}: {what}; once you have checked, delete it"


def conflict_copies(store_path: Path) -> list[Path]:
    """Files beside the store that a sync tool left as conflict copies of it or of its read marks."""
    folder = store_path.parent
    names = {store_path.name, store_path.name + ".marks"}
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    out = []
    for entry in entries:
        if entry.name in names or not CONFLICT.search(entry.name):
            continue
        if CONFLICT.sub("", entry.name) in names and entry.is_file():
            out.append(entry)
    return out


def _read_change(theirs_at: str | None) -> Callable[[dict[str, Any]], None]:
    def change(r: dict[str, Any]) -> None:
        r["read_at"] = theirs_at

    return change


def merge_copy(store: Store, path: Path) -> Merged:
    """Fold another copy of the store (its annotations file or its read-marks file) into ``store``."""
    if not path.is_file():
        raise StoreError(path, "no such file" if not path.exists() else "not a regular file")
    own = _own_file(store, path)
    if own == "store":
        raise StoreError(path, "this is the store itself; give a copy of it (a sync tool's conflict copy)")
    with open(path, "rb") as handle:
        head = handle.read(len(marksfile.MAGIC))
    if head == marksfile.MAGIC:
        return _merge_marks(store, path, own == "backup")
    other = Store(path, readonly=True)
    docs = other.documents()  # checked like our own
    changes: list[tuple[str, Callable[[dict[str, Any]], None]]] = [(pid, fold_change(doc)) for pid, doc in docs.items()]
    before = {pid: store.get(pid) for pid in docs}
    label = f"merge · {path.name[:60]}"
    taken: list[str] = []
    settings = _settings_change(*other.settings(), taken)
    after = store.transaction(changes, label, settings=settings)
    changed = sum(1 for record in after if _differs(before.get(record["id"]), record))
    return Merged(path, changed, 0, tuple(sorted(taken)), backup=own == "backup")


def _own_file(store: Store, path: Path) -> str:
    """'store' when ``path`` is the store's annotations or read-marks file (by any name or link),
    'backup' when it is one of the store's own backups, else ''."""
    target = store.target
    mine = [target, store.marks.path]
    backups = [target.with_name(target.name + suffix) for suffix in (".bak", ".schema1.bak")]
    try:
        st = os.stat(path)
    except OSError:
        return ""
    for kind, files in (("store", mine), ("backup", backups)):
        for own in files:
            try:
                other = os.stat(own)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino):
                return kind
    return ""


def _settings_change(theirs: dict[str, JSON], their_times: dict[str, str], taken: list[str]) -> SettingsChange:
    """The settings to take from the other copy: each by its later change; saved searches one by one."""

    def change(mine: dict[str, JSON], my_times: dict[str, str]) -> dict[str, tuple[JSON, str]]:
        out: dict[str, tuple[JSON, str]] = {}
        for name in sorted(theirs.keys() | their_times.keys()):
            if name == SAVED_SEARCHES:
                continue
            their_at, my_at = their_times.get(name, ""), my_times.get(name, "")
            # Later wins; a setting only they have, with no time on our side, comes over too.
            if their_at > my_at or (name not in mine and not my_at and name in theirs):
                out[name] = (theirs.get(name), their_at)
        if SAVED_SEARCHES in theirs:
            merged = merge_entries(mine.get(SAVED_SEARCHES), theirs[SAVED_SEARCHES])
            if merged != mine.get(SAVED_SEARCHES):
                stamp = max(my_times.get(SAVED_SEARCHES, ""), their_times.get(SAVED_SEARCHES, ""))
                out[SAVED_SEARCHES] = (merged, stamp)
        taken[:] = [name for name, (value, _) in out.items() if value != mine.get(name)]
        return out

    return change


def merge_entries(mine: JSON, theirs: JSON) -> list[JSON]:
    """Two lists of entries (saved searches: ``{"id", "name", "at", ...}``, ``"deleted": true`` once
    deleted) merged one by one: the later ``at`` wins, a deletion included. Ours keep their order,
    theirs new to us come after; of two live entries of one name, the later stays."""

    def entries(value: JSON) -> list[dict[str, JSON]]:
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    def key(entry: dict[str, JSON]) -> str:
        return str(entry.get("id") or f"name:{entry.get('name')}")

    def at(entry: dict[str, JSON]) -> str:
        return str(entry.get("at") or "")

    out = {key(e): e for e in entries(mine)}
    for entry in entries(theirs):
        ours = out.get(key(entry))
        if ours is None or at(entry) > at(ours):
            out[key(entry)] = entry
    latest: dict[str, dict[str, JSON]] = {}
    for entry in out.values():
        name = entry.get("name")
        if not entry.get("deleted") and isinstance(name, str) and (name not in latest or at(entry) > at(latest[name])):
            latest[name] = entry
    return [e for e in out.values() if e.get("deleted") or latest.get(str(e.get("name"))) is e]


def _differs(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    if old is None:
        return any(new.get(f) for f in ANNOTATION_FIELDS)
    return any(old.get(f) != new.get(f) for f in (*ANNOTATION_FIELDS, "read_at"))


def _merge_marks(store: Store, path: Path, backup: bool = False) -> Merged:
    theirs = marksfile.Marks(path)
    theirs.refresh()
    mine = store.marks
    mine.refresh()
    changes: list[tuple[str, Callable[[dict[str, Any]], None]]] = []
    for pid, minute in theirs.read.items():
        if pid not in mine.read and minute > mine.unread.get(pid, -1):
            changes.append((pid, _read_change(marksfile.time_of(minute))))
    for pid, minute in theirs.unread.items():
        # Marks keep the minute: on a tie the paper is shown again rather than hidden as read.
        if pid in mine.read and minute >= mine.read[pid]:
            changes.append((pid, _read_change(None)))
    if changes:
        store.transaction(changes, f"merge · {path.name[:60]}")
    seen = {pid: day for pid, day in theirs.seen_day.items() if day < mine.seen_day.get(pid, "~")}
    if seen:
        store.record_seen(seen)
    return Merged(path, len(changes), len(seen), backup=backup)
