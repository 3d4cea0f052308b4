"""Saved searches, kept in the store's settings: save, recall, list, rename, delete (at most 9).

Each is stored as ``{"id", "name", "query", "at"}`` (``at``: when it was last changed); a
deleted one stays as ``{"id", "name", "at", "deleted": true}`` for a while, so that merging
another copy of the store (reader.store.merge) does not bring it back.
"""

from __future__ import annotations

import secrets
from typing import Any

from reader.core.results import SavedSearch
from reader.store import Store, now

SETTING = "saved_searches"
SLOTS = 9  # recalled with the keys 1-9
DELETED_KEPT = 50  # deletions remembered (for merges)


class SavedSearchError(LookupError):
    """No saved search by this name or number, or a name or query that cannot be saved."""


def _live(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and not entry.get("deleted")
        and isinstance(entry.get("name"), str)
        and isinstance(entry.get("query"), str)
    )


def _stored(store: Store) -> list[dict[str, Any]]:
    raw = store.setting(SETTING, []) or []
    return [dict(e) for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []


def saved_searches(store: Store) -> list[SavedSearch]:
    """The saved searches in slot order (entries a hand edit left malformed are skipped)."""
    return [SavedSearch(e["name"], e["query"]) for e in _stored(store) if _live(e)]


def _write(store: Store, entries: list[dict[str, Any]]) -> None:
    live = [e for e in entries if _live(e)]
    gone = [e for e in entries if not _live(e) and e.get("deleted")][-DELETED_KEPT:]
    for entry in live:
        entry.setdefault("id", secrets.token_hex(4))
    store.set_setting(SETTING, live + gone)


def _deleted(entry: dict[str, Any]) -> dict[str, Any]:
    return {"id": entry.get("id") or secrets.token_hex(4), "name": entry["name"], "at": now(), "deleted": True}


def _number(entries: list[dict[str, Any]], number: int) -> int:
    """The index in ``entries`` of the live entry in slot ``number``."""
    return [k for k, e in enumerate(entries) if _live(e)][number - 1]


def save_search(store: Store, name: str, query: str) -> int:
    """Save ``query`` as ``name`` (replacing one of that name) in the last slot; returns the slot.

    With every slot taken the oldest search makes room.
    """
    name, query = " ".join(name.split()), query.strip()
    if not name or not query:
        raise SavedSearchError("a saved search needs a name and a query")
    entries = _stored(store)
    same = [e for e in entries if _live(e) and e["name"] == name]
    entries = [e for e in entries if not (_live(e) and e["name"] == name)]
    entry = {"id": same[0].get("id") if same else secrets.token_hex(4), "name": name, "query": query, "at": now()}
    live = [k for k, e in enumerate(entries) if _live(e)]
    for k in live[: max(0, len(live) - (SLOTS - 1))]:
        entries[k] = _deleted(entries[k])  # the oldest make room
    entries.append(entry)
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
        if entry.name == which:
            return number, entry
    raise SavedSearchError(f"no saved search named {which!r}")


def rename_search(store: Store, which: str | int, new_name: str) -> SavedSearch:
    """Give a saved search a new name (its slot is kept)."""
    new_name = " ".join(new_name.split())
    if not new_name:
        raise SavedSearchError("a saved search needs a name")
    number, entry = find_saved(store, which)
    if any(e.name == new_name for n, e in enumerate(saved_searches(store), 1) if n != number):
        raise SavedSearchError(f"a saved search is named {new_name!r} already")
    entries = _stored(store)
    k = _number(entries, number)
    entries[k] = {**entries[k], "name": new_name, "at": now()}
    _write(store, entries)
    return SavedSearch(new_name, entry.query)


def delete_search(store: Store, which: str | int) -> SavedSearch:
    """Forget a saved search; the ones after it move up a slot."""
    number, entry = find_saved(store, which)
    entries = _stored(store)
    k = _number(entries, number)
    entries[k] = _deleted(entries[k])
    _write(store, entries)
    return entry
