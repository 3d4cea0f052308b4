"""The search box: typing filters as you type; enter/down go to the list, escape goes back to it."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input

from reader.widgets.focus import move_focus, redirect_key

_MOVE_BINDINGS = [
    Binding("enter,down", "screen.to_list(True)", "To list"),
    Binding("escape", "screen.to_list(False)", "Back to list"),
]


class SearchBox(Input):
    """The query input. Its moves run in key order (see reader.widgets.focus)."""

    # Shown in the footer; run at once by _on_key rather than when the key bubbles up.
    BINDINGS = list(_MOVE_BINDINGS)
    MOVES = {key: binding.action for binding in _MOVE_BINDINGS for key in binding.key.split(",")}

    async def _on_key(self, event: events.Key) -> None:
        if not redirect_key(self, event):
            await move_focus(self, event, self.MOVES)
