"""A small picker: choose one of several labelled values (what to copy, which tag)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from reader.text import inert


class ChooseScreen(ModalScreen[str | None]):
    """Pick one item; dismisses with its value (None on escape).

    Title, labels and hint are drawn as inert text: they carry names from outside (saved searches,
    tags, links, folders) that must never act as markup or escape sequences.
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, title: str, items: list[tuple[str, str]], hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.items = items
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="choose-dialog") as dialog:
            dialog.border_title = Content(inert(self.title_text))
            yield OptionList(
                *[Option(Content(inert(label)), id=str(n)) for n, (label, _) in enumerate(self.items)],
                id="choose-list",
            )
            if self.hint:
                yield Static(Content(inert(self.hint)), id="choose-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.items[event.option_index][1])
