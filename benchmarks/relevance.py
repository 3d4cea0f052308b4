"""Relevance of search (issue 12): recall@1/@3/@10 and MRR per class, paper-reader beside the anchors.

    python benchmarks/relevance.py                       # tests/relevance_set.tsv on the bundled digest
    python benchmarks/relevance.py --set hidden.tsv      # another set, same format (e.g. unseen queries)
    python benchmarks/relevance.py --misses paper-reader # also list the queries it misses in the top 3

Same queries for every engine (see benchmarks/engines.py for how each is queried):
paper-reader through the core its CLI and app share (or the CLI itself, ``--via-cli``;
partial matches after full ones when it gives them), ``fzf --filter`` over title+abstract
lines, the best of three rapidfuzz ``partial_ratio`` brute forces, and the best of four
ways of querying tantivy. MRR counts
a target ranked below 100 (or not found) as 0. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import engines  # noqa: E402

from tests.relevance_set import CLASSES, SET_PATH, Case, SetFileError, load  # noqa: E402

KS = (1, 3, 10)
MRR_DEPTH = 100


def ranks(cases: Sequence[Case], rank: engines.Ranker, row_of: dict[str, int]) -> list[int | None]:
    """The 1-based rank of each case's paper in the engine's answer (None: not in it)."""
    out: list[int | None] = []
    for case in cases:
        rows = rank(case.query)
        target = row_of[case.paper_id]
        out.append(rows.index(target) + 1 if target in rows else None)
    return out


def metrics(found: Sequence[int | None]) -> dict[str, float]:
    n = max(1, len(found))
    m = {f"r@{k}": sum(1 for r in found if r is not None and r <= k) / n for k in KS}
    m["mrr"] = sum(1 / r for r in found if r is not None and r <= MRR_DEPTH) / n
    return m


def by_class(cases: Sequence[Case], found: Sequence[int | None]) -> dict[str, dict[str, float]]:
    table = {}
    for cls in [c for c in CLASSES if any(case.cls == c for case in cases)]:
        table[cls] = metrics([r for case, r in zip(cases, found) if case.cls == cls])
    table["overall"] = metrics(found)
    return table


def best_variant(
    name: str, variants: dict[str, engines.Ranker], cases: Sequence[Case], row_of: dict[str, int]
) -> tuple[str, list[int | None], dict[str, dict[str, float]]]:
    """Score every variant; keep the one with the best overall recall@3 (then MRR)."""
    scored = {}
    for variant, rank in variants.items():
        found = ranks(cases, rank, row_of)
        scored[variant] = (found, metrics(found))
        log(f"  {name} {variant}: r@3 {scored[variant][1]['r@3']:.3f}, MRR {scored[variant][1]['mrr']:.3f}")
    best = max(scored, key=lambda v: (scored[v][1]["r@3"], scored[v][1]["mrr"]))
    return best, scored[best][0], {v: m for v, (_, m) in scored.items()}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def table(results: dict[str, dict[str, dict[str, float]]], counts: dict[str, int]) -> str:
    names = list(results)
    rows = list(next(iter(results.values())))
    cell = 5
    group = len(KS) + 1
    width = max(len("class (queries)"), *(len(f"{r} ({counts.get(r, 0)})") for r in rows)) + 2
    head = " " * width + "".join(f"{n[: cell * group + group - 2]:<{cell * group + group}}" for n in names)
    sub = f"{'class (queries)':<{width}}" + "".join(
        "".join(f"{h:>{cell}} " for h in [*(f"@{k}" for k in KS), "MRR"]) + " " for _ in names
    )
    lines = [head, sub, "-" * len(sub)]
    for r in rows:
        label = f"{r} ({counts.get(r, 0)})"
        vals = "".join(
            "".join(f"{results[n][r][m]:>{cell}.2f} " for m in [*(f"r@{k}" for k in KS), "mrr"]) + " " for n in names
        )
        if r == "overall":
            lines.append("-" * len(sub))
        lines.append(f"{label:<{width}}{vals}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", "--hidden", dest="set", default=str(SET_PATH), help="relevance set file (TSV)")
    parser.add_argument("--digest", help="digest the set's ids come from (default: the bundled digest)")
    parser.add_argument(
        "--engines",
        nargs="*",
        default=["paper-reader", "fzf", "rapidfuzz", "tantivy"],
        help="paper-reader fzf rapidfuzz tantivy (default: all)",
    )
    parser.add_argument(
        "--via-cli", action="store_true", help="query paper-reader through its CLI (in-process) instead of its core"
    )
    parser.add_argument("--misses", nargs="*", default=[], help="list these engines' misses in the top 3")
    args = parser.parse_args()

    engines.private_environment()
    from reader.digest import bundled_digest, load_library

    digest = Path(args.digest) if args.digest else bundled_digest()
    try:
        cases = load(args.set)
    except (OSError, SetFileError) as error:
        print(f"relevance.py: error: {error}", file=sys.stderr)
        return 2
    papers = load_library([digest]).papers
    ids = [p.id for p in papers]
    row_of = {pid: i for i, pid in enumerate(ids)}
    unknown = sorted({c.paper_id for c in cases} - set(row_of))
    if unknown:
        print(f"relevance.py: error: {args.set}: ids not in {digest}: {', '.join(unknown[:5])}", file=sys.stderr)
        return 2
    texts = [(p.title, p.abstract) for p in papers]

    results: dict[str, dict[str, dict[str, float]]] = {}
    found_by: dict[str, list[int | None]] = {}
    notes: list[str] = []
    seconds: dict[str, float] = {}
    for name in args.engines:
        start = time.perf_counter()
        log(f"{name} ...")
        if name == "paper-reader":
            ours = engines.ours_cli(digest, ids) if args.via_cli else engines.ours_core(digest, ids)
            label = "paper-reader (CLI)" if args.via_cli else "paper-reader"
            found = ranks(cases, ours, row_of)
        elif name == "fzf":
            fzf = engines.fzf_ranker(texts)
            if fzf is None:
                notes.append("fzf: not installed (apt-get install -y fzf); skipped")
                continue
            version = subprocess.run([shutil.which("fzf") or "fzf", "--version"], capture_output=True, text=True)
            label, found = f"fzf {version.stdout.split()[0]}", ranks(cases, fzf, row_of)
        elif name == "rapidfuzz":
            variants = {v: engines.rapidfuzz_ranker(texts, v) for v in engines.RAPIDFUZZ_VARIANTS}
            best, found, scored = best_variant(name, variants, cases, row_of)
            label = f"rapidfuzz {best}"
            notes.append(f"rapidfuzz {best} = {engines.RAPIDFUZZ_VARIANTS[best]}")
            notes += [
                f"  other: {v} ({engines.RAPIDFUZZ_VARIANTS[v]}): r@3 {m['r@3']:.2f}, MRR {m['mrr']:.2f}"
                for v, m in scored.items()
                if v != best
            ]
        elif name == "tantivy":
            if not engines.tantivy_available():
                notes.append("tantivy: not installed (pip install '.[bench]'); skipped")
                continue
            plain, stemmed = engines.Tantivy(), engines.Tantivy(stem=True)
            plain.add(texts)
            stemmed.add(texts)
            variants = {
                "or": plain.ranker("or"),
                "and": plain.ranker("and"),
                "or-stem": stemmed.ranker("or"),
                "parser": plain.ranker("parser"),
            }
            best, found, scored = best_variant(name, variants, cases, row_of)
            label = f"tantivy {best}"
            notes.append(f"tantivy {best} = {engines.TANTIVY_VARIANTS[best]}")
            notes += [
                f"  other: {v} ({engines.TANTIVY_VARIANTS[v]}): r@3 {m['r@3']:.2f}, MRR {m['mrr']:.2f}"
                for v, m in scored.items()
                if v != best
            ]
            notes.append("  tantivy index: simple tokenizer, lower case, ASCII folding, tokens over 40 chars dropped")
        else:
            parser.error(f"unknown engine {name!r}")
        seconds[label] = time.perf_counter() - start
        results[label] = by_class(cases, found)
        found_by[name] = found

    counts = {cls: sum(1 for c in cases if c.cls == cls) for cls in CLASSES}
    counts["overall"] = len(cases)
    print(f"relevance set: {args.set} ({len(cases)} queries); digest: {digest} ({len(papers)} papers)")
    print(f"recall@k: share of queries whose paper is in the top k; MRR: mean 1/rank (0 beyond {MRR_DEPTH})")
    if results:
        print(table(results, counts))
    for note in notes:
        print(note)
    print("time for all queries: " + ", ".join(f"{n} {s:.1f} s" for n, s in seconds.items()))
    for name in args.misses:
        found = found_by.get(name)
        if found is None:
            continue
        print(f"\n{name}: not in the top 3")
        for case, r in zip(cases, found):
            if r is None or r > 3:
                print(f"  {case.cls:<13} {case.query!r:<45} rank {r or '-':<4} {case.title[:60]}")
    engines.ROOT.joinpath("data").mkdir(exist_ok=True)
    out = engines.ROOT / "data" / f"relevance-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"set": str(args.set), "results": results, "notes": notes}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
