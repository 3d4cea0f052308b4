"""What the main screen needs from the app that hosts it, so the screen never imports the app."""

from __future__ import annotations

from typing import Protocol

from reader.core.library import OpenLibrary
from reader.index.engine import SearchEngine


class ReaderHost(Protocol):
    """The app as the main screen sees it: the open library, background work, clipboard, browser."""

    core: OpenLibrary
    load_progress: float  # 1.0 once the digests are parsed
    indexing: bool  # True until the search index is built
    readonly: bool  # nothing is saved

    @property
    def sample(self) -> bool:
        """True when the only digest open is the bundled sample."""
        ...

    @property
    def key_overrides(self) -> dict[str, str]:
        """The config's ``[keys]``: action -> keys (reader.commands)."""
        ...

    async def index_ready(self) -> SearchEngine:
        """The search engine, once the index is built."""
        ...

    def refresh_index(self) -> None:
        """Rebuild the index on a worker when stored papers were added."""
        ...

    def session(self) -> dict[str, object]:
        """Where the user was when these digests were last closed."""
        ...

    def save_session(self, state: dict[str, object]) -> None:
        """Remember where the user is in these digests."""
        ...

    def copy_text(self, text: str, what: str) -> object:
        """Copy text to the clipboard and say so."""
        ...

    def open_link(self, url: str) -> object:
        """Open a link in the browser (or copy it) and say so."""
        ...
