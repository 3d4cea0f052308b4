"""A one-line question: a name for a saved search, a folder to export to."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from reader.text import clean_line, inert


class AskScreen(ModalScreen[str | None]):
    """Ask for one line of text; dismisses with it ('' when left empty, None on escape)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, value: str = "", hint: str = "enter save · escape cancel") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="ask-dialog") as dialog:
            dialog.border_title = Content(inert(self.question))
            # The value is edited, so it is cleaned rather than shown escaped (a saved name may hold ESC).
            yield Input(clean_line(self.value), id="ask-input")
            yield Static(Content(inert(self.hint)), id="ask-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())
