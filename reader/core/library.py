"""An open library: the papers of the open digests plus stored ones, and every user action on them.

The CLI and the app both work through :class:`OpenLibrary`: search (every operator,
``rank:``, each sort), unread and first-seen figures, annotations with undo/redo,
saved searches, export and import. Answers are the typed values of reader.core.results.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import numpy as np

from reader.collection import Collection
from reader.core import exporting, importing, saved_searches
from reader.core.ranking import rank_by_tag, rank_tag
from reader.core.results import Changed, CopyChoice, Exported, ExportScope, Found, Imported, Replayed, SavedSearch
from reader.export import bibtex, markdown_link, paper_record
from reader.index.engine import SearchEngine
from reader.index.highlight import text_spans
from reader.index.similar import Similarity
from reader.links import Link
from reader.paper import Paper
from reader.query import Query, parse_query
from reader.sorting import SORTS, sort_rows
from reader.store import Annotation, Store, tag_counts

SIMILAR_LIMIT = 50  # papers in a "more like this" list (besides the paper itself)
NOTE_CONFLICT = "── the note as it was saved elsewhere meanwhile (both kept) ──"


class NotReady(LookupError):
    """What was asked for needs work still under way (the comparison of papers); ``str()`` says what."""


class OpenLibrary:
    """Papers and their annotations, searchable; every change goes through the store's journal."""

    def __init__(self, collection: Collection, compare_on_demand: bool = True) -> None:
        """``compare_on_demand``: build the comparison ``rank:`` and "more like this" need when first
        asked (the CLI); the app builds it on a worker and hands it over with :meth:`compared`."""
        self.collection = collection
        self.similarity: Similarity | None = None
        self.compare_on_demand = compare_on_demand

    # -- what is open ----------------------------------------------------------------------
    @property
    def papers(self) -> list[Paper]:
        """Every paper: the digests' in file order, then stored snapshots."""
        return self.collection.papers

    @property
    def store(self) -> Store:
        """The annotation store."""
        return self.collection.store

    @property
    def readonly(self) -> bool:
        """True when nothing can be saved."""
        return self.store.readonly

    @property
    def file_count(self) -> int:
        """How many papers come from the open digests."""
        return self.collection.file_count

    @property
    def engine(self) -> SearchEngine | None:
        """The search engine, once the index is built."""
        return self.collection.engine

    def find(self, pid: str) -> Paper:
        """The paper with this id or unique prefix (4 characters or more); raises UnknownPaper."""
        return self.collection.find(pid)

    def annotation(self, paper: Paper) -> Annotation | None:
        """What the user made of the paper, cleaned for showing (None when the store holds nothing for it)."""
        return self.collection.record(paper)

    def tags(self, paper: Paper) -> list[str]:
        """The paper's tags, in the order they were added."""
        return self.collection.tags(paper)

    def note(self, paper: Paper) -> str:
        """The paper's note ('' without one)."""
        annotation = self.collection.annotations.get(paper.id)
        return annotation.note if annotation else ""

    def links(self, paper: Paper) -> list[Link]:
        """The paper's links, the user's own first."""
        return self.collection.links(paper)

    def is_bookmarked(self, paper: Paper) -> bool:
        """True when the paper is bookmarked."""
        return self.collection.is_bookmarked(paper)

    def is_read(self, paper: Paper) -> bool:
        """True when the paper is read."""
        return self.collection.is_read(paper)

    def first_seen(self, paper: Paper) -> str | None:
        """The date the paper was first seen in a digest (the store's, else the digest file's)."""
        return self.collection.seen.of(paper) or self.store.seen_of([paper.id]).get(paper.id)

    def paper_data(self, paper: Paper) -> dict[str, object]:
        """One paper as plain data for JSON: id, title, abstract, links, tags, note, first_seen…"""
        data: dict[str, object] = dict(paper_record(paper, self.annotation(paper)))
        data["first_seen"] = self.first_seen(paper)
        return data

    def known_tags(self) -> dict[str, int]:
        """Each tag in use and how many papers carry it, most used first."""
        return tag_counts(a.tags for a in self.collection.annotations.values())

    def tagged(self, tag: str) -> list[Paper]:
        """The papers carrying ``tag`` (case-insensitive)."""
        key, tags = tag.casefold(), self.collection.state.tags  # paper id -> its tags, folded
        return [p for p in self.papers if key in tags.get(p.id, ())]

    def kept(self) -> list[Paper]:
        """Every paper the store keeps something for (bookmark, tags, note, link), in the store's order.

        Records are taken as stored: one with no title snapshot still comes (as its id's paper).
        """
        return [
            Paper(pid, a.title, a.abstract, "store", n, True)
            for n, (pid, a) in enumerate(self.collection.annotations.items())
            if a.kept
        ]

    def bookmarked(self) -> list[Paper]:
        """The bookmarked papers, in the library's order."""
        return [p for p in self.papers if self.is_bookmarked(p)]

    # -- comparing papers --------------------------------------------------------------------
    def compare(self, cancelled: Callable[[], bool] | None = None) -> Similarity:
        """Build the comparison of the papers (seconds at 100k); see reader.index.similar."""
        return Similarity(self.papers, cancelled=cancelled)

    def compared(self, similarity: Similarity) -> None:
        """Take in a comparison built elsewhere (the app's worker)."""
        self.similarity = similarity

    def _similarity(self) -> Similarity | None:
        if self.similarity is None and self.compare_on_demand:
            self.similarity = self.compare()
        return self.similarity

    # -- searching ---------------------------------------------------------------------------
    def search(self, text: str, sort: str = "relevance", bookmarks_only: bool = False) -> Found:
        """The papers for a query, in ``sort`` order (relevance: ``rank:`` likeness, else the engine's).

        An empty query lists the digests' papers in file order. Without a built index it is built now.
        """
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r} (one of {', '.join(SORTS)})")
        query = parse_query(f"{text} is:bookmarked" if bookmarks_only else text)
        warnings = list(query.errors)
        partial: tuple[np.ndarray, np.ndarray, tuple[str, ...]] | None = None
        if query.is_empty:
            rows: np.ndarray = np.arange(self.file_count, dtype=np.int64)
            scores: np.ndarray = np.zeros(len(rows))
        else:
            engine = self.engine or self.collection.build_index()
            result = engine.search(query, self.collection.state)
            rows, scores = result.indices, result.scores
            if len(result.partial):
                partial = (result.partial, result.partial_scores, result.missing)
            tag = rank_tag(query)
            if tag is not None:
                similarity = self._similarity()
                if similarity is None:
                    warnings.append("still comparing papers: rank: orders by relevance for now")
                else:
                    rows, scores, warning = rank_by_tag(rows, tag, self.papers, self.tags, similarity)
                    if warning:
                        warnings.append(warning)
        found = self._found(query, rows, scores, sort, tuple(warnings))
        if partial is None:
            return found
        # Partial matches: a group of their own after the full ones, in the same order of sort.
        missing_of = dict(zip(partial[0].tolist(), partial[2]))
        rows, scores = self._sorted(partial[0], partial[1], sort)
        missing = tuple(missing_of[r] for r in rows.tolist())
        return replace(found, partial=rows, partial_scores=scores, missing=missing)

    def _found(self, query: Query, rows: np.ndarray, scores: np.ndarray, sort: str, warnings: tuple[str, ...]) -> Found:
        rows, scores = self._sorted(rows, scores, sort)
        return Found(query, rows, scores, sort, warnings, self.unread_among(rows), self.total_for(rows))

    def _sorted(self, rows: np.ndarray, scores: np.ndarray, sort: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows in ``sort`` order (relevance: as they are), their scores with them."""
        if sort != "relevance" and len(rows) > 1:
            by_row = dict(zip(rows.tolist(), scores.tolist()))
            c = self.collection
            rows = sort_rows(rows, c.papers, sort, c.annotations, c.seen, c.shown_title)
            scores = np.fromiter((by_row[r] for r in rows.tolist()), dtype=np.float64, count=len(rows))
        return rows, scores

    def similar(self, paper: Paper, limit: int = SIMILAR_LIMIT) -> Found:
        """The paper and the papers most like it, by likeness whatever the sort; raises NotReady."""
        similarity = self._similarity()
        if similarity is None:
            raise NotReady("Still comparing papers; try again in a moment.")
        if paper.order >= similarity.n or self.papers[paper.order] is not paper:
            raise NotReady("This paper arrived after the comparison was built.")
        ranked = similarity.similar(paper.order, limit=limit)
        rows = np.array([paper.order, *(i for i, _ in ranked)], dtype=np.int64)
        scores = np.array([1.0, *(s for _, s in ranked)], dtype=np.float64)
        unread, total = self.unread_among(rows), self.total_for(rows)
        return Found(parse_query(""), rows, scores, "likeness", (), unread, total, like=paper)

    def total_for(self, rows: np.ndarray) -> int:
        """What rows are shown out of: the digests' papers, plus the stored papers among the rows."""
        return self.file_count + int(np.count_nonzero(rows >= self.file_count))

    def title_spans(self, paper: Paper, query: Query) -> list[tuple[int, int]]:
        """Where the query matches the paper's title as shown (TeX made readable)."""
        engine = self.engine
        if engine is None or not query.terms:
            return []
        return text_spans(engine, self.collection.shown_title(paper), query)

    def unread_among(self, rows: np.ndarray) -> int:
        """How many of these rows are unread (cheap at 100k rows: it runs on every keystroke)."""
        if not len(rows) or not len(self.collection.state.read):
            return len(rows)
        is_read = self.collection.read_rows()
        return len(rows) - int(np.count_nonzero(is_read[rows[rows < len(is_read)]]))

    # -- actions -------------------------------------------------------------------------------
    def _write(self, change: Callable[[], object]) -> None:
        change()
        # The transaction re-read the store, so this also brings in other processes' changes.
        self.collection.reload()

    def toggle_bookmark(self, papers: Sequence[Paper]) -> Changed:
        """Bookmark the papers if any is not bookmarked; else remove their bookmarks. One undo step."""
        return self.set_bookmark(papers, not all(self.is_bookmarked(p) for p in papers))

    def set_bookmark(self, papers: Sequence[Paper], on: bool) -> Changed:
        """Bookmark the papers (or remove their bookmarks): one undo step."""
        self._write(lambda: self.store.set_bookmarks(list(papers), on))
        what = "Bookmarked" if on else "Bookmark removed"
        return Changed(what if len(papers) == 1 else f"{what}: {len(papers)} papers", _ids(papers))

    def add_tags(self, papers: Sequence[Paper], tags: Sequence[str]) -> Changed:
        """Add tags to the papers: one undo step. Says how many papers changed; none when all had them."""
        before = {p.id: {t.casefold() for t in self.tags(p)} for p in papers}
        self._write(lambda: self.store.add_tags_many(list(papers), list(tags)))
        changed = [p for p in papers if {t.casefold() for t in self.tags(p)} != before[p.id]]
        names = " ".join("#" + t.lstrip("#") for t in tags)
        if not changed:
            return Changed(f"{names}: already there", (), changed=False)
        count = "" if len(papers) == 1 else f": {len(changed)} of {len(papers)} papers"
        return Changed(f"Tagged {names}{count}", _ids(changed))

    def remove_tags(self, paper: Paper, tags: Sequence[str]) -> Changed:
        """Remove tags from a paper (case-insensitive): one undo step."""
        before = self.tags(paper)
        self._write(lambda: self.store.remove_tags(paper, list(tags)))
        names = " ".join("#" + t.lstrip("#") for t in tags)
        if self.tags(paper) == before:
            return Changed(f"{names}: not there", (), changed=False)
        return Changed(f"Untagged {names}", (paper.id,))

    def set_note(self, paper: Paper, text: str, opened_with: str | None = None) -> Changed:
        """Save a paper's note ('' clears it): one undo step.

        ``opened_with``: the note as the editor showed it. When the store holds something
        else by now (another terminal saved it meanwhile), both texts are kept, marked.
        """
        stored = self.store.annotation(paper.id)
        on_disk = stored.note if stored is not None else ""
        conflict = opened_with is not None and on_disk not in (opened_with, text) and bool(on_disk)
        if conflict:
            text = f"{text}\n\n{NOTE_CONFLICT}\n{on_disk}" if text else on_disk
        self._write(lambda: self.store.set_note(paper, text))
        if conflict:
            return Changed("Note saved; it had changed elsewhere meanwhile: both texts kept", (paper.id,))
        return Changed("Note cleared" if not text else "Note saved", (paper.id,))

    def set_link(self, paper: Paper, url: str) -> Changed:
        """Attach the user's own link ('' clears it): one undo step."""
        self._write(lambda: self.store.set_link(paper, url))
        return Changed("Link cleared" if not url.strip() else "Link saved", (paper.id,))

    def mark_read(self, papers: Sequence[Paper], read: bool = True) -> Changed:
        """Mark the papers read (or unread) that are not so already: one undo step."""
        todo = [p for p in papers if self.is_read(p) != read]
        if not todo:
            return Changed("Already read." if read else "Already unread.", (), changed=False)
        self._write(lambda: self.store.mark_read(list(todo), read, undoable=True))
        what = "read" if read else "unread"
        return Changed(f"Marked {what}" if len(todo) == 1 else f"Marked {len(todo)} papers {what}", _ids(todo))

    def visit(self, paper: Paper) -> bool:
        """The user moved onto a paper: mark it read (not an undo step). True when it was unread.

        The mark is in memory at once and reaches the disk within a moment, off the caller's
        thread (see Store.mark_read_later): moving the cursor never waits for the disk.
        """
        if self.is_read(paper) or self.readonly:
            return False
        self.store.mark_read_later(paper)  # the store's read set (the search's too) has it at once
        return True

    def flush(self) -> None:
        """Write the read marks still waiting (on exit, or when the terminal goes away)."""
        if not self.readonly:
            self.store.flush()

    def undo(self) -> Replayed:
        """Undo the last step (this or another process's)."""
        label = self.store.undo()
        self.collection.reload()
        return Replayed(label, True)

    def redo(self) -> Replayed:
        """Redo the last undone step."""
        label = self.store.redo()
        self.collection.reload()
        return Replayed(label, False)

    def reload(self) -> bool:
        """Re-read the store (changes made elsewhere); True when stored papers were added."""
        return self.collection.reload()

    # -- saved searches ------------------------------------------------------------------------
    def saved_searches(self) -> list[SavedSearch]:
        """The saved searches, slot 1 first."""
        return saved_searches.saved_searches(self.store)

    def save_search(self, name: str, query: str) -> int:
        """Save a search; returns its slot (1-9)."""
        return saved_searches.save_search(self.store, name, query)

    def saved_search(self, which: str | int) -> tuple[int, SavedSearch]:
        """A saved search by slot or name, with its slot; raises SavedSearchError."""
        return saved_searches.find_saved(self.store, which)

    def rename_search(self, which: str | int, name: str) -> SavedSearch:
        """Rename a saved search."""
        return saved_searches.rename_search(self.store, which, name)

    def delete_search(self, which: str | int) -> SavedSearch:
        """Delete a saved search."""
        return saved_searches.delete_search(self.store, which)

    def copy_choices(self, papers: Sequence[Paper]) -> list[CopyChoice]:
        """What "copy" offers: each link, the title, a Markdown link, a BibTeX entry (for several
        papers: all their links, titles, Markdown links or BibTeX entries)."""
        if len(papers) == 1:
            paper = papers[0]
            links = self.links(paper)
            return [
                *(CopyChoice(f"[{n}] {link.label}: {link.url}", "link", link.url) for n, link in enumerate(links, 1)),
                CopyChoice("Title", "Title", paper.title),
                CopyChoice("Markdown link  [title](url)", "Markdown link", markdown_link(paper, links[0].url)),
                CopyChoice("BibTeX entry", "BibTeX entry", bibtex(paper, self.annotation(paper))),
            ]
        primary = [self.links(p)[0].url for p in papers]
        texts = {
            "links": "\n".join(primary),
            "titles": "\n".join(p.title for p in papers),
            "Markdown links": "\n".join(f"- {markdown_link(p, url)}" for p, url in zip(papers, primary)),
            "BibTeX entries": "\n".join(bibtex(p, self.annotation(p)) for p in papers),
        }
        return [CopyChoice(f"All {len(papers)} {what}", f"{len(papers)} {what}", text) for what, text in texts.items()]

    # -- export and import ------------------------------------------------------------------------
    def export_scopes(self, shown: Iterable[Paper] = (), marked: Iterable[Paper] = ()) -> list[ExportScope]:
        """What an export can take: bookmarked, marked, shown, and each tag's papers (non-empty ones)."""
        by_tag: dict[str, list[Paper]] = {}
        tags = self.collection.state.tags  # paper id -> its tags, folded
        for paper in self.papers:  # one pass, in the library's order
            for key in tags.get(paper.id, ()):
                by_tag.setdefault(key, []).append(paper)
        tagged = {tag: by_tag.get(tag.casefold(), []) for tag in self.known_tags()}
        return exporting.export_scopes(self.bookmarked(), list(marked), list(shown), tagged)

    def write_export(
        self, scope: ExportScope, fmt: str, folder: str | os.PathLike[str], create: bool = False
    ) -> Exported:
        """Write an export file into ``folder`` (see reader.core.exporting.write_export)."""
        return exporting.write_export(scope, fmt, folder, self.annotation, create)

    def import_file(self, path: str | os.PathLike[str]) -> Imported:
        """Merge a JSON export into the store; raises ImportProblem for a file that is not one."""
        imported = importing.import_export(self.store, path)
        self.collection.reload()
        return imported


def _ids(papers: Iterable[Paper]) -> tuple[str, ...]:
    return tuple(p.id for p in papers)
