"""Daily triage in the app: reading on, marks and bulk actions, undo, similar papers, saved searches."""

from __future__ import annotations

import os
import time

import pytest

from reader.screens.ask import AskScreen
from reader.screens.choose import ChooseScreen
from reader.screens.tags import TagsScreen
from reader.sorting import SORTS
from reader.store import Store
from reader.widgets.paper_detail import PaperDetail
from reader.widgets.paper_list import MARK, PaperList
from reader.widgets.search_box import SearchBox
from tests.app_support import notifications, opened, rows, settle, text


@pytest.fixture(autouse=True)
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    monkeypatch.delenv("SSH_CONNECTION", raising=False)


def papers_of(app):  # type: ignore[no-untyped-def]
    return app.screen.query_one(PaperList)


async def test_space_scrolls_the_abstract_then_moves_to_the_next_unread(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db, size=(100, 20)) as (app, pilot):
        papers, detail = papers_of(app), app.screen.query_one(PaperDetail)
        await pilot.press("j", "j", "k", "k")  # papers 1 and 2 are read now
        assert detail.max_scroll_y > 0
        await pilot.press("space")
        await settle(app, pilot)
        assert detail.scroll_y > 0 and papers.cursor == 0
        for _ in range(20):
            if papers.cursor != 0:
                break
            await pilot.press("space")
            await settle(app, pilot)
        assert papers.cursor == 3  # the first unread paper below, skipping read ones
        app.core.flush()  # a cursor's read mark reaches the disk within half a second; now, for the test
        assert Store(db).get(papers.paper.id)["read_at"]


async def test_unread_counts_and_mark_everything_shown_read(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        papers = papers_of(app)
        assert papers.border_subtitle == "164 / 164 · 164 unread"  # nothing read before the user moves
        await pilot.press("slash", *"neural operator", "enter")
        await settle(app, pilot)
        shown = [papers.papers[i] for i in papers.rows]
        await pilot.press("R")
        await settle(app, pilot)
        assert all(Store(db).get(p.id)["read_at"] for p in shown)
        assert papers.border_subtitle.endswith("· 0 unread")
        await pilot.press("escape")
        await settle(app, pilot)
        assert papers.border_subtitle == f"164 / 164 · {164 - len(shown)} unread"


async def test_marks_make_bookmark_tag_and_copy_act_on_all_marked(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        papers = papers_of(app)
        first, second = papers.papers[0], papers.papers[1]
        await pilot.press("v", "v")
        assert papers.marked == {first.id, second.id}
        assert rows(app)[0][0] == MARK and rows(app)[1][0] == MARK
        assert "2 marked" in papers.border_subtitle
        await pilot.press("b")
        assert Store(db).get(first.id)["bookmarked_at"] and Store(db).get(second.id)["bookmarked_at"]
        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, TagsScreen)
        await pilot.press(*"survey", "enter", "escape")
        await settle(app, pilot)
        assert Store(db).get(first.id)["tags"] == ["survey"] == Store(db).get(second.id)["tags"]
        await pilot.press("y")
        await settle(app, pilot)
        assert app.clipboard.count("\n") == 1 and app.clipboard.split("\n")[0].startswith("https://")
        await pilot.press("Y")
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseScreen)
        await pilot.press("end", "enter")  # all BibTeX entries
        await settle(app, pilot)
        assert app.clipboard.count("@misc{") == 2
        await pilot.press("V")
        assert not papers.marked


