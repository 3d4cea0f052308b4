"""A collection: the papers of the open digests plus stored snapshots, with their annotations.

This is what the command line and the app both work on: it ties the digests,
the store and the search engine together, and knows nothing of Textual.
"""

from __future__ import annotations

import functools
import hashlib
import os
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import date, datetime
from operator import attrgetter

import numpy as np

from reader.digest import Library
from reader.index.build import IndexBuilder
from reader.index.cache import cached_engine, files_signature
from reader.index.engine import PaperRows, SearchEngine, State
from reader.index.merge import combine_snapshots
from reader.links import Link, paper_links
from reader.paper import Paper
from reader.store import NO_DAY, Annotation, Sighting, Store, StoreError
from reader.tex import clean_tex
from reader.text import clean_line


def clean_annotation(annotation: Annotation) -> Annotation:
    """The annotation with no escape sequences or control characters in its text (itself when clean).

    The store file may have been edited by hand or filled by an import: what it holds
    is shown, exported and printed, so it is cleaned like digest text (notes keep their lines).
    """

    def clean(text: str | None) -> str | None:
        return clean_line(text) if text else text

    a = annotation
    texts = (a.title, a.abstract, a.note.replace("\n", " "), a.link, a.bookmarked_at or "", a.first_seen or "")
    if all(t.isprintable() for t in (*texts, a.read_at or "", *a.tags)) and all(
        unicodedata.is_normalized("NFC", t) for t in a.tags
    ):
        return a  # the usual case: nothing to clean, checked in C
    cleaned = replace(
        a,
        title=clean_line(a.title),
        abstract=clean_line(a.abstract),
        note="\n".join(clean_line(line) for line in a.note.split("\n")),
        link=clean_line(a.link),
        # NFC like digest text and query terms, so "#été" finds the tag however either was typed.
        tags=tuple(unicodedata.normalize("NFC", clean_line(t)) for t in a.tags),
        bookmarked_at=clean(a.bookmarked_at),
        first_seen=clean(a.first_seen),
        read_at=clean(a.read_at),
    )
    return a if cleaned == a else cleaned


_ID = attrgetter("id")
_EPOCH = date(1970, 1, 1).toordinal()
_SIGNATURE = "paper-reader digest sighting 1"  # a new one makes every file's papers looked up again
LOOKUPS_BEFORE_ALL = 512  # single first-seen look-ups after which every paper's date is worked out at once


def day_number(iso: str) -> int:
    """The day of an ISO date, counted from 1970-01-01."""
    return date.fromisoformat(iso[:10]).toordinal() - _EPOCH


@functools.lru_cache(maxsize=4096)
def day_text(day: int) -> str:
    """The ISO date of a day counted from 1970-01-01."""
    return date.fromordinal(day + _EPOCH).isoformat()


def _signature(st: os.stat_result, encoding: str | None) -> bytes:
    """What names a digest file as it is now (a changed, replaced or touched file gets another)."""
    text = f"{_SIGNATURE}:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{encoding}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=10).digest()


