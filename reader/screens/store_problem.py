"""Shown when the store cannot be read: say so, offer read-only or quit. Nothing is overwritten."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from reader.text import inert_lines


class StoreProblemScreen(ModalScreen[bool]):
    """Dismisses True to go on read-only, False to quit."""

    BINDINGS = [Binding("escape,q", "dismiss(False)", "Quit"), Binding("r", "dismiss(True)", "Read-only")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="problem-dialog") as dialog:
            dialog.border_title = "Your store cannot be read"
            yield Static(Content(inert_lines(self.message)), id="problem-message")
            yield Static(
                Content(
                    "The file was left exactly as it is (a backup of the last good store, if any, is beside it "
                    "as .bak). Open read-only to browse papers without your bookmarks; nothing will be saved."
                ),
                id="problem-hint",
            )
            with Horizontal(id="problem-buttons"):
                yield Button("Open read-only (r)", id="readonly", variant="warning")
                yield Button("Quit (q)", id="quit")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "readonly")
