"""Benchmarks for issue 4: search-as-you-type at 100k and 1M papers, and the figures around it.

    python benchmarks/run.py            # everything (generates benchmarks/data/ on first run)
    python benchmarks/run.py --quick    # skip the 1M-paper rows

Prints one table; each figure is the median of several runs (``--runs``). The raw
figures also go to benchmarks/data/results-*.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import gen  # noqa: E402

# Typed letter by letter: typos, partial words, words found only in abstracts.
QUERIES = [
    "nueral opertor",  # typos in both words
    "mathemat reason",  # partial words
    "mcculloch pitts",  # abstract-only words
    "reinforcment lerning",  # typos
    "symbolic regression",
    "low-rank adaptation",
]
VISIBLE = 30  # rows whose title highlights are computed per keystroke
CLI_QUERIES = ["neural operator", "nueral opertor", "mcculloch"]
STORE_PAPERS = 10_000


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def keystrokes() -> list[str]:
    return [q[:i] for q in QUERIES for i in range(1, len(q) + 1)]


# -- worker: runs in its own process so load time and peak RSS are clean ------------------
def worker(size: str, runs: int) -> dict:
    from reader.digest import load_library
    from reader.index.engine import SearchEngine, State
    from reader.index.highlight import title_spans

    path = gen.digest_path(size)
    t0 = time.perf_counter()
    library = load_library([path])
    t1 = time.perf_counter()
    engine = SearchEngine(library.papers)
    t2 = time.perf_counter()
    state = State()
    keys = keystrokes()

    def one(prefix: str) -> int:
        result = engine.search(prefix, state)
        for i in result.indices[:VISIBLE]:
            title_spans(engine, engine.papers[int(i)], result.query)
        return len(result)

    per_run = []
    worst: dict[str, float] = {}
    for _ in range(runs):
        # Every run starts cold: what one query caches only helps the keystrokes after it.
        getattr(engine, "clear_caches", lambda: None)()
        times = []
        for prefix in keys:
            s = time.perf_counter()
            one(prefix)
            ms = (time.perf_counter() - s) * 1000
            times.append(ms)
            worst[prefix] = max(worst.get(prefix, 0.0), ms)
        per_run.append({"p50": _pct(times, 50), "p95": _pct(times, 95), "max": max(times)})

    # The UI ranks in a thread worker: how long can the event loop be kept waiting?
    gaps: list[float] = []
    done = threading.Event()

    def typing() -> None:
        for prefix in keys:
            one(prefix)
        done.set()

    getattr(engine, "clear_caches", lambda: None)()
    thread = threading.Thread(target=typing)
    thread.start()
    while not done.is_set():
        s = time.perf_counter()
        time.sleep(0.001)
        gaps.append((time.perf_counter() - s) * 1000)
    thread.join()
    return {
        "size": size,
        "papers": len(library.papers),
        "file_mb": path.stat().st_size / 1e6,
        "load_s": t1 - t0,
        "index_s": t2 - t1,
        "keystroke_p50_ms": statistics.median(r["p50"] for r in per_run),
        "keystroke_p95_ms": statistics.median(r["p95"] for r in per_run),
        "keystroke_max_ms": statistics.median(r["max"] for r in per_run),
        "slowest": sorted(worst.items(), key=lambda kv: -kv[1])[:5],
        "loop_stall_max_ms": max(gaps) if gaps else 0.0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_worker(size: str, runs: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", size, "--runs", str(runs)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- load + index through the on-disk index cache -------------------------------------------
def cached_worker(size: str, cache: str) -> dict:
    """One process: load_library, then the index from the cache (built and saved on a miss)."""
    from reader.digest import load_library
    from reader.index import cache as index_cache

    path = gen.digest_path(size)
    hit = any(Path(cache).glob(f"*{index_cache.SUFFIX}"))
    t0 = time.perf_counter()
    library = load_library([path])
    t1 = time.perf_counter()
    # As the app and the CLI do: the key stands on the digest's bytes, hashed while it was parsed.
    key_args = (library.content_key, len(library.papers))
    engine = index_cache.cached_engine(library.papers, cache, None, *key_args)  # loads, or builds and saves
    t2 = time.perf_counter()
    engine.search("nueral opertor")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t3 = time.perf_counter()
    index_cache.papers_key(library.papers, *key_args)  # the hashing part of index_s, timed again on its own
    return {"load_s": t1 - t0, "hash_s": time.perf_counter() - t3, "index_s": t2 - t1, "hit": hit, "peak_rss_mb": rss}


def cached_load(size: str, runs: int) -> dict:
    """Load + index on a first run (cold cache: built and saved) and on the runs after it (warm)."""

    def one(cache: str) -> dict:
        out = subprocess.run(
            [sys.executable, __file__, "--cached-worker", size, cache], check=True, capture_output=True, text=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    with tempfile.TemporaryDirectory() as cache:
        cold = one(cache)
        warm = [one(cache) for _ in range(runs)]
    assert not cold["hit"] and all(w["hit"] for w in warm)
    return {
        "cold": cold,
        **{k: statistics.median(w[k] for w in warm) for k in ("load_s", "hash_s", "index_s")},
        "peak_rss_mb": max(w["peak_rss_mb"] for w in warm),
    }


# -- whole-process CLI vs fzf -----------------------------------------------------------
def _timed(cmd: list[str], stdin_path: Path | None = None, env: dict | None = None) -> float:
    with contextlib.ExitStack() as files:
        stdin = files.enter_context(stdin_path.open("rb")) if stdin_path else subprocess.DEVNULL
        s = time.perf_counter()
        subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        return time.perf_counter() - s


def cli_vs_fzf(path: Path, runs: int) -> list[dict]:
    """Per query: the CLI with a warm index cache, with an empty one (builds and saves), and fzf."""
    exe = Path(sys.executable).with_name("paper-reader")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "reader"]
    fzf = shutil.which("fzf")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        env = dict(os.environ, PAPER_READER_DB=str(Path(tmp) / "store.json"), PAPER_READER_CACHE=str(cache))
        for query in CLI_QUERIES:
            command = base + ["search", query, str(path), "--limit", "20"]

            def cold(command: list[str] = command) -> float:
                shutil.rmtree(cache, ignore_errors=True)
                return _timed(command, env=env)

            ours_cold = statistics.median(cold() for _ in range(runs))
            ours = statistics.median(_timed(command, env=env) for _ in range(runs))  # the last cold run filled it
            theirs = (
                statistics.median(_timed([fzf, "--filter", query], stdin_path=path) for _ in range(runs))
                if fzf
                else None
            )
            rows.append({"query": query, "cli_s": ours, "cli_cold_s": ours_cold, "fzf_s": theirs})
    return rows


# -- store writes -------------------------------------------------------------------------
def store_writes(runs: int) -> dict:
    from reader.digest import load_library
    from reader.store import Store

    papers = load_library([gen.digest_path("10k")]).papers[:STORE_PAPERS]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "store.json")
        store.update_many(
            papers,
            lambda r: (r.__setitem__("bookmarked_at", "2025-01-01T00:00:00+00:00"), r.__setitem__("tags", ["bench"])),
        )
        size_mb = store.path.stat().st_size / 1e6
        times: dict[str, list[float]] = {"bookmark": [], "tag": [], "read": []}
        for k in range(max(20, runs * 5)):
            paper = papers[(k * 7919) % len(papers)]
            for name, call in (
                ("bookmark", lambda paper=paper, k=k: store.set_bookmark(paper, k % 2 == 1)),
                ("tag", lambda paper=paper, k=k: store.add_tags(paper, [f"t{k}"])),
                ("read", lambda paper=paper: store.mark_read([paper])),
            ):
                s = time.perf_counter()
                call()
                times[name].append((time.perf_counter() - s) * 1000)
    return {
        "store_mb": size_mb,
        **{f"{n}_p50_ms": _pct(v, 50) for n, v in times.items()},
        **{f"{n}_p95_ms": _pct(v, 95) for n, v in times.items()},
    }


# -- table --------------------------------------------------------------------------------
def table(results: dict) -> str:
    rows: list[tuple[str, str, str]] = []
    for size in ("10k", "100k", "1m"):
        r = results.get(size)
        if not r:
            continue
        goal = {"100k": 16, "1m": 50}.get(size)
        rows.append(
            (
                f"keystroke p50 / p95 / max, {size} ({r['papers']:,} papers)",
                f"{r['keystroke_p50_ms']:.1f} / {r['keystroke_p95_ms']:.1f} / {r['keystroke_max_ms']:.1f} ms",
                f"p95 <= {goal} ms" if goal else "",
            )
        )
        rows.append((f"longest event-loop stall, search in a thread, {size}", f"{r['loop_stall_max_ms']:.1f} ms", ""))
        rows.append(
            (
                f"load + index, {size} ({r['file_mb']:.0f} MB)",
                f"{r['load_s']:.2f} + {r['index_s']:.2f} = {r['load_s'] + r['index_s']:.2f} s",
                "<= 3 s" if size == "100k" else "",
            )
        )
        c = r.get("cached")
        if c:
            rows.append(
                (
                    f"load + cached index, {size}, second run (hash {c['hash_s']:.2f} s)",
                    (
                        f"{c['load_s']:.2f} + {c['index_s']:.2f} = {c['load_s'] + c['index_s']:.2f} s"
                        f" (first run {c['cold']['load_s'] + c['cold']['index_s']:.2f} s, building and saving)"
                    ),
                    "<= 3 s" if size == "100k" else "",
                )
            )
        rows.append(
            (
                f"peak RSS, {size}",
                f"{r['peak_rss_mb']:.0f} MB = {r['peak_rss_mb'] / r['file_mb']:.2f}x file",
                "<= 3x file" if size == "1m" else "",
            )
        )
    for row in results.get("cli", []):
        fzf = f"{row['fzf_s']:.2f} s" if row["fzf_s"] is not None else "(fzf not installed)"
        ratio = f" ({row['cli_s'] / row['fzf_s']:.2f}x)" if row["fzf_s"] else ""
        rows.append(
            (
                f"CLI search '{row['query']}' 100k, warm index cache, vs fzf --filter",
                f"{row['cli_s']:.2f} s vs {fzf}{ratio}",
                "<= 0.5x fzf" if row["fzf_s"] else "",
            )
        )
        if "cli_cold_s" in row:
            ratio = f" ({row['cli_cold_s'] / row['fzf_s']:.2f}x fzf)" if row["fzf_s"] else ""
            rows.append(("  same, empty index cache (builds and saves it)", f"{row['cli_cold_s']:.2f} s{ratio}", ""))
    s = results.get("store")
    if s:
        rows.append(
            (
                f"store write, {STORE_PAPERS:,} annotated ({s['store_mb']:.1f} MB), p50/p95",
                f"bookmark {s['bookmark_p50_ms']:.1f}/{s['bookmark_p95_ms']:.1f}, "
                f"tag {s['tag_p50_ms']:.1f}/{s['tag_p95_ms']:.1f}, "
                f"read {s['read_p50_ms']:.1f}/{s['read_p95_ms']:.1f} ms",
                "<= 20 ms",
            )
        )
    w = [max(len(r[i]) for r in rows + [("figure", "measured", "goal")]) for i in range(3)]
    lines = [f"{'figure':<{w[0]}}  {'measured':<{w[1]}}  goal", "-" * (sum(w) + 4)]
    lines += [f"{a:<{w[0]}}  {b:<{w[1]}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 1M-paper rows")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median taken; default 5)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cached-worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", default=None, help="only these parts: 10k 100k 1m cli store (default all)")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.runs)))
        return
    if args.cached_worker:
        print(json.dumps(cached_worker(*args.cached_worker)))
        return
    parts = args.only or ["10k", "100k", "1m", "cli", "store"]
    if args.quick and "1m" in parts:
        parts.remove("1m")
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    for size in ("10k", "100k", "1m"):
        if size in parts or (size == "100k" and "cli" in parts) or (size == "10k" and "store" in parts):
            gen.ensure(size, log)
    results: dict = {"machine": f"{os.cpu_count()} cores", "python": sys.version.split()[0]}
    for size in ("10k", "100k", "1m"):
        if size not in parts:
            continue
        log(f"searching {size} ...")
        # Load/index time and RSS: median over fresh processes (one process at 1M, runs inside it).
        procs = 1 if size == "1m" else 3
        inner = max(3, args.runs // procs) if size == "1m" else args.runs
        outs = [run_worker(size, inner) for _ in range(procs)]
        merged = {
            k: statistics.median(o[k] for o in outs) if isinstance(outs[0][k], (int, float)) else outs[0][k]
            for k in outs[0]
        }
        merged["loop_stall_max_ms"] = max(o["loop_stall_max_ms"] for o in outs)
        results[size] = merged
        log(f"  slowest keystrokes: {merged['slowest']}")
        if size != "10k":  # below the cache's threshold
            log(f"load + cached index {size} ...")
            merged["cached"] = cached_load(size, 1 if size == "1m" else 3)
    if "cli" in parts:
        log("CLI vs fzf on 100k ...")
        results["cli"] = cli_vs_fzf(gen.digest_path("100k"), max(3, args.runs // 2))
    if "store" in parts:
        log("store writes ...")
        results["store"] = store_writes(args.runs)
    gen.DATA.mkdir(exist_ok=True)
    (gen.DATA / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=1))
    print(f"machine: {results['machine']}, Python {results['python']}")
    print(table(results))


if __name__ == "__main__":
    main()
