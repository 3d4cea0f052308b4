"""What the main screen needs from the app that hosts it, so the screen never imports the app.

Background work (loading, indexing, comparing) reaches the screen as messages: the app
publishes them on ``library_signal`` and the screen, subscribed, handles them; the app knows
no screen's methods. ``hangup_signal`` asks every subscribed screen to save what is only on it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.message import Message
from textual.signal import Signal

from reader.core.library import OpenLibrary
from reader.index.engine import SearchEngine


class LibraryNews(Message, bubble=False):
    """Background work on the open library moved on (what kind: the subclass)."""


class PapersLoaded(LibraryNews):
    """More papers are in the collection (a big digest loading); ``progress`` 1.0 once all are."""

    def __init__(self, progress: float) -> None:
        super().__init__()
        self.progress = progress


class SeenNoted(LibraryNews):
    """First-seen dates of the open papers are known (rows and the detail pane can say them)."""


class IndexReady(LibraryNews):
    """The search index is built: searches run on it from now on."""


class ComparisonReady(LibraryNews):
    """The comparison "more like this" and ``rank:`` use is built."""


@runtime_checkable
class ShowsNotices(Protocol):
    """A dialog that shows what is said while it is open in itself, where no notice can cover it."""

    def show_notice(self, title: str, message: str, severity: str) -> None:
        """Show one notice (already inert text) in the dialog."""
        ...


class ReaderHost(Protocol):
    """The app as the main screen sees it: the open library, background work, clipboard, browser."""

    core: OpenLibrary
    load_progress: float  # 1.0 once the digests are parsed
    indexing: bool  # True until the search index is built
    readonly: bool  # nothing is saved
    library_signal: Signal[LibraryNews]  # background work moved on (read the state above first)
    hangup_signal: Signal[None]  # the terminal went away: save now, the app exits next

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
