"""The help screen: every key and what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    (
        "Search",
        [
            ("/", "focus the search box; typing filters as you type"),
            ("enter, down", "(in the search box) go to the list, top result selected"),
            ("escape", "(in the search box) back to the list; (in the list) clear the search"),
        ],
    ),
    (
        "Move",
        [
            ("j, k, arrows", "next / previous paper"),
            ("g, G, home, end", "first / last paper"),
            ("page up/down", "a page up / down"),
            ("tab", "move between search, list and detail"),
        ],
    ),
    (
        "Paper",
        [
            ("b", "bookmark on / off"),
            ("B", "bookmarks-only view on / off (includes bookmarks from earlier digests)"),
            ("t", "edit tags"),
            ("#", "filter by tag"),
            ("n", "edit the note"),
            ("y", "copy the primary link"),
            ("Y", "choose what to copy: a link, the title, Markdown, BibTeX"),
            ("o", "open the primary link in the browser (over SSH or with no browser: copy it)"),
            ("s", "more like this: papers most similar to this one (escape goes back)"),
            ("S", "sort: relevance, file order, title, first seen, bookmarked time"),
            ("x", "remove the last filter chip (or click a chip)"),
        ],
    ),
    (
        "Triage",
        [
            ("space", "read on: scroll the abstract, then go to the next unread paper"),
            ("R", "mark every paper shown as read"),
            ("v", "mark / unmark a paper for bulk actions (b, t, y, Y act on all marked)"),
            ("V", "clear the marks"),
            ("u, ctrl+r", "undo / redo bookmark, tag, note and link changes (kept across restarts)"),
            ("ctrl+s", "save the current search; 1 … 9 recall saved searches"),
        ],
    ),
    (
        "App",
        [
            ("ctrl+p", "command palette (every action, themes, export)"),
            ("ctrl+l", "refresh: show changes made in another terminal"),
            ("?", "this help"),
            ("q", "quit"),
        ],
    ),
    (
        "Query language",
        [
            ("neural opertor", "fuzzy words, typo tolerant; all must match, else lacking one"),
            ("stepbystep modle", "other forms match too (plurals, spellings, joined), after exact"),
            ("'exact", "exact substring"),
            ("!word", "exclude papers containing word"),
            ('"a phrase"', "exact phrase"),
            ("#tag", "papers with that tag"),
            ("is:bookmarked is:unread is:read", "by state"),
            ("is:new", "first seen in the newest digest open"),
            ("rank:tag", "order by likeness to the papers with that tag"),
            ("has:note has:code has:tags has:link", "by what a paper has"),
        ],
    ),
]


class HelpScreen(ModalScreen[None]):
    """Keys and query language."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "paper-reader keys"
            for section, rows in KEYS:
                yield Static(Content(section), classes="help-section")
                width = max(len(key) for key, _ in rows) + 2
                lines = [Content.assemble((key.ljust(width), "bold"), text) for key, text in rows]
                yield Static(Content("\n").join(lines), classes="help-keys")
