"""A collection: the papers of the open digests plus stored snapshots, with their annotations.

This is what the command line and the app both work on: it ties the digests,
the store and the search engine together, and knows nothing of Textual.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from reader.digest import Library
from reader.links import Link, paper_links
from reader.paper import Paper
from reader.search import SearchEngine, State
from reader.store import Store, is_kept
from reader.text import clean_line


def clean_record(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored record with no escape sequences or control characters in its text.

    The store file may have been edited by hand or filled by an import: what it holds
    is shown, exported and printed, so it is cleaned like digest text (notes keep their lines).
    """
    out = dict(record)
    for key, value in record.items():
        if isinstance(value, str):
            lines = value.split("\n") if key == "note" else [value]
            out[key] = "\n".join(clean_line(line) for line in lines)
    if isinstance(record.get("tags"), list):
        # NFC like digest text and query terms, so "#été" finds the tag however either was typed.
        out["tags"] = [unicodedata.normalize("NFC", clean_line(t)) for t in record["tags"] if isinstance(t, str)]
    return out


class UnknownPaper(LookupError):
    """No paper has this id (or the id prefix is ambiguous)."""


class Collection:
    """Papers from digests and from the store's snapshots, searchable, with their records."""

    def __init__(self, library: Library, store: Store, index: bool = True, loading: bool = False) -> None:
        self.library = library
        self.store = store
        self.records: dict[str, dict[str, Any]] = {}
        self._raw: dict[str, dict[str, Any]] = {}
        self.papers: list[Paper] = list(library.papers)
        self.by_id: dict[str, Paper] = {p.id: p for p in self.papers}
        # Papers from the digests come first, stored snapshots after them.
        self.file_count = len(self.papers)
        self.loading = loading
        self.state = State()
        self.engine: SearchEngine | None = None
        self.reload()
        if index:
            self.build_index()

    def add_papers(self, papers: list[Paper]) -> None:
        """Take in papers parsed from the digests while loading (before any snapshot)."""
        self.papers.extend(papers)
        self.by_id.update((p.id, p) for p in papers)
        self.file_count = len(self.papers)

    def finish_loading(self) -> None:
        """All digests are parsed: now papers known only from the store can be added."""
        self.loading = False
        self.reload()

    def build_index(self) -> SearchEngine:
        """Build the search index (slow for big libraries: the app calls it on a worker)."""
        self.engine = SearchEngine(self.papers)
        return self.engine

    def reload(self) -> bool:
        """Re-read the store; add snapshots of kept papers not in the digests. True if any were added."""
        raw = self.store.records()
        cleaned = self.records
        # Unchanged records keep their cleaned copy: cleaning every record on every keypress adds up.
        self.records = {
            pid: cleaned[pid] if pid in cleaned and self._raw.get(pid) == r else clean_record(r)
            for pid, r in raw.items()
        }
        self._raw = raw
        self.state = State.from_records(self.records)
        added = False
        if self.loading:
            return added  # a snapshot now could duplicate a paper further down the file
        for pid, record in self.records.items():
            if pid not in self.by_id and is_kept(record) and record.get("title"):
                paper = Paper(pid, record["title"], record.get("abstract", ""), "store", len(self.papers), True)
                self.papers.append(paper)
                self.by_id[pid] = paper
                added = True
        if added and self.engine is not None:
            self.build_index()
        return added

    def record(self, paper: Paper | str) -> dict[str, Any]:
        """The stored record of a paper ({} when it has none)."""
        pid = paper if isinstance(paper, str) else paper.id
        return self.records.get(pid) or {}

    def remember(self, records: list[dict[str, Any]]) -> None:
        """Take in records a store call returned, without re-reading the store."""
        for record in records:
            self.records[record["id"]] = clean_record(record)
        self.state = State.from_records(self.records)

    def find(self, pid: str) -> Paper:
        """The paper with this id or unique id prefix; raises UnknownPaper."""
        pid = pid.strip().lower()
        if pid in self.by_id:
            return self.by_id[pid]
        if len(pid) >= 4:
            matches = [p for key, p in self.by_id.items() if key.startswith(pid)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise UnknownPaper(f"{pid}: id prefix matches {len(matches)} papers; give more of it")
        raise UnknownPaper(f"{pid}: no paper with this id in the store or the digests")

    def links(self, paper: Paper) -> list[Link]:
        """The paper's links, the user's own first."""
        return paper_links(paper.title, paper.abstract, self.record(paper).get("link"))

    def is_bookmarked(self, paper: Paper) -> bool:
        """True when the paper is bookmarked."""
        return paper.id in self.state.bookmarked

    def is_read(self, paper: Paper) -> bool:
        """True when the paper has been read."""
        return paper.id in self.state.read

    def tags(self, paper: Paper) -> list[str]:
        """The paper's tags, in the order they were added."""
        return list(self.record(paper).get("tags") or [])
