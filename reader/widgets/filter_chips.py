"""Chips under the search box for the active filters; click one (or press x) to remove it."""

from __future__ import annotations

from textual import events
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.widgets import Static

from reader.query import split_terms
from reader.text import inert

FILTER_PREFIXES = ("#", "is:", "has:", "rank:")


def filter_tokens(text: str) -> list[str]:
    """The filter terms of a query as typed (``#tag``, ``is:…``, ``has:…``, ``rank:…``, negated too)."""
    tokens = []
    for token, quoted in split_terms(text):
        body = token[1:] if token.startswith("!") else token
        if not quoted and body.lower().startswith(FILTER_PREFIXES) and len(body) > 1:
            tokens.append(token)
    return tokens


def without_token(text: str, token: str) -> str:
    """The query with one term removed (the first one equal to ``token``), the rest kept as typed."""
    kept = []
    removed = False
    for term, quoted in split_terms(text):
        if not removed and not quoted and term == token:
            removed = True
            continue
        kept.append(_as_typed(term, quoted))
    return " ".join(kept)


def _as_typed(term: str, quoted: bool) -> str:
    if quoted:
        negate = term.startswith("!")
        return ("!" if negate else "") + '"' + (term[1:] if negate else term) + '"'
    if " " in term:
        # A prefixed term with spaces in it (#"reading group"): quote what follows the prefix.
        for prefix in ("!#", "#", "!rank:", "rank:"):
            if term.startswith(prefix):
                return f'{prefix}"{term[len(prefix) :]}"'
    return term


class Chip(Static):
    """One active filter."""

    class Remove(Message):
        """Remove this filter."""

        def __init__(self, token: str) -> None:
            super().__init__()
            self.token = token

    def __init__(self, token: str, label: str) -> None:
        super().__init__(Content(f" {inert(label)} ✕ "), classes="chip")  # label: query text
        self.token = token

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Remove(self.token))


class FilterChips(Horizontal):
    """The row of chips; hidden when no filter is active."""

    chips: var[tuple[tuple[str, str], ...]] = var(())  # (token, label) pairs (bound to the screen's)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: tuple[tuple[str, str], ...] = ()

    def watch_chips(self, chips: tuple[tuple[str, str], ...]) -> None:
        if chips == self.shown:
            return
        self.shown = chips
        self.remove_children()
        self.mount_all([Chip(token, label) for token, label in chips])
        self.display = bool(chips)
