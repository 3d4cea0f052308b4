"""The search box: typing filters as you type; enter/down go to the list, escape goes back to it.

ctrl+n/ctrl+j and ctrl+p/ctrl+k move the list's selection while the focus stays here, as in fzf.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input

from reader.text import clean_line
from reader.widgets.bindings import bindings_for
from reader.widgets.focus import move_focus, redirect_key


class SearchBox(Input):
    """The query input. Its moves run in key order (see reader.widgets.focus)."""

    BINDINGS = bindings_for("search")  # from the command table (reader.commands)
    MOVES = frozenset(b.action for b in BINDINGS if isinstance(b, Binding))

    def validate_value(self, value: str) -> str:
        """The query without escape sequences: a recalled saved search or a tag may hold them."""
        return clean_line(value)

    async def on_key(self, event: events.Key) -> None:
        if not redirect_key(self, event):
            await move_focus(self, event, self.MOVES)
