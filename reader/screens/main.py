"""The main screen: search box, paper list, detail pane, footer; the paper actions live here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

from reader.collection import Collection
from reader.core.exporting import ExportError, FolderMissing, default_folder
from reader.core.library import NotReady, OpenLibrary
from reader.core.results import Changed, Found, Replayed
from reader.core.saved_searches import SavedSearchError
from reader.export import FORMATS
from reader.index.highlight import matched
from reader.paper import Paper
from reader.query import parse_query
from reader.screens.ask import AskScreen
from reader.screens.choose import ChooseScreen
from reader.screens.help import HelpScreen
from reader.screens.host import ComparisonReady, IndexReady, LibraryNews, PapersLoaded, ReaderHost, SeenNoted
from reader.screens.note import NoteScreen
from reader.screens.tags import TagsScreen
from reader.sorting import SORTS
from reader.store import StoreError
from reader.widgets.bindings import bindings_for
from reader.widgets.filter_chips import Chip, FilterChips, filter_tokens, without_token
from reader.widgets.key_bar import KeyBar
from reader.widgets.paper_detail import PaperDetail
from reader.widgets.paper_list import PaperList
from reader.widgets.search_box import SearchBox

T = TypeVar("T")

NARROW = 100  # below this many columns the detail pane goes under the list
QUERY_ERROR_PAUSE = 0.6  # seconds without typing before the border says what is wrong with the query
DEBOUNCE = 0.02
DIALOG = "dialog"  # the worker group of actions waiting for an answer in a dialog (push_screen_wait)


class MainScreen(Screen[None]):
    """Browse, search and annotate papers: keys become calls to the core (reader.core), answers are rendered."""

    BINDINGS = bindings_for("main")  # from the command table (reader.commands)

    # The screen's UI state. The list's border and marks and the filter chips follow it
    # (computed below, data_bind to the widgets): change the state, never the widgets.
    query_text: var[str] = var("")  # the query in the box
    sort: var[str] = var("relevance")
    bookmarks_only: var[bool] = var(False)  # the bookmarks view
    similar_to: var[Paper | None] = var(None)  # "more like this": the paper whose likes are shown
    shown: var[int] = var(0)  # papers shown (full matches)
    unread: var[int] = var(0)  # unread among them
    total: var[int] = var(0)  # papers searched
    lacking: var[int] = var(0)  # partial matches shown after them
    marked: var[frozenset[str]] = var(frozenset())  # marked papers (ids): the working set of bulk actions
    load_progress: var[float] = var(1.0)  # the digests parsed so far (the app's messages say)
    indexing: var[bool] = var(False)  # the search index is being built
    errors_shown: var[tuple[str, ...]] = var(())  # what the border says is wrong with the query
    list_title: var[str] = var("")  # computed: the list's border title
    list_counts: var[str] = var("")  # computed: "shown / total · unread …" under the list
    chips: var[tuple[tuple[str, str], ...]] = var(())  # computed: (token, label) of each active filter
    BOOKMARKS_CHIP, SIMILAR_CHIP = "\0bookmarks", "\0similar"  # chips that are not in the query

    def __init__(self, host: ReaderHost) -> None:
        self.host = host  # first: the computed state reads it
        super().__init__()
        self._generation = 0
        self._applied_text = ""
        self._restore_at: tuple[str | None, int] | None = None
        self._picked = False  # a result was picked with ctrl+n / ctrl+p in the search box
        self._query_errors: list[str] = []  # what is wrong with the query in the box
        self._error_timer: Timer | None = None
        self._keep: str | None = None  # the paper to keep selected when the query is changed for the user

    @property
    def core(self) -> OpenLibrary:
        """The open library every action goes through."""
        return self.host.core

    @property
    def collection(self) -> Collection:
        """The papers and their records, as the widgets read them."""
        return self.host.core.collection

    def compose(self) -> ComposeResult:
        yield SearchBox(
            placeholder='/ search: words (typos ok)  \'exact  !not  "phrase"  #tag  is:bookmarked  has:code',
            id="search",
            select_on_focus=False,
        )
        yield FilterChips(id="chips").data_bind(MainScreen.chips)
        with Horizontal(id="panes"):
            yield PaperList(self.collection.papers, id="papers").data_bind(
                MainScreen.marked, heading=MainScreen.list_title, counts=MainScreen.list_counts
            )
            yield PaperDetail(id="detail")
        yield KeyBar(self.host.key_overrides, id="keys")

    def on_mount(self) -> None:
        # Background work reaches this screen as messages (handled below), the state so far read once.
        self.host.library_signal.subscribe(self, self._news, immediate=True)
        self.host.hangup_signal.subscribe(self, lambda _: self.save_now(), immediate=True)
        self.load_progress, self.indexing = self.host.load_progress, self.host.indexing
        papers = self.query_one(PaperList)
        papers.is_bookmarked = self.collection.is_bookmarked
        papers.is_read = self.collection.is_read
        papers.tags_of = self.collection.tags
        papers.seen_of = self.collection.seen_before
        papers.title_of = self.collection.shown_title
        self._widgets = (papers, self.query_one(SearchBox))
        self._apply(self.core.search(""), None, self._generation)
        papers.focus()
        self._layout(self.size.width)
        self._restore(self.host.session())

    # -- session restore -----------------------------------------------------------------
    def _restore(self, saved: dict[str, object]) -> None:
        """Bring back the query, filters, sort, selected paper and scroll of the last visit."""
        if not saved:
            return
        self.sort = str(saved.get("sort")) if saved.get("sort") in SORTS else "relevance"
        self.bookmarks_only = bool(saved.get("bookmarks_only"))
        paper = saved.get("paper")
        keep = paper if isinstance(paper, str) else None
        scroll = saved.get("scroll")
        self._restore_at = (keep, scroll if isinstance(scroll, int) else 0)
        self.query_text = str(saved.get("query") or "")
        search = self.query_one(SearchBox)
        with search.prevent(Input.Changed):
            search.value = self.query_text
        self.run_search(keep=keep)

    def on_unmount(self) -> None:
        self.save_now()

    def save_now(self) -> None:
        """Remember where the user is in these digests (on exit, or when the terminal goes away)."""
        with suppress(StoreError):
            self.core.flush()  # read marks left by moving the cursor, still on their way to disk
        # On unmount the widgets are gone from the DOM; the references still hold their state.
        papers, search = self._widgets
        self.host.save_session(
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
    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        if event.value != event.input.value:
            return  # a newer keystroke is already in the box; its own Changed follows
        self.query_text = event.value
        keep, self._keep = self._keep, None
        if self._wanted() != self._applied_text:  # enter may have found it already
            self.run_search(keep=keep)

    def _wanted(self) -> str:
        """The query the list should show (what the core is asked, bookmarks-only included)."""
        return parse_query(f"{self.query_text} is:bookmarked" if self.bookmarks_only else self.query_text).text

    def run_search(self, keep: str | None = None) -> None:
        """Search on a worker; a newer search cancels an older one."""
        self.similar_to = None
        self._generation += 1
        self._search(self.query_text, self.sort, self.bookmarks_only, self._generation, keep)

    @work(exclusive=True, group="search")
    async def _search(self, text: str, sort: str, bookmarks_only: bool, generation: int, keep: str | None) -> None:
        if not parse_query(text).is_empty or bookmarks_only:
            await asyncio.sleep(DEBOUNCE)
            await self.host.index_ready()
            found = await asyncio.to_thread(self.core.search, text, sort, bookmarks_only)
        else:
            found = self.core.search(text, sort)
        self._apply(found, keep, generation)

    def _apply(self, found: Found, keep: str | None, generation: int) -> None:
        """Show what the core found (an older search's answer is never shown)."""
        if generation != self._generation:
            return
        query = found.query
        self._applied_text = query.text
        self._picked = False  # new results: enter in the search box takes the top one again
        papers = self.query_one(PaperList)
        if query.terms and self.core.engine is not None:
            # Highlights are found in the title as shown (TeX made readable), not the raw one.
            worded = any(t.kind in ("fuzzy", "exact", "phrase") and not t.negate for t in query.terms)
            papers.show(
                found.rows,
                lambda paper: self.core.title_spans(paper, query),
                keep,
                # Papers lacking one word of the query, after the others; rows found by their abstract marked.
                partial=found.partial,
                missing=found.missing,
                mark_abstract=worded,
            )
        else:
            papers.show(found.rows, lambda paper: [], keep)
        self.shown, self.unread, self.total = len(found), found.unread, found.total
        self.lacking = len(papers.partial)  # partial matches: shown after, not counted with the others
        self._note_query_errors(list(found.warnings))
        papers.empty_text = self._empty_text(found.total)
        if self._restore_at is not None and keep is not None and keep == self._restore_at[0]:
            scroll = self._restore_at[1]
            if scroll <= papers.cursor < scroll + papers.scrollable_content_region.height:
                papers.scroll_to(y=scroll, animate=False, immediate=True)
            self._restore_at = None

    def _count_unread(self) -> None:
        self.unread = self.core.unread_among(self.query_one(PaperList).rows)

    def compute_list_title(self) -> str:
        title = "Bookmarks" if self.bookmarks_only else "Papers"
        if self.similar_to is not None:
            title = "Like: " + _short(self.similar_to.title, 40)
        if self.load_progress < 1:
            title += f" · loading {self.load_progress:.0%}"
        elif self.indexing:
            title += " · indexing…"
        if self.sort != "relevance" and self.similar_to is None:
            title += f" · by {self.sort}"
        if self.host.readonly:
            title += " · read-only"
        if self.errors_shown:
            title += " · ⚠ " + "; ".join(self.errors_shown)
        return title

    def compute_list_counts(self) -> str:
        total = max(self.total, self.collection.file_count)
        return (
            f"{self.shown} / {total} · {self.unread} unread"
            + (f" · {len(self.marked)} marked" if self.marked else "")
            + (f" · {self.lacking} lack a word" if self.lacking else "")
        )

    def compute_chips(self) -> tuple[tuple[str, str], ...]:
        if self.similar_to is not None:
            # The similar-papers view ignores the query; its one filter is the paper.
            return ((self.SIMILAR_CHIP, "like: " + _short(self.similar_to.title, 30)),)
        chips = [(token, token) for token in filter_tokens(self.query_text)]
        if self.bookmarks_only:
            chips.append((self.BOOKMARKS_CHIP, "bookmarks only"))
        return tuple(chips)

    def _empty_text(self, total: int) -> list[str]:
        """What the list says when nothing is shown: why, and the way out."""
        if total == 0 and self.collection.file_count == 0:
            lines = ["  No papers here.", "  Open your digests: paper-reader today.txt, or a folder of them;"]
            return [*lines, '  digests = "~/papers" in the config (paper-reader config path) opens them by default.']
        lines = ["  No paper matches.", "  escape clears the search; x removes the last filter."]
        if self.host.sample:
            lines.append("  This is the bundled sample digest: paper-reader today.txt opens your own.")
        return lines

    def _note_query_errors(self, errors: list[str]) -> None:
        """Query errors ("unknown filter 'has:c'") show in the list's border once typing pauses.

        Not as a notice per keystroke: typing ``has:code`` passes through ``has:c``.
        """
        self._query_errors = errors
        self.errors_shown = tuple(e for e in self.errors_shown if e in errors)  # fixed ones go at once
        if self._error_timer is not None:
            self._error_timer.stop()
            self._error_timer = None
        if errors:
            self._error_timer = self.set_timer(QUERY_ERROR_PAUSE, self._show_query_errors)

    def _show_query_errors(self) -> None:
        self._error_timer = None
        self.errors_shown = tuple(self._query_errors)

    def _news(self, news: LibraryNews) -> None:
        self.post_message(news)

    @on(SeenNoted)
    def refresh_papers(self) -> None:
        """Redraw rows and the detail pane (first-seen dates arrived, say)."""
        self.query_one(PaperList).refresh_rows()
        self._show_detail(self.paper)

    @on(IndexReady)
    def index_done(self) -> None:
        """The search index is ready: the border stops saying "indexing"."""
        self.indexing = False

    @on(ComparisonReady)
    def comparison_done(self) -> None:
        """The comparison is built: a ``rank:`` query shown by relevance "for now" is ranked again."""
        if self.similar_to is None and any(t.kind == "rank" for t in parse_query(self._wanted()).terms):
            self.run_search(keep=self.paper.id if self.paper else None)

    @on(PapersLoaded)
    def papers_added(self, loaded: PapersLoaded) -> None:
        """A big digest is loading: grow the file-order list in place."""
        if parse_query(self._wanted()).is_empty:
            papers = self.query_one(PaperList)
            papers.extend(self.core.search("").rows)
            self.shown, self.lacking = len(papers.rows), 0
            self.total = self.collection.file_count
            self._count_unread()
        self.load_progress = loaded.progress

    # -- moving between widgets ---------------------------------------------------------
    def action_to_list(self, top: bool) -> None:
        """Leave the search box for the list (``top``: select the top result of the current query).

        A result picked with ctrl+n / ctrl+p stays selected, as enter takes it in fzf.
        """
        ranked = self._catch_up()
        papers = self.query_one(PaperList)
        self.set_focus(papers)
        if top and (ranked or not self._picked):
            papers.cursor = 0
        self._mark_read(papers.paper)  # the user chose to go to this paper

    def _catch_up(self) -> bool:
        """Search for the query in the box now if its search has not landed yet; True if it did."""
        # The box may hold keys whose Changed message has not reached us yet.
        self.query_text = self.query_one(SearchBox).value
        if self._wanted() == self._applied_text or self.core.engine is None:
            return False
        # The latest keystroke's search has not landed yet: search now, so the
        # paper the user acts on next is the top result of what they typed.
        self.workers.cancel_group(self, "search")
        self._generation += 1
        self._apply(self.core.search(self.query_text, self.sort, self.bookmarks_only), None, self._generation)
        return True

    @on(PaperList.ClearQuery)
    def clear_query(self) -> None:
        if self.similar_to is not None:
            # Back from "more like this" to the search it came from.
            self.run_search(keep=self.similar_to.id)
            return
        search = self.query_one(SearchBox)
        if search.value:
            self._keep = self.paper.id if self.paper else None  # the selected paper stays selected
            search.value = ""  # Input.Changed runs the search

    def action_focus_search(self) -> None:
        self.set_focus(self.query_one(SearchBox))

    def action_move_selection(self, step: int) -> None:
        """Move the list's selection from the search box (ctrl+n / ctrl+p, as in fzf)."""
        self._catch_up()
        papers = self.query_one(PaperList)
        papers.cursor += step
        self._picked = True

    @on(PaperList.LeaveTop)
    def leave_top(self) -> None:
        self.action_focus_search()

    @on(PaperList.Open)
    def open_paper(self, event: PaperList.Open) -> None:
        if event.paper is not None:
            self._mark_read(event.paper)
            self.set_focus(self.query_one(PaperDetail))

    @on(PaperList.Highlighted)
    def paper_highlighted(self, event: PaperList.Highlighted) -> None:
        self._show_detail(event.paper)

    @on(PaperList.Chosen)
    def paper_chosen(self, event: PaperList.Chosen) -> None:
        # A paper the user moves onto in the list is read; results flashing by while
        # typing, and the first paper at start-up, are not.
        if self.query_one(PaperList).has_focus:
            self._mark_read(event.paper)

    def _mark_read(self, paper: Paper | None) -> None:
        if paper is None or self.core.is_read(paper) or self.host.readonly:
            return
        try:
            visited = self.core.visit(paper)
        except StoreError as err:
            self.notify(str(err), title="Not saved", severity="error", markup=False, timeout=10)
            return
        if visited:
            self.unread = max(0, self.unread - 1)
        self.query_one(PaperList).refresh_rows()

    def _show_detail(self, paper: Paper | None) -> None:
        detail = self.query_one(PaperDetail)
        if paper is None:
            detail.show(None, None, [])
        else:
            query, engine = parse_query(self._applied_text), self.core.engine
            detail.show(
                paper,
                self.core.annotation(paper),
                self.collection.links(paper),
                self.collection.seen_before(paper),
                # Where the query shown matched the title and abstract (None: nothing to highlight).
                (lambda title, abstract: matched(engine, title, abstract, query)) if engine and query.terms else None,
            )

    @property
    def paper(self) -> Paper | None:
        """The paper under the list's cursor."""
        return self.query_one(PaperList).paper

    def _act(self, action: Callable[[], T]) -> T | None:
        """Run a core action that writes the store; its answer, or None when nothing could be saved."""
        if self.host.readonly:
            self.notify("The store is open read-only: nothing is saved.", severity="warning", markup=False)
            return None
        try:
            result = action()
        except StoreError as err:
            self.notify(str(err), title="Not saved", severity="error", markup=False, timeout=10)
            return None
        self.host.refresh_index()  # another terminal may have added stored papers
        return result

    def _changed(self, paper: Paper) -> None:
        """Redraw after an annotation changed; re-run the search when it filters on annotations."""
        self.query_one(PaperList).refresh_rows()
        self._show_detail(self.paper)
        query = parse_query(self._wanted())
        if any(t.kind in ("tag", "filter", "rank") for t in query.terms):
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
        result = self._act(lambda: self.core.toggle_bookmark(papers))
        if result is not None:
            self.notify(result.message, markup=False, timeout=2)
            self._changed(papers[0])

    def action_bookmarks_only(self) -> None:
        self.bookmarks_only = not self.bookmarks_only
        self.run_search(keep=self.paper.id if self.paper else None)

    def _single_or_bulk(self, bulk: Callable[[list[Paper]], None]) -> Paper | None:
        """The one paper to act on, or None after handing several marked papers to ``bulk``."""
        papers = self._targets()
        if len(papers) > 1:
            bulk(papers)
            return None
        return papers[0] if papers else None

    def covered(self) -> bool:
        """True when a dialog is over this screen already.

        A dialog action runs on a worker that starts after the key queue moved on: a key
        pressed twice before its dialog is up (a fast typist, key repeat) would open a second
        one under it, and escape would seem to open it again. The later one does nothing.
        """
        return self.app.screen is not self

    def action_tags(self) -> None:
        paper = self._single_or_bulk(self._tag_many)
        if paper is None:
            return

        def add(tag: str) -> tuple[list[str], str]:
            result = self._act(lambda: self.core.add_tags([paper], [tag]))
            self._changed(paper)
            return self.core.tags(paper), result.message if result is not None else "Not saved"

        def remove(tag: str) -> tuple[list[str], str]:
            result = self._act(lambda: self.core.remove_tags(paper, [tag]))
            self._changed(paper)
            return self.core.tags(paper), result.message if result is not None else "Not saved"

        known = list(self.core.known_tags())
        self.app.push_screen(TagsScreen(paper, self.core.tags(paper), known, add, remove))

    def _tag_many(self, papers: list[Paper]) -> None:
        def add(tag: str) -> tuple[list[str], str]:
            result = self._act(lambda: self.core.add_tags(papers, [tag]))
            self._changed(papers[0])
            if result is None:
                return list(added), "Not saved"
            if tag.casefold() not in {t.casefold() for t in added}:
                added.append(tag)
            return list(added), result.message

        added: list[str] = []
        known = list(self.core.known_tags())
        self.app.push_screen(TagsScreen(papers, [], known, add, None))

    @work(group=DIALOG)
    async def action_tag_filter(self) -> None:
        if self.covered():
            return
        counts = self.core.known_tags()
        if not counts:
            self.notify("No tags yet: press t to tag a paper.", markup=False)
            return
        items = [(f"#{tag}  ({count})", tag) for tag, count in counts.items()]
        tag = await self.app.push_screen_wait(ChooseScreen("Filter by tag", items, "enter filter · escape close"))
        if tag:
            token = f"#{tag}" if " " not in tag else f'#"{tag}"'
            search = self.query_one(SearchBox)
            search.value = (search.value.strip() + " " + token).strip()
            self.query_one(PaperList).focus()

    def action_note(self) -> None:
        paper = self._need_paper()
        if paper is None:
            return

        def save(text: str, opened_with: str) -> str | None:
            """Save the note; what is stored now (both texts when it changed elsewhere meanwhile)."""
            result = self._act(lambda: self.core.set_note(paper, text, opened_with))
            if result is None:
                return None
            if "both texts kept" in result.message:
                self.notify(result.message, severity="warning", markup=False, timeout=8)
            with suppress(NoMatches):  # saved on the way out: the list may be gone already
                self._changed(paper)
            return self.core.note(paper)

        self.app.push_screen(NoteScreen(paper, self.core.note(paper), save, self.host.hangup_signal))

    @work(group=DIALOG)
    async def action_set_link(self) -> None:
        """Set the paper's own link (shown, copied and exported first); an empty answer clears it."""
        if self.covered():
            return
        paper = self._need_paper()
        if paper is None:
            return
        annotation = self.core.annotation(paper)
        current = annotation.link if annotation is not None else ""
        ask = AskScreen("Your own link for this paper", current, "enter save (empty: clear) · escape cancel")
        url = await self.app.push_screen_wait(ask)
        if url is None or url == current:
            return  # escape, or nothing changed
        result = self._act(lambda: self.core.set_link(paper, url))
        if result is not None:
            self.notify(result.message, markup=False, timeout=3)
            self._changed(paper)

    def action_copy_link(self) -> None:
        papers = self._targets()
        if len(papers) > 1:
            links = "\n".join(self.core.links(p)[0].url for p in papers)
            self.host.copy_text(links, f"{len(papers)} links")
        elif papers:
            self.host.copy_text(self.core.links(papers[0])[0].url, "link")

    @work(group=DIALOG)
    async def action_copy_choose(self) -> None:
        if self.covered():
            return
        papers = self._targets()
        if not papers:
            return
        choices = self.core.copy_choices(papers)
        items = [(choice.label, str(n)) for n, choice in enumerate(choices)]
        title = "Copy" if len(papers) == 1 else f"Copy {len(papers)} marked papers"
        hint = "enter copy · escape close" if len(papers) == 1 else ""
        value = await self.app.push_screen_wait(ChooseScreen(title, items, hint))
        if value:
            choice = choices[int(value)]
            self.host.copy_text(choice.text, choice.what)

    def action_open_link(self) -> None:
        paper = self._need_paper()
        if paper is not None:
            self.host.open_link(self.core.links(paper)[0].url)

    def action_refresh(self) -> None:
        try:
            self.core.reload()
        except StoreError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        self.host.refresh_index()
        self.run_search(keep=self.paper.id if self.paper else None)
        self._show_detail(self.paper)
        self.notify("Refreshed from the store.", markup=False, timeout=2)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.host.key_overrides))

    # -- daily triage ------------------------------------------------------------------
    def action_mark(self) -> None:
        """Mark or unmark the selected paper, then move down."""
        papers = self.query_one(PaperList)
        paper = papers.paper
        if paper is not None:
            self.marked = self.marked ^ {paper.id}
            papers.move_to(papers.cursor + 1)

    def action_clear_marks(self) -> None:
        self.marked = frozenset()

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
                papers.move_to(position)
                return
        self.notify("No unread papers below this one.", markup=False, timeout=3)

    def action_mark_all_read(self) -> None:
        """Mark every paper shown read: one undo step."""
        papers = self.query_one(PaperList)
        shown = [papers.papers[i] for i in papers.rows]
        if all(self.core.is_read(p) for p in shown):
            self.notify("Every paper shown is read already.", markup=False, timeout=3)
            return
        result = self._act(lambda: self.core.mark_read(shown))
        if result is not None:
            self._read_marks_changed(result)

    def action_mark_unread(self) -> None:
        """Mark the selected (or marked) papers unread: one undo step."""
        papers = self._targets()
        if not papers:
            return
        result = self._act(lambda: self.core.mark_read(papers, read=False))
        if result is not None:
            self._read_marks_changed(result)

    def _read_marks_changed(self, result: Changed) -> None:
        self.query_one(PaperList).refresh_rows()
        self._count_unread()
        self._show_detail(self.paper)
        self.notify(result.message, markup=False, timeout=3)
        if any(t.kind == "filter" for t in parse_query(self._wanted()).terms):
            self.run_search(keep=self.paper.id if self.paper else None)

    def action_undo(self) -> None:
        self._replay(self.core.undo)

    def action_redo(self) -> None:
        self._replay(self.core.redo)

    def _replay(self, step: Callable[[], Replayed]) -> None:
        replayed = self._act(step)
        if replayed is None:
            return
        if replayed.label is None:
            self.notify(replayed.message, markup=False, timeout=3)
            return
        self.notify(replayed.label, title="Undid" if replayed.undone else "Redid", markup=False, timeout=4)
        paper = self.paper
        self.query_one(PaperList).refresh_rows()
        self._count_unread()
        self._show_detail(paper)
        if paper is not None:
            self._changed(paper)

    @work(group=DIALOG)
    async def action_save_search(self) -> None:
        if self.covered():
            return
        text = self.query_one(SearchBox).value.strip()
        if not text:
            self.notify("Type a search first, then ctrl+s saves it.", markup=False, timeout=3)
            return
        name = await self.app.push_screen_wait(AskScreen("Save search as", text))
        if not name:
            return
        slot = self._act(lambda: self.core.save_search(name, text))
        if slot is not None:
            self.notify(f"{name}: {text}", title=f"Saved search {slot}", markup=False, timeout=4)

    def action_saved_search(self, number: int) -> None:
        try:
            _, entry = self.core.saved_search(number)
        except SavedSearchError:
            self.notify(f"No saved search {number}: ctrl+s saves the current search.", markup=False, timeout=3)
            return
        search = self.query_one(SearchBox)
        search.value = entry.query
        self.notify(entry.query, title=f"Saved search {number}: {entry.name}", markup=False, timeout=3)

    @work(group=DIALOG)
    async def action_saved_searches(self) -> None:
        """List the saved searches; the one picked can be recalled, renamed or deleted."""
        if self.covered():
            return
        saved = self.core.saved_searches()
        if not saved:
            self.notify("No saved searches yet: ctrl+s saves the current search.", markup=False, timeout=3)
            return
        items = [(f"{n}  {entry.name}: {entry.query}", str(n)) for n, entry in enumerate(saved, 1)]
        picked = await self.app.push_screen_wait(ChooseScreen("Saved searches", items, "enter choose · escape close"))
        if not picked:
            return
        number, entry = int(picked), saved[int(picked) - 1]
        what = [("Recall", "recall"), ("Rename …", "rename"), ("Delete", "delete")]
        do = await self.app.push_screen_wait(ChooseScreen(f"{number}  {entry.name}", what))
        if do == "recall":
            self.action_saved_search(number)
        elif do == "delete":
            gone = self._act(lambda: self.core.delete_search(number))
            if gone is not None:
                self.notify(f"{gone.name}: {gone.query}", title="Deleted saved search", markup=False, timeout=4)
        elif do == "rename":
            name = await self.app.push_screen_wait(AskScreen("Rename saved search", entry.name))
            if not name:
                return
            try:
                renamed = self._act(lambda: self.core.rename_search(number, name))
            except SavedSearchError as err:
                self.notify(str(err), severity="warning", markup=False)
                return
            if renamed is not None:
                self.notify(f"{renamed.name}: {renamed.query}", title=f"Saved search {number}", markup=False, timeout=4)

    def action_similar(self) -> None:
        """List the papers most like the selected one, by likeness whatever the sort (escape goes back)."""
        paper = self._need_paper()
        if paper is None:
            return
        try:
            found = self.core.similar(paper)
        except NotReady as err:
            self.notify(str(err), markup=False, timeout=3)
            return
        self._generation += 1
        self._apply(found, paper.id, self._generation)
        self.similar_to = paper
        self.set_focus(self.query_one(PaperList))

    @work(group=DIALOG)
    async def action_export(self) -> None:
        """Export bookmarked, marked, shown or tagged papers to a file in a folder the user names."""
        if self.covered():
            return
        papers = self.query_one(PaperList)
        scopes = self.core.export_scopes(shown=[papers.papers[i] for i in papers.rows], marked=papers.marked_papers())
        if not scopes:
            self.notify("Nothing to export yet: bookmark, mark or tag some papers.", markup=False)
            return
        by_key = {scope.key: scope for scope in scopes}
        key = await self.app.push_screen_wait(ChooseScreen("Export which papers", [(s.label, s.key) for s in scopes]))
        if not key:
            return
        scope = by_key[key]
        formats = [(fmt, fmt) for fmt in FORMATS]
        fmt = await self.app.push_screen_wait(ChooseScreen(f"Export {len(scope.papers)} papers as", formats))
        if not fmt:
            return
        ask = AskScreen("Export to folder", str(default_folder()), "enter write · escape cancel")
        folder = await self.app.push_screen_wait(ask)
        if not folder:
            return
        try:
            try:
                done = self.core.write_export(scope, fmt, folder)
            except FolderMissing as missing:
                items = [(f"Create {missing.folder} and export there", "yes"), ("Cancel", "no")]
                if await self.app.push_screen_wait(ChooseScreen(f"No folder {missing.folder}", items)) != "yes":
                    return
                done = self.core.write_export(scope, fmt, folder, create=True)
        except ExportError as err:
            self.notify(str(err), title="Export failed", severity="error", markup=False, timeout=8)
            return
        self.notify(str(done.path), title=f"Exported {done.count} papers ({fmt})", markup=False, timeout=8)

    # -- filter chips ------------------------------------------------------------------
    @on(Chip.Remove)
    def chip_removed(self, event: Chip.Remove) -> None:
        self._remove_filter(event.token)

    def action_remove_filter(self) -> None:
        """Remove the last active filter (x)."""
        if self.chips:
            self._remove_filter(self.chips[-1][0])

    def _remove_filter(self, token: str) -> None:
        keep = self.paper.id if self.paper else None
        if token == self.BOOKMARKS_CHIP:
            self.bookmarks_only = False
            self.run_search(keep=keep)
        elif token == self.SIMILAR_CHIP:
            self.run_search(keep=keep)
        else:
            search = self.query_one(SearchBox)
            self._keep = keep  # the selected paper stays selected
            search.value = without_token(search.value, token)  # Input.Changed searches

    def action_cycle_sort(self) -> None:
        """Next sort order: relevance, file, title, first seen, bookmarked time."""
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.run_search(keep=self.paper.id if self.paper else None)
        self.notify(f"Sorted by {self.sort}", markup=False, timeout=2)


def _short(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"
