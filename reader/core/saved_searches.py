"""Saved searches, kept in the store's settings: save, recall, list, rename, delete (at most 9).

Each is stored as ``{"id", "name", "query", "at"}`` (``at``: when it was last changed); a
deleted one stays as ``{"id", "name", "at", "deleted": true}`` for a while, so that merging
another copy of the store (reader.store.merge) does not bring it back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from reader.core.results import SavedSearch
from reader.store import JSON, Store, now
from reader.text import clean_line

SETTING = "saved_searches"
SLOTS = 9  # recalled with the keys 1-9
DELETED_KEPT = 50  # deletions remembered (for merges)


def clean_name(name: str) -> str:
    """A name or query as stored and shown: no escape sequences or control characters, spaces collapsed."""
    return " ".join(clean_line(name).split())


class SavedSearchError(LookupError):
    """No saved search by this name or number, or a name or query that cannot be saved."""


@dataclass(frozen=True, slots=True)
class _Entry:
    """One stored entry: a saved search, or the mark that one was deleted."""

    id: str
    name: str
    query: str
    at: str  # when it was last changed ('' in stores from before times were kept)
    deleted: bool = False

    @classmethod
    def parse(cls, raw: JSON) -> _Entry | None:
        """The entry, or None for one a hand edit left malformed (skipped, and gone at the next write)."""
        if not isinstance(raw, dict):
            return None
        name, query, at, key = raw.get("name"), raw.get("query", ""), raw.get("at", ""), raw.get("id")
        if not isinstance(name, str) or not isinstance(query, str):
            return None
        deleted = raw.get("deleted") is True
        if not deleted and not isinstance(raw.get("query"), str):
            return None
        return cls(
            key if isinstance(key, str) and key else secrets.token_hex(4),
            clean_name(name) or "unnamed",  # names stored raw by older versions are cleaned as new ones are
            clean_line(query).strip(),
            at if isinstance(at, str) else "",
            deleted,
        )

    def data(self) -> JSON:
        if self.deleted:
            return {"id": self.id, "name": self.name, "at": self.at, "deleted": True}
        return {"id": self.id, "name": self.name, "query": self.query, "at": self.at}

    def gone(self) -> _Entry:
        """This entry deleted now."""
        return replace(self, query="", at=now(), deleted=True)


def _stored(store: Store) -> list[_Entry]:
    raw = store.setting(SETTING)
    entries = [_Entry.parse(item) for item in raw] if isinstance(raw, list) else []
    return [e for e in entries if e is not None]


def saved_searches(store: Store) -> list[SavedSearch]:
    """The saved searches in slot order (entries a hand edit left malformed are skipped)."""
    return [SavedSearch(e.name, e.query) for e in _stored(store) if not e.deleted]


def _write(store: Store, entries: list[_Entry]) -> None:
    live = [e for e in entries if not e.deleted]
    gone = [e for e in entries if e.deleted][-DELETED_KEPT:]
    store.set_setting(SETTING, [e.data() for e in live + gone])


def _number(entries: list[_Entry], number: int) -> int:
    """The index in ``entries`` of the live entry in slot ``number``."""
    return [k for k, e in enumerate(entries) if not e.deleted][number - 1]


def save_search(store: Store, name: str, query: str) -> int:
    """Save ``query`` as ``name`` (replacing one of that name) in the last slot; returns the slot.

    With every slot taken the oldest search makes room.
    """
    name, query = clean_name(name), clean_line(query).strip()
    if not name or not query:
        raise SavedSearchError("a saved search needs a name and a query")
    entries = _stored(store)
    same = [e for e in entries if not e.deleted and e.name == name]
    entries = [e for e in entries if e.deleted or e.name != name]
    live = [k for k, e in enumerate(entries) if not e.deleted]
    for k in live[: max(0, len(live) - (SLOTS - 1))]:
        entries[k] = entries[k].gone()  # the oldest make room
    entries.append(_Entry(same[0].id if same else secrets.token_hex(4), name, query, now()))
    _write(store, entries)
    return len(saved_searches(store))


def find_saved(store: Store, which: str | int) -> tuple[int, SavedSearch]:
    """The saved search by slot number (1-9, also as text) or by name; raises SavedSearchError."""
    entries = saved_searches(store)
    if isinstance(which, int) or which.strip().isdigit():
        number = int(which)
        if 1 <= number <= len(entries):
            return number, entries[number - 1]
        raise SavedSearchError(f"no saved search {number} ({len(entries)} saved)")
    for number, entry in enumerate(entries, 1):
        if entry.name in (which, clean_name(which)):
            return number, entry
    raise SavedSearchError(f"no saved search named {which!r}")


def rename_search(store: Store, which: str | int, new_name: str) -> SavedSearch:
    """Give a saved search a new name (its slot is kept)."""
    new_name = clean_name(new_name)
    if not new_name:
        raise SavedSearchError("a saved search needs a name")
    number, entry = find_saved(store, which)
    if any(e.name == new_name for n, e in enumerate(saved_searches(store), 1) if n != number):
        raise SavedSearchError(f"a saved search is named {new_name!r} already")
    entries = _stored(store)
    k = _number(entries, number)
    entries[k] = replace(entries[k], name=new_name, at=now())
    _write(store, entries)
    return SavedSearch(new_name, entry.query)


def delete_search(store: Store, which: str | int) -> SavedSearch:
    """Forget a saved search; the ones after it move up a slot."""
    number, entry = find_saved(store, which)
    entries = _stored(store)
    k = _number(entries, number)
    entries[k] = entries[k].gone()
    _write(store, entries)
    return entry
