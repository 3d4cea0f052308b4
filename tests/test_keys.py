"""Everyday keys as users of fzf, newsboat and lazygit expect them (issue 16)."""

from __future__ import annotations

from reader.widgets.paper_detail import PaperDetail
from reader.widgets.paper_list import PaperList
from reader.widgets.search_box import SearchBox
from tests.app_support import SIZE, make_app, settle, text


def papers_of(app):  # type: ignore[no-untyped-def]
    return app.screen.query_one(PaperList)


async def test_enter_on_a_row_opens_it_in_the_detail_pane(tmp_path):
    app = make_app(tmp_path / "store.json")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("j", "j", "enter")
        await settle(app, pilot)
        third = papers_of(app).paper
        assert isinstance(app.focused, PaperDetail)
        assert text(app.screen.query_one("#detail-title")) == third.title


async def test_up_at_the_top_of_the_list_returns_to_the_search_box(tmp_path):
    app = make_app(tmp_path / "store.json")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("j", "up")
        assert papers_of(app).has_focus and papers_of(app).cursor == 0
        await pilot.press("up")
        await settle(app, pilot)
        assert isinstance(app.focused, SearchBox)


async def test_ctrl_n_and_ctrl_p_move_the_selection_from_the_search_box(tmp_path):
    app = make_app(tmp_path / "store.json")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"neural", "ctrl+n", "ctrl+n", "ctrl+j")
        await settle(app, pilot)
        papers = papers_of(app)
        assert isinstance(app.focused, SearchBox) and papers.cursor == 3
        await pilot.press("ctrl+p", "ctrl+k")
        assert isinstance(app.focused, SearchBox) and papers.cursor == 1
        assert app.screen.query_one(SearchBox).value == "neural"  # ctrl+k did not cut the query
        picked = papers.paper
        await pilot.press("enter")  # takes the picked result, as in fzf
        await settle(app, pilot)
        assert papers.has_focus and papers.paper == picked


async def test_the_palette_opens_from_the_list_with_ctrl_p_or_colon(tmp_path):
    app = make_app(tmp_path / "store.json")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for key in ("ctrl+p", "colon"):
            await pilot.press(key)
            await settle(app, pilot)
            assert app.screen.id == "--command-palette"
            await pilot.press("escape")
            await settle(app, pilot)


async def test_the_first_paper_is_not_marked_read_at_start_up(tmp_path):
    db = tmp_path / "store.json"
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.pause(0.2)
        papers = papers_of(app)
        first = papers.paper
        assert papers.has_focus and not app.collection.is_read(first)
        assert papers.border_subtitle.startswith("164 / 164 · 164 unread")
        await pilot.press("j", "k")  # moving onto it reads it
        await settle(app, pilot)
        assert app.collection.is_read(first)
