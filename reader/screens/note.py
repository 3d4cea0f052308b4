"""The note editor: multi-line, saved on close and while you pause typing."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.signal import Signal
from textual.timer import Timer
from textual.widgets import Static, TextArea

from reader.paper import Paper
from reader.text import inert

AUTOSAVE_AFTER = 1.0  # seconds of no typing


class NoteScreen(ModalScreen[None]):
    """Edit a paper's note; ``save(text, opened_with)`` writes it and returns what is stored now.

    ``opened_with`` is the note as last saved or shown here: when the store holds another
    text by then, the core keeps both and the editor shows what was stored. What was typed
    is saved on every way out: escape, ctrl+s, a pause, quitting the app, a signal.
    """

    BINDINGS = [Binding("escape", "close", "Save and close"), Binding("ctrl+s", "save", "Save")]

    def __init__(
        self, paper: Paper, note: str, save: Callable[[str, str], str | None], hung_up: Signal[None] | None = None
    ) -> None:
        super().__init__()
        self.hung_up = hung_up  # the app's: the terminal went away
        self.paper = paper
        self.saved = note
        self._save = save
        self._timer: Timer | None = None
        # Kept here: on unmount the TextArea is out of the DOM, but it still holds the text.
        self._area = TextArea(note, id="note-text", soft_wrap=True)

    def compose(self) -> ComposeResult:
        with Vertical(id="note-dialog") as dialog:
            dialog.border_title = "Note"
            yield Static(Content(inert(self.paper.title)), id="note-paper")
            yield self._area
            yield Static(Content("escape save and close · ctrl+s save"), id="note-hint")

    def on_mount(self) -> None:
        if self.hung_up is not None:
            self.hung_up.subscribe(self, lambda _: self.save_now(), immediate=True)
        area = self._area
        area.focus()
        area.move_cursor(area.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(AUTOSAVE_AFTER, self.action_save)

    def action_save(self) -> None:
        text = self._area.text.rstrip()
        if text == self.saved:
            return
        stored = self._save(text, self.saved)
        if stored is None:
            return  # not saved (read-only store, disk error): the text stays in the editor
        self.saved = stored
        if stored != text and self.is_mounted:
            self._area.load_text(stored)  # both texts, marked: the note had changed elsewhere

    def save_now(self) -> None:
        """Save what was typed (the terminal went away)."""
        self.action_save()

    def action_close(self) -> None:
        self.action_save()
        self.dismiss(None)

    def on_unmount(self) -> None:
        # Quitting with the editor open (q elsewhere, ctrl+c, SIGTERM, SIGINT) still keeps what was typed.
        if self._timer is not None:
            self._timer.stop()
        self.action_save()
