"""The Textual app: composes the main screen, runs slow work on workers, copies and opens links."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.worker import get_current_worker

from reader.clipboard import copy_system, open_url
from reader.collection import Collection
from reader.commands import COMMANDS, keymap, keys_text
from reader.config import Config
from reader.core.heap import bulk_allocation
from reader.core.library import OpenLibrary
from reader.digest import Library, LibraryLoader, bundled_digest
from reader.index.build import BuildCancelled, IndexBuilder
from reader.index.engine import SearchEngine
from reader.index.segment import LoadCancelled
from reader.index.similar import Cancelled as SimilarityCancelled
from reader.index.similar import Similarity
from reader.paper import Paper
from reader.screens.host import ComparisonReady, IndexReady, LibraryNews, PapersLoaded, SeenNoted, ShowsNotices
from reader.screens.main import MainScreen
from reader.screens.store_problem import StoreProblemScreen
from reader.store import Store, StoreError, take_warnings
from reader.text import inert, inert_lines
from reader.widgets.bindings import bindings_for

HANGUP_GRACE = 2.0  # seconds a hung-up app gets to exit normally


def styles_path() -> Path:
    """The stylesheet, from an installed wheel (reader/styles) or from a checkout (styles/)."""
    installed = Path(str(files("reader"))) / "styles" / "reader.tcss"
    if installed.exists():
        return installed
    return Path(__file__).resolve().parent.parent / "styles" / "reader.tcss"


LOAD_UPDATE_S = 0.25  # how often the list grows while a big digest loads
NOTICES_KEPT = 200
SAMPLE_HINT = "paper-reader FILE opens your own digests (a folder too; or digests = DIR in the config)."


class Notice(NamedTuple):
    """A notice the app showed."""

    title: str
    message: str
    severity: str


class PaperReaderApp(App[int]):
    """paper-reader: browse, search, bookmark, tag and copy papers."""

    TITLE = "paper-reader"
    CSS_PATH = str(styles_path())
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [Binding("ctrl+c", "quit", "Quit", show=False, priority=True), *bindings_for("app")]

    def __init__(
        self,
        library: Library,
        store: Store | None = None,
        store_error: StoreError | None = None,
        store_path: str | None = None,
        loader: LibraryLoader | None = None,
        config: Config | None = None,
        builder: IndexBuilder | None = None,
    ) -> None:
        super().__init__()
        self.notices: deque[Notice] = deque(maxlen=NOTICES_KEPT)
        self._ui_thread = threading.get_ident()  # notices from elsewhere always go to Textual's queue
        self.config = config or Config()
        self.library = library
        self.loader = loader
        # Indexes the papers in a helper process as the loader parses them (reader.index.build).
        self.builder = builder
        self.load_progress = 1.0 if loader is None else 0.0
        self.store_error = store_error
        self.store_path = store_path
        self.readonly = store is None or store.readonly
        self._store = store
        self.core: OpenLibrary
        self.indexing = True
        self._index_event = asyncio.Event()
        # How background work reaches the screens (reader.screens.host): they subscribe, the app publishes.
        self.library_signal: Signal[LibraryNews] = Signal(self, "library")
        self.hangup_signal: Signal[None] = Signal(self, "hangup")
        files = loader.files if loader is not None else library.files
        self.digest_files = [Path(f) for f in files]
        # Reopening the same digests brings back where the user was (see MainScreen).
        self.session_key = "\n".join(sorted(str(Path(f).resolve()) for f in files))

    @property
    def collection(self) -> Collection:
        """The open papers and their records (the core's)."""
        return self.core.collection

    @property
    def similarity(self) -> Similarity | None:
        """The comparison "more like this" and ``rank:`` use, once built."""
        return self.core.similarity

    @property
    def sample(self) -> bool:
        """True when the only digest open is the bundled sample."""
        return [f.resolve() for f in self.digest_files] == [bundled_digest().resolve()]

    @property
    def key_overrides(self) -> dict[str, str]:
        """The config's ``[keys]``: action -> keys (what the key bar, help and palette show)."""
        return self.config.keys

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a notice, and keep it in ``notices`` (the latest ones: what was said, for tests and users)."""
        # Text from outside (file names, tags, journal labels) reaches the screen inert.
        title, message = inert(title), inert_lines(message)
        self.notices.append(Notice(title, message, severity))
        top = self.screen_stack[-1] if threading.get_ident() == self._ui_thread and self.screen_stack else None
        if isinstance(top, ShowsNotices):  # a dialog that says it in itself: nothing covers it
            top.show_notice(title, message, severity)
            return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def _dialog_opened(self, screen: Screen[object]) -> None:
        """A dialog (or the palette) opened: put away the notices shown over the main screen.

        As in lazygit and fzf, nothing covers a dialog; the notices stay in ``notices``.
        """
        if isinstance(screen, ModalScreen):
            self.clear_notifications()

    def on_mount(self) -> None:
        self.screen_change_signal.subscribe(self, self._dialog_opened)
        loop = asyncio.get_running_loop()
        for sig, handler in ((signal.SIGTERM, self.exit), (signal.SIGINT, self.exit), (signal.SIGHUP, self._hang_up)):
            try:
                loop.add_signal_handler(sig, handler)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        if self._store is None:
            self._store_problem()
            return
        self._start(self._store)

    def _hang_up(self) -> None:
        """The terminal hung up: screens save what is only on them, then exit, by force if need be.

        Every bookmark, tag and read mark is on disk already. Textual's normal exit
        restores the terminal, but when the terminal is really gone its writes can
        block forever, so a watchdog ends the process if the exit has not within a moment.
        """
        self.hangup_signal.publish(None)  # subscribed screens save what is only on them
        watchdog = threading.Timer(HANGUP_GRACE, os._exit, (128 + signal.SIGHUP,))
        watchdog.daemon = True
        watchdog.start()
        self.exit()

    @work(group="dialog")
    async def _store_problem(self) -> None:
        """The store cannot be read: go on read-only (nothing saved) or quit, as the user says."""
        message = str(self.store_error) if self.store_error else "The store cannot be read."
        if not await self.push_screen_wait(StoreProblemScreen(message)):
            self.exit(return_code=2, message=f"paper-reader: error: {self.store_error}")
            return
        self.readonly = True
        self._start(Store.detached(self.store_path or "store.json"))

    def _start(self, store: Store) -> None:
        self._store = store
        for warning in take_warnings():  # fields of the store repaired on load
            self.notify(warning, title="Store", severity="warning", markup=False, timeout=10)
        collection = Collection(self.library, store, index=False, loading=self.loader is not None)
        # The comparison is built on a worker after the index (see _build_index), never on the UI thread.
        self.core = OpenLibrary(collection, compare_on_demand=False)
        # The config file's theme wins; otherwise the one last picked in the app. A theme or a
        # [keys] action that does not exist was named at start-up already (config.check_config,
        # before the app runs; paper-reader doctor names it too), so here it is simply not used.
        theme = self.config.theme or store.setting("theme")
        if theme and theme in self.available_themes:
            self.theme = theme
        if self.config.keys:
            self.set_keymap(keymap(self.config.keys))  # config actions name commands of the table
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.sample and not self.readonly and not store.setting("sample_hint_shown"):
            # Once, on the first run: what this is and how to open one's own digests.
            self.notify(SAMPLE_HINT, title="This is a sample digest", markup=False, timeout=12)
            try:
                store.set_setting("sample_hint_shown", True)
            except StoreError:
                pass  # the hint comes back next time: not worth an error
        self.push_screen(MainScreen(self))
        if self.loader is not None:
            self._load(self.loader)
        else:
            self._build_index()

    class PapersParsed(Message):
        """A batch of papers parsed on the load worker (``done`` with the last one)."""

        def __init__(self, papers: list[Paper], progress: float, done: bool = False) -> None:
            super().__init__()
            self.papers = papers
            self.progress = progress
            self.done = done

    @work(thread=True, exclusive=True, group="load")
    def _load(self, loader: LibraryLoader) -> None:
        """Parse big digests off the UI thread, handing papers over a batch at a time.

        The first batch waits until it is on screen (the first paint comes before more
        parsing); the others are gathered and posted a few times a second, so the parser
        goes on while the UI takes them in, and the UI redraws only as often as it shows.
        """
        worker = get_current_worker()
        gathered: list[Paper] = []
        posted = 0.0
        batches = loader.batches(self.library)
        first = True
        with bulk_allocation():
            while True:
                try:
                    papers, progress = next(batches)
                except StopIteration:
                    break
                except LoadCancelled:
                    return  # the app is quitting (run_app cancels the loader): stop reading segments
                if worker.is_cancelled:
                    return  # the app is quitting: the interpreter waits for this thread, so stop now
                if first:
                    first = False
                    self.call_from_thread(self._loaded, papers, progress)
                    posted = time.monotonic()
                    continue
                gathered.extend(papers)
                if time.monotonic() - posted >= LOAD_UPDATE_S:
                    self.post_message(self.PapersParsed(gathered, progress))
                    gathered, posted = [], time.monotonic()
        self.post_message(self.PapersParsed(gathered, 1.0, done=True))

    def on_paper_reader_app_papers_parsed(self, message: PapersParsed) -> None:
        if message.papers:
            self._loaded(message.papers, message.progress)
        if message.done:
            self._load_done()
            self._build_index()  # from here, after every batch is in the collection

    def _loaded(self, papers: list[Paper], progress: float) -> None:
        self.collection.add_papers(papers)
        self.load_progress = progress
        self.library_signal.publish(PapersLoaded(progress))

    def _load_done(self) -> None:
        self.load_progress = 1.0
        self.collection.finish_loading()
        warnings = self.library.warnings
        if warnings:
            more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
            self.notify(warnings[0] + more, title="Odd entries in the digest", severity="warning", markup=False)
        self._loaded([], 1.0)

    @work(thread=True, exclusive=True, group="index")
    def _build_index(self) -> None:
        try:
            with bulk_allocation():
                if self.collection.engine is None:
                    self.collection.note_seen()
                    self.call_from_thread(self._seen_noted)
                engine = self.collection.build_index(
                    ready=lambda engine: self.call_from_thread(self._index_built, engine),
                    builder=self.builder,
                    save=False,
                )
        except BuildCancelled:
            return  # the app is quitting
        finally:
            self.builder = None  # it was fed the papers of the first load only
        worker = get_current_worker()
        if worker.is_cancelled:
            return
        self.collection.index_ids()  # search is ready: papers by id, here rather than on the UI thread
        engine.build_bitmaps()  # short prefixes faster from now on
        self.collection.work_out_dates()  # and this spares the UI thread a pause on a big library
        # Search is ready: what this open parsed is cached now (quitting stops the writing).
        self.library.save_segments(stop=lambda: worker.is_cancelled)
        try:
            similar = self.core.compare(cancelled=lambda: worker.is_cancelled)
        except SimilarityCancelled:
            return  # the app is quitting: the interpreter waits for this thread, so stop now
        self.call_from_thread(self._similarity_built, similar)

    def _seen_noted(self) -> None:
        self.library_signal.publish(SeenNoted())

    def _similarity_built(self, similar: Similarity) -> None:
        self.core.compared(similar)
        self.library_signal.publish(ComparisonReady())

    def _index_built(self, engine: SearchEngine) -> None:
        self.collection.engine = engine
        self.indexing = False
        self._index_event.set()
        self.library_signal.publish(IndexReady())

    def refresh_index(self) -> None:
        """Rebuild the index on a worker when papers were added (a bookmark made in another terminal)."""
        if self.collection.index_stale and not self.indexing:
            self.collection.index_stale = False
            self._build_index()

    async def index_ready(self) -> SearchEngine:
        """The search engine, once the index is built."""
        await self._index_event.wait()
        assert self.collection.engine is not None
        return self.collection.engine

    def session(self) -> dict[str, object]:
        """What was saved when these same digests were last closed ({} if nothing)."""
        sessions = self._store.setting("sessions") if self._store is not None else None
        saved = sessions.get(self.session_key) if isinstance(sessions, dict) else None
        return dict(saved) if isinstance(saved, dict) else {}

    def save_session(self, state: dict[str, object]) -> None:
        """Remember where the user was in these digests (the 20 most recent sets of files)."""
        if self.readonly or self._store is None:
            return
        try:
            stored = self._store.setting("sessions")
            sessions: dict[str, object] = dict(stored) if isinstance(stored, dict) else {}
            sessions.pop(self.session_key, None)
            sessions[self.session_key] = state
            self._store.set_setting("sessions", dict(list(sessions.items())[-20:]))
        except StoreError:
            pass  # losing the place in the list is not worth an error on the way out

    def _remember_theme(self, theme: object) -> None:
        if not self.readonly and self._store is not None:
            try:
                self._store.set_setting("theme", self.theme)
            except StoreError as err:
                self.notify(str(err), severity="error", markup=False)

    # -- clipboard and browser ----------------------------------------------------------
    @work(thread=True, group="clipboard")
    def copy_text(self, text: str, what: str, why: tuple[str, str] | None = None) -> None:
        """Copy with pyperclip; fall back to the terminal clipboard (OSC 52); say which happened.

        ``why`` (title, reason): the copy stands in for something that could not be done
        (opening a browser); the one notice says both.
        """
        self._copy_here(text, what, why)

    def _copy_here(self, text: str, what: str, why: tuple[str, str] | None = None) -> None:
        """Copy on this (worker) thread, then say so from the UI thread."""
        result = copy_system(text)
        self.call_from_thread(self._copied, text, what, result.ok, result.detail, why)

    def _copied(self, text: str, what: str, ok: bool, detail: str, why: tuple[str, str] | None = None) -> None:
        shown = text if len(text) <= 300 else text[:300] + "…"
        self.copy_to_clipboard(text)  # the app's paste buffer, and OSC 52 (the same text)
        how = f"Copied {what} to the clipboard" if ok else f"Copied {what} via the terminal (OSC 52): {detail}"
        if why is not None:
            title, reason = why
            self.notify(f"{reason}\n{how}: {shown}", title=title, severity="warning", markup=False, timeout=6)
        elif ok:
            self.notify(shown, title=how, markup=False)
        else:
            self.notify(shown, title=how, markup=False, timeout=6)

    @work(thread=True, group="browser")
    def open_link(self, url: str) -> None:
        """Open a link in the browser; over SSH or with no browser, copy it instead and say so (one notice)."""
        if os.environ.get("SSH_TTY") or os.environ.get("SSH_CONNECTION"):
            reason = "Over SSH a browser would open on the other machine: copying the link instead."
            self._copy_here(url, "link", ("Not opening a browser", reason))
            return
        result = open_url(url)
        if result.ok:
            self.call_from_thread(self.notify, url, title="Opening in your browser", markup=False)
        else:
            self._copy_here(url, "link", ("Cannot open a browser", f"{result.detail}: copying the link instead."))

    # -- command palette -------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for system in super().get_system_commands(screen):
            if system.title != "Keys":  # Textual's key panel: our Help lists every key
                yield system
        if not isinstance(screen, MainScreen):
            return
        overrides = self.config.keys
        for command in COMMANDS:
            if command.title:
                keys = keys_text(command, overrides)
                help_text = f"{command.help} ({keys})" if keys else command.help
                yield SystemCommand(
                    command.title, help_text, partial(screen.run_action, command.call or command.action)
                )


def run_app(
    library: Library,
    db: str | None,
    readonly: bool = False,
    loader: LibraryLoader | None = None,
    config: Config | None = None,
    builder: IndexBuilder | None = None,
) -> int:
    """Open the store and run the app; returns the exit status. ``config`` was checked by the caller."""
    store: Store | None = None
    error: StoreError | None = None
    try:
        store = Store(db, readonly=readonly)
    except StoreError as err:
        error = err
    path = str(store.path) if store else (error.path if error else db)
    app = PaperReaderApp(library, store, error, path, loader, config, builder)
    try:
        app.run()
    finally:
        if loader is not None:
            loader.cancel()  # quitting while cached segments are read: stop reading them
        if app.builder is not None:
            app.builder.cancel()  # quitting while the index is built: stop the helper, and do not wait for it
    return app.return_code or 0
