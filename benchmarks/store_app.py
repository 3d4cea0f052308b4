"""What the store costs the app (issue 11): start-up and ``j`` onto an unread paper with 1M read marks stored.

    python benchmarks/store_app.py                         # this tree only
    python benchmarks/store_app.py --before /tmp/old-tree  # and another checkout beside it, same run
    python benchmarks/store_app.py --marks 100000          # smaller, quicker

A store with 10k annotated papers (title and abstract snapshots) and ``--marks`` read
marks and first-seen dates, and a digest of ``--papers`` unread papers. Each tree runs in
a fresh process (its own ``PYTHONPATH``) on a copy of the same store files:

- start-up: from ``Store(path)`` to the app's list showing the digest (Pilot, in-process,
  headless), and the part of it spent building the library (store open + collection);
- ``j`` onto an unread paper [goal: handled in <= 16 ms; the mark reaches the disk later]:
  the screen's handling of the key timed inside the app (the read mark, the row and border
  update, the detail pane's new paper), and the whole ``pilot.press("j")`` round trip (which
  adds Textual's own key dispatch and a headless repaint);
- ``b`` (bookmark on, then off) timed the same way: the core call, until on disk.

Figures from a shared 2-core machine are noisy; the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def build(folder: Path, annotated: int, marks: int, n_papers: int) -> None:
    """The store files and the digest, made with this tree's store."""
    sys.path.insert(0, str(ROOT.parent))
    sys.path.insert(0, str(ROOT))
    from store import new_store, papers  # type: ignore[import-not-found]

    folder.mkdir(parents=True, exist_ok=True)
    new_store(folder, papers(annotated), marks)
    lines = ["Trending papers", ""]
    for k in range(n_papers):
        lines += [f"Unread study {k} of neural operators and things", "We study a problem and propose a method. " * 8]
    (folder / "digest.txt").write_text("\n".join(lines) + "\n")


def measure(folder: Path, presses: int) -> dict[str, Any]:
    """Run in the tree under test: start the app on the store and the digest, press j."""
    from reader.app import PaperReaderApp
    from reader.digest import load_library
    from reader.screens.main import MainScreen
    from reader.store import Store
    from reader.widgets.paper_list import PaperList

    res: dict[str, Any] = {}
    library = load_library([str(folder / "digest.txt")])
    spent = [0.0]  # time in the screen's handlers of the key (the read mark, the detail pane)

    def timing(name: str) -> None:
        original = getattr(MainScreen, name)

        def timed(self: Any, *args: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(self, *args)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(MainScreen, name, timed)

    timing("_mark_read")
    timing("_show_detail")
    timing("_act")  # a key that writes: the core call, the store's fsync, the collection taking it in

    async def run() -> None:
        start = time.perf_counter()
        store = Store(folder / "store.json")
        app = PaperReaderApp(library, store, store_path=str(folder / "store.json"))
        res["built"] = time.perf_counter() - start
        async with app.run_test(size=(150, 45)) as pilot:
            while True:
                await pilot.pause()
                screen = app.screen
                if isinstance(screen, MainScreen) and len(screen.query_one(PaperList).rows):
                    break
            res["startup"] = time.perf_counter() - start
            await app.workers.wait_for_complete()
            await pilot.pause()
            res["settled"] = time.perf_counter() - start
            app.screen.query_one(PaperList).focus()
            await pilot.pause()
            walls, handled = [], []
            for _ in range(presses):
                spent[0] = 0.0
                t = time.perf_counter()
                await pilot.press("j")
                walls.append(time.perf_counter() - t)
                handled.append(spent[0])
            res["press"] = walls
            res["handled"] = handled
            acts: list[float] = []
            for _ in range(presses // 2):  # b twice on the paper: on, then off
                spent[0] = 0.0
                await pilot.press("b")
                acts.append(spent[0])
            res["bookmark"] = acts
            res["read_after"] = sum(1 for p in library.papers[: presses + 1] if app.core.is_read(p))

    asyncio.run(run())
    return res


def pct(values: list[float]) -> str:
    if not values:
        return "-"
    ms = sorted(v * 1000 for v in values)
    return f"{statistics.median(ms):.1f}/{ms[min(len(ms) - 1, int(len(ms) * 0.95))]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotated", type=int, default=10_000)
    parser.add_argument("--marks", type=int, default=1_000_000)
    parser.add_argument("--papers", type=int, default=2_000, help="unread papers in the digest")
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--before", help="another checkout to measure beside this one (e.g. the commit before)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.presses)))
        return
    trees = {"this tree": ROOT.parent}
    if args.before:
        trees["before"] = Path(args.before).resolve()
    with tempfile.TemporaryDirectory(prefix="store-app-bench-") as tmp:
        base = Path(tmp) / "base"
        build(base, args.annotated, args.marks, args.papers)
        results = {}
        for name, tree in trees.items():
            work = Path(tmp) / name.replace(" ", "-")
            shutil.copytree(base, work)
            env = {**os.environ, "PYTHONPATH": str(tree), "XDG_CACHE_HOME": str(work / "cache")}
            env.update(PAPER_READER_CACHE=str(work / "cache"), PAPER_READER_CONFIG=str(work / "none.toml"))
            script = [sys.executable, str(ROOT / "store_app.py"), "--measure", str(work)]
            out = subprocess.run(
                [*script, "--presses", str(args.presses)], env=env, capture_output=True, text=True, check=False
            )
            if out.returncode:
                print(f"{name}: failed\n{out.stderr[-2000:]}")
                continue
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    load = os.getloadavg()[0]
    print(
        f"app with the store (load average {load:.1f} on {os.cpu_count()} cores: shared machine, noisy); "
        f"{args.annotated:,} annotated, {args.marks:,} read marks + first-seen dates, {args.papers:,}-paper digest"
    )
    names = list(results)
    print(f"{'':58}" + "".join(f"{n:>18}" for n in names))
    rows = [
        ("store open + library built (s)", lambda r: f"{r['built']:.2f}"),
        ("start-up: Store() to the list shown (s)", lambda r: f"{r['startup']:.2f}"),
        ("start-up: ... to workers done (s)", lambda r: f"{r['settled']:.2f}"),
        ("j onto an unread paper, handler p50/p95 (ms) [<=16]", lambda r: pct(r["handled"])),
        ("j, whole pilot.press p50/p95 (ms)", lambda r: pct(r["press"])),
        ("b (bookmark on/off, fsync'd), handler p50/p95 (ms)", lambda r: pct(r.get("bookmark", []))),
        ("papers read after the presses", lambda r: str(r["read_after"])),
    ]
    for label, cell in rows:
        print(f"{label:58}" + "".join(f"{cell(results[n]):>18}" for n in names))


if __name__ == "__main__":
    main()
