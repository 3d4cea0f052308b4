"""The reader app driven with Textual's Pilot on the real digest and a real store file."""

from __future__ import annotations

import os

import pytest
from textual.widgets import Input, OptionList

from reader.paper import Paper
from reader.screens.choose import ChooseScreen
from reader.screens.help import HelpScreen
from reader.screens.note import NoteScreen
from reader.screens.store_problem import StoreProblemScreen
from reader.screens.tags import TagsScreen
from reader.store import Store
from reader.widgets.paper_detail import PaperDetail
from reader.widgets.paper_list import PaperList
from reader.widgets.search_box import SearchBox
from tests.app_support import SIZE, notifications, opened, rows, settle, text

NEURAL_OPERATOR = "Neural Operator: Learning Maps Between Function Spaces"


@pytest.fixture(autouse=True)
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    """No system clipboard and no browser: as over SSH or in a container."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def papers_of(app):  # type: ignore[no-untyped-def]
    return app.screen.query_one(PaperList)


async def test_opens_on_the_digest_in_file_order(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        papers = papers_of(app)
        assert papers.border_subtitle.startswith("164 / 164 · ")
        assert "PAON: A New Neuron Model using Padé Approximants" in rows(app)[0]
        assert text(app.screen.query_one("#detail-title")) == "PAON: A New Neuron Model using Padé Approximants"
        assert papers.has_focus


async def test_typo_search_filters_and_highlights(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("slash", *"nueral opertor")
        await settle(app, pilot)
        papers = papers_of(app)
        shown, total = papers.border_subtitle.split(" · ")[0].split(" / ")
        assert total == "164" and 0 < int(shown) < 20
        titles = [papers.papers[i].title for i in papers.rows[:3]]
        assert NEURAL_OPERATOR in titles
        assert isinstance(app.focused, SearchBox)
        # the matched words of the top title are highlighted
        top = papers.papers[papers.rows[0]]
        assert papers._span_cache.get(int(papers.rows[0])) or papers.spans_of(top)


async def test_enter_moves_to_the_top_result_and_escape_clears(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        # typed fast: the bookmark must land on the top result of the whole query
        await pilot.press("slash", *"nueral opertor", "enter", "b")
        await settle(app, pilot)
        papers = papers_of(app)
        assert papers.has_focus and papers.cursor == 0
        top = papers.paper
        assert top is not None and top.title.startswith("Neural Operator")
        assert Store(db).get(top.id)["bookmarked_at"]
        assert app.screen.query_one(SearchBox).value == "nueral opertor"
        await pilot.press("escape")  # in the list: clears the query
        await settle(app, pilot)
        assert app.screen.query_one(SearchBox).value == ""
        assert papers.border_subtitle.startswith("164 / 164 · ")


async def test_escape_in_search_goes_back_to_the_list_keeping_the_query(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("slash", *"math", "escape")
        await settle(app, pilot)
        assert papers_of(app).has_focus
        assert app.screen.query_one(SearchBox).value == "math"


async def test_list_keys_move_and_selecting_marks_read(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        papers = papers_of(app)
        await pilot.press("j", "j", "down")
        assert papers.cursor == 3
        await pilot.press("k")
        assert papers.cursor == 2
        await pilot.press("G")
        assert papers.cursor == 163
        await pilot.press("g")
        assert papers.cursor == 0
        await pilot.press("pagedown")
        assert papers.cursor > 10
        await pilot.press("pageup")
        assert papers.cursor == 0
        await pilot.press("end")
        assert papers.cursor == 163
        await pilot.press("home", "j", "j", "j")
        fifth = papers.papers[papers.rows[4]]
        assert Store(db).get(fifth.id) is None
        assert rows(app)[4][2] == "●"  # unread
        await pilot.press("j")
        await settle(app, pilot)
        app.core.flush()  # a cursor's read mark reaches the disk within half a second; now, for the test
        assert Store(db).get(fifth.id)["read_at"]
        assert text(app.screen.query_one("#detail-title")) == fifth.title
        assert rows(app)[4][2] == " "  # the unread mark is gone
        assert rows(app)[5][2] == "●"


async def test_results_flashing_by_while_typing_are_not_marked_read(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        await pilot.press("slash", *"memorizing")
        await settle(app, pilot)
        top = papers_of(app).paper
        assert top is not None and (Store(db).get(top.id) or {}).get("read_at") is None


async def test_bookmark_toggles_and_shows(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        paper = papers_of(app).paper
        await pilot.press("b")
        assert Store(db).get(paper.id)["bookmarked_at"]
        assert Store(db).get(paper.id)["title"] == paper.title  # snapshot kept
        assert rows(app)[0][1] == "★"
        assert "bookmarked" in text(app.screen.query_one("#detail-meta"))
        await pilot.press("b")
        assert Store(db).get(paper.id)["bookmarked_at"] is None
        assert rows(app)[0][1] == " "


async def test_bookmarks_only_includes_papers_from_earlier_digests(tmp_path):
    db = tmp_path / "store.json"
    store = Store(db)
    old = Paper.make("An Old Paper From Last Week", "An abstract that is long enough. " * 10)
    store.set_bookmark(old, True)
    async with opened(db) as (app, pilot):
        await pilot.press("j", "b")  # bookmark the second paper of today's digest
        today = papers_of(app).paper
        await pilot.press("B")
        await settle(app, pilot)
        papers = papers_of(app)
        titles = [papers.papers[i].title for i in papers.rows]
        assert sorted(titles) == sorted([today.title, old.title])
        assert papers.border_title.startswith("Bookmarks")
        await pilot.press("B")
        await settle(app, pilot)
        assert papers.border_subtitle.startswith("164 / 164 · ")
        assert old.title not in [papers.papers[i].title for i in papers.rows]


async def test_tags_modal_adds_suggests_and_removes(tmp_path):
    db = tmp_path / "store.json"
    store = Store(db)
    store.add_tags("aaaaaaaaaaaa", ["Reading-Group"])
    async with opened(db) as (app, pilot):
        paper = papers_of(app).paper
        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, TagsScreen)
        tag_input = app.screen.query_one("#tags-input", Input)
        await pilot.press(*"read")
        await settle(app, pilot)
        assert tag_input.render_line(0).text.startswith("reading-Group")  # suggests an existing tag
        await pilot.press("enter")
        assert Store(db).get(paper.id)["tags"] == ["read"]
        await pilot.press(*"ml", "enter")
        assert Store(db).get(paper.id)["tags"] == ["read", "ml"]
        await pilot.press("shift+tab")
        await settle(app, pilot)
        assert isinstance(app.focused, OptionList)
        await pilot.press("delete")
        assert Store(db).get(paper.id)["tags"] == ["ml"]
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, TagsScreen)
        assert " ml " in rows(app)[0]  # a chip in the list
        assert "#ml" in text(app.screen.query_one("#detail-tags"))


async def test_filter_by_tag_lists_tags_with_counts(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        first = papers_of(app).paper
        await pilot.press("t", *"survey", "enter", "escape", "j", "j", "t", *"survey", "enter", "escape")
        await settle(app, pilot)
        await pilot.press("number_sign")
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseScreen)
        options = app.screen.query_one(OptionList)
        assert "#survey  (2)" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.query_one(SearchBox).value == "#survey"
        papers = papers_of(app)
        assert papers.border_subtitle.startswith("2 / 164 · ")
        assert papers.papers[papers.rows[0]].id == first.id


async def test_note_is_saved_on_close(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        paper = papers_of(app).paper
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"first line", "enter", *"[bold]second[/]")
        await pilot.press("escape")
        await settle(app, pilot)
        assert Store(db).get(paper.id)["note"] == "first line\n[bold]second[/]"
        assert "[bold]second[/]" in text(app.screen.query_one("#detail-note"))


async def test_copy_link_falls_back_to_osc52_without_a_display(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("y")
        await settle(app, pilot)
        assert app.clipboard.startswith("https://arxiv.org/search/?query=PAON")
        shown = notifications(app)[-1]
        assert "OSC 52" in shown and app.clipboard in shown


async def test_copy_choose_title_markdown_bibtex(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        paper = papers_of(app).paper
        await pilot.press("Y")
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseScreen)
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        title_at = labels.index("Title")
        await pilot.press(*["down"] * title_at, "enter")
        await settle(app, pilot)
        assert app.clipboard == paper.title
        await pilot.press("Y", "end", "enter")
        await settle(app, pilot)
        assert app.clipboard.startswith("@misc{") and paper.title in app.clipboard
        await pilot.press("Y", "end", "up", "enter")
        await settle(app, pilot)
        assert app.clipboard.startswith("[PAON: A New Neuron Model using Padé Approximants](https://")


async def test_code_link_comes_first_when_the_abstract_has_one(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("slash", *"'pnnl", "enter", "y")
        await settle(app, pilot)
        assert app.clipboard == "https://github.com/pnnl/projection_ntk"
        assert "https://github.com/pnnl/projection_ntk)." in text(app.screen.query_one("#detail-abstract"))


async def test_open_without_a_browser_says_so(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("o")
        await settle(app, pilot)
        shown = " ".join(notifications(app))
        assert "Cannot open a browser" in shown and "copying the link instead" in shown
        assert app.clipboard.startswith("https://arxiv.org/search/?query=PAON")


async def test_help_screen_lists_the_keys(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = " ".join(text(s) for s in app.screen.query(".help-keys"))
        for key in ("bookmark", "edit tags", "copy the primary link", "bookmarks only", "quit"):
            assert key in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_paper_actions(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        paper = papers_of(app).paper
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        await pilot.press(*"bookmark paper")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert Store(db).get(paper.id)["bookmarked_at"]


async def test_export_bookmarks_from_the_palette(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("b")
        await pilot.press("ctrl+p", *"export papers")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("enter")  # bookmarked papers (1)
        await settle(app, pilot)
        await pilot.press("down", "enter")  # markdown
        await settle(app, pilot)
        await pilot.press("ctrl+u", *str(tmp_path / "out"), "enter")  # the folder: not there yet
        await settle(app, pilot)
        assert not (tmp_path / "out").exists()  # asked first
        await pilot.press("enter")  # create it and export there
        await settle(app, pilot)
        written = (tmp_path / "out" / "paper-reader-bookmarked.md").read_text(encoding="utf-8")
        assert "PAON: A New Neuron Model" in written
        assert str(tmp_path / "out" / "paper-reader-bookmarked.md") in notifications(app)[-1]


async def test_export_to_a_mistyped_folder_asks_and_cancel_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("b")
        await pilot.press("ctrl+p", *"export bookmarks")
        await settle(app, pilot)
        for keys in (["enter"], ["enter"], ["enter"], ["ctrl+u", *str(tmp_path / "ouy"), "enter"]):
            await pilot.press(*keys)
            await settle(app, pilot)
        await pilot.press("down", "enter")  # cancel
        await settle(app, pilot)
        assert not (tmp_path / "ouy").exists()
        assert list(tmp_path.glob("**/paper-reader-*")) == []


async def test_export_after_the_working_folder_was_deleted_says_so(tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("b")
        gone.rmdir()
        await pilot.press("ctrl+p", *"export bookmarks")
        await settle(app, pilot)
        for keys in (["enter"], ["enter"], ["enter"], ["ctrl+u", *"relative", "enter"]):
            await pilot.press(*keys)
            await settle(app, pilot)
        assert "working folder is gone" in notifications(app)[-1]
    assert app.return_code in (0, None)


async def test_corrupt_store_offers_read_only_and_is_left_alone(tmp_path):
    db = tmp_path / "store.json"
    db.write_bytes(b'{"papers": {"1": {"id": "x"')
    before = db.read_bytes()
    from reader.app import PaperReaderApp
    from reader.digest import bundled_digest, load_library
    from reader.store import StoreError

    try:
        Store(db)
    except StoreError as err:
        error = err
    app = PaperReaderApp(load_library([bundled_digest()]), None, error, str(db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, StoreProblemScreen)
        assert "corrupt" in text(app.screen.query_one("#problem-message"))
        await pilot.press("r")
        await settle(app, pilot)
        assert papers_of(app).border_title.endswith("read-only")
        await pilot.press("b", "j", "t")
        await settle(app, pilot)
        assert "read-only" in notifications(app)[-1]
    assert db.read_bytes() == before


async def test_changes_from_another_terminal_show_and_are_not_lost(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        paper = papers_of(app).paper
        other = Store(db)  # a second terminal (or the CLI)
        other.add_tags(paper, ["from-elsewhere"])
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        assert "#from-elsewhere" in text(app.screen.query_one("#detail-tags"))
        other.set_note(paper, "written elsewhere")
        await pilot.press("b")  # our change must not drop theirs
        record = Store(db).get(paper.id)
        assert record["bookmarked_at"] and record["note"] == "written elsewhere"
        assert record["tags"] == ["from-elsewhere"]


async def test_theme_is_remembered(tmp_path):
    db = tmp_path / "store.json"
    async with opened(db) as (app, pilot):
        app.theme = "nord"
        await settle(app, pilot)
    assert Store(db).setting("theme") == "nord"
    async with opened(db) as (again, pilot):
        assert again.theme == "nord"


async def test_narrow_terminal_puts_the_detail_below(tmp_path):
    async with opened(tmp_path / "store.json", size=(60, 18)) as (app, pilot):
        assert app.screen.has_class("narrow")
        papers, detail = papers_of(app), app.screen.query_one(PaperDetail)
        assert detail.region.y >= papers.region.bottom
        assert papers.region.height >= 3 and detail.region.height >= 3
        await pilot.press("j", "b")
        assert rows(app)[1][1] == "★"


HOSTILE = [
    ("Deep [Residual] Learning [27] and [bold red]x[/]", "plain"),
    ("[@click=app.quit]Click me[/] and [/ broken", "plain"),
    ("Escapes \x1b]0;pwned\x07 and \x1b[31mred\x1b[0m here", "escape"),
    ("宽字符的标题 🚀 with emoji and a very long tail " * 3, "wide"),
]


async def test_hostile_text_shows_literally_and_does_nothing(tmp_path):
    digest = tmp_path / "hostile.txt"
    huge = "A huge abstract [b]not bold[/b]. " * 33000  # about 1 MB
    lines = []
    for title, _ in HOSTILE:
        lines += [title, "An abstract with [link=https://evil]markup[/link] and [27] in it. " * 5]
    lines += ["A paper with a one megabyte abstract", huge]
    digest.write_text("\n".join(lines), encoding="utf-8")
    async with opened(tmp_path / "store.json", digest, size=(160, 30)) as (app, pilot):
        drawn = rows(app)
        assert "Deep [Residual] Learning [27] and [bold red]x[/]" in drawn[0]
        assert "[@click=app.quit]Click me[/] and [/ broken" in drawn[1]
        assert "\x1b" not in "".join(drawn) and "Escapes  and red here" in drawn[2]
        await pilot.click(PaperList, offset=(20, 1))  # clicking the "link" runs nothing
        await pilot.press("j")
        await settle(app, pilot)
        assert app.is_running
        assert text(app.screen.query_one("#detail-title")) == "[@click=app.quit]Click me[/] and [/ broken"
        await pilot.press("G")
        await settle(app, pilot)
        assert "[b]not bold[/b]" in text(app.screen.query_one("#detail-abstract"))[:100]
        await pilot.press("slash", *"[bold", "enter")
        await settle(app, pilot)
        assert app.is_running
        await pilot.resize_terminal(1, 1)
        await pilot.resize_terminal(160, 30)
        await settle(app, pilot)
        assert app.is_running


def test_no_display_environment_for_these_tests() -> None:
    assert not os.environ.get("DISPLAY")


async def test_corrupt_store_quit_exits_with_status_2(tmp_path):
    db = tmp_path / "store.json"
    db.write_bytes(b"not json at all")
    from reader.app import PaperReaderApp
    from reader.digest import bundled_digest, load_library
    from reader.store import StoreError

    with pytest.raises(StoreError) as caught:
        Store(db)
    app = PaperReaderApp(load_library([bundled_digest()]), None, caught.value, str(db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 2
    assert db.read_bytes() == b"not json at all"


async def test_copy_through_a_working_system_clipboard(tmp_path, monkeypatch):
    """With a display and a clipboard tool, pyperclip copies and the notice says so."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    received = tmp_path / "clipboard.txt"
    fake = bin_dir / "xclip"
    # A clipboard tool that keeps what it is given and hands it back with -o.
    fake.write_text(f'#!/bin/sh\ncase "$*" in *-o*) cat {received} ;; *) cat > {received} ;; esac\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":99")
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("y")
        await settle(app, pilot)
        assert app.is_running
        assert received.read_text(encoding="utf-8").startswith("https://arxiv.org/search/?query=PAON")
        shown = notifications(app)[-1]
        assert "Copied link to the clipboard" in shown and "OSC 52" not in shown


async def test_tex_leftovers_show_readable_in_the_detail_and_list(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("slash", *"'WKB", "enter")
        await settle(app, pilot)
        abstract = text(app.screen.query_one("#detail-abstract"))
        assert "ε²,φ''+a(x),φ=0" in abstract and "varepsilon^2" not in abstract
        await pilot.press("slash", "ctrl+u", *"ell_p sensitivity", "enter")
        await settle(app, pilot)
        assert "Sharper Bounds for ℓₚ Sensitivity Sampling" in rows(app)[0]
        assert app.screen.query_one(PaperList).spans_of(app.screen.query_one(PaperList).paper)
        await pilot.press("Y")
        await settle(app, pilot)
        await pilot.press("end", "enter")
        await settle(app, pilot)
        assert "Sharper Bounds for ell\\_p Sensitivity Sampling" in app.clipboard  # BibTeX keeps the TeX
