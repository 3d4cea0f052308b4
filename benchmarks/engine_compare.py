"""Our postings beside tantivy at 100k papers (issue 14): should tantivy hold postings and segments?

    python benchmarks/engine_compare.py            # 100k synthetic papers + the bundled 164
    python benchmarks/engine_compare.py --size 10k --runs 2
    python benchmarks/engine_compare.py --year     # a year of daily files: segments vs one index

Both engines index the same papers: the bundled digest (so the relevance set's papers are
there) followed by gen.py's synthetic digest of that size. Every figure comes from a fresh
process (so peak RSS is that step's own):
- **build**: ours, ``SearchEngine(papers)`` then saved as the index cache saves it (one
  process; the app builds in a helper process while parsing); tantivy, an ``IndexWriter``
  (200 MB heap, its own threads on both cores) adding every paper, commit, merges waited for.
  Parsing the digest is the same for both and shown on its own row.
- **reopen**: the saved index opened from disk until the first query has answered (ours:
  ``storage.load`` of the .npz; tantivy: ``Index.open`` + searcher). Both then parse the
  digest too (the app needs the papers), so peak RSS covers index + papers.
- **keystroke p50 / p95 / max**: benchmarks/run.py's six queries typed letter by letter, cold
  caches each run. Ours: every match ranked, plus title highlight spans of the first 30 rows
  (what the list shows). Tantivy: top 30 by BM25 with the total count, and their stored rows
  (see engines.Tantivy.query: fuzzy+prefix term queries per word, OR'd; no highlights).
- **relevance**: the relevance set (tests/relevance_set.tsv) against all these papers.
- **index size**: the .npz file; tantivy's index folder.
With ``--year`` (gen_year.py's 365 files): tantivy built day by day as a daily reader adds
files (each file parsed, added and committed: a segment each, merged by tantivy's policy),
then a new day's file added to the reopened index until it answers, and the keystrokes;
beside ours as it works today (one index over all the papers, built again on any change).
Prints figures only; asserts nothing. Figures taken on a shared machine are noisy: the load
average is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import engines  # noqa: E402
import gen  # noqa: E402
import gen_year  # noqa: E402
import run  # noqa: E402

from tests.relevance_set import load as load_set  # noqa: E402

VISIBLE = 30


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _papers(size: str) -> tuple[list, float]:
    from reader.digest import bundled_digest, load_library

    start = time.perf_counter()
    papers = load_library([bundled_digest(), gen.digest_path(size)]).papers
    return papers, time.perf_counter() - start


def _pct(values: list[float], p: float) -> float:
    return run._pct(values, p) if hasattr(run, "_pct") else sorted(values)[int(p / 100 * (len(values) - 1))]


def _latency(one, runs: int, clear=lambda: None) -> dict:
    keys = run.keystrokes()
    per_run = []
    for _ in range(runs):
        clear()
        times = []
        for prefix in keys:
            s = time.perf_counter()
            one(prefix)
            times.append((time.perf_counter() - s) * 1000)
        per_run.append((_pct(times, 50), _pct(times, 95), max(times)))
    return {
        "p50_ms": statistics.median(r[0] for r in per_run),
        "p95_ms": statistics.median(r[1] for r in per_run),
        "max_ms": statistics.median(r[2] for r in per_run),
    }


def _recall(rank, papers) -> dict:
    """Overall recall@k and MRR on the relevance set, and recall@3 per class (under "r@3 by class")."""
    from relevance import by_class, metrics

    row_of = {p.id: i for i, p in enumerate(papers)}
    cases = load_set()
    found = []
    for case in cases:
        rows = rank(case.query)
        target = row_of[case.paper_id]
        found.append(rows.index(target) + 1 if target in rows else None)
    classes = {cls: m["r@3"] for cls, m in by_class(cases, found).items() if cls != "overall"}
    return {**metrics(found), "r@3 by class": classes}


# -- workers (each in its own process) -------------------------------------------------------
def ours_build(size: str, folder: Path) -> dict:
    from reader.index import storage
    from reader.index.engine import SearchEngine

    papers, parse_s = _papers(size)
    start = time.perf_counter()
    engine = SearchEngine(papers)
    built = time.perf_counter()
    path = folder / "ours.npz"
    storage.save(engine, path)
    saved = time.perf_counter()
    return {
        "parse_s": parse_s,
        "build_s": built - start,
        "save_s": saved - built,
        "size_mb": path.stat().st_size / 1e6,
        "rss_mb": _rss_mb(),
    }


def ours_open(size: str, folder: Path, runs: int) -> dict:
    from reader.index import storage
    from reader.index.highlight import title_spans

    papers, parse_s = _papers(size)
    start = time.perf_counter()
    engine = storage.load(folder / "ours.npz", papers)
    engine.search("nueral opertor")
    open_s = time.perf_counter() - start

    def one(prefix: str) -> int:
        result = engine.search(prefix)
        for i in result.indices[:VISIBLE]:
            title_spans(engine, engine.papers[int(i)], result.query)
        return len(result)

    latency = _latency(one, runs, getattr(engine, "clear_caches", lambda: None))
    recall = _recall(lambda q: engines.ours_ranked(engine.search(q))[: engines.Tantivy.LIMIT], papers)
    return {"parse_s": parse_s, "open_s": open_s, **latency, "recall": recall, "rss_mb": _rss_mb()}


def tantivy_build(size: str, folder: Path) -> dict:
    papers, parse_s = _papers(size)
    start = time.perf_counter()
    index = engines.Tantivy(folder / "tantivy")
    index.add([(p.title, p.abstract) for p in papers])
    built = time.perf_counter()
    return {
        "parse_s": parse_s,
        "build_s": built - start,
        "save_s": 0.0,
        "size_mb": engines.dir_size(folder / "tantivy") / 1e6,
        "rss_mb": _rss_mb(),
        "segments": index.searcher.num_segments,
    }


def tantivy_open(size: str, folder: Path, runs: int) -> dict:
    start = time.perf_counter()
    index = engines.Tantivy(folder / "tantivy", create=False)
    index.reload()
    index.search("nueral opertor")
    open_s = time.perf_counter() - start
    papers, parse_s = _papers(size)  # the app needs the papers as well

    latency = _latency(lambda prefix: index.search(prefix, "or", limit=VISIBLE), runs)
    recall = _recall(index.ranker("or"), papers)
    # Every word required, as our full matches are: how fast and how good is that?
    strict = _latency(lambda prefix: index.search(prefix, "and", limit=VISIBLE), runs)
    strict["recall"] = _recall(index.ranker("and"), papers)
    return {"parse_s": parse_s, "open_s": open_s, **latency, "recall": recall, "and": strict, "rss_mb": _rss_mb()}


# -- a year of daily files (--year): segments, one per day, against one index over everything -----
def _day_papers(path: Path) -> list:
    from reader.digest import load_library

    return load_library([path]).papers


def year_tantivy_build(folder: Path) -> dict:
    """Day by day, as a daily reader adds them: each file parsed, added and committed (a segment each)."""
    year = sorted(gen_year.YEAR.glob("*.txt"))
    start = time.perf_counter()
    index = engines.Tantivy(folder / "tantivy-year")
    writer = index.index.writer(200_000_000)
    row = 0
    for path in year:
        for paper in _day_papers(path):
            writer.add_document(index.tantivy.Document(row=row, title=paper.title, abstract=paper.abstract))
            row += 1
        writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return {
        "build_s": time.perf_counter() - start,
        "papers": row,
        "segments": index.searcher.num_segments,
        "size_mb": engines.dir_size(folder / "tantivy-year") / 1e6,
        "rss_mb": _rss_mb(),
    }


def year_tantivy_add(folder: Path, runs: int) -> dict:
    """A new day's file: open the index, parse and add the file, commit, search it; then keystrokes."""
    with tempfile.TemporaryDirectory(prefix="measure-day-") as tmp:
        new_day = gen_year.write_day(gen_year.DAYS, Path(tmp))
        start = time.perf_counter()
        index = engines.Tantivy(folder / "tantivy-year", create=False)
        index.reload()
        opened = time.perf_counter()
        writer = index.index.writer(50_000_000)
        base = index.searcher.num_docs
        for i, paper in enumerate(_day_papers(new_day)):
            writer.add_document(index.tantivy.Document(row=base + i, title=paper.title, abstract=paper.abstract))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        index.search("neural operator")
        added = time.perf_counter()
    latency = _latency(lambda prefix: index.search(prefix, "or", limit=VISIBLE), runs)
    return {"open_s": opened - start, "add_s": added - opened, **latency, "rss_mb": _rss_mb()}


