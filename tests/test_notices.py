"""Notices and in-place messages (issue 16): said once, where they belong."""

from __future__ import annotations

from reader.widgets.paper_list import PaperList
from tests.app_support import notifications, opened, settle


async def test_query_errors_show_in_the_border_once_typing_pauses_not_as_notices(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        papers = app.screen.query_one(PaperList)
        await pilot.press("slash", *"has:code")
        await settle(app, pilot)
        await pilot.pause(1.0)
        assert not any("unknown" in n for n in notifications(app))  # no notice per keystroke
        assert "⚠" not in papers.border_title  # has:code is fine
        await pilot.press("backspace", "backspace", "backspace")  # has:c
        await settle(app, pilot)
        assert "⚠" not in papers.border_title  # still typing
        await pilot.pause(1.0)
        assert "⚠" in papers.border_title and "has:c" in papers.border_title
        assert not any("unknown" in n for n in notifications(app))
        await pilot.press(*"ode")
        await settle(app, pilot)
        assert "⚠" not in papers.border_title  # fixed: the message goes at once


async def test_o_without_a_browser_gives_one_notice(tmp_path):
    async with opened(tmp_path / "store.json") as (app, pilot):
        before = len(notifications(app))
        await pilot.press("o")
        await settle(app, pilot)
        said = notifications(app)[before:]
        assert len(said) == 1
        assert "Cannot open a browser" in said[0] and "Copied link" in said[0]
        assert app.clipboard.startswith("https://")


async def test_escape_sequences_in_file_names_and_tags_reach_the_screen_inert(tmp_path):
    from reader.digest import bundled_digest
    from reader.store import Store
    from tests.app_support import text

    evil = tmp_path / "day\x1b[2J\x1b[31mred.txt"
    evil.write_bytes(bundled_digest().read_bytes())
    db = tmp_path / "store.json"
    store = Store(db)
    async with opened(db, evil, store=store) as (app, pilot):
        paper = app.screen.query_one(PaperList).paper
        store.add_tags(paper, ["ok\x1b]52;c;aGk=\x07tag"])
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        meta = text(app.screen.query_one("#detail-meta"))
        assert "\x1b" not in meta and "\\x1b[2J" in meta
        tags = text(app.screen.query_one("#detail-tags"))
        assert "\x1b" not in tags and "\x07" not in tags
        await pilot.press("u")  # the notice names the tag it undid
        await settle(app, pilot)
        said = notifications(app)[-1]
        assert "Undid" in said and "\x1b" not in said and "\x07" not in said


async def test_notices_sit_above_the_panes_bottom_border_at_every_size(tmp_path):
    """A notice never covers the panes' bottom border (nor the key bar under it), wide or narrow."""
    from tests.app_support import make_app

    for size in ((150, 45), (80, 24)):
        app = make_app(tmp_path / f"store-{size[0]}.json")
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(app, pilot)
            await pilot.press("o")  # no browser here: one notice (see above)
            await settle(app, pilot)
            await pilot.pause(0.3)
            toasts = list(app.screen.query("Toast"))  # by CSS type: the class is not public
            assert toasts, "no notice on screen"
            bottoms = [pane.region.bottom - 1 for pane in app.screen.query("#panes > *") if pane.region.height]
            assert bottoms
            border_row = max(bottoms)  # the row the panes' bottom border is drawn on
            for toast in toasts:
                assert toast.region.bottom <= border_row, (size, toast.region, border_row)


def _overlapping(app, dialog: str) -> list[object]:  # type: ignore[no-untyped-def]
    """The notices drawn over the dialog ``dialog`` (a CSS selector) on the screen on top."""
    region = app.screen.query_one(dialog).region
    assert region.area
    toasts = app.screen.query("Toast")  # by CSS type: the class is not public
    return [toast.region for toast in toasts if toast.region.overlaps(region)]


async def test_a_dialog_is_never_covered_by_a_notice(tmp_path):
    """Opening a dialog puts away the notices shown over the main screen (they stay in the app's list);
    what a dialog says about itself (tagged, already there) shows in the dialog, not over it."""
    from reader.app import SAMPLE_HINT
    from tests.app_support import make_app

    for size, keys, dialog in (((80, 24), "question_mark", "#help-body"), ((150, 45), "t", "#tags-dialog")):
        app = make_app(tmp_path / f"store-{size[0]}.json")  # a first run: the sample notice shows
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(app, pilot)
            await pilot.pause(0.3)
            assert list(app.screen.query("Toast")), "the first-run notice is not shown"
            await pilot.press(keys)
            await settle(app, pilot)
            await pilot.pause(0.3)
            assert _overlapping(app, dialog) == [], size
            assert any(SAMPLE_HINT in said for said in notifications(app))  # still in the list
            if keys == "t":
                for _ in range(2):  # the second time: already there
                    await pilot.press(*"approx", "enter")
                    await settle(app, pilot)
                    await pilot.pause(0.3)
                    assert _overlapping(app, dialog) == []
                said = app.screen.query_one("#tags-said")
                assert "already" in str(said.render()) and said.region.overlaps(app.screen.query_one(dialog).region)
                assert "already" in notifications(app)[-1]


async def test_a_notice_sits_inside_the_detail_pane_never_over_the_border_between_panes(tmp_path):
    """The notice's left edge (▌) is never drawn over the list's border: it fits in the detail pane."""
    from tests.app_support import make_app

    for size in ((150, 45), (120, 40), (100, 30), (101, 30), (133, 40), (200, 50), (80, 24)):
        app = make_app(tmp_path / f"store-{size[0]}.json")  # a first run: the sample notice shows
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(app, pilot)
            await pilot.pause(0.3)
            toasts = [toast.region for toast in app.screen.query("Toast")]
            assert toasts, size
            detail = app.screen.query_one("#detail")
            inside = detail.region.shrink(detail.styles.border.spacing)  # the pane less its border
            for toast in toasts:
                assert inside.contains_region(toast), (size, toast, inside)
