"""The store: annotations (TinyDB over an append-only file), read marks and first-seen dates, the journal."""

from reader.store.errors import InvalidText, StoreCorrupt, StoreError
from reader.store.logfile import META, SCHEMA, TMP_PREFIX
from reader.store.records import JSON, Annotation
from reader.store.store import (
    JOURNAL,
    NO_DAY,
    PAPERS,
    SEEN,
    SETTINGS,
    Sighting,
    Store,
    default_path,
    now,
    tag_counts,
    take_warnings,
)

__all__ = [
    "JOURNAL",
    "JSON",
    "META",
    "NO_DAY",
    "PAPERS",
    "SCHEMA",
    "SEEN",
    "SETTINGS",
    "Sighting",
    "TMP_PREFIX",
    "Annotation",
    "InvalidText",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "default_path",
    "now",
    "tag_counts",
    "take_warnings",
]
