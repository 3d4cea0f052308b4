"""A year of daily digests (issue 14): what a daily reader pays when the history only grows.

    python benchmarks/year.py                          # every row, this tree beside the anchor
    python benchmarks/year.py --runs 3 --no-app --anchor /tmp/old
    python benchmarks/year.py --big                    # and the 100k-paper file in the app

Every row runs this tree's code and, when ``--anchor DIR`` names another checkout (default
/tmp/old, the commit the issue's "today" figures were measured on, if it is there), the same
command on that code, run for run in turn, so both see the same load. Each run is a fresh
process with a private store and index cache (a temp folder per code):
- CLI ``search "neural operator" YEAR/ --limit 20``, warm cache, against the same search on
  one day's file (warm too); ``cat YEAR/*.txt | fzf --filter`` beside them;
- the first CLI run after a new day's file (a 366th, 367th, ... written into the folder)
  against the warm runs right after it; the added files are removed at the end;
- in the app (tmux): command -> searchable (the list's border no longer says loading or
  indexing) on the year, warm, and on the first run after a new day's file (the store and the
  index cache kept between runs, as a daily reader's are);
- ``--big``: the 100k-paper file (benchmarks/gen.py) in the app, command -> searchable with
  no cache and with the cache the first run left.
Prints figures only; asserts nothing. The machine may be shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import gen  # noqa: E402
import gen_year  # noqa: E402

QUERY = "neural operator"
READY = "╭─ Papers ─"  # the list's border once loading and indexing are done
ANCHOR = Path("/tmp/old")


@dataclass
class Code:
    """One version of paper-reader: its checkout (run with ``python -m reader``) and its private places."""

    label: str
    tree: Path
    tmp: Path
    times: dict[str, list[float]] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        # Bytecode cached as an installed package has it (a development shell may turn that off:
        # every run would then compile the whole package, the newer code's more).
        here = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        return dict(
            here,
            PYTHONPATH=str(self.tree),
            PAPER_READER_DB=str(self.tmp / "store.json"),
            PAPER_READER_CACHE=str(self.tmp / "cache"),
            PAPER_READER_CONFIG=str(self.tmp / "config.toml"),
            XDG_DATA_HOME=str(self.tmp),
            XDG_CACHE_HOME=str(self.tmp),
            XDG_CONFIG_HOME=str(self.tmp),
        )

    def command(self) -> list[str]:
        return [sys.executable, "-m", "reader"]

    def add(self, row: str, seconds: float) -> None:
        self.times.setdefault(row, []).append(seconds)


def timed(cmd: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> float:
    """Seconds the command takes, run from a folder with no ``reader`` in it (``-m`` puts it first on the path)."""
    start = time.perf_counter()
    subprocess.run(
        cmd,
        input=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    return time.perf_counter() - start


def cli_rows(codes: list[Code], year: Path, runs: int, new_days: int) -> float | None:
    """Fills each code's CLI rows; returns fzf's median on the year (None without fzf)."""
    day = gen_year.day_path(gen_year.DAYS - 1, year)

    def search(code: Code, where: Path) -> float:
        return timed([*code.command(), "search", QUERY, str(where), "--limit", "20"], code.env())

    for code in codes:
        search(code, year)  # fills the index cache (and the store's dates)
        search(code, day)
    for _ in range(runs):
        for code in codes:
            code.add("warm_year", search(code, year))
            code.add("warm_day", search(code, day))
    fzf = shutil.which("fzf")
    fzf_times = []
    if fzf:
        text = b"".join(p.read_bytes() for p in sorted(year.glob("*.txt")))
        fzf_times = [timed([fzf, "--filter", QUERY], stdin=text) for _ in range(runs)]
    added: list[Path] = []
    try:
        for j in range(new_days):
            added.append(gen_year.write_day(gen_year.DAYS + j, year))
            for code in codes:
                code.add("first_after_new", search(code, year))
            for code in codes:
                code.add("warm_after_new", statistics.median(search(code, year) for _ in range(3)))
    finally:
        for path in added:
            path.unlink(missing_ok=True)
    return statistics.median(fzf_times) if fzf_times else None


# -- the app, in tmux ---------------------------------------------------------------------
def searchable(code: Code, args: list[str], timeout: float = 180) -> float:
    """Seconds from starting the app in a fresh tmux pane until the list's border says it is searchable."""
    sock = f"measure-year-{os.getpid()}"
    tmux = ["tmux", "-L", sock]
    pidfile = code.tmp / "app.pid"
    env = code.env()
    keys = ("PYTHONPATH", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")
    exports = " ".join(f"{k}={v}" for k, v in env.items() if k.startswith("PAPER_READER_") or k in keys)
    started = time.perf_counter()
    subprocess.run(
        [
            *tmux,
            "new",
            "-d",
            "-x",
            "120",
            "-y",
            "30",
            f"cd {code.tmp}; echo $$ > {pidfile}; {exports} exec {' '.join(args)}",
        ],
        check=True,
    )
    try:
        while time.perf_counter() - started < timeout:
            screen = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout
            if READY in screen:
                break
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        _wait_gone(pidfile)


def _wait_gone(pidfile: Path) -> None:
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        return
    deadline = time.perf_counter() + 20
    while Path(f"/proc/{pid}").exists() and time.perf_counter() < deadline:
        time.sleep(0.02)


def app_rows(codes: list[Code], year: Path, runs: int, new_days: int) -> None:
    for code in codes:
        timed([*code.command(), "search", QUERY, str(year)], code.env())  # the cache (the app may not write it
        searchable(code, [*code.command(), str(year)])  # before it is stopped) and first-seen dates
    for _ in range(runs):
        for code in codes:
            code.add("app_warm", searchable(code, [*code.command(), str(year)]))
    added: list[Path] = []
    try:
        for j in range(new_days):
            added.append(gen_year.write_day(gen_year.DAYS + 100 + j, year))
            for code in codes:
                code.add("app_first_after_new", searchable(code, [*code.command(), str(year)]))
                # The app is stopped the moment it is searchable, before it writes the new file's
                # segment: the rest of a day's use would, so the next new day is again one new file.
                timed([*code.command(), "search", QUERY, str(year)], code.env())
    finally:
        for path in added:
            path.unlink(missing_ok=True)


def big_rows(codes: list[Code], big: Path, runs: int) -> None:
    """100k papers in one file, in the app: searchable with no cache (a fresh one each run), then cached.

    The app is stopped as soon as it is searchable, before it may have written its cache: the
    cache is left by a CLI search on the file (what a day's use of the app leaves).
    """
    for _ in range(runs):
        for code in codes:
            shutil.rmtree(code.tmp / "cache", ignore_errors=True)
            code.add("big_cold", searchable(code, [*code.command(), str(big)]))
    for code in codes:
        timed([*code.command(), "search", QUERY, str(big)], code.env())
    for _ in range(runs):
        for code in codes:
            code.add("big_cached", searchable(code, [*code.command(), str(big)]))


def _median(code: Code, row: str) -> float | None:
    values = code.times.get(row)
    return statistics.median(values) if values else None


def _cell(code: Code, row: str) -> str:
    """A figure and its runs, for one code."""
    times = code.times.get(row) or []
    if row == "ratio_year_day":
        year, one = _median(code, "warm_year"), _median(code, "warm_day")
        return f"{year:.2f} s vs {one:.2f} s = {year / one:.1f}x" if year and one else "-"
    if row == "ratio_new_warm":
        firsts, afters = code.times.get("first_after_new") or [], code.times.get("warm_after_new") or []
        return ", ".join(f"{f:.2f}/{w:.2f} s = {f / w:.2f}x" for f, w in zip(firsts, afters)) or "-"
    if not times:
        return "-"
    if row in ("app_first_after_new",):
        return ", ".join(f"{t:.2f} s" for t in times)
    return f"{statistics.median(times):.2f} s"


ROWS = [
    ("ratio_year_day", "year ({files} files, {mb:.0f} MB): CLI search warm vs one day's file", "<= 2x"),
    ("ratio_new_warm", "same, first run after a new daily file / warm run after it", "<= 1.2x"),
    ("app_warm", "year in the app: command -> searchable, warm", ""),
    ("app_first_after_new", "same, first run after a new daily file", "<= 0.7 s"),
    ("big_cold", "100k in one file, app: command -> searchable, no cache", "<= 2 s"),
    ("big_cached", "same, cached", "<= 0.6 s"),
]


def table(codes: list[Code], files: int, mb: float, fzf: float | None) -> str:
    header = ["figure", *(c.label for c in codes), "goal"]
    rows = []
    for key, label, goal in ROWS:
        cells = [_cell(code, key) for code in codes]
        if all(cell == "-" for cell in cells):
            continue
        rows.append([label.format(files=files, mb=mb), *cells, goal])
    if fzf is not None:
        rows.append(["fzf --filter on the year (all files catenated)", *(f"{fzf:.2f} s" for _ in codes), ""])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "-" * (sum(widths) + 2 * len(widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per warm figure (median; default 5)")
    parser.add_argument("--new-days", type=int, default=3, help="new daily files added one after another (default 3)")
    parser.add_argument("--anchor", type=Path, default=ANCHOR if ANCHOR.is_dir() else None, help="checkout to compare")
    parser.add_argument("--no-anchor", action="store_true", help="this tree only")
    parser.add_argument("--no-app", action="store_true", help="skip the app rows (tmux)")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI rows")
    parser.add_argument("--big", action="store_true", help="also the 100k-paper file in the app")
    args = parser.parse_args()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    year = gen_year.ensure(log)
    files = sorted(year.glob("*.txt"))
    mb = sum(f.stat().st_size for f in files) / 1e6
    load_before = os.getloadavg()
    fzf = None
    with tempfile.TemporaryDirectory(prefix="measure-year-") as tmp:
        codes = [Code("this tree", ROOT.parent, Path(tmp) / "new")]
        if args.anchor is not None and not args.no_anchor:
            codes.append(Code(f"anchor {args.anchor}", args.anchor.resolve(), Path(tmp) / "anchor"))
        for code in codes:
            code.tmp.mkdir()
        if not args.no_cli:
            log("CLI rows ...")
            fzf = cli_rows(codes, year, args.runs, args.new_days)
        tmux = shutil.which("tmux") is not None
        if not tmux and (not args.no_app or args.big):
            log("tmux is not installed: app rows skipped (apt-get install -y tmux)")
        if tmux and not args.no_app:
            log("app rows (tmux) ...")
            app_rows(codes, year, max(1, args.runs // 2), args.new_days)
        if tmux and args.big:
            log("100k rows (tmux) ...")
            big_rows(codes, gen.ensure("100k", log), max(1, args.runs // 2))
    load_after = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(table(codes, len(files), mb, fzf))
    gen.DATA.mkdir(exist_ok=True)
    out = gen.DATA / f"year-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps({"codes": {c.label: c.times for c in codes}, "load": [load_before, load_after]}, indent=1)
    )


if __name__ == "__main__":
    main()
