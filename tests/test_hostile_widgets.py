"""Hostile text in every widget: markup, escapes, bidi overrides, zero-width and combining marks, huge tag sets."""

from __future__ import annotations

import asyncio

import pytest
from textual.content import Content
from textual.widgets import OptionList

from reader.paper import Paper
from reader.screens.choose import ChooseScreen
from reader.screens.note import NoteScreen
from reader.screens.tags import TagsScreen
from reader.store import Store
from reader.widgets.paper_list import PaperList
from tests.app_support import notifications, opened, rows, settle, text

TITLE = "Evil [bold red]x[/] [@click=app.quit]q[/] \u202egnp.exe\u202c e\u0301\u0301 zero\u200bwidth [/"
MARKUP_TAG = "[b]tag[/b]"


@pytest.fixture(autouse=True)
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


@pytest.fixture
def digest(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "hostile.txt"
    abstract = "An abstract with [link=https://evil]markup[/link], \x1b]52;c;aGk=\x07 OSC 52 and [27]. " * 4
    path.write_text(f"{TITLE}\n{abstract}\nA Calm Second Paper\n{abstract}\n", encoding="utf-8")
    return path


async def test_tag_modal_note_editor_notifications_export_and_palette(tmp_path, digest, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "store.json"
    async with opened(db, digest) as (app, pilot):
        shown_title = rows(app)[0]
        assert "[bold red]x[/] [@click=app.quit]q[/]" in shown_title and "\u202e" not in shown_title
        # the tag modal shows the title and a markup-looking tag literally
        await pilot.press("t", *MARKUP_TAG, "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TagsScreen)
        assert "[@click=app.quit]q[/]" in text(app.screen.query_one("#tags-paper"))
        options = app.screen.query_one("#tags-list", OptionList)
        assert str(options.get_option_at_index(0).prompt) == "#" + MARKUP_TAG
        assert any(MARKUP_TAG in n for n in notifications(app))
        await pilot.press("escape")
        # the note editor keeps markup as text
        await pilot.press("n", *"[red]note[/red] [/")
        await settle(app, pilot)
        assert isinstance(app.screen, NoteScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        paper = app.screen.query_one(PaperList).paper
        assert Store(db).get(paper.id)["note"] == "[red]note[/red] [/"
        assert "[red]note[/red] [/" in text(app.screen.query_one("#detail-note"))
        # copying the title: the notice shows it literally, the app keeps running
        await pilot.press("Y")
        await settle(app, pilot)
        await pilot.press("end", "up", "up", "enter")  # Title
        await settle(app, pilot)
        assert app.is_running and "[@click=app.quit]q[/]" in app.clipboard
        assert "\x1b" not in app.clipboard
        # filter by tag lists the markup tag literally
        await pilot.press("number_sign")
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseScreen)
        assert str(app.screen.query_one(OptionList).get_option_at_index(0).prompt) == f"#{MARKUP_TAG}  (1)"
        await pilot.press("escape")
        # export writes the text as it is, with no escape sequences
        await pilot.press("b", "ctrl+p", *"export papers")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("enter", "down", "enter", "enter")  # bookmarked, markdown, current folder
        await settle(app, pilot)
        written = (tmp_path / "paper-reader-bookmarked.md").read_text(encoding="utf-8")
        assert "\\[bold red\\]x\\[/\\]" in written and "\x1b" not in written and "\u202e" not in written
        assert app.is_running


async def test_ten_thousand_tags_on_one_paper(tmp_path, digest):
    db = tmp_path / "store.json"
    paper = Paper.make(TITLE, "")
    Store(db).add_tags(paper.id, [f"t{n}" for n in range(10_000)])
    async with opened(db, digest, size=(100, 30)) as (app, pilot):
        row = rows(app)[0]
        assert row.rstrip().endswith("+10000") and len(row) <= 100  # the title keeps its room; tags counted
        await pilot.press("j", "k")
        await settle(app, pilot)  # a hang fails (settle has a limit); slowness is for benchmarks/
        assert "#t9999" in text(app.screen.query_one("#detail-tags"))
        await pilot.resize_terminal(1, 1)
        await pilot.resize_terminal(100, 30)
        await settle(app, pilot)
        assert app.is_running


async def test_the_list_border_shows_a_title_and_a_query_as_text(tmp_path, digest):
    # "More like this" names the paper in the border, and query errors quote the query there:
    # both are text, never markup (a [@click=...] in a title is not a live action on the border).
    async with opened(tmp_path / "store.json", digest) as (app, pilot):
        await pilot.press("s")
        await settle(app, pilot)
        papers = app.screen.query_one(PaperList)
        assert Content.from_markup(papers.border_title or "").plain == "Like: Evil [bold red]x[/] [@click=app.quit]q[…"
        await pilot.press("escape", "slash", *"has:[b]x[/b]")
        await asyncio.sleep(1.0)  # query errors show once typing pauses
        await settle(app, pilot)
        assert "unknown filter 'has:[b]x[/b]'" in Content.from_markup(papers.border_title or "").plain
        assert app.is_running
