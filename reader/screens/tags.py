"""The tag editor: current tags, add with suggestions, remove."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from reader.paper import Paper


class TagsScreen(ModalScreen[None]):
    """Edit one paper's tags; each change is saved at once by ``add``/``remove``."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(
        self,
        paper: Paper,
        tags: list[str],
        known: list[str],
        add: Callable[[str], list[str]],
        remove: Callable[[str], list[str]],
    ) -> None:
        super().__init__()
        self.paper = paper
        self.tags = tags
        self.known = known
        self._add = add
        self._remove = remove

    def compose(self) -> ComposeResult:
        with Vertical(id="tags-dialog") as dialog:
            dialog.border_title = "Tags"
            yield Static(Content(self.paper.title), id="tags-paper")
            yield TagList(id="tags-list")
            yield Input(
                placeholder="new tag, enter to add",
                suggester=SuggestFromList(self.known, case_sensitive=False),
                id="tags-input",
            )
            yield Static(Content("enter add · delete/x remove the selected tag · tab switch · escape close"),
                         id="tags-hint")

    def on_mount(self) -> None:
        self._show_tags()
        self.query_one("#tags-input", Input).focus()

    def _show_tags(self) -> None:
        options = self.query_one("#tags-list", OptionList)
        options.clear_options()
        options.add_options([Option(Content("#" + tag), id=str(n)) for n, tag in enumerate(self.tags)])
        options.display = bool(self.tags)
        if self.tags:
            options.highlighted = 0

    @on(Input.Submitted, "#tags-input")
    def add_tag(self, event: Input.Submitted) -> None:
        tag = " ".join(event.value.split()).lstrip("#")
        if not tag:
            self.dismiss(None)
            return
        self.tags = self._add(tag)
        event.input.value = ""
        self._show_tags()
        self.notify(f"Tagged #{tag}", markup=False)

    def remove_selected(self) -> None:
        options = self.query_one("#tags-list", OptionList)
        if options.highlighted is None or not self.tags:
            return
        tag = self.tags[options.highlighted]
        self.tags = self._remove(tag)
        position = options.highlighted or 0
        self._show_tags()
        if self.tags:
            options.highlighted = min(position, len(self.tags) - 1)
            options.focus()
        else:
            self.query_one("#tags-input", Input).focus()
        self.notify(f"Removed #{tag}", markup=False)


class TagList(OptionList):
    """The paper's tags; delete removes the highlighted one."""

    BINDINGS = [Binding("delete,backspace,x", "remove", "Remove tag")]

    def action_remove(self) -> None:
        screen = self.screen
        if isinstance(screen, TagsScreen):
            screen.remove_selected()
