"""One paper's annotations as a typed record, and the check every stored record passes once, on load.

A store may have been edited by hand, written by an older or newer paper-reader, or
synced half-way: a field of the wrong type is repaired here (set to its empty value)
and its original value kept in the record under ``set_aside``, with a warning naming
the paper and the field. Nothing after this point needs to guard against a bad type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from reader.text import clean_line

# A value as JSON holds it: what a setting read back from the store is.
JSON: TypeAlias = "str | int | float | bool | None | list[JSON] | dict[str, JSON]"

ANNOTATION_FIELDS = ("bookmarked_at", "tags", "note", "link")
TEXT_FIELDS = ("title", "abstract", "note", "link")
TIME_FIELDS = ("bookmarked_at", "first_seen", "read_at")


@dataclass(frozen=True, slots=True)
class Annotation:
    """What the user made of one paper, as stored (times are ISO 8601 strings in UTC)."""

    id: str
    title: str = ""
    abstract: str = ""
    bookmarked_at: str | None = None
    tags: tuple[str, ...] = ()
    note: str = ""
    link: str = ""
    first_seen: str | None = None
    read_at: str | None = None

    @classmethod
    def of(cls, record: dict[str, Any]) -> Annotation:
        """The typed view of a checked record."""
        get = record.get
        return cls(
            record["id"],
            get("title", ""),
            get("abstract", ""),
            get("bookmarked_at"),
            tuple(get("tags", ())),
            get("note", ""),
            get("link", ""),
            get("first_seen"),
            get("read_at"),
        )

    @property
    def kept(self) -> bool:
        """True when the record carries something the user made (not only a read mark)."""
        return bool(self.bookmarked_at or self.tags or self.note or self.link)


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


def _kind(value: Any) -> str:
    """How a wrong value is named in a warning."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_time(value: object) -> bool:
    """True for an ISO 8601 date or time that names a real moment ('2024-99-99T99:99' does not)."""
    if not isinstance(value, str) or len(value) < 10 or not value[:4].isdigit() or value[4] != "-":
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def check_record(record: dict[str, Any], where: str) -> tuple[dict[str, Any], list[str]]:
    """The record with every field of its one type, and a warning per field that was repaired.

    ``record`` must already carry a text ``id``. A repaired field takes its empty value;
    what it held is kept under ``set_aside`` (so it is saved with the record, never
    silently dropped). Unknown fields are kept as they are.
    """
    pid = record["id"]
    out = dict(record)
    warnings: list[str] = []
    aside: dict[str, Any] = dict(record["set_aside"]) if isinstance(record.get("set_aside"), dict) else {}

    def repair(field: str, value: Any, expected: str, replacement: Any, why: str = "") -> None:
        title = out.get("title") if isinstance(out.get("title"), str) and out.get("title") else ""
        named = f"paper {clean_line(pid)[:40]}" + (f" ({clean_line(title)[:60]})" if title else "")
        why = why or f"{field} is {_kind(value)}, not {expected}"
        warnings.append(f"{where}: {named}: {why}; set aside")
        aside[field] = value
        out[field] = replacement

    for field in TEXT_FIELDS:
        value = out.get(field, "")
        if not isinstance(value, str):
            repair(field, value, "text", "")
    for field in TIME_FIELDS:
        value = out.get(field)
        if value is not None and not is_time(value):
            if value == "" or value is False:
                out[field] = None
            elif isinstance(value, str):
                repair(field, value, "a time", None, f"{field} {clean_line(value)[:40]!r} is not a real date or time")
            else:
                repair(field, value, "a time", None)
    tags = out.get("tags", [])
    if not isinstance(tags, list):
        repair("tags", tags, "a list of text", [])
    elif not all(isinstance(t, str) for t in tags):
        repair("tags", tags, "a list of text", [t for t in tags if isinstance(t, str)])
    if isinstance(out.get("tags"), list):
        # As tags are cleaned when added: no escapes or control characters, no '#', no empty tag.
        shown = [" ".join(clean_line(t).split()).lstrip("#") for t in out["tags"]]
        if shown != out["tags"]:
            kept = [t for t in shown if t]
            repair("tags", tags, "", kept, f"tags {ascii(out['tags'])[:80]} held control characters or empty tags")
    for field in ("times", "tag_times"):
        value = out.get(field, {})
        if not isinstance(value, dict) or not all(isinstance(v, (str, list)) for v in value.values()):
            repair(field, value, "an object", {})
    for field, value in empty_record(pid).items():
        out.setdefault(field, value)
    if aside:
        out["set_aside"] = aside
    return out, warnings


def clean_tags(tags: list[str]) -> list[str]:
    """Tags without '#', escape sequences, control characters or extra spaces, case-insensitively
    unique, in the order given (a tag that cleans to nothing is dropped)."""
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        tag = " ".join(clean_line(tag).split()).lstrip("#")
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            out.append(tag)
    return out
