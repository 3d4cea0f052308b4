"""The search box: typing filters as you type; enter/down go to the list, escape goes back to it."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input

from reader.widgets.focus import move_focus, redirect_key


class SearchBox(Input):
    """The query input. Its moves run in key order (see reader.widgets.focus)."""

    BINDINGS = [
        Binding("enter,down", "screen.to_list(True)", "To list"),
        Binding("escape", "screen.to_list(False)", "Back to list"),
    ]
    MOVES = {"enter": "screen.to_list(True)", "down": "screen.to_list(True)", "escape": "screen.to_list(False)"}

    async def _on_key(self, event: events.Key) -> None:
        if not redirect_key(self, event):
            await move_focus(self, event, self.MOVES)
