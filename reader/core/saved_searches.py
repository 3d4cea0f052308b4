"""Saved searches, kept in the store's settings: save, recall, list, rename, delete (at most 9)."""

from __future__ import annotations

from reader.core.results import SavedSearch
from reader.store import Store

SETTING = "saved_searches"
SLOTS = 9  # recalled with the keys 1-9


class SavedSearchError(LookupError):
    """No saved search by this name or number, or a name or query that cannot be saved."""


def saved_searches(store: Store) -> list[SavedSearch]:
    """The saved searches in slot order (entries a hand edit left malformed are skipped)."""
    raw = store.setting(SETTING, []) or []
    if not isinstance(raw, list):
        return []
    out = []
    for entry in raw:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("query"), str):
            out.append(SavedSearch(entry["name"], entry["query"]))
    return out


def _write(store: Store, entries: list[SavedSearch]) -> None:
    store.set_setting(SETTING, [{"name": e.name, "query": e.query} for e in entries])


def save_search(store: Store, name: str, query: str) -> int:
    """Save ``query`` as ``name`` (replacing one of that name) in the last slot; returns the slot.

    With every slot taken the oldest search makes room.
    """
    name, query = " ".join(name.split()), query.strip()
    if not name or not query:
        raise SavedSearchError("a saved search needs a name and a query")
    entries = [e for e in saved_searches(store) if e.name != name][: SLOTS - 1] + [SavedSearch(name, query)]
    _write(store, entries)
    return len(entries)


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
    entries = saved_searches(store)
    if any(e.name == new_name for n, e in enumerate(entries, 1) if n != number):
        raise SavedSearchError(f"a saved search is named {new_name!r} already")
    entries[number - 1] = renamed = SavedSearch(new_name, entry.query)
    _write(store, entries)
    return renamed


def delete_search(store: Store, which: str | int) -> SavedSearch:
    """Forget a saved search; the ones after it move up a slot."""
    number, entry = find_saved(store, which)
    entries = saved_searches(store)
    del entries[number - 1]
    _write(store, entries)
    return entry
