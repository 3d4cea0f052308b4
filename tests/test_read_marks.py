"""Read marks as a user meets them with years of history: many marks of papers no longer open,
counts and filters that stay right, and the marks file kept small."""

from __future__ import annotations

import contextlib
import io
import random
import subprocess
import sys
import time

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


# -- the marks file compacts itself ------------------------------------------------------------

MANY = [f"p{k:07d}" for k in range(23_000)]  # three passes over them: past the 1 MB a compaction waits for


def test_a_marks_file_mostly_superseded_is_compacted_and_reads_the_same(db_path):
    store = Store(db_path)
    marks = db_path.with_name("store.json.marks")
    store.mark_read(MANY)
    store.mark_read(MANY, read=False)
    assert marks.stat().st_size > 700_000  # every event kept so far
    store.mark_read(MANY[:21_000])
    # Three events a paper, one of them live: rewritten with one event a paper.
    assert marks.stat().st_size == 16 + 16 * len(MANY)
    again = Store(db_path)
    assert all(again.is_read(pid) for pid in MANY[:21_000]) and not any(again.is_read(p) for p in MANY[21_000:])
    assert [p.name for p in db_path.parent.iterdir() if p.name.endswith(".tmp")] == []
    again.mark_read(MANY[-1:])  # the rewritten file takes appends as before
    assert Store(db_path).is_read(MANY[-1]) and store.read_marks().get(MANY[-1]) is not None


def test_another_process_sees_the_same_marks_after_a_compaction(db_path):
    store = Store(db_path)
    other = Store(db_path)
    store.mark_read(MANY)
    assert other.is_read(MANY[0]) is False  # not looked yet
    assert len(other.read_marks()) == len(MANY)
    store.mark_read(MANY, read=False)
    store.mark_read(MANY[:5])  # compacts
    assert set(other.read_marks()) == set(MANY[:5])


def test_a_compaction_killed_at_any_moment_leaves_the_old_file_or_the_new(db_path):
    store = Store(db_path)
    store.mark_read(MANY[:3000])
    store.mark_read(MANY[:1000], read=False)
    read = set(MANY[1000:3000])
    child = (
        "import sys\nfrom reader.store import Store\nstore = Store(sys.argv[1])\nprint('ready', flush=True)\n"
        "while True:\n    store.compact()\n"
    )
    rng = random.Random(7)
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", child, str(db_path)], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
            time.sleep(rng.uniform(0, 0.05))
        finally:
            proc.kill()
            proc.wait(timeout=60)
        after = Store(db_path)  # opens (cleaning a temp file the kill left)
        assert set(after.read_marks()) == read
        assert [p.name for p in db_path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert db_path.with_name("store.json.marks").stat().st_size == 16 + 16 * 3000


def test_first_seen_dates_among_thousands_come_from_the_store(db_path):
    store = Store(db_path)
    store.record_seen(dict.fromkeys(OLD, "2020-01-01"))
    store.record_seen({PAPERS[0].id: "2021-06-01"})
    store.record_seen({PAPERS[0].id: "2023-01-01"})  # later: the earlier date stays
    status, out, _ = run_cli("show", PAPERS[0].id, "--json", "--db", str(db_path))
    assert status == 0 and '"first_seen": "2021-06-01"' in out
    status, out, _ = run_cli("show", PAPERS[1].id, "--json", "--db", str(db_path))
    assert status == 0 and '"first_seen": "20' in out and "2021-06-01" not in out and "2020-01-01" not in out
    assert Store(db_path).seen_of([OLD[7], PAPERS[0].id, "unknown"]) == {
        OLD[7]: "2020-01-01",
        PAPERS[0].id: "2021-06-01",
    }
