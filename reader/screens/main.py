"""The main screen: search box, paper list, detail pane, footer; the paper actions live here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input

from reader.export import FORMATS, bibtex, export, markdown_link
from reader.index.highlight import title_spans
from reader.paper import Paper
from reader.query import parse_query
from reader.screens.ask import AskScreen
from reader.screens.choose import ChooseScreen
from reader.screens.help import HelpScreen
from reader.screens.note import NoteScreen
from reader.screens.tags import TagsScreen
from reader.sorting import SORTS, sort_rows
from reader.store import StoreError, tag_counts
from reader.widgets.filter_chips import Chip, FilterChips, filter_tokens, without_token
from reader.widgets.paper_detail import PaperDetail
from reader.widgets.paper_list import PaperList
from reader.widgets.search_box import SearchBox

if TYPE_CHECKING:
    from reader.app import PaperReaderApp

NARROW = 100  # below this many columns the detail pane goes under the list
DEBOUNCE = 0.02


class MainScreen(Screen[None]):
    """Browse, search and annotate papers."""

    app: PaperReaderApp  # type: ignore[assignment]

    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="main.focus_search"),
        Binding("b", "bookmark", "Bookmark", id="main.bookmark"),
        Binding("B", "bookmarks_only", "Bookmarks", id="main.bookmarks_only"),
        Binding("t", "tags", "Tags", id="main.tags"),
        Binding("number_sign", "tag_filter", "By tag", id="main.tag_filter"),
        Binding("n", "note", "Note", id="main.note"),
        Binding("y", "copy_link", "Copy link", id="main.copy_link"),
        Binding("Y", "copy_choose", "Copy…", id="main.copy_choose"),
        Binding("o", "open_link", "Open", id="main.open_link"),
        Binding("space", "read_on", "Read on", id="main.read_on"),
        Binding("s", "similar", "Similar", id="main.similar"),
        Binding("S", "cycle_sort", "Sort", id="main.cycle_sort"),
        Binding("v", "mark", "Mark", id="main.mark"),
        Binding("V", "clear_marks", "Clear marks", show=False, id="main.clear_marks"),
        Binding("R", "mark_all_read", "All read", show=False, id="main.mark_all_read"),
        Binding("u", "undo", "Undo", id="main.undo"),
        Binding("ctrl+r", "redo", "Redo", show=False, id="main.redo"),
        Binding("ctrl+s", "save_search", "Save search", show=False, id="main.save_search"),
        *[
            Binding(str(n), f"saved_search({n})", f"Saved search {n}", show=False, id=f"main.saved_search_{n}")
            for n in range(1, 10)
        ],
        Binding("x", "remove_filter", "Remove filter", show=False, id="main.remove_filter"),
        Binding("ctrl+l", "refresh", "Refresh", show=False, id="main.refresh"),
        Binding("question_mark", "help", "Help", id="main.help"),
        Binding("q", "app.quit", "Quit", id="main.quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.bookmarks_only = False
        self.query_text = ""
        self._generation = 0
        self._applied_text = ""
        self.shown = 0
        self.unread = 0
        # "More like this": the paper whose similar papers the list shows, or None.
        self.similar_to: Paper | None = None
        self.sort = "relevance"
        self._restore_at: tuple[str | None, int] | None = None

    @property
    def collection(self):  # type: ignore[no-untyped-def]
        return self.app.collection

    def compose(self) -> ComposeResult:
        yield SearchBox(
            placeholder='/ search: words (typos ok)  \'exact  !not  "phrase"  #tag  is:bookmarked  has:code',
            id="search",
            select_on_focus=False,
        )
        yield FilterChips(id="chips")
        with Horizontal(id="panes"):
            yield PaperList(self.collection.papers, id="papers")
            yield PaperDetail(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        papers = self.query_one(PaperList)
        papers.is_bookmarked = self.collection.is_bookmarked
        papers.is_read = self.collection.is_read
        papers.tags_of = self.collection.tags
        papers.seen_of = self.collection.seen_before
        papers.title_of = self.collection.shown_title
        self._widgets = (papers, self.query_one(SearchBox))
        self._apply(self._file_order(), parse_query(""), None, self._generation)
        papers.focus()
        self._layout(self.size.width)
        self._restore(self.app.session())

    # -- session restore -----------------------------------------------------------------
    def _restore(self, saved: dict[str, Any]) -> None:
        """Bring back the query, filters, sort, selected paper and scroll of the last visit."""
        if not saved:
            return
        self.sort = str(saved.get("sort")) if saved.get("sort") in SORTS else "relevance"
        self.bookmarks_only = bool(saved.get("bookmarks_only"))
        self._restore_at = (saved.get("paper"), int(saved.get("scroll") or 0))
        self.query_text = str(saved.get("query") or "")
        search = self.query_one(SearchBox)
        with search.prevent(Input.Changed):
            search.value = self.query_text
        self.run_search(keep=saved.get("paper"))

    def on_unmount(self) -> None:
        self.save_now()

    def save_now(self) -> None:
        """Remember where the user is in these digests (on exit, or when the terminal goes away)."""
        # On unmount the widgets are gone from the DOM; the references still hold their state.
        papers, search = self._widgets
        self.app.save_session(
            {
                "query": search.value,
                "bookmarks_only": self.bookmarks_only,
                "sort": self.sort,
                "paper": papers.paper.id if papers.paper else None,
                "scroll": int(papers.scroll_offset.y),
            }
        )

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        self.set_class(width < NARROW, "narrow")

    # -- searching ---------------------------------------------------------------------
    def _effective_query(self) -> str:
        text = self.query_text
        return f"{text} is:bookmarked" if self.bookmarks_only else text

    def _file_order(self) -> np.ndarray:
        return np.arange(self.collection.file_count)

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        if event.value != event.input.value:
            return  # a newer keystroke is already in the box; its own Changed follows
        self.query_text = event.value
        if self._effective_query() != self._applied_text:  # enter may have ranked it already
            self.run_search()

    def run_search(self, keep: str | None = None) -> None:
        """Rank on a worker; a newer search cancels an older one."""
        self.similar_to = None
        self._generation += 1
        self._search(self._effective_query(), self._generation, keep)

    @work(exclusive=True, group="search")
    async def _search(self, text: str, generation: int, keep: str | None) -> None:
        query = parse_query(text)
        if query.is_empty:
            self._apply(self._file_order(), query, keep, generation)
            return
        await asyncio.sleep(DEBOUNCE)
        engine = await self.app.index_ready()
        state = self.collection.state
        result = await asyncio.to_thread(engine.search, query, state)
        self._apply(self._ranked(result.indices, query), query, keep, generation)

    def _ranked(self, rows: np.ndarray, query: Any) -> np.ndarray:
        """Apply ``rank:tag``: order rows by likeness to the papers with that tag (arxiv-sanity style)."""
        tags = [t.text.casefold() for t in query.terms if t.kind == "rank"]
        similarity = self.app.similarity
        if not tags or similarity is None or not len(rows):
            return rows
        tagged = [
            p.order
            for p in self.collection.papers
            if p.order < similarity.n and tags[0] in {t.casefold() for t in self.collection.tags(p)}
        ]
        if not tagged:
            self.notify(f"No papers tagged #{tags[0]} to rank by.", severity="warning", markup=False)
            return rows
        scores = similarity.ranked_to(tagged)
        rows_scores = np.where(rows < similarity.n, scores[np.minimum(rows, similarity.n - 1)], 0.0)
        return rows[np.argsort(-rows_scores, kind="stable")]

    def _apply(self, rows: np.ndarray, query: Any, keep: str | None, generation: int) -> None:
        if generation != self._generation:
            return  # an older query: never shown
        if self.similar_to is None:
            rows = sort_rows(
                rows,
                self.collection.papers,
                self.sort,
                self.collection.records,
                self.collection.seen,
                self.collection.shown_title,
            )
        self._applied_text = query.text
        papers = self.query_one(PaperList)
        engine = self.collection.engine
        if query.terms and engine is not None:
            shown = self.collection.shown_title
            # Highlights are found in the title as shown (TeX made readable), not the raw one.
            papers.show(rows, lambda paper: title_spans(engine, replace(paper, title=shown(paper)), query), keep)
        else:
            papers.show(rows, lambda paper: [], keep)
        self.shown = len(rows)
        self._count_unread()
        self._update_border(query.errors)
        if self._restore_at is not None and keep is not None and keep == self._restore_at[0]:
            scroll = self._restore_at[1]
            if scroll <= papers.cursor < scroll + papers.scrollable_content_region.height:
                papers.scroll_to(y=scroll, animate=False, immediate=True)
            self._restore_at = None

    def _count_unread(self) -> None:
        papers = self.query_one(PaperList)
        rows, read = papers.rows, self.collection.state.read
        if not read or not len(rows):
            self.unread = len(rows)
            return
        # Mark the read papers by their place in the list (Paper.order), then count the rows
        # that hit a mark: cheap at 100k rows, where this runs on every keystroke.
        is_read = np.zeros(len(papers.papers), dtype=bool)
        by_id = self.collection.by_id
        is_read[[p.order for pid in read if (p := by_id.get(pid)) is not None and p.order < len(is_read)]] = True
        self.unread = len(rows) - int(np.count_nonzero(is_read[rows]))

    def _update_border(self, errors: list[str] | None = None) -> None:
        papers = self.query_one(PaperList)
        total = self.collection.file_count
        title = "Bookmarks" if self.bookmarks_only else "Papers"
        if self.similar_to is not None:
            name = self.similar_to.title
            title = "Like: " + _short(name, 40)
        if self.app.load_progress < 1:
            title += f" · loading {self.app.load_progress:.0%}"
        elif self.app.indexing:
            title += " · indexing…"
        if self.sort != "relevance" and self.similar_to is None:
            title += f" · by {self.sort}"
        if self.app.readonly:
            title += " · read-only"
        papers.border_title = title
        self._show_chips()
        marked = len(papers.marked)
        papers.border_subtitle = f"{self.shown} / {total} · {self.unread} unread" + (
            f" · {marked} marked" if marked else ""
        )
        if errors:
            self.notify("; ".join(errors), severity="warning", markup=False)

    def refresh_papers(self) -> None:
        """Redraw rows and the detail pane (first-seen dates arrived, say)."""
        self.query_one(PaperList).refresh_rows()
        self._show_detail(self.paper)

    def index_done(self) -> None:
        """Called by the app when the search index is ready."""
        self._update_border()

    def papers_added(self) -> None:
        """Called by the app as a big digest loads: grow the file-order list in place."""
        if parse_query(self._effective_query()).is_empty:
            papers = self.query_one(PaperList)
            papers.extend(self._file_order())
            self.shown = len(papers.rows)
            self._count_unread()
        self._update_border()

    # -- moving between widgets ---------------------------------------------------------
    def action_to_list(self, top: bool) -> None:
        """Leave the search box for the list (``top``: select the top result of the current query)."""
        # The box may hold keys whose Changed message has not reached us yet.
        self.query_text = self.query_one(SearchBox).value
        if self._effective_query() != self._applied_text and self.app.collection.engine is not None:
            # The latest keystroke's search has not landed yet: rank it now, so the
            # paper the user acts on next is the top result of what they typed.
            self.workers.cancel_group(self, "search")
            query = parse_query(self._effective_query())
            if query.is_empty:
                rows = self._file_order()
            else:
                rows = self._ranked(self.collection.engine.search(query, self.collection.state).indices, query)
            self._generation += 1
            self._apply(rows, query, None, self._generation)
        papers = self.query_one(PaperList)
        self.set_focus(papers)
        if top:
            papers.cursor = 0

    @on(PaperList.ClearQuery)
    def clear_query(self) -> None:
        if self.similar_to is not None:
            # Back from "more like this" to the search it came from.
            self.run_search(keep=self.similar_to.id)
            return
        search = self.query_one(SearchBox)
        if search.value:
            search.value = ""  # Input.Changed runs the search

    def action_focus_search(self) -> None:
        self.set_focus(self.query_one(SearchBox))

    @on(PaperList.Highlighted)
    def paper_highlighted(self, event: PaperList.Highlighted) -> None:
        # Results flashing by while typing in the search box are not read; a paper
        # selected in the list is.
        if self.query_one(PaperList).has_focus:
            self._mark_read(event.paper)
        self._show_detail(event.paper)

    def _mark_read(self, paper: Paper | None) -> None:
        if paper is not None and not self.collection.is_read(paper) and not self.app.readonly:
            if self._save(lambda: self.collection.store.mark_read([paper])) is not None:
                self.unread = max(0, self.unread - 1)
                self._update_border()
            self.query_one(PaperList).refresh_rows()

    def _show_detail(self, paper: Paper | None) -> None:
        detail = self.query_one(PaperDetail)
        if paper is None:
            detail.show(None, {}, [])
        else:
            detail.show(
                paper, self.collection.record(paper), self.collection.links(paper), self.collection.seen_before(paper)
            )

    @property
    def paper(self) -> Paper | None:
        """The paper under the list's cursor."""
        return self.query_one(PaperList).paper

    def _save(self, change: Any) -> Any:
        """Run a store change and reload; its result (True for none), or None when it failed."""
        if self.app.readonly:
            self.notify("The store is open read-only: nothing is saved.", severity="warning", markup=False)
            return None
        try:
            result = change()
        except StoreError as err:
            self.notify(str(err), title="Not saved", severity="error", markup=False, timeout=10)
            return None
        # Our transaction re-read the store, so this also brings in other terminals' changes.
        self.collection.reload()
        self.app.refresh_index()
        return True if result is None else result

    def _changed(self, paper: Paper) -> None:
        """Redraw after an annotation changed; re-run the search when it filters on annotations."""
        self.query_one(PaperList).refresh_rows()
        self._show_detail(self.paper)
        query = parse_query(self._effective_query())
        if any(t.kind in ("tag", "filter") for t in query.terms):
            self.run_search(keep=paper.id)

    # -- paper actions --------------------------------------------------------------------
    def _need_paper(self) -> Paper | None:
        paper = self.paper
        if paper is None:
            self.notify("No paper selected.", severity="warning", markup=False)
        return paper

    def _targets(self) -> list[Paper]:
        """The papers an action works on: the marked ones, else the one under the cursor."""
        marked = self.query_one(PaperList).marked_papers()
        if marked:
            return marked
        paper = self._need_paper()
        return [paper] if paper is not None else []

    def action_bookmark(self) -> None:
        papers = self._targets()
        if not papers:
            return
        # Any unbookmarked paper among them: bookmark them all; else remove them all.
        on_now = not all(self.collection.is_bookmarked(p) for p in papers)
        if self._save(lambda: self.collection.store.set_bookmarks(papers, on_now)) is not None:
            what = "Bookmarked" if on_now else "Bookmark removed"
            self.notify(what if len(papers) == 1 else f"{what}: {len(papers)} papers", markup=False, timeout=2)
            self._changed(papers[0])

    def action_bookmarks_only(self) -> None:
        self.bookmarks_only = not self.bookmarks_only
        self.run_search(keep=self.paper.id if self.paper else None)
        self._update_border()

    def _single_or_bulk(self, bulk: Callable[[list[Paper]], None]) -> Paper | None:
        """The one paper to act on, or None after handing several marked papers to ``bulk``."""
        papers = self._targets()
        if len(papers) > 1:
            bulk(papers)
            return None
        return papers[0] if papers else None

    def action_tags(self) -> None:
        paper = self._single_or_bulk(self._tag_many)
        if paper is None:
            return

        def add(tag: str) -> list[str]:
            self._save(lambda: self.collection.store.add_tags(paper, [tag]))
            self._changed(paper)
            return self.collection.tags(paper)

        def remove(tag: str) -> list[str]:
            self._save(lambda: self.collection.store.remove_tags(paper, [tag]))
            self._changed(paper)
            return self.collection.tags(paper)

        known = list(tag_counts(self.collection.records))
        self.app.push_screen(TagsScreen(paper, self.collection.tags(paper), known, add, remove))

    def _tag_many(self, papers: list[Paper]) -> None:
        def add(tag: str) -> list[str]:
            self._save(lambda: self.collection.store.add_tags_many(papers, [tag]))
            self._changed(papers[0])
            added.append(tag)
            return list(added)

        added: list[str] = []
        known = list(tag_counts(self.collection.records))
        self.app.push_screen(TagsScreen(papers, [], known, add, None))

    def action_tag_filter(self) -> None:
        counts = tag_counts(self.collection.records)
        if not counts:
            self.notify("No tags yet: press t to tag a paper.", markup=False)
            return
        items = [(f"#{tag}  ({count})", tag) for tag, count in counts.items()]

        def chosen(tag: str | None) -> None:
            if tag:
                token = f"#{tag}" if " " not in tag else f'#"{tag}"'
                search = self.query_one(SearchBox)
                search.value = (search.value.strip() + " " + token).strip()
                self.query_one(PaperList).focus()

        self.app.push_screen(ChooseScreen("Filter by tag", items, "enter filter · escape close"), chosen)

    def action_note(self) -> None:
        paper = self._need_paper()
        if paper is None:
            return

        def save(text: str) -> None:
            self._save(lambda: self.collection.store.set_note(paper, text))
            self._changed(paper)

        self.app.push_screen(NoteScreen(paper, self.collection.record(paper).get("note") or "", save))

    def action_copy_link(self) -> None:
        papers = self._targets()
        if len(papers) > 1:
            links = "\n".join(self.collection.links(p)[0].url for p in papers)
            self.app.copy_text(links, f"{len(papers)} links")
        elif papers:
            self.app.copy_text(self.collection.links(papers[0])[0].url, "link")

    def action_copy_choose(self) -> None:
        paper = self._single_or_bulk(self._copy_many)
        if paper is None:
            return
        links = self.collection.links(paper)
        record = self.collection.record(paper)
        items = [(f"[{n}] {link.label}: {link.url}", f"link\0{link.url}") for n, link in enumerate(links, 1)]
        items += [
            ("Title", f"title\0{paper.title}"),
            ("Markdown link  [title](url)", f"Markdown link\0{markdown_link(paper, links[0].url)}"),
            ("BibTeX entry", f"BibTeX entry\0{bibtex(paper, record)}"),
        ]

        def chosen(value: str | None) -> None:
            if value:
                what, text = value.split("\0", 1)
                self.app.copy_text(text, what)

        self.app.push_screen(ChooseScreen("Copy", items, "enter copy · escape close"), chosen)

    def _copy_many(self, papers: list[Paper]) -> None:
        def primary(p: Paper) -> str:
            return self.collection.links(p)[0].url

        texts = {
            "links": "\n".join(primary(p) for p in papers),
            "titles": "\n".join(p.title for p in papers),
            "Markdown links": "\n".join(f"- {markdown_link(p, primary(p))}" for p in papers),
            "BibTeX entries": "\n".join(bibtex(p, self.collection.record(p)) for p in papers),
        }
        items = [(f"All {len(papers)} {what}", what) for what in texts]

        def chosen(what: str | None) -> None:
            if what:
                self.app.copy_text(texts[what], f"{len(papers)} {what}")

        self.app.push_screen(ChooseScreen(f"Copy {len(papers)} marked papers", items), chosen)

    def action_open_link(self) -> None:
        paper = self._need_paper()
        if paper is not None:
            self.app.open_link(self.collection.links(paper)[0].url)

    def action_refresh(self) -> None:
        try:
            self.collection.reload()
        except StoreError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        self.app.refresh_index()
        self.run_search(keep=self.paper.id if self.paper else None)
        self._show_detail(self.paper)
        self.notify("Refreshed from the store.", markup=False, timeout=2)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    # -- daily triage ------------------------------------------------------------------
    def action_mark(self) -> None:
        papers = self.query_one(PaperList)
        papers.toggle_mark()
        self._update_border()

    def action_clear_marks(self) -> None:
        self.query_one(PaperList).clear_marks()
        self._update_border()

    def action_read_on(self) -> None:
        """Scroll the abstract; at its end, go to the next unread paper (newsboat's space)."""
        detail = self.query_one(PaperDetail)
        if detail.scroll_y < detail.max_scroll_y:
            detail.scroll_page_down(animate=False)
            return
        papers = self.query_one(PaperList)
        for position in range(papers.cursor + 1, len(papers.rows)):
            if not self.collection.is_read(papers.papers[papers.rows[position]]):
                self.set_focus(papers)
                papers.cursor = position
                return
        self.notify("No unread papers below this one.", markup=False, timeout=3)

    def action_mark_all_read(self) -> None:
        papers = self.query_one(PaperList)
        unread = [papers.papers[i] for i in papers.rows if not self.collection.is_read(papers.papers[i])]
        if not unread:
            self.notify("Every paper shown is read already.", markup=False, timeout=3)
            return
        if self._save(lambda: self.collection.store.mark_read(unread)) is not None:
            papers.refresh_rows()
            self._count_unread()
            self._update_border()
            self.notify(f"Marked {len(unread)} papers read.", markup=False, timeout=3)

    def action_undo(self) -> None:
        self._replay(self.collection.store.undo, "Undid", "Nothing to undo.")

    def action_redo(self) -> None:
        self._replay(self.collection.store.redo, "Redid", "Nothing to redo.")

    def _replay(self, step: Any, done: str, nothing: str) -> None:
        outcome = self._save(lambda: [step()])
        if outcome is None:
            return
        label = outcome[0]
        if label is None:
            self.notify(nothing, markup=False, timeout=3)
            return
        self.notify(label, title=done, markup=False, timeout=4)
        paper = self.paper
        self.query_one(PaperList).refresh_rows()
        self._show_detail(paper)
        if paper is not None:
            self._changed(paper)

    def action_save_search(self) -> None:
        text = self.query_one(SearchBox).value.strip()
        if not text:
            self.notify("Type a search first, then ctrl+s saves it.", markup=False, timeout=3)
            return
        saved = list(self.collection.store.setting("saved_searches", []) or [])

        def named(name: str | None) -> None:
            if not name:
                return
            entries = [e for e in saved if e.get("name") != name][:8] + [{"name": name, "query": text}]
            if self._save(lambda: self.collection.store.set_setting("saved_searches", entries)) is not None:
                slot = len(entries)
                self.notify(f"{name}: {text}", title=f"Saved search {slot}", markup=False, timeout=4)

        self.app.push_screen(AskScreen("Save search as", text), named)

    def action_saved_search(self, number: int) -> None:
        saved = list(self.collection.store.setting("saved_searches", []) or [])
        if not 1 <= number <= len(saved):
            self.notify(f"No saved search {number}: ctrl+s saves the current search.", markup=False, timeout=3)
            return
        entry = saved[number - 1]
        search = self.query_one(SearchBox)
        search.value = entry["query"]
        self.notify(entry["query"], title=f"Saved search {number}: {entry['name']}", markup=False, timeout=3)

    def action_similar(self) -> None:
        """List the papers most like the selected one (escape goes back)."""
        paper = self._need_paper()
        if paper is None:
            return
        similarity = self.app.similarity
        if similarity is None:
            self.notify("Still comparing papers; try again in a moment.", markup=False, timeout=3)
            return
        index = paper.order  # its place in the collection, which the comparison was built on
        if index >= similarity.n:
            self.notify("This paper arrived after the comparison was built.", markup=False, timeout=3)
            return
        ranked = [i for i, _ in similarity.similar(index, limit=50)]
        self._generation += 1
        self._apply(np.array([index, *ranked], dtype=np.int64), parse_query(""), paper.id, self._generation)
        self.similar_to = paper
        self._update_border()
        self.set_focus(self.query_one(PaperList))

    def action_export(self) -> None:
        """Export bookmarked, marked, shown or tagged papers to a file in a folder the user picks."""
        papers = self.query_one(PaperList)
        groups: dict[str, list[Paper]] = {
            "bookmarked": [p for p in self.collection.papers if self.collection.is_bookmarked(p)],
            "marked": papers.marked_papers(),
            "shown": [papers.papers[i] for i in papers.rows],
        }
        for tag in tag_counts(self.collection.records):
            groups[f"tag-{tag}"] = [
                p for p in self.collection.papers if tag.casefold() in {t.casefold() for t in self.collection.tags(p)}
            ]
        scopes = [
            (f"{name.replace('tag-', '#', 1)} papers ({len(found)})", name) for name, found in groups.items() if found
        ]
        if not scopes:
            self.notify("Nothing to export yet: bookmark, mark or tag some papers.", markup=False)
            return

        def scope_chosen(scope: str | None) -> None:
            if scope:
                formats = [(fmt, fmt) for fmt in FORMATS]
                self.app.push_screen(
                    ChooseScreen(f"Export {len(groups[scope])} papers as", formats),
                    lambda fmt: ask_folder(scope, fmt) if fmt else None,
                )

        def ask_folder(scope: str, fmt: str) -> None:
            self.app.push_screen(
                AskScreen("Export to folder", str(Path.cwd()), "enter write · escape cancel"),
                lambda folder: write(scope, fmt, Path(folder).expanduser()) if folder else None,
            )

        def write(scope: str, fmt: str, folder: Path) -> None:
            chosen = groups[scope]
            name = "".join(c if c.isalnum() or c in "-_" else "-" for c in scope)
            path = _free_path(folder / f"paper-reader-{name}.{SUFFIXES.get(fmt, fmt)}")
            try:
                folder.mkdir(parents=True, exist_ok=True)
                path.write_text(export([(p, self.collection.record(p)) for p in chosen], fmt), encoding="utf-8")
            except OSError as err:
                self.notify(f"{path}: {err.strerror}", title="Export failed", severity="error", markup=False)
                return
            self.notify(str(path), title=f"Exported {len(chosen)} papers ({fmt})", markup=False, timeout=8)

        self.app.push_screen(ChooseScreen("Export which papers", scopes), scope_chosen)

    # -- filter chips ------------------------------------------------------------------
    BOOKMARKS_CHIP, SIMILAR_CHIP = "\0bookmarks", "\0similar"

    def _chips(self) -> list[tuple[str, str]]:
        if self.similar_to is not None:
            # The similar-papers view ignores the query; its one filter is the paper.
            name = self.similar_to.title
            return [(self.SIMILAR_CHIP, "like: " + _short(name, 30))]
        chips = [(token, token) for token in filter_tokens(self.query_text)]
        if self.bookmarks_only:
            chips.append((self.BOOKMARKS_CHIP, "bookmarks only"))
        return chips

    def _show_chips(self) -> None:
        self.query_one(FilterChips).show(self._chips())

    @on(Chip.Remove)
    def chip_removed(self, event: Chip.Remove) -> None:
        self._remove_filter(event.token)

    def action_remove_filter(self) -> None:
        """Remove the last active filter (x)."""
        chips = self._chips()
        if chips:
            self._remove_filter(chips[-1][0])

    def _remove_filter(self, token: str) -> None:
        keep = self.paper.id if self.paper else None
        if token == self.BOOKMARKS_CHIP:
            self.bookmarks_only = False
            self.run_search(keep=keep)
        elif token == self.SIMILAR_CHIP:
            self.run_search(keep=keep)
        else:
            search = self.query_one(SearchBox)
            search.value = without_token(search.value, token)  # Input.Changed searches
        self._update_border()

    def action_cycle_sort(self) -> None:
        """Next sort order: relevance, file, title, first seen, bookmarked time."""
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.run_search(keep=self.paper.id if self.paper else None)
        self._update_border()
        self.notify(f"Sorted by {self.sort}", markup=False, timeout=2)


SUFFIXES = {"json": "json", "markdown": "md", "bibtex": "bib", "csv": "csv", "ris": "ris"}


def _short(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _free_path(path: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext``… so an export never overwrites a file."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate
