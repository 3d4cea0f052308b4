"""The list of papers: a virtual list that renders only the rows on screen (line API)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from textual import events
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive, var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from reader.paper import Paper
from reader.text import inert
from reader.widgets.bindings import bindings_for
from reader.widgets.focus import move_focus, redirect_key

BOOKMARK_MARK = "★"
UNREAD_MARK = "●"
MARK = "✚"  # a marked paper: a sign in its own colour and a tinted row
MAX_TITLE_SHOWN = 1000  # characters of a title a row renders and highlights (a row is never wider)
MAX_TAG_SHOWN = 40  # characters of one tag in a row
FOCUS_MOVES = frozenset({"focus_search"})  # run at once (reader.widgets.focus)


class PaperList(ScrollView, can_focus=True):
    """Papers as rows: bookmark mark, unread mark, title with matches highlighted, tag chips."""

    COMPONENT_CLASSES = {
        "paper-list--row",
        "paper-list--cursor",
        "paper-list--match",
        "paper-list--bookmark",
        "paper-list--unread",
        "paper-list--tag",
        "paper-list--stored",
        "paper-list--marked",
        "paper-list--marked-sign",
        "paper-list--seen",
        "paper-list--partial",
        "paper-list--missing",
    }
    BINDINGS = bindings_for("list")  # from the command table (reader.commands)

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    # Bound to the screen's state (MainScreen.data_bind): marked papers (ids) for bulk actions,
    # the user's working set, not stored; the border's title and counts.
    marked: var[frozenset[str]] = var(frozenset())
    heading: var[str] = var("")
    counts: var[str] = var("")

    class Highlighted(Message):
        """The paper under the cursor changed (None: the list is empty); shown, not yet read."""

        def __init__(self, paper: Paper | None) -> None:
            super().__init__()
            self.paper = paper

    class Chosen(Message):
        """The user moved onto this paper (a key or a click), so it counts as read."""

        def __init__(self, paper: Paper | None) -> None:
            super().__init__()
            self.paper = paper

    class ClearQuery(Message):
        """The user asked to clear the search (escape in the list)."""

    class LeaveTop(Message):
        """``up`` at the first row: the user wants the search box."""

    class Open(Message):
        """``enter`` on a row: read this paper (the detail pane takes the focus)."""

        def __init__(self, paper: Paper | None) -> None:
            super().__init__()
            self.paper = paper

    def __init__(self, papers: list[Paper], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.papers = papers
        self.rows: np.ndarray = np.zeros(0, dtype=np.int64)
        # Papers matching all of the query but one word, shown dimmed after ``rows`` with the
        # word they lack; not in ``rows``: never counted or acted on with the shown papers.
        self.partial: np.ndarray = np.zeros(0, dtype=np.int64)
        self.missing: tuple[str, ...] = ()
        self.mark_abstract = False  # mark rows whose title has no match (found through the abstract)
        self.is_bookmarked: Callable[[Paper], bool] = lambda paper: False
        self.is_read: Callable[[Paper], bool] = lambda paper: True
        self.tags_of: Callable[[Paper], list[str]] = lambda paper: []
        self.spans_of: Callable[[Paper], list[tuple[int, int]]] = lambda paper: []
        self.seen_of: Callable[[Paper], str] = lambda paper: ""
        self.title_of: Callable[[Paper], str] = lambda paper: paper.title
        self._span_cache: dict[int, list[tuple[int, int]]] = {}
        # What an empty list says, a line each (the screen sets it: no match, or no papers at all).
        self.empty_text: list[str] = []

    # -- content -----------------------------------------------------------------------
    def show(
        self,
        rows: np.ndarray,
        spans_of: Callable[[Paper], list[tuple[int, int]]],
        keep: str | None = None,
        partial: np.ndarray | None = None,
        missing: tuple[str, ...] = (),
        mark_abstract: bool = False,
    ) -> None:
        """Show these papers (indices into ``papers``); keep the cursor on paper ``keep`` if shown.

        ``partial`` (with the word each lacks, ``missing``) follow as a dimmed group;
        ``mark_abstract``: the query has words, so a row whose title has no match is marked.
        """
        self.rows = rows
        self.partial = partial if partial is not None else np.zeros(0, dtype=np.int64)
        self.missing = missing
        self.mark_abstract = mark_abstract
        self.spans_of = spans_of
        self._span_cache.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, self._lines())
        cursor = 0
        if keep is not None:
            for position, index in enumerate(np.concatenate((rows[:5000], self.partial)).tolist()):
                if self.papers[index].id == keep:
                    cursor = position
                    break
        if cursor == 0:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.cursor = cursor
        self.refresh()

    def extend(self, rows: np.ndarray) -> None:
        """Show more rows below the current ones (a digest still loading); the cursor stays."""
        first = self.paper is None
        self.rows = rows
        self.partial, self.missing = np.zeros(0, dtype=np.int64), ()
        self.virtual_size = Size(self.scrollable_content_region.width, len(rows))
        self.refresh()
        if first and len(rows):
            self.cursor = 0

    @property
    def paper(self) -> Paper | None:
        """The paper under the cursor."""
        if 0 <= self.cursor < self._lines():
            return self.papers[self._index_at(self.cursor)]
        return None

    def _lines(self) -> int:
        """Rows on the list: the papers shown, then the partial matches."""
        return len(self.rows) + len(self.partial)

    def _index_at(self, position: int) -> int:
        """The paper (index into ``papers``) on line ``position``."""
        if position < len(self.rows):
            return int(self.rows[position])
        return int(self.partial[position - len(self.rows)])

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, self._lines() - 1))

    def watch_cursor(self, cursor: int) -> None:
        self.scroll_to_region(Region(0, cursor, 1, 1), animate=False, immediate=True, force=True)
        self.refresh()
        self.post_message(self.Highlighted(self.paper))

    def watch_marked(self) -> None:
        self.refresh()

    def watch_heading(self, heading: str) -> None:
        self.border_title = Content(heading)  # titles and queries in it are text, never markup

    def watch_counts(self, counts: str) -> None:
        self.border_subtitle = Content(counts)

    def refresh_rows(self) -> None:
        """Redraw (marks or tags changed)."""
        self.refresh()

    # -- actions -------------------------------------------------------------------------
    def move_to(self, position: int) -> None:
        """Move the cursor as the user asked (a key, a click): the paper is chosen, so read."""
        self.cursor = position
        self.post_message(self.Chosen(self.paper))

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        if self.cursor == 0:
            self.post_message(self.LeaveTop())  # up at the top: back to the search box, as in fzf
            return
        self.move_to(self.cursor - 1)

    def action_open(self) -> None:
        self.post_message(self.Open(self.paper))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self._lines() - 1)

    def action_page_down(self) -> None:
        self.move_to(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_page_up(self) -> None:
        self.move_to(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def marked_papers(self) -> list[Paper]:
        """Marked papers in list order (marked papers no longer shown come last)."""
        shown = [self.papers[i] for i in self.rows if self.papers[i].id in self.marked]
        found = {p.id for p in shown}
        rest = [p for p in self.papers if p.id in self.marked and p.id not in found]
        return shown + rest

    def action_clear_query(self) -> None:
        self.post_message(self.ClearQuery())

    async def on_key(self, event: events.Key) -> None:
        if not redirect_key(self, event):
            await move_focus(self, event, FOCUS_MOVES)

    def on_focus(self) -> None:
        # Coming back to the list selects the paper under the cursor again.
        self.post_message(self.Highlighted(self.paper))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return  # on the border or the scrollbar
        row = self.scroll_offset.y + offset.y
        if 0 <= row < self._lines():
            self.move_to(row)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self._lines())
        # The selected paper stays on screen when the terminal (or the pane) changes size.
        self.call_after_refresh(self.scroll_to_cursor)

    def scroll_to_cursor(self) -> None:
        """Scroll so the selected row is visible."""
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True, force=True)

    # -- rendering -----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        position = self.scroll_offset.y + y
        if position >= self._lines():
            blank = self.get_visual_style("paper-list--row")
            if self._lines() == 0 and y < len(self.empty_text):  # say why the list is empty, and what to do
                hint = Content(self.empty_text[y]).truncate(width, ellipsis=True)
                return Strip(hint.render_segments(blank)).extend_cell_length(width, blank.rich_style).crop(0, width)
            return Strip.blank(width, blank.rich_style)
        index = self._index_at(position)
        paper = self.papers[index]
        classes = ["paper-list--row"]
        lacking = ""
        if position >= len(self.rows):
            classes.append("paper-list--partial")
            lacking = self.missing[position - len(self.rows)] if position - len(self.rows) < len(self.missing) else ""
        if paper.id in self.marked:
            classes.append("paper-list--marked")
        if position == self.cursor:
            classes.append("paper-list--cursor")
        base = self.get_visual_style(*classes)
        row = self._row(index, paper, width, lacking)
        return Strip(row.render_segments(base)).extend_cell_length(width, base.rich_style).crop(0, width)

    def _row(self, index: int, paper: Paper, width: int, lacking: str = "") -> Content:
        """Marks, then the title with the room it needs; "seen …" and whole tags where room is left.

        The title comes first: tags are never cut mid-word (those that do not fit are counted,
        "+2"), and "seen 942 days ago" becomes "942d ago" or goes when the title needs the room.
        """
        style = self.get_visual_style
        marked = paper.id in self.marked
        marks = Content.assemble(
            (MARK if marked else " ", style("paper-list--marked-sign", partial=True)),
            (BOOKMARK_MARK if self.is_bookmarked(paper) else " ", style("paper-list--bookmark", partial=True)),
            (UNREAD_MARK if not self.is_read(paper) else " ", style("paper-list--unread", partial=True)),
            " ",
        )
        text = self.title_of(paper)
        if len(text) > MAX_TITLE_SHOWN:
            text = text[:MAX_TITLE_SHOWN]  # a 5 MB "title" costs no more than a screenful
        title = Content(text)
        if index not in self._span_cache:
            self._span_cache[index] = self.spans_of(paper)
        why = Content("")  # how the paper matched, shown before the other chips
        if lacking:  # a partial match: the word it lacks
            why = Content(f" lacks {lacking}").stylize(style("paper-list--missing", partial=True))
        elif self.mark_abstract and not self._span_cache[index]:  # found through its abstract
            why = Content(" (abstract)").stylize(style("paper-list--seen", partial=True))
        match = style("paper-list--match", partial=True)
        for start, end in self._span_cache[index]:
            if start < MAX_TITLE_SHOWN:
                title = title.stylize(match, start, min(end, MAX_TITLE_SHOWN))
        if paper.from_store:
            title = title.stylize(style("paper-list--stored", partial=True))
        available = max(0, width - marks.cell_length - why.cell_length)
        spare = available - title.cell_length  # what the title leaves (negative: it is cut)
        chips = self._chips(paper, max(spare, 0))
        if chips.cell_length > max(spare, 0):
            # Nothing else fits whole beside the whole title: keep a short count of the tags.
            chips = self._chips(paper, 0)
        chips = Content.assemble(why, chips)
        title = title.truncate(max(0, available - chips.cell_length), ellipsis=True, pad=True)
        return Content.assemble(marks, title, chips)

    def _chips(self, paper: Paper, room: int) -> Content:
        """Whole tags and when the paper was first seen, in ``room`` cells (a "+N" count of tags always shows)."""
        style = self.get_visual_style
        tags = self.tags_of(paper)
        chip_style = style("paper-list--tag", partial=True)
        parts: list[Content] = []
        used = 0
        shown = 0
        for tag in tags:
            chip = Content.assemble(" ", Content(f" {inert(tag[:MAX_TAG_SHOWN])} ").stylize(chip_style))
            rest = len(tags) - shown - 1
            reserve = len(f" +{rest}") if rest else 0
            if used + chip.cell_length + reserve > room:
                break
            parts.append(chip)
            used += chip.cell_length
            shown += 1
        if shown < len(tags):
            more = Content(f" +{len(tags) - shown}").stylize(chip_style)
            parts.append(more)
            used += more.cell_length
        seen = self.seen_of(paper)
        if seen:
            for form in (f" {seen}", " " + _compact_seen(seen)):
                if used + len(form) <= room:
                    parts.insert(0, Content(form).stylize(style("paper-list--seen", partial=True)))
                    break
        return Content.assemble(*parts) if parts else Content("")


def _compact_seen(seen: str) -> str:
    """``seen 942 days ago`` → ``942d ago`` (other wordings are kept)."""
    words = seen.split()
    if len(words) == 4 and words[0] == "seen" and words[2] in ("days", "day") and words[1].isdigit():
        return f"{words[1]}d ago"
    return seen
