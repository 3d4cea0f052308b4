"""First-seen dates as a daily reader meets them: a paper seen in an older digest says so after
newer ones arrive (also once the older file is gone), ``is:new`` finds only what is new, a digest
file that grows brings its new papers in as new, and a read-only open writes nothing."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from conftest import ABSTRACT

from reader.core.library import OpenLibrary
from reader.core.opening import open_library
from reader.store import Store

DAY = 86400


def digest(path: Path, titles: list[str], days_ago: int) -> Path:
    path.write_text("".join(f"{title}\n{ABSTRACT}\n" for title in titles), encoding="utf-8")
    when = time.time() - days_ago * DAY
    os.utime(path, (when, when))
    return path


def seen(library: OpenLibrary) -> dict[str, str]:
    """Title -> what the list says of when the paper was seen."""
    c = library.collection
    return {p.title: c.seen_before(p) for p in c.papers}


def new_titles(library: OpenLibrary) -> list[str]:
    found = library.search("is:new")
    return sorted(library.collection.papers[r].title for r in found.rows.tolist())


def test_a_paper_seen_in_an_older_digest_says_so_after_newer_ones_arrive(tmp_path: Path) -> None:
    db = tmp_path / "store.json"
    old = digest(tmp_path / "2026-11-24.txt", ["Old Paper On Operators", "Shared Paper About Kernels"], 3)
    first = open_library([old], Store(db))
    assert set(seen(first).values()) == {""}  # the day it arrived: all of it is new
    assert new_titles(first) == ["Old Paper On Operators", "Shared Paper About Kernels"]

    new = digest(tmp_path / "2026-11-27.txt", ["shared paper about  KERNELS", "Brand New Paper"], 0)
    for store in (Store(db), Store(db), Store(db, readonly=True)):  # the new file alone, opened again, read-only
        library = open_library([new], store)
        assert seen(library) == {"shared paper about  KERNELS": "seen 3 days ago", "Brand New Paper": ""}
        assert new_titles(library) == ["Brand New Paper"]
        shared = library.collection.papers[0]
        assert library.paper_data(shared)["first_seen"] == time.strftime(
            "%Y-%m-%d", time.localtime(time.time() - 3 * DAY)
        )
    both = open_library([new, old], Store(db))
    assert seen(both)["Old Paper On Operators"] == "seen 3 days ago"
    assert new_titles(both) == ["Brand New Paper"]
    found = both.search("", sort="first-seen")
    assert both.collection.papers[found.rows[0]].title == "Brand New Paper"  # most recent first


def test_papers_added_to_a_digest_file_are_new_and_the_others_keep_their_date(tmp_path: Path) -> None:
    db = tmp_path / "store.json"
    feed = digest(tmp_path / "feed.txt", ["Alpha Paper", "Beta Paper"], 2)
    open_library([feed], Store(db))
    digest(feed, ["Alpha Paper", "Beta Paper", "Gamma Paper"], 1)  # the same file, grown yesterday
    for store in (Store(db), Store(db)):
        library = open_library([feed], store)
        assert seen(library) == {"Alpha Paper": "seen 2 days ago", "Beta Paper": "seen 2 days ago", "Gamma Paper": ""}
        assert new_titles(library) == ["Gamma Paper"]
    digest(feed, ["Alpha Paper", "Beta Paper", "Gamma Paper", "Delta Paper"], 0)  # and again today
    library = open_library([feed], Store(db, readonly=True))
    assert seen(library) == {
        "Alpha Paper": "seen 2 days ago",
        "Beta Paper": "seen 2 days ago",
        "Gamma Paper": "seen yesterday",
        "Delta Paper": "",
    }
    assert new_titles(library) == ["Delta Paper"]


def test_a_read_only_open_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "store" / "store.json"
    old = digest(tmp_path / "old.txt", ["Old Paper On Operators"], 5)
    new = digest(tmp_path / "new.txt", ["Brand New Paper"], 0)
    library = open_library([old, new], Store(db, readonly=True))
    assert seen(library) == {"Old Paper On Operators": "seen 5 days ago", "Brand New Paper": ""}
    assert not db.parent.exists() or list(db.parent.iterdir()) == []

    open_library([old], Store(db))  # a writable open stores the old file's dates
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    library = open_library([old, new], Store(db, readonly=True))
    assert new_titles(library) == ["Brand New Paper"]
    assert {p.name: p.read_bytes() for p in db.parent.iterdir()} == before


def test_the_store_gives_each_paper_its_earliest_date_however_the_dates_were_written(tmp_path: Path) -> None:
    db = tmp_path / "store.json"
    rng = random.Random(7)
    pids = [f"{k:04d}abcdefgh" for k in range(300)] + ["a-hand-made-id-too-long-for-marks"]
    earliest: dict[str, str] = {}
    for batch in range(12):  # digests opened day after day, in any order, some papers again
        day = f"2026-{rng.randrange(1, 12):02d}-{rng.randrange(1, 28):02d}"
        chosen = rng.sample(pids, rng.randrange(1, 120))
        Store(db).record_seen(dict.fromkeys(chosen, day))
        for pid in chosen:
            earliest[pid] = min(day, earliest.get(pid, day))
        if batch == 6:
            marks = db.with_name("store.json.marks")
            size = marks.stat().st_size
            Store(db).compact()  # one event per paper left: the file shrinks
            assert marks.stat().st_size < size
    store = Store(db, readonly=True)
    assert store.seen() == earliest
    assert store.seen_of([*pids, "unknown"]) == earliest
