"""The core's answers: typed, frozen values the CLI prints and the app renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reader.paper import Paper
from reader.query import Query


@dataclass(frozen=True, slots=True)
class Found:
    """Papers for a query, in the order to show them.

    ``rows`` index the library's papers; ``scores`` are aligned with ``rows`` (relevance,
    or likeness for ``rank:`` and "more like this"); ``warnings`` name what the query
    asked for but could not have (an unknown filter, a ``rank:`` tag no paper carries).
    ``partial`` (with ``partial_scores``) are the papers matching every word of the query
    but one when few match them all; ``missing[k]`` is the word ``partial[k]`` lacks. They
    are shown after ``rows`` as a group apart, and are not counted or acted on with them.
    ``total``: the papers these were found among (the digests', plus stored ones shown).
    """

    query: Query
    rows: np.ndarray
    scores: np.ndarray
    sort: str
    warnings: tuple[str, ...] = ()
    unread: int = 0
    total: int = 0
    like: Paper | None = None  # "more like this": the paper the rows are like
    partial: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    partial_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    missing: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, slots=True)
class Changed:
    """What a user action did: a one-line message and the ids of the papers it touched.

    ``changed`` is False when nothing was different afterwards (a tag already there).
    """

    message: str
    papers: tuple[str, ...] = ()
    changed: bool = True


@dataclass(frozen=True, slots=True)
class Replayed:
    """An undo or redo: the label of the step, or None when there was nothing to replay."""

    label: str | None
    undone: bool

    @property
    def message(self) -> str:
        """What to tell the user."""
        if self.label is None:
            return "Nothing to undo." if self.undone else "Nothing to redo."
        return f"{'Undid' if self.undone else 'Redid'} {self.label}"


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """A search saved under a name; its slot is its place in the list (1-9)."""

    name: str
    query: str


@dataclass(frozen=True, slots=True)
class ExportScope:
    """A set of papers that can be exported: its key (a file-name part), label and papers."""

    key: str
    label: str
    papers: tuple[Paper, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Exported:
    """An export written to ``path``: how many papers, in which format."""

    path: Path
    count: int
    format: str


@dataclass(frozen=True, slots=True)
class Imported:
    """An import merged into the store."""

    count: int
    store: Path

    @property
    def message(self) -> str:
        """What to tell the user."""
        return f"imported {self.count} paper{'s' if self.count != 1 else ''} into {self.store}"


@dataclass(frozen=True, slots=True)
class CopyChoice:
    """Something to copy: how the menu names it, what the notice calls it, the text."""

    label: str
    what: str
    text: str
