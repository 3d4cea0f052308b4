"""The app as a shell over the core: R is one undo step, U marks unread, "more like this" ranks by
likeness whatever the sort, the note editor never loses or silently overwrites a note."""

from __future__ import annotations

import pytest
from conftest import ABSTRACT

from reader.core.library import NOTE_CONFLICT
from reader.paper import Paper, paper_id
from reader.screens.note import NoteScreen
from reader.store import Store
from reader.widgets.paper_list import PaperList
from reader.widgets.search_box import SearchBox
from tests.app_support import notifications, opened, settle

NEURAL_OPERATOR = "Neural Operator: Learning Maps Between Function Spaces"


@pytest.fixture(autouse=True)
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SSH_TTY", "SSH_CONNECTION"):
        monkeypatch.delenv(name, raising=False)


def papers_of(app) -> PaperList:  # type: ignore[no-untyped-def]
    return app.screen.query_one(PaperList)


async def test_undo_after_mark_all_read_undoes_exactly_that(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        await pilot.press("n", *"an older note", "escape")  # an older, unrelated step
        await settle(app, pilot)
        first = papers_of(app).paper
        await pilot.press("slash", *"neural operator", "enter")
        await settle(app, pilot)
        shown = [papers_of(app).papers[i].id for i in papers_of(app).rows]
        await pilot.press("R")
        await settle(app, pilot)
        assert all(Store(db).get(pid)["read_at"] for pid in shown)
        assert papers_of(app).border_subtitle.endswith("· 0 unread")
        await pilot.press("u")
        await settle(app, pilot)
        store = Store(db)
        assert store.get(first.id)["note"] == "an older note"  # untouched
        # Back to before R: only the paper the cursor landed on (read by looking at it) stays read.
        still_read = [pid for pid in shown if (store.get(pid) or {}).get("read_at")]
        assert len(still_read) <= 1
        assert any("read ·" in n for n in notifications(app))


async def test_mark_unread_key(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        await pilot.press("j", "k")  # the first paper is read now
        await settle(app, pilot)
        app.core.flush()  # a cursor's read mark reaches the disk within half a second; now, for the test
        paper = papers_of(app).paper
        assert Store(db).get(paper.id)["read_at"]
        await pilot.press("U")
        await settle(app, pilot)
        assert not Store(db).get(paper.id)["read_at"]
        assert "Marked unread" in notifications(app)[-1]
        await pilot.press("u")  # undo brings the read mark back
        await settle(app, pilot)
        assert Store(db).get(paper.id)["read_at"]


async def test_more_like_this_ranks_by_likeness_whatever_the_sort(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("S")  # sort by file order
        await settle(app, pilot)
        await pilot.press("slash", *"'Learning Maps Between", "enter", "s")
        await settle(app, pilot)
        papers = papers_of(app)
        like = app.core.similar(app.core.find(paper_id(NEURAL_OPERATOR)))
        assert papers.rows.tolist() == like.rows.tolist()
        assert papers.rows.tolist() != sorted(papers.rows.tolist())  # not file order
        assert "· by file" not in papers.border_title


async def test_more_like_this_counts_stored_papers_in_the_total(tmp_path, write_digest):
    db = tmp_path / "store.json"
    titles = [f"Operator learning paper number {n}" for n in range(5)]
    digest = write_digest([(t, ABSTRACT + " operator learning") for t in titles])
    store = Store(db)
    for n in range(3):  # papers known only from the store
        store.set_bookmark(Paper.make(f"Stored operator learning study {n}", ABSTRACT + " operator"), True)
    async with opened(db, digest) as (app, pilot):
        await pilot.press("s")
        await settle(app, pilot)
        shown, total = papers_of(app).border_subtitle.split(" · ")[0].split(" / ")
        assert int(shown) == len(papers_of(app).rows) and int(shown) <= int(total)


async def test_the_note_editor_keeps_typed_text_when_the_app_quits(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        paper = papers_of(app).paper
        await pilot.press("n", *"typed, then quit")
        await pilot.press("ctrl+c")  # before the autosave pause
    assert Store(db).get(paper.id)["note"] == "typed, then quit"


async def test_the_note_editor_keeps_both_texts_when_the_note_changed_elsewhere(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        paper = papers_of(app).paper
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, NoteScreen)
        Store(db).set_note(paper, "written in another terminal")
        await pilot.press(*"mine")
        await pilot.press("escape")
        await settle(app, pilot)
        assert Store(db).get(paper.id)["note"] == f"mine\n\n{NOTE_CONFLICT}\nwritten in another terminal"
        assert any("both texts kept" in n for n in notifications(app))


async def test_saved_searches_can_be_listed_renamed_and_deleted_from_the_palette(tmp_path):
    db = tmp_path / "store.json"
    Store(db).set_setting("saved_searches", [{"name": "ops", "query": "operator"}, {"name": "m", "query": "math"}])
    async with opened(db) as (app, pilot):

        async def palette(*then: str) -> None:
            await pilot.press("ctrl+p", *"saved searches")
            await settle(app, pilot)
            await pilot.press("enter")
            await settle(app, pilot)
            for key in then:
                await pilot.press(key)
                await settle(app, pilot)

        await palette("down", "enter", "down", "enter", "ctrl+u", *"maths", "enter")  # rename 2
        assert app.core.saved_searches()[1].name == "maths"
        await palette("enter", "down", "down", "enter")  # delete 1
        assert [(s.name, s.query) for s in app.core.saved_searches()] == [("maths", "math")]
        await palette("enter", "enter")  # recall 1
        assert app.screen.query_one(SearchBox).value == "math"