async def test_undo_and_redo_say_what_they_did_and_work_after_a_restart(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        paper = papers_of(app).paper
        await pilot.press("b", "t", *"later", "enter", "escape")
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        assert Store(db).get(paper.id)["tags"] == []
        assert "Undid tag #later" in notifications(app)[-1]
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert Store(db).get(paper.id)["tags"] == ["later"]
        assert "Redid" in notifications(app)[-1]
    async with opened(db) as (again, pilot):
        await pilot.press("u", "u")
        await settle(again, pilot)
        record = Store(db).get(paper.id)
        assert record["tags"] == [] and not record["bookmarked_at"]
        assert rows(again)[0][1] == " "
        await pilot.press("u")
        await settle(again, pilot)
        assert "Nothing to undo" in notifications(again)[-1]


async def test_similar_papers_view_and_back(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("slash", *"'Learning Maps Between", "enter")
        await settle(app, pilot)
        papers = papers_of(app)
        searched = papers.border_subtitle
        await pilot.press("s")
        await settle(app, pilot)
        titles = [papers.papers[i].title for i in papers.rows]
        assert titles[0] == "Neural Operator: Learning Maps Between Function Spaces"
        assert papers.border_title.startswith("Like: Neural Operator")
        assert any("Operator" in t for t in titles[1:4])
        await pilot.press("escape")
        await settle(app, pilot)
        assert papers.border_subtitle == searched  # the search's list is back as it was
        assert app.screen.query_one(SearchBox).value == "'Learning Maps Between"


async def test_open_over_ssh_copies_instead(tmp_path, monkeypatch):
    monkeypatch.setenv("SSH_TTY", "/dev/pts/3")
    monkeypatch.setenv("DISPLAY", ":0")
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("o")
        await settle(app, pilot)
        await settle(app, pilot)
        assert app.clipboard.startswith("https://")
        assert any("Over SSH" in n for n in notifications(app))


async def test_saved_searches_are_kept_in_the_store_and_recalled_with_digits(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        await pilot.press("slash", *"math reasoning", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, AskScreen)
        await pilot.press("ctrl+u", *"math", "enter")
        await settle(app, pilot)
        stored = Store(db).setting("saved_searches")
        assert [(e["name"], e["query"]) for e in stored] == [("math", "math reasoning")]
    async with opened(db) as (again, pilot):
        await pilot.press("1")
        await settle(again, pilot)
        assert again.screen.query_one(SearchBox).value == "math reasoning"
        assert not papers_of(again).border_subtitle.startswith("164 /")
        await pilot.press("2")
        assert "No saved search 2" in notifications(again)[-1]


async def test_seen_before_shows_for_papers_from_an_earlier_digest(tmp_path):
    old, new = tmp_path / "2026-11-24.txt", tmp_path / "2026-11-27.txt"
    abstract = "An abstract long enough to be read as one, about operators and learning. " * 4
    old.write_text(f"Old Paper On Operators\n{abstract}\nShared Paper About Kernels\n{abstract}\n", encoding="utf-8")
    new.write_text(f"shared paper about  KERNELS\n{abstract}\nBrand New Paper\n{abstract}\n", encoding="utf-8")
    three_days_ago = time.time() - 3 * 86400
    os.utime(old, (three_days_ago, three_days_ago))
    async with opened(tmp_path / "store.json", new, old) as (app, pilot):
        drawn = rows(app)
        assert "shared paper about  KERNELS" in drawn[0] and "seen 3 days ago" in drawn[0]
        assert "Brand New Paper" in drawn[1] and "seen" not in drawn[1]
        assert "seen 3 days ago" in text(app.screen.query_one("#detail-meta"))


async def test_export_marked_papers_never_overwrites(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "paper-reader-marked.json").write_text("mine", encoding="utf-8")
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("v", "v", "v")
        await pilot.press("ctrl+p", *"export papers")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        options = app.screen.query_one("#choose-list")
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels == ["marked papers (3)", "shown papers (164)"]
        await pilot.press("enter", "enter")  # marked, json
        await settle(app, pilot)
        await pilot.press("ctrl+u", *str(out), "enter")
        await settle(app, pilot)
    assert (out / "paper-reader-marked.json").read_text(encoding="utf-8") == "mine"
    import json

    exported = json.loads((out / "paper-reader-marked-2.json").read_text(encoding="utf-8"))
    assert len(exported) == 3


async def test_is_new_finds_papers_first_seen_in_the_newest_digest(tmp_path):
    old, new = tmp_path / "2026-11-24.txt", tmp_path / "2026-11-27.txt"
    abstract = "An abstract long enough to be read as one, about operators and learning. " * 4
    old.write_text(f"Old Paper On Operators\n{abstract}\nShared Paper About Kernels\n{abstract}\n", encoding="utf-8")
    new.write_text(f"Shared Paper About Kernels\n{abstract}\nBrand New Paper\n{abstract}\n", encoding="utf-8")
    three_days_ago = time.time() - 3 * 86400
    os.utime(old, (three_days_ago, three_days_ago))
    async with opened(tmp_path / "store.json", new, old) as (app, pilot):
        await pilot.press("slash", *"is:new", "enter")
        await settle(app, pilot)
        papers = papers_of(app)
        assert [papers.papers[i].title for i in papers.rows] == ["Brand New Paper"]


async def test_rank_by_tag_orders_by_likeness(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        await pilot.press("slash", *"'Learning Maps Between", "enter", "t", *"ops", "enter", "escape")
        await settle(app, pilot)
        await pilot.press("slash", "ctrl+u", *"rank:ops", "enter")
        await settle(app, pilot)
        papers = papers_of(app)
        top = [papers.papers[i].title for i in papers.rows[:4]]
        assert top[0] == "Neural Operator: Learning Maps Between Function Spaces"
        assert sum("Operator" in t for t in top[1:]) >= 2
        assert papers.border_subtitle.startswith("164 / 164")


async def test_session_restore_brings_back_query_sort_filters_and_selection(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        await pilot.press("slash", *"math", "enter", "j", "j", "j", "b", "B", "B", "S", "S")
        await settle(app, pilot)
        papers = papers_of(app)
        chosen = papers.paper
        assert app.screen.sort == "title"
        await pilot.press("B")
        await settle(app, pilot)
    async with opened(db) as (again, pilot):
        screen = again.screen
        assert screen.query_one(SearchBox).value == "math"
        assert screen.sort == "title" and screen.bookmarks_only
        assert papers_of(again).paper.id == chosen.id
        assert papers_of(again).border_title.startswith("Bookmarks · by title")


async def test_sort_cycles_and_orders_the_list(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("S", "S")
        await settle(app, pilot)
        papers = papers_of(app)
        titles = [papers.papers[i].title.casefold() for i in papers.rows]
        assert papers.border_title.endswith("by title")
        assert titles[:3] == sorted(titles)[:3]
        await pilot.press(*["S"] * (len(SORTS) - 2))  # once round every sort
        await settle(app, pilot)
        assert app.screen.sort == "relevance"
        assert papers.papers[papers.rows[0]].title.startswith("PAON")


async def test_filter_chips_show_active_filters_and_remove_them(tmp_path):
    from reader.widgets.filter_chips import Chip, FilterChips

    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        chips = app.screen.query_one(FilterChips)
        assert not chips.display
        await pilot.press("t", *"reading group", "enter", "escape", "b")
        await pilot.press("slash", *'nueral #"reading group" is:unread', "enter", "B")
        await settle(app, pilot)
        labels = [str(c.content.plain).strip() for c in chips.query(Chip)]
        assert labels == ["#reading group ✕", "is:unread ✕", "bookmarks only ✕"]
        assert chips.display
        await pilot.press("x")  # the last filter goes
        await settle(app, pilot)
        assert not app.screen.bookmarks_only
        await pilot.click(Chip)  # clicking the first chip removes #reading group
        await settle(app, pilot)
        assert app.screen.query_one(SearchBox).value == "nueral is:unread"
        assert [str(c.content.plain).strip() for c in chips.query(Chip)] == ["is:unread ✕"]
        papers = papers_of(app)
        assert any("Neural" in papers.papers[i].title for i in papers.rows)  # still fuzzy with a filter


async def test_a_bookmark_made_elsewhere_on_an_unopened_paper_becomes_searchable(tmp_path):
    from reader.paper import Paper

    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        elsewhere = Paper.make("Quasicrystal Tilings For Beginners", "An abstract about aperiodic order. " * 8)
        Store(db).set_bookmark(elsewhere, True)  # another terminal, another digest
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        await pilot.press("slash", *"quasicrystal is:bookmarked", "enter")
        await settle(app, pilot)
        papers = papers_of(app)
        assert [papers.papers[i].title for i in papers.rows] == [elsewhere.title]
