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
from reader.text import inert


class TagsScreen(ModalScreen[None]):
    """Edit one paper's tags, or add tags to several; each change is saved at once by ``add``/``remove``,
    which return the tags to show now and what to tell the user."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(
        self,
        papers: Paper | list[Paper],
        tags: list[str],
        known: list[str],
        add: Callable[[str], tuple[list[str], str]],
        remove: Callable[[str], tuple[list[str], str]] | None,
    ) -> None:
        super().__init__()
        self.papers = papers if isinstance(papers, list) else [papers]
        self.tags = tags
        self.known = known
        self._add = add
        self._remove = remove

    def compose(self) -> ComposeResult:
        with Vertical(id="tags-dialog") as dialog:
            dialog.border_title = "Tags"
            if len(self.papers) == 1:
                yield Static(Content(inert(self.papers[0].title)), id="tags-paper")
            else:
                yield Static(Content(f"Adding tags to {len(self.papers)} marked papers"), id="tags-paper")
            yield TagList(id="tags-list")
            yield Input(
                placeholder="new tag, enter to add",
                suggester=SuggestFromList(self.known, case_sensitive=False),
                id="tags-input",
            )
            hint = "enter add · delete/x remove the selected tag · tab switch · escape close"
            if self._remove is None:
                hint = "enter add to every marked paper · escape close"
            yield Static(Content(hint), id="tags-hint")
            yield Static(Content(""), id="tags-said")

    def show_notice(self, title: str, message: str, severity: str) -> None:
        """What adding or removing a tag did, in the dialog (reader.screens.host.ShowsNotices)."""
        said = self.query_one("#tags-said", Static)
        said.update(Content(f"{title}: {message}" if title else message))
        said.set_class(severity != "information", "-warning")
        said.display = True

    def on_mount(self) -> None:
        self._show_tags()
        self.query_one("#tags-input", Input).focus()

    def _show_tags(self) -> None:
        options = self.query_one("#tags-list", OptionList)
        options.clear_options()
        options.add_options([Option(Content("#" + inert(tag)), id=str(n)) for n, tag in enumerate(self.tags)])
        options.display = bool(self.tags)
        if self.tags:
            options.highlighted = 0

    @on(Input.Submitted, "#tags-input")
    def add_tag(self, event: Input.Submitted) -> None:
        tag = " ".join(event.value.split()).lstrip("#")
        if not tag:
            self.dismiss(None)
            return
        self.tags, message = self._add(tag)
        event.input.value = ""
        self._show_tags()
        self.notify(message, markup=False)

    def remove_selected(self) -> None:
        options = self.query_one("#tags-list", OptionList)
        if options.highlighted is None or not self.tags or self._remove is None:
            return
        tag = self.tags[options.highlighted]
        self.tags, message = self._remove(tag)
        position = options.highlighted or 0
        self._show_tags()
        if self.tags:
            options.highlighted = min(position, len(self.tags) - 1)
            options.focus()
        else:
            self.query_one("#tags-input", Input).focus()
        self.notify(message, markup=False)


class TagList(OptionList):
    """The paper's tags; delete removes the highlighted one."""

    BINDINGS = [Binding("delete,backspace,x", "remove", "Remove tag")]

    def action_remove(self) -> None:
        screen = self.screen
        if isinstance(screen, TagsScreen):
            screen.remove_selected()
