"""Everyday keys as users of fzf, newsboat and lazygit expect them (issue 16)."""

from __future__ import annotations

from reader.store import Store
from reader.widgets.paper_detail import PaperDetail
from reader.widgets.paper_list import MARK, PaperList
from reader.widgets.search_box import SearchBox
from tests.app_support import SIZE, make_app, notifications, opened, rows, settle, text


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


async def test_escape_and_x_keep_the_selected_paper_selected(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("slash", *"neural is:unread", "enter", "j", "j")
        await settle(app, pilot)
        papers = papers_of(app)
        chosen = papers.paper
        await pilot.press("x")  # removes is:unread
        await settle(app, pilot)
        assert app.screen.query_one(SearchBox).value == "neural"
        assert papers.paper == chosen
        await pilot.press("escape")  # clears the query
        await settle(app, pilot)
        assert app.screen.query_one(SearchBox).value == ""
        assert papers.paper == chosen and papers.cursor > 0


async def test_after_a_resize_the_selected_paper_is_on_screen(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        papers = papers_of(app)
        await pilot.press(*["j"] * 30)
        await settle(app, pilot)
        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        await pilot.pause(0.1)
        top = int(papers.scroll_offset.y)
        assert top <= papers.cursor < top + papers.scrollable_content_region.height


async def test_marks_are_a_clear_sign_and_tags_are_never_cut_at_150_columns(tmp_path):
    db = tmp_path / "store.json"
    store = Store(db)
    async with opened(db, store=store) as (app, pilot):
        paper = papers_of(app).paper
        store.add_tags(paper, ["approx", "reading-group"])
        await pilot.press("ctrl+l", "v")
        await settle(app, pilot)
        first = rows(app)[0]
        assert first.startswith(MARK) and MARK not in (" ", "▌")
        assert paper.title in first  # the title keeps its room
        assert " approx " in first and "…" not in first  # whole tags, not "ap…"; the rest counted
        assert " reading-group " in first or first.rstrip().endswith("+1")


async def test_a_huge_title_costs_a_row_no_more_than_a_screenful(tmp_path):
    digest = tmp_path / "huge.txt"
    digest.write_text(
        "Huge " + "word " * 1_000_000 + "\nAn abstract.\nSmall paper title\nIts abstract.\n", encoding="utf-8"
    )
    async with opened(tmp_path / "store.json", digest) as (app, pilot):
        papers = papers_of(app)
        width = papers.scrollable_content_region.width
        row = papers._row(int(papers.rows[0]), papers.papers[int(papers.rows[0])], width)
        assert row.cell_length == width
        await pilot.press("slash", *"word", "enter", "q")
        await settle(app, pilot)
    assert app.return_code in (0, None)


async def test_first_run_on_the_sample_says_so_once_and_the_empty_list_says_what_to_do(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        said = [n for n in notifications(app) if "sample" in n]
        assert len(said) == 1 and "paper-reader FILE opens your own digests" in said[0]
        await pilot.press("slash", *"'zzqqxx nothing")
        await settle(app, pilot)
        papers = papers_of(app)
        assert len(papers.rows) == 0
        shown = [papers.render_line(y).text for y in range(4)]
        assert "No paper matches." in shown[0]
        assert any("escape clears the search" in line for line in shown)
        assert any("sample" in line and "paper-reader today.txt" in line for line in shown)
    async with opened(db) as (app, pilot):  # the second run says nothing
        assert not [n for n in notifications(app) if "sample" in n]
