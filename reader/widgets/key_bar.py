"""The key bar at the bottom: the keys that matter most where the focus is, fitted to the width.

Textual's footer shows every binding in binding order and cuts off the rest, so at 80
columns help and quit vanished. This bar takes its keys and labels from the command table
(after the config's ``[keys]`` overrides), drops the least important ones first as the
terminal narrows, and always keeps ``? help`` and ``q quit`` at its right end.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content
from textual.widget import Widget

from reader.commands import COMMANDS, Command, keys_of

GAP = "  "


def short_key(key: str) -> str:
    """``ctrl+p`` → ``^p``, as Textual's footer writes it."""
    return "^" + key.removeprefix("ctrl+") if key.startswith("ctrl+") else key


def hints(scopes: set[str], width: int, overrides: Mapping[str, str]) -> list[tuple[str, str]]:
    """(key, label) pairs that fit in ``width`` cells, most important first, help and quit last."""
    shown = [c for c in COMMANDS if c.footer and (c.scope in scopes or c.rank == 0) and keys_of(c, overrides)]
    shown.sort(key=lambda c: c.rank)
    pinned = [c for c in shown if c.rank == 0]
    others = [c for c in shown if c.rank != 0]

    def pair(command: Command) -> tuple[str, str]:
        return short_key(keys_of(command, overrides)[0]), command.footer

    def cost(items: list[tuple[str, str]]) -> int:
        return sum(len(k) + 1 + len(label) for k, label in items) + len(GAP) * max(0, len(items) - 1) + 2

    chosen = [pair(c) for c in pinned]
    front: list[tuple[str, str]] = []
    for command in others:
        if cost([*front, pair(command), *chosen]) + len(" │") > width:
            break
        front.append(pair(command))
    return front + chosen


class KeyBar(Widget):
    """One line of key hints for the focused part of the screen."""

    def __init__(self, overrides: Mapping[str, str] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.overrides = dict(overrides or {})

    def on_mount(self) -> None:
        self.watch(self.screen, "focused", self._focus_moved, init=False)

    def _focus_moved(self) -> None:
        self.refresh()

    def scopes(self) -> set[str]:
        """Where the focus is: the search box shows its own keys (letters type there), else the paper keys."""
        focused = self.screen.focused
        in_search = focused is not None and focused.id == "search"
        return {"search"} if in_search else {"list", "main", "app"}

    def render(self) -> Content:
        items = hints(self.scopes(), self.size.width, self.overrides)
        parts: list[Content] = []
        pinned = sum(1 for c in COMMANDS if c.rank == 0 and c.footer)
        for n, (key, label) in enumerate(items):
            if n and n == len(items) - pinned:
                parts.append(Content.styled(" │ ", "dim"))
            elif n:
                parts.append(Content(GAP))
            parts.append(Content.assemble((key, "bold $text-accent"), " ", label))
        return Content.assemble(" ", *parts)
