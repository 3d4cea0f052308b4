"""The note editor: multi-line, saved on close and while you pause typing."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Static, TextArea

from reader.paper import Paper

AUTOSAVE_AFTER = 1.0  # seconds of no typing


class NoteScreen(ModalScreen[None]):
    """Edit a paper's note; ``save`` writes it to the store."""

    BINDINGS = [Binding("escape", "close", "Save and close"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, paper: Paper, note: str, save: Callable[[str], None]) -> None:
        super().__init__()
        self.paper = paper
        self.saved = note
        self._save = save
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="note-dialog") as dialog:
            dialog.border_title = "Note"
            yield Static(Content(self.paper.title), id="note-paper")
            yield TextArea(self.saved, id="note-text", soft_wrap=True)
            yield Static(Content("escape save and close · ctrl+s save"), id="note-hint")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(AUTOSAVE_AFTER, self.action_save)

    def action_save(self) -> None:
        text = self.query_one(TextArea).text.rstrip()
        if text != self.saved:
            self._save(text)
            self.saved = text

    def save_now(self) -> None:
        """Save what was typed (the terminal went away)."""
        self.action_save()

    def action_close(self) -> None:
        self.action_save()
        self.dismiss(None)

    def on_unmount(self) -> None:
        # Quitting with the editor open still keeps what was typed.
        try:
            self.action_save()
        except Exception:
            pass
