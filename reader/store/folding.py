"""Folding one record of a paper into another: per field the later change wins (by the time each
side stamped it), a note changed on both sides keeps both texts, tags merge as sets with each
tag's latest add or remove winning. reader.store.merge uses it for another copy of the store,
the store itself for two records of one paper found in a hand-edited file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reader.store.records import ANNOTATION_FIELDS, clean_tags


def when_changed(doc: dict[str, Any], field: str) -> str:
    """When a field of a record was last changed ('' when the record does not say)."""
    stamp = (doc.get("times") or {}).get(field)
    if isinstance(stamp, str):
        return stamp
    if field == "bookmarked_at" and isinstance(doc.get("bookmarked_at"), str):
        return str(doc["bookmarked_at"])
    first = doc.get("first_seen")
    return first if isinstance(first, str) else ""


def _note(ours: str, theirs: str, their_time: str, later: bool) -> str:
    if not ours or not theirs or theirs in ours or ours in theirs:
        return theirs if later else ours
    return f"{ours}\n\n--- note from the other copy ({their_time or 'undated'}) ---\n{theirs}"


def fold_change(theirs: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """The change folding the other copy's record into ours."""

    def change(r: dict[str, Any]) -> None:
        when: dict[str, str] = {}
        for field in ANNOTATION_FIELDS:
            if field == "tags":
                continue
            mine_at, their_at = when_changed(r, field), when_changed(theirs, field)
            later = their_at > mine_at
            if field == "note":
                merged = _note(r.get("note", ""), theirs.get("note", ""), their_at, later)
                if merged != r.get("note", ""):
                    r["note"] = merged
                    when["note"] = max(mine_at, their_at)
            elif later and theirs.get(field) != r.get(field):
                r[field] = theirs.get(field)
                when[field] = their_at
        # Tags: each tag's latest add or remove wins; tags neither side dated are united.
        mine_times = r.get("tag_times") or {}
        their_times = theirs.get("tag_times") or {}
        present = {t.casefold() for t in r.get("tags", [])}
        tag_when: dict[str, list[Any]] = {}
        for tag in [*r.get("tags", []), *theirs.get("tags", []), *their_times]:
            key = tag.casefold()
            mine_event, their_event = mine_times.get(key), their_times.get(key)
            if isinstance(their_event, list) and (not isinstance(mine_event, list) or their_event[0] > mine_event[0]):
                keep = bool(their_event[1])
                tag_when[key] = their_event
            elif isinstance(mine_event, list):
                keep = bool(mine_event[1])
            else:
                keep = True
            if keep:
                present.add(key)
            else:
                present.discard(key)
        spelled = clean_tags([*r.get("tags", []), *theirs.get("tags", [])])
        tags = [t for t in spelled if t.casefold() in present]
        if tags != r.get("tags", []):
            r["tags"] = tags
            when["tags"] = max(when_changed(r, "tags"), when_changed(theirs, "tags"))
        if not r.get("title") and theirs.get("title"):
            r["title"], r["abstract"] = theirs["title"], theirs.get("abstract", "")
        first = theirs.get("first_seen")
        if isinstance(first, str) and first and first < (r.get("first_seen") or "~"):
            r["first_seen"] = first
        r["_times"] = when
        r["_tag_times"] = tag_when

    return change