def year_ours(folder: Path, runs: int) -> dict:
    """Today's way: one index over the whole year, rebuilt when any file changes; then keystrokes."""
    from reader.digest import load_library
    from reader.index import storage
    from reader.index.engine import SearchEngine
    from reader.index.highlight import title_spans

    start = time.perf_counter()
    papers = load_library([gen_year.YEAR]).papers
    parsed = time.perf_counter()
    engine = SearchEngine(papers)
    built = time.perf_counter()
    storage.save(engine, folder / "ours-year.npz")

    def one(prefix: str) -> int:
        result = engine.search(prefix)
        for i in result.indices[:VISIBLE]:
            title_spans(engine, engine.papers[int(i)], result.query)
        return len(result)

    latency = _latency(one, runs, getattr(engine, "clear_caches", lambda: None))
    return {
        "parse_s": parsed - start,
        "build_s": built - parsed,
        "papers": len(papers),
        "size_mb": (folder / "ours-year.npz").stat().st_size / 1e6,
        **latency,
        "rss_mb": _rss_mb(),
    }


def year_table(r: dict) -> str:
    o, tb, ta = r["ours"], r["tantivy-build"], r["tantivy-add"]
    rows = [
        (
            f"build the year ({o['papers']:,} papers)",
            f"parse {o['parse_s']:.2f} + index {o['build_s']:.2f} s",
            f"{tb['build_s']:.2f} s, parse included, a commit per file ({tb['segments']} segments after merges)",
        ),
        (
            "a new day's file: until it is searchable",
            f"everything again: {o['parse_s'] + o['build_s']:.2f} s (today; no segments yet)",
            f"open {ta['open_s']:.2f} s + parse, add, commit, search {ta['add_s']:.2f} s",
        ),
        ("index size on disk", f"{o['size_mb']:.0f} MB", f"{tb['size_mb']:.0f} MB"),
        (
            "keystroke p50 / p95 / max over the year",
            f"{o['p50_ms']:.1f} / {o['p95_ms']:.1f} / {o['max_ms']:.1f} ms",
            f"{ta['p50_ms']:.1f} / {ta['p95_ms']:.1f} / {ta['max_ms']:.1f} ms",
        ),
        ("peak RSS", f"{o['rss_mb']:.0f} MB (papers + index)", f"{ta['rss_mb']:.0f} MB (index, one day's papers)"),
    ]
    head = ("a year of daily files", "paper-reader (one index)", "tantivy (segments)")
    w = [max(len(x[i]) for x in rows + [head]) for i in range(3)]
    lines = [f"{head[0]:<{w[0]}}  {head[1]:<{w[1]}}  {head[2]}", "-" * (sum(w) + 4)]
    lines += [f"{a:<{w[0]}}  {b:<{w[1]}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


WORKERS = {
    "ours-build": ours_build,
    "ours-open": ours_open,
    "tantivy-build": tantivy_build,
    "tantivy-open": tantivy_open,
}
YEAR_WORKERS = {"year-ours": year_ours, "year-tantivy-build": year_tantivy_build, "year-tantivy-add": year_tantivy_add}


def worker(name: str, size: str, folder: str, runs: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--folder", folder, "--runs", str(runs)]
        + (["--size", size] if size in gen.SIZES else []),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(ours: dict, theirs: dict, size: str, papers: int) -> str:
    ob, oo, tb, to = ours["build"], ours["open"], theirs["build"], theirs["open"]

    def r(m: dict) -> str:
        return f"{m['r@1']:.2f} / {m['r@3']:.2f} / {m['r@10']:.2f} / {m['mrr']:.2f}"

    rows = [
        (f"parse the digests ({papers:,} papers), same for both", f"{ob['parse_s']:.2f} s", f"{tb['parse_s']:.2f} s"),
        ("build the index (ours: + save)", f"{ob['build_s']:.2f} + {ob['save_s']:.2f} s", f"{tb['build_s']:.2f} s"),
        ("peak RSS, parse + build", f"{ob['rss_mb']:.0f} MB", f"{tb['rss_mb']:.0f} MB"),
        ("index size on disk", f"{ob['size_mb']:.0f} MB", f"{tb['size_mb']:.0f} MB"),
        ("reopen from disk to first answer", f"{oo['open_s']:.2f} s", f"{to['open_s']:.2f} s"),
        ("peak RSS, reopen + parse + queries", f"{oo['rss_mb']:.0f} MB", f"{to['rss_mb']:.0f} MB"),
        (
            "keystroke p50 / p95 / max",
            f"{oo['p50_ms']:.1f} / {oo['p95_ms']:.1f} / {oo['max_ms']:.1f} ms",
            f"{to['p50_ms']:.1f} / {to['p95_ms']:.1f} / {to['max_ms']:.1f} ms",
        ),
        ("relevance set at this size: r@1 / r@3 / r@10 / MRR", r(oo["recall"]), r(to["recall"])),
        (
            "tantivy with every word required (AND): keystroke p50 / p95 / max",
            "",
            f"{to['and']['p50_ms']:.1f} / {to['and']['p95_ms']:.1f} / {to['and']['max_ms']:.1f} ms",
        ),
        ("  and its relevance: r@1 / r@3 / r@10 / MRR", "", r(to["and"]["recall"])),
    ]
    head = ("figure", "paper-reader postings", "tantivy " + _tantivy_version())
    w = [max(len(x[i]) for x in rows + [head]) for i in range(3)]
    lines = [f"{head[0]:<{w[0]}}  {head[1]:<{w[1]}}  {head[2]}", "-" * (sum(w) + 4)]
    lines += [f"{a:<{w[0]}}  {b:<{w[1]}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


def _tantivy_version() -> str:
    try:
        from importlib.metadata import version

        return version("tantivy")
    except Exception:
        return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="100k", choices=list(gen.SIZES), help="synthetic digest size (default 100k)")
    parser.add_argument("--runs", type=int, default=3, help="keystroke runs per engine (median; default 3)")
    parser.add_argument("--year", action="store_true", help="a year of daily files (gen_year.py) instead")
    parser.add_argument("--worker", choices=[*WORKERS, *YEAR_WORKERS], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker in YEAR_WORKERS:
        engines.private_environment()
        year_fn = YEAR_WORKERS[args.worker]
        more = () if args.worker == "year-tantivy-build" else (args.runs,)
        print(json.dumps(year_fn(Path(args.folder), *more)))
        return 0
    if args.worker:
        engines.private_environment()
        fn = WORKERS[args.worker]
        extra = (args.runs,) if args.worker.endswith("open") else ()
        print(json.dumps(fn(args.size, Path(args.folder), *extra)))
        return 0
    if not engines.tantivy_available():
        print("engine_compare.py: error: tantivy is not installed (pip install '.[bench]')", file=sys.stderr)
        return 2
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if args.year:
        return year_main(args.runs, log)
    gen.ensure(args.size, log)
    load_before = os.getloadavg()
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="measure-engines-") as folder:
        for engine in ("ours", "tantivy"):
            log(f"{engine}: build ...")
            build = worker(f"{engine}-build", args.size, folder, args.runs)
            log(f"{engine}: reopen, keystrokes, relevance ...")
            opened = worker(f"{engine}-open", args.size, folder, args.runs)
            results[engine] = {"build": build, "open": opened}
    load_after = os.getloadavg()
    papers = gen.SIZES[args.size] + 164
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(table(results["ours"], results["tantivy"], args.size, papers))
    print(f"tantivy queries: {engines.TANTIVY_VARIANTS['or']}")
    print(f"tantivy segments after build: {results['tantivy']['build']['segments']}")
    print("relevance set recall@3 by class at this size (ours / tantivy OR / tantivy AND):")
    ours_r, or_r = results["ours"]["open"]["recall"], results["tantivy"]["open"]["recall"]
    and_r = results["tantivy"]["open"]["and"]["recall"]
    for cls, value in ours_r["r@3 by class"].items():
        print(f"  {cls:<14} {value:.2f} / {or_r['r@3 by class'][cls]:.2f} / {and_r['r@3 by class'][cls]:.2f}")
    gen.DATA.mkdir(exist_ok=True)
    out = gen.DATA / f"engines-{args.size}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"load": [load_before, load_after], **results}, indent=1))
    return 0


def year_main(runs: int, log) -> int:
    gen_year.ensure(log)
    load_before = os.getloadavg()
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="measure-engines-year-") as folder:
        for name in YEAR_WORKERS:
            log(f"{name} ...")
            results[name.removeprefix("year-")] = worker(name, "year", folder, runs)
    load_after = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(year_table(results))
    print(f"tantivy queries: {engines.TANTIVY_VARIANTS['or']}")
    gen.DATA.mkdir(exist_ok=True)
    out = gen.DATA / f"engines-year-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"load": [load_before, load_after], **results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
