"""The help screen: every key and what it does, from the command table, and the query language."""

from __future__ import annotations

from collections.abc import Mapping
from textwrap import wrap

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from reader.commands import keys_text, sections

QUERY_LANGUAGE = [
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
]

TEXT_WIDTH = 78  # the help box's inner width (styles: #help-body), so wrapped lines hang under their text
CLOSE_HINT = "escape, q or ? closes this help"


def help_sections(overrides: Mapping[str, str] | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(keys, what they do)]) from the command table, after the config's key overrides."""
    out = [
        (section, [(keys_text(c, overrides), c.help) for c in commands if keys_text(c, overrides)])
        for section, commands in sections()
    ]
    return [*out, ("Query language", QUERY_LANGUAGE)]


class HelpScreen(ModalScreen[None]):
    """Keys and query language."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.overrides = dict(overrides or {})

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "paper-reader keys"
            body.border_subtitle = CLOSE_HINT
            yield Static(Content(CLOSE_HINT), classes="help-close")
            for section, rows in help_sections(self.overrides):
                yield Static(Content(section), classes="help-section")
                width = max(len(key) for key, _ in rows) + 2
                lines = [
                    Content.assemble(
                        (key.ljust(width), "bold"), ("\n" + " " * width).join(wrap(text, TEXT_WIDTH - width))
                    )
                    for key, text in rows
                ]
                yield Static(Content("\n").join(lines), classes="help-keys")