class SeenDates(Mapping[str, str]):
    """When each paper was first seen (ISO date): the store's date, or its digest file's when that is
    earlier or the store has none. Looked up per paper as asked (rows on screen, a result list), so an
    open costs nothing per paper; past LOOKUPS_BEFORE_ALL papers asked for (a sort by first seen)
    every paper's day is worked out at once, in numpy."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection
        self._asked: dict[str, int] = {}  # the days looked up one by one
        self._days: np.ndarray | None = None  # per paper (position), once worked out at once

    def _day(self, pid: str, paper: Paper | None = None) -> int:
        c, days = self._collection, self._days
        if days is None:
            day = self._asked.get(pid)
            if day is not None:
                return day
            if len(self._asked) < LOOKUPS_BEFORE_ALL:
                day = self._asked[pid] = c.first_seen_day(pid, paper)
                return day
            days = self._days = c.seen_days()
        if paper is None:
            paper = c.by_id.get(pid)
        if paper is not None and paper.order < len(days) and c.papers[paper.order] is paper:
            return int(days[paper.order])
        return c.first_seen_day(pid, paper)

    def of(self, paper: Paper) -> str | None:
        """When this paper was first seen (ISO date; None when unknown): ``get(paper.id)`` without
        looking the paper up by its id (a row being drawn has it already)."""
        day = self._day(paper.id, paper)
        return None if day == NO_DAY else day_text(day)

    def work_out_all(self) -> None:
        """Every paper's day at once now (the app does it on a worker once search is ready, so the
        rows past the first LOOKUPS_BEFORE_ALL do not wait for it on the UI thread)."""
        if self._days is None:
            self._days = self._collection.seen_days()

    def __getitem__(self, pid: str) -> str:
        day = self._day(pid)
        if day == NO_DAY:
            raise KeyError(pid)
        return day_text(day)

    def __iter__(self) -> Iterator[str]:
        return iter(self._collection.all_seen())

    def __len__(self) -> int:
        return len(self._collection.all_seen())


class NewPapers(PaperRows):
    """The papers first seen in the newest open digest (``is:new``), worked out on first use: only
    the newest file's papers are looked up in the store, and the search takes them as a mask."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection
        self._mask: np.ndarray | None = None
        self._ids: frozenset[str] | None = None

    def _rows(self) -> np.ndarray:
        if self._mask is None:
            self._mask = self._collection.new_rows()
        return self._mask

    def _found(self) -> frozenset[str]:
        if self._ids is None:
            papers = self._collection.papers
            self._ids = frozenset(papers[r].id for r in np.flatnonzero(self._rows()).tolist())
        return self._ids

    def __contains__(self, pid: object) -> bool:
        return pid in self._found()

    def __iter__(self) -> Iterator[str]:
        return iter(self._found())

    def __len__(self) -> int:
        return int(np.count_nonzero(self._rows()))

    def rows_in(self, papers: list[Paper]) -> np.ndarray | None:
        """The mask over ``papers`` when they start with the collection's digest papers (the search's do)."""
        mask = self._rows()
        n, own = len(mask), self._collection.papers
        if len(papers) < n or any(papers[k] is not own[k] for k in {0, n // 2, n - 1} if n):
            return None
        rows = np.zeros(len(papers), dtype=bool)
        rows[:n] = mask
        return rows


class UnknownPaper(LookupError):
    """No paper has this id (or the id prefix is ambiguous)."""


class AmbiguousId(UnknownPaper):
    """The id prefix matches several papers."""


class Collection:
    """Papers from digests and from the store's snapshots, searchable, with their records."""

    def __init__(self, library: Library, store: Store, index: bool = True, loading: bool = False) -> None:
        self.library = library
        self.store = store
        # The stored annotations, cleaned for showing (read marks are the store's: see is_read).
        self.annotations: dict[str, Annotation] = {}
        self._raw: dict[str, Annotation] = {}
        self._raw_state = False  # the state was built from the annotations at least once
        self._snapshots_due = True  # every record is to be looked at for papers known only from the store
        self._read_rows: tuple[tuple[int, int, int, int], np.ndarray] | None = None
        self.papers: list[Paper] = list(library.papers)
        self._by_id: dict[str, Paper] = {}  # see by_id
        self._by_id_count = 0  # how many of the papers _by_id holds
        # Papers from the digests come first, stored snapshots after them.
        self.file_count = len(self.papers)
        self.loading = loading
        self.state = State()
        self.seen = SeenDates(self)
        self.newest = ""
        self._newest_day = NO_DAY
        self._file_days: dict[str, int] = {}  # digest file -> the day it was seen (see note_seen)
        self._new: AbstractSet[str] = frozenset()
        self._titles: dict[str, str] = {}
        self.engine: SearchEngine | None = None
        self.index_stale = False
        self.reload()
        if index:
            self.build_index()

    def note_seen(self, today: date | None = None) -> None:
        """Note when each paper of the open digests was first seen (the date of its file, or the
        store's when earlier), and store the dates of files not stored before (a writable store).

        A paper first seen before the newest open digest is "seen before"; one first seen in the
        newest digest is new (``is:new``). Costs per file, not per paper: a file whose papers'
        dates are stored (marked in the store by its stat signature) is not looked at again, and
        dates are looked up when shown (see SeenDates, NewPapers).
        """
        today_day = day_number((today or date.today()).isoformat())
        file_days: dict[str, int] = {}
        keys: dict[str, bytes] = {}
        for source in self.library.files:
            try:
                st = os.stat(source)
            except OSError:
                file_days[source] = today_day
                continue
            file_days[source] = day_number(datetime.fromtimestamp(st.st_mtime).date().isoformat())
            keys[source] = _signature(st, self.library.encoding)
        self._newest_day = max(file_days.values(), default=today_day)
        self.newest = day_text(self._newest_day)
        self._file_days = file_days
        if not self.store.readonly:
            try:
                self._store_sightings(keys)
            except StoreError:
                pass  # dates are still the files' (and what the store holds)
        self.seen = SeenDates(self)
        new = NewPapers(self)
        self.state.new = new
        self._new = new

    def _store_sightings(self, keys: dict[str, bytes]) -> None:
        """Store the first-seen dates of the papers of files not stored before (one write)."""
        files = self.library.files
        todo = {f for f in files if f not in keys or not self.store.digest_stored(keys[f])}
        if not todo and (files or not self.file_count):
            return
        rows = self._file_rows()
        papers = self.papers
        unknown = [r for source, where in rows.items() if source not in self._file_days for r in where.tolist()]
        extra: dict[str, list[str]] = {}
        for pid, others in self.library.also_in.items():
            for source in others:
                if source in todo:
                    extra.setdefault(source, []).append(pid)
        sightings = []
        for source in dict.fromkeys(f for f in files if f in todo):
            where = rows.get(source)
            pids = [papers[r].id for r in where.tolist()] if where is not None else []
            day = day_text(self._file_days[source])
            sightings.append(Sighting(keys.get(source, b""), day, pids + extra.get(source, [])))
        if unknown:  # papers from no open file (a library made by hand): the newest date, as before
            sightings.append(Sighting(b"", self.newest, [papers[r].id for r in unknown]))
        self.store.record_sightings(sightings)

    def _file_rows(self) -> dict[str, np.ndarray]:
        """Which digest papers (positions) are first from which file: runs, as files are read in order."""
        n = self.file_count
        sources = list(map(attrgetter("source"), self.papers[:n]))
        files = self.library.files
        if len(files) == 1 and sources.count(files[0]) == n:
            return {files[0]: np.arange(n)}
        if not n:
            return {}
        cut = np.flatnonzero(np.array(sources[1:], dtype=object) != np.array(sources[:-1], dtype=object)) + 1
        starts, ends = [0, *cut.tolist()], [*cut.tolist(), n]
        runs: dict[str, list[np.ndarray]] = {}
        for start, end in zip(starts, ends, strict=True):
            runs.setdefault(sources[start], []).append(np.arange(start, end))
        return {source: np.concatenate(parts) for source, parts in runs.items()}

    def _file_day_of(self, paper: Paper) -> int:
        """The day of the earliest open file a digest paper is in (NO_DAY before note_seen)."""
        if not self._file_days or paper.from_store:
            return NO_DAY
        days, newest = self._file_days, self._newest_day
        day = days.get(paper.source, newest)
        for source in self.library.also_in.get(paper.id, ()):
            day = min(day, days.get(source, newest))
        return day

    def _file_day_array(self) -> np.ndarray:
        """Per paper (position), the day of the earliest open file it is in; NO_DAY for stored snapshots."""
        days = np.full(len(self.papers), NO_DAY, dtype=np.int64)
        if not self._file_days:
            return days
        for source, where in self._file_rows().items():
            days[where] = self._file_days.get(source, self._newest_day)
        for pid in self.library.also_in:
            paper = self.by_id.get(pid)
            if paper is not None and not paper.from_store:
                row = paper.order if paper.order < len(self.papers) and self.papers[paper.order] is paper else None
                days[self.papers.index(paper) if row is None else row] = self._file_day_of(paper)
        return days

    def first_seen_day(self, pid: str, paper: Paper | None = None) -> int:
        """The day a paper was first seen (see SeenDates); NO_DAY when unknown (``paper``: the paper
        with this id, when the caller has it)."""
        if paper is None:
            paper = self.by_id.get(pid)
        day = self._file_day_of(paper) if paper is not None else NO_DAY
        return min(day, int(self.store.first_seen_days([pid])[0]))

    def seen_days(self) -> np.ndarray:
        """Per paper (position), the day it was first seen (see SeenDates); NO_DAY where unknown."""
        papers = list(self.papers)
        stored = self.store.first_seen_days(list(map(attrgetter("id"), papers)))
        days: np.ndarray = np.minimum(self._file_day_array()[: len(papers)], stored)
        return days

    def all_seen(self) -> dict[str, str]:
        """Every paper's first-seen date (those that have one), worked out at once."""
        days = self.seen_days()
        known = np.flatnonzero(days != NO_DAY)
        unique, inverse = np.unique(days[known], return_inverse=True)
        names = [day_text(d) for d in unique.tolist()]
        return {self.papers[k].id: names[i] for k, i in zip(known.tolist(), inverse.tolist(), strict=True)}

    def new_rows(self) -> np.ndarray:
        """Which digest papers (positions) were first seen in the newest open digest (none before note_seen)."""
        n = self.file_count
        mask = np.zeros(n, dtype=bool)
        if not self._file_days:
            return mask
        rows = np.flatnonzero(self._file_day_array()[:n] >= self._newest_day)
        papers = self.papers
        pids = list(map(attrgetter("id"), papers[:n])) if len(rows) == n else [papers[r].id for r in rows.tolist()]
        mask[rows[self.store.first_seen_days(pids) >= self._newest_day]] = True
        return mask

    def seen_before(self, paper: Paper, today: date | None = None) -> str:
        """'seen 3 days ago' for a paper first seen before the newest open digest, else ''."""
        first = self.seen.of(paper)
        if not first or not self.newest or first >= self.newest:
            return ""
        days = ((today or date.today()) - date.fromisoformat(first)).days
        if days <= 0:
            return "seen today"
        return "seen yesterday" if days == 1 else f"seen {days} days ago"

    @property
    def by_id(self) -> dict[str, Paper]:
        """The papers by id: made when first asked for (a search from the command line never asks,
        and a million entries take a tenth of a second), then kept up with the papers added."""
        count = len(self.papers)
        if self._by_id_count < count:
            more = self.papers[self._by_id_count : count]
            self._by_id.update(zip(map(_ID, more), more))
            self._by_id_count = count
        return self._by_id

    def index_ids(self) -> None:
        """Make ``by_id`` now (the app does it on a worker, before the rows ask for it)."""
        self.by_id.get("")

    def work_out_dates(self) -> None:
        """Work out every paper's first-seen day now (see SeenDates.work_out_all)."""
        self.seen.work_out_all()

    def add_papers(self, papers: list[Paper]) -> None:
        """Take in papers parsed from the digests while loading (before any snapshot)."""
        self.papers.extend(papers)
        self.file_count = len(self.papers)

    def finish_loading(self) -> None:
        """All digests are parsed: now papers known only from the store can be added."""
        self.loading = False
        self.reload()

    def build_index(
        self,
        ready: Callable[[SearchEngine], None] | None = None,
        builder: IndexBuilder | None = None,
        save: bool = True,
    ) -> SearchEngine:
        """Build the search index, or load it from the on-disk cache (reader.index.cache) when that
        holds a sound index of exactly these papers. Slow for big libraries: the app calls it on a worker.
        Digests read through segments (reader.index.segments) bring their index: only the store's
        snapshots are indexed here, and what the open parsed is cached once search is ready (unless
        ``save`` is false: the caller calls ``library.save_segments()`` when it suits it).

        The engine covers the papers as they are when this starts (it indexes a copy of the list).
        ``ready`` gets the engine as soon as it can search (before a new cache entry is written);
        ``builder``: a reader.index.build.IndexBuilder that was fed the papers as they were parsed.
        """
        self.index_stale = False
        raw = self.library.raw_index()
        if raw is None:  # papers not read through segments: the whole-library cache
            self.engine = cached_engine(
                self.papers,
                ready=ready,
                content_key=self.library.content_key,
                file_count=self.file_count,
                builder=builder,
                signature=files_signature(self.library.files, self.library.encoding)
                if self.library.content_key
                else None,
            )
            return self.engine
        papers = list(self.papers)
        engine = self.library.segments.engine if self.library.segments is not None else None
        if engine is None or len(papers) != engine.n:
            engine = SearchEngine.from_index(papers, *combine_snapshots(raw, papers, self.file_count))
        self.engine = engine
        if ready is not None:
            ready(engine)
        if save:
            self.library.save_segments()
        return engine

    def reload(self) -> bool:
        """Re-read the store; add snapshots of kept papers not in the digests. True if any were added.

        Costs what changed (an unchanged record keeps its cleaned copy and its place in the
        search's state), never the read marks: those stay the store's, looked up one at a time.
        """
        raw = self.store.annotations()
        previous = self._raw
        changed = [pid for pid, a in raw.items() if previous.get(pid) is not a]
        # Records removed (an undo of a paper's first annotation): only when the sizes say some were.
        gone = [pid for pid in previous if pid not in raw] if len(previous) + len(changed) != len(raw) else []
        self._raw = raw
        if len(changed) + len(gone) > max(64, len(raw) // 8) or not self._raw_state:
            cleaned, redo = self.annotations, set(changed)
            self.annotations = {
                pid: clean_annotation(a) if pid in redo or pid not in cleaned else cleaned[pid]
                for pid, a in raw.items()
            }
            self.state = self._state()
            self._raw_state = True
            self._snapshots_due = True
        elif changed or gone:
            annotations = dict(self.annotations)
            for pid in gone:
                annotations.pop(pid, None)
            for pid in changed:
                annotations[pid] = clean_annotation(raw[pid])
            self.annotations = annotations
            self.state = self._state_changed(changed + gone)
        added = False
        if self.loading:
            self._snapshots_due = True
            return added  # a snapshot now could duplicate a paper further down the file
        candidates = self.annotations if self._snapshots_due else changed
        self._snapshots_due = False
        stored = []
        for pid in candidates:
            annotation = self.annotations.get(pid)
            if annotation is not None and pid not in self.by_id and annotation.kept and annotation.title:
                paper = Paper(pid, annotation.title, annotation.abstract, "store", len(self.papers), True)
                self.papers.append(paper)  # and so in by_id
                stored.append(pid)
                added = True
        if stored:  # their dates are the store's: a fresh look-up has them
            self.seen = SeenDates(self)
        if added and self.engine is not None:
            # The index covers the papers it was built on; the caller rebuilds it (the app on a worker).
            self.index_stale = True
        return added

    def _state_changed(self, pids: list[str]) -> State:
        """The search's state with these papers' entries redone (a new State: a search on a worker
        may be reading the old one)."""
        old = self.state
        state = State(
            bookmarked=set(old.bookmarked),
            read=self.store.read_ids(),
            noted=set(old.noted),
            linked=set(old.linked),
            tags=dict(old.tags),
            new=self._new,
        )
        for pid in pids:
            a = self.annotations.get(pid)
            for group, on in (
                (state.bookmarked, a is not None and a.bookmarked_at),
                (state.noted, a is not None and a.note),
                (state.linked, a is not None and a.link),
            ):
                if on:
                    group.add(pid)
                else:
                    group.discard(pid)
            if a is not None and a.tags:
                state.tags[pid] = {t.casefold() for t in a.tags}
            else:
                state.tags.pop(pid, None)
        return state

    def _state(self) -> State:
        """What the search needs to know of the annotations; read marks are the store's live set."""
        state = State(read=self.store.read_ids(), new=self._new)
        for pid, a in self.annotations.items():
            if a.bookmarked_at:
                state.bookmarked.add(pid)
            if a.note:
                state.noted.add(pid)
            if a.link:
                state.linked.add(pid)
            if a.tags:
                state.tags[pid] = {t.casefold() for t in a.tags}
        return state

    def record(self, paper: Paper | str) -> Annotation | None:
        """What the user made of a paper, cleaned for showing, with its read mark as it is now (None: nothing)."""
        pid = paper if isinstance(paper, str) else paper.id
        annotation = self.annotations.get(pid)
        read_at = self.store.read_at(pid)
        if annotation is None:
            return Annotation(pid, read_at=read_at) if read_at else None
        return annotation if annotation.read_at == read_at else replace(annotation, read_at=read_at)

    def read_rows(self) -> np.ndarray:
        """Which papers (by position) are read: a mask kept until the read marks or the papers change."""
        marks = self.store.marks
        key = (id(marks.read), marks.version, self.store.storage.version, len(self.papers))
        if self._read_rows is None or self._read_rows[0] != key:
            read = self.state.read
            mask = np.fromiter((p.id in read for p in self.papers), dtype=bool, count=len(self.papers))
            self._read_rows = (key, mask)
        return self._read_rows[1]

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
        annotation = self.annotations.get(paper.id)
        return paper_links(paper.title, paper.abstract, annotation.link if annotation else None, paper.meta)

    def is_bookmarked(self, paper: Paper) -> bool:
        """True when the paper is bookmarked."""
        return paper.id in self.state.bookmarked

    def is_read(self, paper: Paper) -> bool:
        """True when the paper has been read."""
        return self.store.is_read(paper.id)

    def shown_title(self, paper: Paper) -> str:
        """The title as the app shows it: TeX leftovers made readable (cached; rows redraw often)."""
        title = self._titles.get(paper.id)
        if title is None:
            title = self._titles[paper.id] = clean_tex(paper.title)
        return title

    def tags(self, paper: Paper) -> list[str]:
        """The paper's tags, in the order they were added."""
        annotation = self.annotations.get(paper.id)
        return list(annotation.tags) if annotation else []
