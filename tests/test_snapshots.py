"""Snapshots of the main screens (pytest-textual-snapshot). Refresh with --snapshot-update."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from reader.store import Store
from tests.app_support import make_app


def returning_user(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    """A store that has seen the first-run hint, so snapshots show the screen, not the toast."""
    store = Store(tmp_path / "store.json")
    store.set_setting("sample_hint_shown", True)
    return store


@pytest.fixture
def app(tmp_path):  # type: ignore[no-untyped-def]
    return make_app(tmp_path / "store.json", store=returning_user(tmp_path))


async def steady(pilot) -> None:  # type: ignore[no-untyped-def]
    """No blinking cursors, workers done: the same pixels every run."""
    app = pilot.app
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    await app.workers.wait_for_complete()
    await pilot.pause()


def test_main_screen(snap_compare, app):  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=(120, 36), run_before=steady)


def test_search_with_highlighted_matches(snap_compare, app):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await steady(pilot)
        await pilot.press("slash", *"nueral opertor", "enter")
        await steady(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_tag_modal(snap_compare, tmp_path):  # type: ignore[no-untyped-def]
    store = returning_user(tmp_path)
    app = make_app(tmp_path / "store.json", store=store)
    paper = app.library.papers[0]
    store.add_tags(paper, ["operators", "reading group"])

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await steady(pilot)
        await pilot.press("t")
        await steady(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_help_screen(snap_compare, app):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await steady(pilot)
        await pilot.press("question_mark")
        await steady(pilot)

    assert snap_compare(app, terminal_size=(100, 40), run_before=run_before)


def test_narrow_terminal(snap_compare, app):  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=(60, 18), run_before=steady)


def test_similar_papers_view(snap_compare, app):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await steady(pilot)
        await pilot.press("slash", *"'Learning Maps Between", "enter", "s")
        await steady(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
