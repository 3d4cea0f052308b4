"""First-seen dates at open: what ``Collection.note_seen`` costs inside ``open_library`` (the
cyclic GC paused as for a user), per case, beside issue 14's goals, and what the dates cost later
when they are shown (the first "seen N days ago", ``is:new``).

    python benchmarks/first_seen.py              # gen.py's 100k papers and gen_year.py's year of digests
    python benchmarks/first_seen.py --size 1m    # the million-paper file instead of 100k (slow the first time)

Each case runs in its own process, on a store in a temp folder; the index cache is a temp folder
too, warmed by a first open that is not counted. Cases:

- ``ro, no dates``: a read-only store that holds no dates (the command line on a new machine);
- ``rw, first open``: a writable store opening the digests for the first time (it writes the dates);
- ``rw, again``: the same store opening them again (every file's dates are stored);
- ``ro, dates stored``: that store read-only, as ``paper-reader search`` opens it;
- year only: ``rw, a new file``: the store after the day's 366th file arrives.

Goals (issue 14's first-seen part): ``rw, again`` and ``ro, dates stored`` <= 0.15 s at 1M and
<= 20 ms at 100k; a first open may pay once to write the dates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

GOALS = {"100k": 0.020, "1m": 0.150}


def one_open(digests: list[str], db: str, readonly: bool) -> dict[str, float]:
    """Open the digests with the store (in this process); the seconds note_seen and the open took."""
    from reader.collection import Collection
    from reader.core.opening import open_library
    from reader.store import Store

    noted: list[float] = []
    original = Collection.note_seen

    def timed(self: Collection) -> None:
        start = time.perf_counter()
        original(self)
        noted.append(time.perf_counter() - start)

    Collection.note_seen = timed  # type: ignore[method-assign]
    start = time.perf_counter()
    library = open_library(digests, Store(db, readonly=readonly))
    opened = time.perf_counter() - start
    c = library.collection
    start = time.perf_counter()
    c.seen_before(c.papers[-1])
    shown = time.perf_counter() - start
    start = time.perf_counter()
    found = library.search("is:new")
    new = time.perf_counter() - start
    return {"note_seen": noted[0], "open": opened, "first_shown": shown, "is_new": new, "new": len(found.rows)}


def run_case(digests: list[str], db: Path, readonly: bool, cache: Path) -> dict[str, float]:
    env = {"PAPER_READER_CACHE": str(cache), "XDG_CACHE_HOME": str(cache)}
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import first_seen; "
        "print(json.dumps(first_seen.one_open(json.loads(sys.argv[2]), sys.argv[3], sys.argv[4] == 'ro')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), json.dumps(digests), str(db), "ro" if readonly else "rw"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def show(name: str, case: str, figures: dict[str, float], goal: float | None) -> None:
    target = f"<= {goal * 1000:.0f} ms" if goal is not None else ""
    print(
        f"{name:<6} {case:<18} note_seen {figures['note_seen'] * 1000:8.1f} ms {target:<10}"
        f"  open {figures['open']:6.2f} s  first 'seen' {figures['first_shown'] * 1000:6.1f} ms"
        f"  is:new {figures['is_new'] * 1000:6.1f} ms ({int(figures['new'])} papers)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=("100k", "1m"), default="100k")
    parser.add_argument("--no-year", action="store_true", help="skip the year of digests")
    args = parser.parse_args()
    import gen
    import gen_year

    with tempfile.TemporaryDirectory(prefix="first-seen-") as tmp:
        folder = Path(tmp)
        cache = folder / "cache"
        big = str(gen.ensure(args.size))
        run_case([big], folder / "warm.json", True, cache)  # builds the index cache: not counted
        goal = GOALS[args.size]
        show(args.size, "ro, no dates", run_case([big], folder / "none.json", True, cache), None)
        for case, readonly in (("rw, first open", False), ("rw, again", False), ("ro, dates stored", True)):
            figures = run_case([big], folder / "big.json", readonly, cache)
            show(args.size, case, figures, goal if case != "rw, first open" else None)
        if args.no_year:
            return
        gen_year.ensure()
        days = folder / "year"  # links to the year's files: the 366th is written here, not beside them
        days.mkdir()
        for k in range(gen_year.DAYS):
            (days / gen_year.day_path(k).name).symlink_to(gen_year.day_path(k))
        year = str(days)
        run_case([year], folder / "warm.json", True, cache)
        for case, readonly in (("rw, first open", False), ("rw, again", False), ("ro, dates stored", True)):
            show("year", case, run_case([year], folder / "year.json", readonly, cache), None)
        gen_year.write_day(gen_year.DAYS, days)
        show("year", "rw, a new file", run_case([year], folder / "year.json", False, cache), None)
        show("year", "rw, again", run_case([year], folder / "year.json", False, cache), None)


if __name__ == "__main__":
    main()
