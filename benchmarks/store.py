"""Store benchmarks for issue 11, today's store side by side with the schema-1 store (benchmarks/store_v1.py).

    python benchmarks/store.py            # 10k annotated papers, 1M read marks + 1M first-seen dates
    python benchmarks/store.py --marks 100000 --old-marks 20000   # smaller, quicker

Figures (the goal in brackets):
- bookmark/tag/note write until fsync'd, p50/p95, with 10k annotated papers (title and
  abstract snapshots) [p95 <= 5 ms], and again with the read marks and first-seen dates besides;
- a cursor read mark (what ``j`` onto an unread paper costs the store) with the marks stored
  [<= 16 ms handled], and the fsync'd mark (``R`` on one paper);
- bytes and time that opening a 100k-paper digest adds (first-seen dates) [<= 2 MB];
- import of a 100k-entry export [<= 10 s];
- store open (parse + validate) with 10k annotated + the marks [<= 1 s].

The schema-1 store rewrites everything per change, so it is measured with fewer marks
(``--old-marks``) and a smaller import (``--old-import``): its rows say what they ran.
Each process is fresh for open times. Figures from a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import store_v1  # noqa: E402

from reader.paper import Paper  # noqa: E402
from reader.store import Annotation, Store  # noqa: E402
from reader.store import marks as marksfile  # noqa: E402

ABSTRACT = (
    "We study a problem that matters and propose a method that works well on several benchmarks; "
    "experiments show it beats strong baselines while staying simple, fast and easy to reproduce. "
) * 6  # ~1.1 kB, a typical abstract


def papers(n: int, prefix: str = "Paper") -> list[Paper]:
    return [Paper.make(f"{prefix} {k}: a study of things number {k}", ABSTRACT) for k in range(n)]


def ms(seconds: list[float]) -> tuple[float, float]:
    values = sorted(s * 1000 for s in seconds)
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.95))]


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def writes(store: Any, sample: list[Paper], n: int) -> dict[str, tuple[float, float]]:
    out = {}
    k = iter(range(10**9))
    out["bookmark"] = ms(timed(lambda: store.set_bookmark(sample[next(k) % len(sample)], next(k) % 4 == 0), n))
    out["tag"] = ms(timed(lambda: store.add_tags(sample[next(k) % len(sample)], [f"t{next(k)}"]), n))
    out["note"] = ms(timed(lambda: store.set_note(sample[next(k) % len(sample)], f"note {next(k)}"), n))
    return out


def fake_ids(n: int, prefix: str) -> list[str]:
    return [f"{prefix}{k:011d}"[-12:] for k in range(n)]


# -- today's store -------------------------------------------------------------------------------


def new_store(folder: Path, annotated: list[Paper], marks: int) -> Path:
    path = folder / "store.json"
    store = Store(path)
    store.transaction(
        [
            (
                p,
                lambda r, k=k: r.update(
                    tags=["ml", f"t{k % 50}"], note="a note", bookmarked_at="2026-01-01T00:00:00+00:00"
                ),
            )
            for k, p in enumerate(annotated)
        ],
        None,
    )
    store.compact()
    if marks:
        ids = fake_ids(marks, "r")
        minute = int(time.time()) // 60
        with store.lock():  # the benchmark's own bulk fill: one append of every event
            store.marks.append([(pid, marksfile.READ, minute) for pid in ids])
            store.marks.append([(pid, marksfile.SEEN, minute - minute % 1440) for pid in ids])
    return path


def bench_new(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    res: dict[str, Any] = {}
    (folder / "a").mkdir(parents=True)
    floor = folder / "a" / "fsync-floor"
    with open(floor, "ab") as handle:

        def append() -> None:
            handle.write(b"x" * 200 + b"\n")
            handle.flush()
            os.fsync(handle.fileno())

        res["fsync_floor"] = ms(timed(append, args.writes))
    floor.unlink()
    annotated = papers(args.annotated)
    sample = annotated[:: max(1, len(annotated) // 200)]
    path = new_store(folder / "a", annotated, 0)
    res["size_10k"] = path.stat().st_size
    res["writes_10k"] = writes(Store(path), sample, args.writes)
    path = new_store(folder / "b", annotated, args.marks)
    res["marks_bytes"] = path.with_name("store.json.marks").stat().st_size
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    store = Store(path)
    res["open"] = time.perf_counter() - start
    res["open_cpu"] = time.process_time() - cpu
    res["writes_marks"] = writes(store, sample, args.writes)
    unread = papers(args.writes, "Unread")
    it = iter(unread)
    res["cursor_mark"] = ms(timed(lambda: store.mark_read_later(next(it)), args.writes))
    store.flush()
    it2 = iter(papers(args.writes, "Unread two"))
    res["synced_mark"] = ms(timed(lambda: store.mark_read([next(it2)]), args.writes))
    # Opening a 100k-paper digest: first-seen dates for papers never seen before.
    digest = {pid: "2026-11-29" for pid in fake_ids(100_000, "d")}
    before = path.with_name("store.json.marks").stat().st_size + path.stat().st_size
    start = time.perf_counter()
    store.record_seen(digest)
    res["digest_seconds"] = time.perf_counter() - start
    res["digest_bytes"] = path.with_name("store.json.marks").stat().st_size + path.stat().st_size - before
    # Import of a 100k-entry export into the store with 10k annotated.
    entries = [
        Annotation(pid, title=f"Imported paper {k}", abstract=ABSTRACT, tags=("imported",), note="from elsewhere")
        for k, pid in enumerate(fake_ids(args.import_n, "i"))
    ]
    start, cpu = time.perf_counter(), time.process_time()
    store.import_records(entries)
    res["import_seconds"] = time.perf_counter() - start
    res["import_cpu"] = time.process_time() - cpu
    # Store.records(): a dict per read mark, for scripts (the program reads annotations() and read_ids()).
    start = time.perf_counter()
    store.records()
    res["records"] = time.perf_counter() - start
    start = time.perf_counter()
    store.annotations()
    len(store.read_ids())
    res["typed"] = time.perf_counter() - start
    return res


# -- the schema-1 store ----------------------------------------------------------------------------


def old_store(folder: Path, annotated: list[Paper], marks: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "store.json"
    store = store_v1.Store(path)
    store.update_many(
        list(annotated),
        lambda r: r.update(tags=["ml"], note="a note", bookmarked_at="2026-01-01T00:00:00+00:00"),
    )
    if marks:
        ids = fake_ids(marks, "r")
        store.update_many(list(ids), lambda r: r.update(read_at="2026-01-01T00:00:00+00:00"))
        store.record_seen(dict.fromkeys(ids, "2026-11-01"))
    return path


def bench_old(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    res: dict[str, Any] = {}
    annotated = papers(args.annotated)
    sample = annotated[:: max(1, len(annotated) // 200)]
    path = old_store(folder / "a", annotated, 0)
    res["size_10k"] = path.stat().st_size
    res["writes_10k"] = writes(store_v1.Store(path), sample, args.writes)
    path = old_store(folder / "b", annotated, args.old_marks)
    res["marks_bytes"] = path.stat().st_size
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    store = store_v1.Store(path)
    res["open"] = time.perf_counter() - start
    res["open_cpu"] = time.process_time() - cpu
    n = max(3, args.writes // 10)
    res["writes_marks"] = writes(store, sample, n)
    it = iter(papers(n, "Unread"))
    res["cursor_mark"] = ms(timed(lambda: store.mark_read([next(it)]), n))
    res["synced_mark"] = res["cursor_mark"]
    digest = {pid: "2026-11-29" for pid in fake_ids(100_000, "d")}
    before = path.stat().st_size
    start = time.perf_counter()
    store.record_seen(digest)
    res["digest_seconds"] = time.perf_counter() - start
    res["digest_bytes"] = path.stat().st_size - before
    entries = [
        {
            "id": pid,
            "title": f"Imported paper {k}",
            "abstract": ABSTRACT,
            "tags": ["imported"],
            "note": "from elsewhere",
        }
        for k, pid in enumerate(fake_ids(args.old_import, "i"))
    ]
    start, cpu = time.perf_counter(), time.process_time()
    for entry in entries:
        store.merge(entry)
    res["import_seconds"] = time.perf_counter() - start
    res["import_cpu"] = time.process_time() - cpu
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotated", type=int, default=10_000)
    parser.add_argument("--marks", type=int, default=1_000_000, help="read marks and first-seen dates (today's store)")
    parser.add_argument("--old-marks", type=int, default=100_000, help="read marks for the schema-1 store")
    parser.add_argument("--writes", type=int, default=100, help="writes timed per kind")
    parser.add_argument("--import-n", type=int, default=100_000)
    parser.add_argument("--old-import", type=int, default=200)
    parser.add_argument("--skip-old", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        new = bench_new(args, Path(tmp) / "new")
        old = {} if args.skip_old else bench_old(args, Path(tmp) / "old")
    load = os.getloadavg()[0]
    rows = [
        ("this disk: append 200 bytes + fsync, p50/p95 (ms)", "fsync_floor", None),
        ("write p50/p95, 10k annotated (ms) [p95<=5]", "writes_10k", None),
        (f"write p50/p95, + marks (ms) [p95<=5]; today {args.marks:,}, v1 {args.old_marks:,}", "writes_marks", None),
        ("cursor read mark p50/p95 (ms) [<=16]", "cursor_mark", None),
        ("fsync'd read mark p50/p95 (ms)", "synced_mark", None),
        ("open: parse + validate, wall (s) [<=1]", "open", "s"),
        ("open: parse + validate, CPU (s)", "open_cpu", "s"),
        ("open a 100k digest: bytes added [<=2 MB]", "digest_bytes", "MB"),
        ("open a 100k digest: seconds", "digest_seconds", "s"),
        (f"import, wall (s) [<=10]; today {args.import_n:,} entries, v1 {args.old_import:,}", "import_seconds", "s"),
        ("import, CPU (s)", "import_cpu", "s"),
        ("Store.records(): a dict per record and read mark (scripts only) (s)", "records", "s"),
        ("what the app reads instead: annotations() + read_ids() (s)", "typed", "s"),
    ]
    print(f"store benchmark (load average {load:.1f} on {os.cpu_count()} cores: shared machine, noisy)")
    print(f"{'':76} {'today':>22} {'schema 1':>22}")

    def cell(value: Any, unit: str | None) -> str:
        if value is None:
            return "-"
        if isinstance(value, dict):
            return "  ".join(f"{k[:4]} {v[0]:.1f}/{v[1]:.1f}" for k, v in value.items())
        if isinstance(value, tuple):
            return f"{value[0]:.2f}/{value[1]:.2f}"
        if unit == "MB":
            return f"{value / 1e6:.2f} MB"
        return f"{value:.2f} s"

    for name, key, unit in rows:
        print(f"{name:76} {cell(new.get(key), unit):>22} {cell(old.get(key), unit):>22}")
    print(json.dumps({"today": new, "schema1": old}, default=str))


if __name__ == "__main__":
    main()
