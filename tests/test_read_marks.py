"""Read marks as a user meets them with years of history: many marks of papers no longer open,
counts and filters that stay right, and the marks file kept small."""

from __future__ import annotations

import contextlib
import io

from app_support import opened, settle

from reader.cli import main
from reader.digest import bundled_digest, load_library
from reader.store import Store
from reader.widgets.paper_list import PaperList

PAPERS = load_library([bundled_digest()]).papers
OLD = [f"old{k:09d}" for k in range(5_000)]  # papers read in digests long gone


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def history(db_path, read_here: int = 3) -> Store:
    """A store that has read thousands of papers elsewhere, a few of today's, and annotated two."""
    store = Store(db_path)
    store.mark_read(OLD)
    store.mark_read(PAPERS[:read_here])
    store.set_bookmark(PAPERS[10], True)
    store.add_tags(PAPERS[11], ["ml"])
    return store


async def test_the_app_counts_only_the_open_papers_read_among_thousands_of_marks(db_path):
    history(db_path)
    async with opened(db_path) as (app, pilot):
        papers = app.screen.query_one(PaperList)
        assert papers.border_subtitle == f"{len(PAPERS)} / {len(PAPERS)} · {len(PAPERS) - 3} unread"
        papers.focus()
        papers.cursor = 5
        await pilot.press("j", "j")  # onto two unread papers: read at once
        await settle(app, pilot)
        assert papers.border_subtitle.endswith(f"· {len(PAPERS) - 5} unread")
        await pilot.press("slash", *"is:read", "enter")
        await settle(app, pilot)
        shown = {papers.papers[i].id for i in papers.rows}
        assert shown == {p.id for p in PAPERS[:3]} | {PAPERS[6].id, PAPERS[7].id}
    store = Store(db_path)
    assert store.is_read(PAPERS[7].id) and store.is_read(OLD[-1])  # on disk after the app closed
    assert not store.is_read(PAPERS[8].id)


def test_a_paper_only_read_exports_with_its_read_time_and_nothing_else(db_path):
    history(db_path)
    status, out, _ = run_cli("show", PAPERS[0].id, "--json", "--db", str(db_path))
    assert status == 0
    assert '"read_at": "20' in out and '"tags": []' in out and '"bookmarked": false' in out


def test_doctor_counts_each_paper_once_whether_read_annotated_or_both(db_path):
    store = history(db_path)
    store.mark_read([PAPERS[10]])  # bookmarked and read: one paper
    status, out, _ = run_cli("doctor", "--db", str(db_path))
    assert f"{len(OLD) + 3 + 2} papers (2 annotated), 1 bookmarks, 1 tags" in out
