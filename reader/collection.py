"""A collection: the papers of the open digests plus stored snapshots, with their annotations.

This is what the command line and the app both work on: it ties the digests,
the store and the search engine together, and knows nothing of Textual.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from reader.digest import Library
from reader.index.build import IndexBuilder
from reader.index.cache import cached_engine, files_signature
from reader.index.engine import SearchEngine, State
from reader.links import Link, paper_links
from reader.paper import Paper
from reader.store import Store, StoreError, is_kept
from reader.tex import clean_tex
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


class AmbiguousId(UnknownPaper):
    """The id prefix matches several papers."""


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
        self.seen: dict[str, str] = {}
        self.newest = ""
        self._new: set[str] = set()
        self._titles: dict[str, str] = {}
        self.engine: SearchEngine | None = None
        self.index_stale = False
        self.reload()
        if index:
            self.build_index()

    def note_seen(self, today: date | None = None) -> None:
        """Record when each paper of the open digests was first seen (the date of its file).

        A paper first seen before the newest open digest is "seen before"; one first
        seen in the newest digest is new (``is:new``).
        """
        file_dates = {}
        for source in self.library.files:
            try:
                file_dates[source] = datetime.fromtimestamp(os.stat(source).st_mtime).date().isoformat()
            except OSError:
                file_dates[source] = (today or date.today()).isoformat()
        self.newest = max(file_dates.values(), default=(today or date.today()).isoformat())
        also_in = self.library.also_in
        dates = {
            p.id: min(file_dates.get(source, self.newest) for source in [p.source, *also_in.get(p.id, ())])
            for p in self.papers[: self.file_count]
        }
        try:
            self.seen = self.store.record_seen(dates) if not self.store.readonly else {**dates, **self.store.seen()}
        except StoreError:
            self.seen = {**dates, **self.store.seen()}
        new = {pid for pid in dates if self.seen.get(pid, self.newest) >= self.newest}
        self.state.new = new
        self._new = new

    def seen_before(self, paper: Paper, today: date | None = None) -> str:
        """'seen 3 days ago' for a paper first seen before the newest open digest, else ''."""
        first = self.seen.get(paper.id)
        if not first or not self.newest or first >= self.newest:
            return ""
        days = ((today or date.today()) - date.fromisoformat(first)).days
        if days <= 0:
            return "seen today"
        return "seen yesterday" if days == 1 else f"seen {days} days ago"

    def add_papers(self, papers: list[Paper]) -> None:
        """Take in papers parsed from the digests while loading (before any snapshot)."""
        self.papers.extend(papers)
        self.by_id.update((p.id, p) for p in papers)
        self.file_count = len(self.papers)

    def finish_loading(self) -> None:
        """All digests are parsed: now papers known only from the store can be added."""
        self.loading = False
        self.reload()

    def build_index(
        self, ready: Callable[[SearchEngine], None] | None = None, builder: IndexBuilder | None = None
    ) -> SearchEngine:
        """Build the search index, or load it from the on-disk cache (reader.index.cache) when that
        holds a sound index of exactly these papers. Slow for big libraries: the app calls it on a worker.

        The engine covers the papers as they are when this starts (it indexes a copy of the list).
        ``ready`` gets the engine as soon as it can search (before a new cache entry is written);
        ``builder``: a reader.index.build.IndexBuilder that was fed the papers as they were parsed.
        """
        self.index_stale = False
        self.engine = cached_engine(
            self.papers,
            ready=ready,
            content_key=self.library.content_key,
            file_count=self.file_count,
            builder=builder,
            signature=files_signature(self.library.files, self.library.encoding) if self.library.content_key else None,
        )
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
        self.state.new = self._new
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
            # The index covers the papers it was built on; the caller rebuilds it (the app on a worker).
            self.index_stale = True
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
        # The arXiv id a source gave (Paper.public_id) finds the paper as well as its title hash does.
        arxiv = {p.public_id.lower(): p for p in self.papers if p.public_id != p.id}
        if pid in arxiv:
            return arxiv[pid]
        if len(pid) >= 4:
            matches = [p for key, p in self.by_id.items() if key.startswith(pid)]
            matches += [p for key, p in arxiv.items() if key.startswith(pid) and all(p is not m for m in matches)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise AmbiguousId(f"{pid}: id prefix matches {len(matches)} papers; give more of it")
        else:
            raise UnknownPaper(f"{pid}: give at least 4 characters of a paper id")
        raise UnknownPaper(f"{pid}: no paper with this id in the store or the digests")

    def links(self, paper: Paper) -> list[Link]:
        """The paper's links, the user's own first."""
        return paper_links(paper.title, paper.abstract, self.record(paper).get("link"), paper.meta)

    def is_bookmarked(self, paper: Paper) -> bool:
        """True when the paper is bookmarked."""
        return paper.id in self.state.bookmarked

    def is_read(self, paper: Paper) -> bool:
        """True when the paper has been read."""
        return paper.id in self.state.read

    def shown_title(self, paper: Paper) -> str:
        """The title as the app shows it: TeX leftovers made readable (cached; rows redraw often)."""
        title = self._titles.get(paper.id)
        if title is None:
            title = self._titles[paper.id] = clean_tex(paper.title)
        return title

    def tags(self, paper: Paper) -> list[str]:
        """The paper's tags, in the order they were added."""
        return list(self.record(paper).get("tags") or [])
