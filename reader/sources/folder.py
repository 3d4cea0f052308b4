"""The digests folder: where it is, whether it holds digests, and writing a day's file atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reader import locations

# What a folder of digests is read for (a text digest, JSON lines, a feed, an email or mbox);
# an .xml file opens when named, but a folder's .xml files may be anything.
DIGEST_SUFFIXES = (".txt", ".jsonl", ".rss", ".atom", ".eml", ".mbox")


def default_folder() -> Path:
    """The digests folder when the config names none: ``$PAPER_READER_DIGESTS`` or the user data folder's."""
    return locations.digests_folder()


def digests_folder(configured: Path | None) -> Path:
    """Where fetched digests go and what plain ``paper-reader`` opens: the config's folder, else the default."""
    return configured if configured is not None else default_folder()


def holds_digest(folder: Path) -> bool:
    """Whether the folder exists and has at least one digest file in it."""
    try:
        return any(entry.is_file() and entry.suffix in DIGEST_SUFFIXES for entry in folder.iterdir())
    except OSError:
        return False


def write_if_changed(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically unless the file already holds exactly it.

    Returns ``"new"``, ``"updated"`` or ``"unchanged"``. The bytes go to a temporary file
    in the same folder, are flushed to disk, then renamed over the old file: a reader (or a
    crash) sees the old file or the new one, never half of one. Raises OSError.
    """
    try:
        if path.read_bytes() == data:
            return "unchanged"
        state = "updated"
    except FileNotFoundError:
        state = "new"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    return state
