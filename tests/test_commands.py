"""One command table makes the key bindings, the palette, the help screen, the key bar and the README."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from reader.app import PaperReaderApp
from reader.commands import ACTIONS, COMMANDS, readme_keys_table
from reader.config import Config
from reader.digest import bundled_digest, load_library
from reader.screens.help import HelpScreen
from reader.store import Store
from reader.widgets.key_bar import KeyBar
from reader.widgets.paper_list import PaperList
from tests.app_support import SIZE, settle, text

ROOT = Path(__file__).resolve().parent.parent


def app_with_keys(db: Path, keys: dict[str, str]) -> PaperReaderApp:
    return PaperReaderApp(load_library([bundled_digest()]), Store(db), store_path=str(db), config=Config(keys=keys))


async def palette_entries(app, pilot, typed: str) -> list[str]:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p", *typed)
    await pilot.pause(0.3)
    await settle(app, pilot)
    found = app.screen.query_one(OptionList)
    entries = [found.get_option_at_index(i).prompt.plain for i in range(found.option_count)]
    await pilot.press("escape")
    await settle(app, pilot)
    return entries


async def test_a_rebinding_in_the_config_works_and_shows_everywhere(tmp_path):
    db = tmp_path / "store.json"
    app = app_with_keys(db, {"bookmark": "ctrl+b", "similar": "m"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        paper = app.screen.query_one(PaperList).paper
        await pilot.press("b")  # the old key does nothing now
        await settle(app, pilot)
        assert Store(db).get(paper.id) is None or not Store(db).get(paper.id).get("bookmarked_at")
        await pilot.press("ctrl+b")
        await settle(app, pilot)
        assert Store(db).get(paper.id)["bookmarked_at"]

        entries = await palette_entries(app, pilot, "bookmark paper")
        bookmark = next(e for e in entries if e.startswith("Bookmark paper"))
        assert "(ctrl+b)" in bookmark and "(b)" not in bookmark

        bar = app.screen.query_one(KeyBar).render().plain
        assert "^b bookmark" in bar and "? help" in bar and "q quit" in bar

        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        lines = "\n".join(text(s) for s in app.screen.query(".help-keys")).splitlines()
        assert any(line.startswith("ctrl+b ") and "bookmark on/off" in line for line in lines)
        assert any(line.startswith("m ") and "more like this" in line for line in lines)
        assert not any(line.startswith("b ") for line in lines)


async def test_the_palette_shows_our_help_not_also_textuals_keys(tmp_path):
    app = app_with_keys(tmp_path / "store.json", {})
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        helps = [e.split("\n")[0] for e in await palette_entries(app, pilot, "help")]
        keys = [e.split("\n")[0] for e in await palette_entries(app, pilot, "keys")]
        assert "Help" in helps and "Keys" not in keys


async def test_help_says_how_to_close_it(tmp_path):
    app = app_with_keys(tmp_path / "store.json", {})
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert "escape" in text(app.screen.query_one(".help-close")) and "closes" in text(
            app.screen.query_one(".help-close")
        )
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert not isinstance(app.screen, HelpScreen)


def test_the_readme_keys_table_is_the_command_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Keys\n\n", 1)[1]
    table = "\n".join(line for line in section.splitlines()[: len(COMMANDS) + 2])
    assert table == readme_keys_table()


def test_every_action_is_unique_and_named_like_a_config_key():
    assert len(set(ACTIONS)) == len(ACTIONS)
    assert all(action.isidentifier() for action in ACTIONS)
