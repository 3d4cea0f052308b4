"""Helpers for driving the real app in tests: a real store under tmp_path, real digests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Static

from reader.app import PaperReaderApp
from reader.digest import bundled_digest, load_library
from reader.store import Store
from reader.widgets.paper_list import PaperList

SIZE = (150, 45)
HANG = 120.0  # seconds: settling longer than this is a hang, even on a machine busy with other work


def make_app(db: Path, *paths: Path | str, store: Store | None = None) -> PaperReaderApp:
    """The app on these digests (default: the bundled one) with a store at ``db``."""
    library = load_library(list(paths) or [bundled_digest()])
    return PaperReaderApp(library, store or Store(db), store_path=str(db))


@asynccontextmanager
async def opened(
    db: Path, *paths: Path | str, size: tuple[int, int] = SIZE, store: Store | None = None
) -> AsyncIterator[tuple[PaperReaderApp, Pilot[None]]]:
    """The app (``make_app``'s) running under Pilot at ``size``, settled: ``async with opened(db) as (app, pilot)``."""
    app = make_app(db, *paths, store=store)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        yield app, pilot


async def settle(app: PaperReaderApp, pilot: Pilot[None]) -> None:
    """Wait until workers (search, index, clipboard) are done and the screen has caught up (fails after HANG s)."""

    async def done() -> None:
        await pilot.pause()
        # Not the actions waiting for an answer in a dialog (their worker group): they wait for the user.
        busy = [w for w in app.workers if w.group != "dialog"]
        if busy:  # (an empty list would wait for every worker)
            await app.workers.wait_for_complete(busy)
        await pilot.pause()

    await asyncio.wait_for(done(), timeout=HANG)


def text(widget: Static) -> str:
    """The plain text a Static shows."""
    content = widget.content
    return content.plain if isinstance(content, Content) else str(content)


def rows(app: PaperReaderApp, limit: int = 50) -> list[str]:
    """The plain text of the list's first rows, as drawn."""
    papers = app.screen.query_one(PaperList)
    width = papers.scrollable_content_region.width
    out = []
    for index in papers.rows[:limit]:
        out.append(papers._row(int(index), papers.papers[int(index)], width).plain)
    return out


def notifications(app: PaperReaderApp) -> list[str]:
    """Titles and messages of the notifications shown so far."""
    return [f"{n.title} {n.message}" for n in app.notices]
