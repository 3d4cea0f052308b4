"""Text from outside (saved-search names, tags, file names, notes, links) is drawn inert in every dialog."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Region
from textual.screen import ModalScreen

from reader.core.saved_searches import save_search
from reader.digest import bundled_digest
from reader.screens.ask import AskScreen
from reader.screens.choose import ChooseScreen
from reader.screens.tags import TagsScreen
from reader.store import Store
from reader.widgets.paper_list import PaperList
from tests.app_support import opened, settle

EVIL = "\x1b[2J\x1b[31mred[@click=app.quit]zz[/] [b]bold[/b]"


def drawn(app) -> str:  # type: ignore[no-untyped-def]
    """Every character the dialog on top draws (its widgets' lines, borders and titles included)."""
    lines: list[str] = []
    for widget in app.screen.walk_children(with_self=True):
        if widget.display and widget.size.area:
            width, height = widget.outer_size
            lines += [strip.text for strip in widget.render_lines(Region(0, 0, width, height))]
    return "\n".join(lines)


def assert_inert(shown: str) -> None:
    controls = sorted({hex(ord(c)) for c in shown if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0})
    assert not controls, f"control characters drawn: {controls}"


async def test_saved_search_names_and_tags_are_drawn_inert_in_every_dialog(tmp_path: Path) -> None:
    digest = tmp_path / f"day{EVIL.replace('/', '|')}.txt"
    digest.write_bytes(bundled_digest().read_bytes())
    db = tmp_path / "store.json"
    store = Store(db)
    save_search(store, EVIL, "operator")
    async with opened(db, digest, store=store) as (app, pilot):
        paper = app.screen.query_one(PaperList).paper
        assert paper is not None
        store.add_tags(paper, [EVIL])
        store.set_note(paper, f"note {EVIL}")
        store.set_link(paper, f"https://example.org/{EVIL}")
        await pilot.press("ctrl+l")  # read the store again
        await settle(app, pilot)
        assert_inert(drawn(app))  # the list and the detail pane (tags, note, link, file name)
        # the saved-searches list, the entry's menu, and the rename question
        await pilot.press("ctrl+p", *"saved searches")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseScreen)
        shown = drawn(app)
        assert_inert(shown)
        assert "[@click=app.quit]zz[/]" in shown and "\\x1b[2J" in shown
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseScreen)
        shown = drawn(app)
        assert_inert(shown)
        assert "[@click=app.quit]zz[/]" in shown  # the entry's name in the menu's border
        await pilot.press("down", "enter")  # Rename …
        await settle(app, pilot)
        assert isinstance(app.screen, AskScreen)
        assert_inert(drawn(app))
        await pilot.press("escape")
        await settle(app, pilot)
        # the tag editor, the tag filter, the copy menu, the note editor
        for keys, screen in (("t", TagsScreen), ("number_sign", ChooseScreen), ("Y", ChooseScreen), ("n", None)):
            await pilot.press(keys)
            await settle(app, pilot)
            assert isinstance(app.screen, ModalScreen), keys
            if screen is not None:
                assert isinstance(app.screen, screen), keys
            shown = drawn(app)
            assert_inert(shown)
            assert "[@click=app.quit]zz[/]" in shown, keys
            await pilot.press("escape")
            await settle(app, pilot)
        assert app.is_running


async def test_a_recalled_search_holding_escapes_is_drawn_clean_in_the_box_and_its_chips(tmp_path: Path) -> None:
    db = tmp_path / "store.json"
    store = Store(db)
    save_search(store, "evil", f"#{EVIL} operator is:unread")
    async with opened(db, store=store) as (app, pilot):
        await pilot.press("1")  # recall saved search 1
        await settle(app, pilot)
        await pilot.pause(0.5)  # the search runs once typing pauses
        await settle(app, pilot)
        shown = drawn(app)
        assert_inert(shown)
        assert "[@click=app.quit]zz[/]" in shown and app.is_running


async def test_keys_faster_than_the_screen_open_one_dialog_at_a_time(tmp_path: Path) -> None:
    """A key pressed twice before its dialog is up (a fast typist, a key repeat) opens it once:
    escape then closes it, instead of showing a second copy (which looked like ctrl+p opening it)."""
    from textual.events import Key

    db = tmp_path / "store.json"
    store = Store(db)
    save_search(store, "mine", "operator")
    async with opened(db, store=store) as (app, pilot):
        paper = app.screen.query_one(PaperList).paper
        assert paper is not None
        store.add_tags(paper, ["approx"])
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        for keys in (("Y", "Y"), ("E", "E"), ("L", "L"), ("#", "#"), ("Y", "t"), ("L", "Y"), ("ctrl+s", "Y")):
            if keys[0] == "ctrl+s":
                app.screen.query_one("#search").focus()
                await pilot.press(*"op")
                await settle(app, pilot)
            for key in keys:  # all queued before the first is handled
                name = {"#": "number_sign"}.get(key, key)
                app.post_message(Key(name, key if len(key) == 1 else None))
            await settle(app, pilot)
            dialogs = [type(s).__name__ for s in app.screen_stack if isinstance(s, ModalScreen)]
            assert len(dialogs) == 1, (keys, dialogs)
            await pilot.press("escape")
            await settle(app, pilot)
            assert not isinstance(app.screen, ModalScreen), keys
