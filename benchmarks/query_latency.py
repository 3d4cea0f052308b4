"""Latency of the relevance set's queries among many papers, per class (issue 12's speed figures).

    python benchmarks/query_latency.py               # the bundled 164 + gen.py's 100k papers
    python benchmarks/query_latency.py --size 1m     # the issue's 1M figure (1.4 GB; not on a shared machine)

Every query of tests/relevance_set.tsv is typed letter by letter into the search engine the
app uses (caches cleared before each query, as a new query starts cold), each keystroke timed
from the query string to the ranked rows plus the title highlight spans of the first 30;
the last keystroke (the whole query) is also reported on its own: it is where a fallback
to partial matches runs (fewer than 10 papers match every word). Per class: the whole
query's p50 / p95 / max, every keystroke's p95, and how many queries found nothing at all
(and, once the engine gives partial matches, how many were answered by them).
Prints figures only; asserts nothing. The load average is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import engines  # noqa: E402
import gen  # noqa: E402
import run  # noqa: E402

from tests.relevance_set import CLASSES, SET_PATH, load  # noqa: E402

VISIBLE = 30


@dataclass
class ClassTimes:
    """One class's figures: the whole queries' times, every keystroke's, and how queries ended."""

    whole: list[float] = field(default_factory=list)
    keys: list[float] = field(default_factory=list)
    empty: int = 0
    partial: int = 0
    fallback: list[float] = field(default_factory=list)  # whole queries whose answer has partial matches


def segment_engine(size: str) -> Any:
    """The engine as the app has it on a cached open: the files' segments mapped (a cache is made
    in a temporary folder first, and opened again), then its bitmaps made as the app makes them."""
    import atexit
    import shutil
    import tempfile

    from reader.core.opening import open_library
    from reader.digest import bundled_digest
    from reader.store import Store

    paths = [bundled_digest(), gen.digest_path(size)]
    folder = tempfile.mkdtemp(prefix="query-latency-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["PAPER_READER_CACHE"] = folder
    open_library(paths, Store(Path(folder) / "store.json"))  # writes the segments
    engine = open_library(paths, Store(Path(folder) / "store.json")).collection.engine
    assert engine is not None
    engine.build_bitmaps()
    return engine


def measure(size: str, set_path: str, segments: bool = False) -> tuple[int, dict[str, ClassTimes]]:
    from reader.digest import bundled_digest, load_library
    from reader.index.highlight import title_spans

    engine_module, _cache = engines.engine_modules()
    if segments:
        engine = segment_engine(size)
        papers = engine.papers
    else:
        papers = load_library([bundled_digest(), gen.digest_path(size)]).papers
        engine = engine_module.SearchEngine(papers)
    clear = getattr(engine, "clear_caches", lambda: None)
    per_class: dict[str, ClassTimes] = {}
    for case in load(set_path):
        clear()
        times = per_class.setdefault(case.cls, ClassTimes())
        ms = 0.0
        result = None
        for i in range(1, len(case.query) + 1):
            start = time.perf_counter()
            result = engine.search(case.query[:i])
            for r in result.indices[:VISIBLE]:
                title_spans(engine, engine.papers[int(r)], result.query)
            ms = (time.perf_counter() - start) * 1000
            times.keys.append(ms)
        times.whole.append(ms)
        full = len(result.indices) if result is not None else 0
        everything = len(engines.ours_ranked(result)) if result is not None else 0
        times.empty += everything == 0
        if result is not None and len(result.partial):
            times.fallback.append(ms)  # the fallback to partial matches ran on this keystroke
        times.partial += full == 0 and everything > 0
    return len(papers), per_class


def table(per_class: dict[str, ClassTimes]) -> str:
    pct = run._pct
    rows = [(cls, per_class[cls]) for cls in CLASSES if cls in per_class]
    overall = ClassTimes(
        [t for _, c in rows for t in c.whole],
        [t for _, c in rows for t in c.keys],
        sum(c.empty for _, c in rows),
        sum(c.partial for _, c in rows),
        [t for _, c in rows for t in c.fallback],
    )
    rows.append(("overall", overall))
    head = (
        f"{'class':<15}{'queries':>8}  {'whole query p50 / p95 / max':>28}  {'keystroke p95':>14}"
        f"  {'found nothing':>13}  partial only"
    )
    lines = [head, "-" * len(head)]
    for name, c in rows:
        if name == "overall":
            lines.append("-" * len(head))
        w = f"{pct(c.whole, 50):.1f} / {pct(c.whole, 95):.1f} / {max(c.whole):.1f} ms"
        lines.append(f"{name:<15}{len(c.whole):>8}  {w:>28}  {pct(c.keys, 95):>11.1f} ms  {c.empty:>13}  {c.partial}")
    fb = overall.fallback
    if fb:
        lines.append(
            f"partial-match fallback ran on {len(fb)} whole queries: p50 {pct(fb, 50):.1f} / p95 {pct(fb, 95):.1f}"
            f" / max {max(fb):.1f} ms"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="100k", choices=list(gen.SIZES), help="synthetic digest size (default 100k)")
    parser.add_argument("--set", default=str(SET_PATH), help="relevance set file (default: the bundled set)")
    parser.add_argument(
        "--segments", action="store_true", help="search the engine a cached open maps (as the app has it)"
    )
    args = parser.parse_args()
    engines.private_environment()
    gen.ensure(args.size, lambda m: print(m, file=sys.stderr, flush=True))
    load_before = os.getloadavg()
    papers, per_class = measure(args.size, args.set, args.segments)
    load_after = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{papers:,} papers (the bundled digest + {args.size}); queries typed letter by letter")
    print(table(per_class))
    gen.DATA.mkdir(exist_ok=True)
    out = gen.DATA / f"query-latency-{args.size}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    data = {cls: asdict(times) for cls, times in per_class.items()}
    out.write_text(json.dumps({"load": [load_before, load_after], "papers": papers, "classes": data}, indent=1))


if __name__ == "__main__":
    main()
