"""Import a JSON export into the store: checked whole before anything is written."""

from __future__ import annotations

import json
import os
import stat

from reader.core.results import Imported
from reader.store import Annotation, Store, now
from reader.store.records import is_time
from reader.text import clean_line

TEXT_FIELDS = ("title", "abstract", "note", "link")
TIME_FIELDS = ("bookmarked_at", "read_at", "first_seen")


class ImportProblem(ValueError):
    """The file is not an export this program can take; ``str()`` is ``FILE: what is wrong``."""


def _clean(text: str) -> str:
    return "\n".join(clean_line(line) for line in text.split("\n"))


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file; anything else (a FIFO, a device, a folder) is refused at once.

    Opened without blocking and checked on the open file: a FIFO with no writer would hang
    and /dev/zero never ends.
    """
    name = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ImportProblem(f"{name}: no such file") from None
    except OSError as err:
        raise ImportProblem(f"{name}: cannot read it ({err.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ImportProblem(f"{name}: not a regular file ({_kind(mode)}); give a saved JSON export")
    with open(fd, "rb", closefd=True) as handle:
        try:
            return handle.read()
        except OSError as err:
            raise ImportProblem(f"{name}: cannot read it ({err.strerror})") from None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def _field_problem(item: dict[str, object]) -> str:
    """What is wrong with the type of a field of one entry ('' when nothing): every field import reads
    has one type (null or absent meaning empty); fields it does not read (links, authors, ...) are ignored."""
    for key in TEXT_FIELDS:
        if item.get(key) is not None and not isinstance(item[key], str):
            return f"{key} must be text"
    bookmarked = item.get("bookmarked")
    if bookmarked is not None and not isinstance(bookmarked, bool):
        return "bookmarked must be true or false"
    for key in TIME_FIELDS:
        value = item.get(key)
        if value is not None and value != "" and not is_time(value):
            return f"{key} must be an ISO date or time (like 2024-05-01T09:30:00+00:00)"
    return ""


def read_export(path: str | os.PathLike[str]) -> list[Annotation]:
    """The entries of a JSON export as typed records, checked (ids, text fields, tags) and cleaned of
    control characters. An entry marked ``bookmarked`` without a time is bookmarked now."""
    name = os.fspath(path)
    raw = read_file(path)
    try:
        data = json.loads(raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))  # a BOM, as Windows editors write
    except RecursionError:
        raise ImportProblem(f"{name}: not a JSON export (nested too deeply)") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise ImportProblem(f"{name}: not a JSON export ({err})") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) and isinstance(d.get("id"), str) for d in data):
        raise ImportProblem(f"{name}: not a JSON export (expected a list of papers with ids)")
    for n, item in enumerate(data, 1):
        tags = item.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise ImportProblem(f"{name}: not a JSON export (paper {n}: tags must be a list of strings)")
        problem = _field_problem(item)
        if problem:
            raise ImportProblem(f"{name}: not a JSON export (paper {n}: {problem})")
        if not item["id"].strip():
            raise ImportProblem(f"{name}: not a JSON export (paper {n} has an empty id)")
        for key, value in [*((k, v) for k, v in item.items() if isinstance(v, str)), *(("tag", t) for t in tags or [])]:
            if not _utf8(value):
                raise ImportProblem(
                    f"{name}: paper {n}: {key} is not valid UTF-8 text (a lone surrogate); nothing was imported"
                )
    first: dict[str, int] = {}
    for n, item in enumerate(data, 1):
        pid = str(item["id"]).strip().lower()
        if pid in first:
            # Two entries for one paper: which one the user meant is theirs to say, not ours to guess.
            raise ImportProblem(
                f"{name}: papers {first[pid]} and {n} have the same id {clean_line(pid)[:40]}; "
                "keep one of them; nothing was imported"
            )
        first[pid] = n
    out = []
    stamp = now()

    def text(item: dict[str, object], key: str) -> str:
        value = item.get(key)
        return _clean(value) if isinstance(value, str) else ""

    for item in data:
        bookmarked_at = text(item, "bookmarked_at") or (stamp if item.get("bookmarked") else "")
        out.append(
            Annotation(
                text(item, "id").strip().lower(),
                title=text(item, "title"),
                abstract=text(item, "abstract"),
                bookmarked_at=bookmarked_at or None,
                tags=tuple(clean_line(str(t)) for t in item.get("tags") or []),
                note=text(item, "note"),
                link=text(item, "link"),
                first_seen=text(item, "first_seen") or None,
                read_at=text(item, "read_at") or None,
            )
        )
    return out


def import_export(store: Store, path: str | os.PathLike[str]) -> Imported:
    """Merge a JSON export into the store (tags united, nothing there dropped)."""
    entries = read_export(path)
    for n, entry in enumerate(entries, 1):
        if not entry.title.strip() and store.annotation(entry.id) is None:
            raise ImportProblem(
                f"{os.fspath(path)}: paper {n} ({entry.id[:40]}) has no title and is not in the store; "
                "nothing was imported"
            )
    store.import_records(entries)  # one transaction, one undo step
    return Imported(len(entries), store.path)
