"""A year of daily digests (issue 14): what a daily reader pays when the history only grows.

    python benchmarks/year.py                 # every row (generates benchmarks/data/year/ first)
    python benchmarks/year.py --runs 3 --no-app

Rows, each a median over fresh processes with a private store and index cache (a temp folder):
- CLI ``paper-reader search "neural operator" YEAR/ --limit 20``, warm index cache, against the
  same search on one day's file (warm too), and ``cat YEAR/*.txt | fzf --filter`` beside them;
- the first CLI run after a new day's file (a 366th, 367th, ... written into the folder) against
  the warm run on the same folder right after it; the added files are removed at the end;
- in the app (tmux): command -> searchable (the list's border no longer says loading or
  indexing) on the year, warm, and on the first run after a new day's file (the store and the
  index cache kept between runs, as a daily reader's are).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import gen  # noqa: E402
import gen_year  # noqa: E402

QUERY = "neural operator"
READY = "╭─ Papers ─"  # the list's border once loading and indexing are done
COMMAND = str(Path(sys.executable).with_name("paper-reader"))


def _base() -> list[str]:
    return [COMMAND] if Path(COMMAND).exists() else [sys.executable, "-m", "reader"]


def _env(tmp: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PAPER_READER_DB=str(tmp / "store.json"),
        PAPER_READER_CACHE=str(tmp / "cache"),
        PAPER_READER_CONFIG=str(tmp / "config.toml"),
        XDG_DATA_HOME=str(tmp),
        XDG_CACHE_HOME=str(tmp),
        XDG_CONFIG_HOME=str(tmp),
    )


def timed(cmd: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def cli_rows(year: Path, runs: int, new_days: int) -> dict:
    """CLI: warm year vs warm day; first run after a new day vs the warm run after it; fzf beside."""
    day = gen_year.day_path(gen_year.DAYS - 1, year)
    added: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="measure-year-") as tmp:
        env = _env(Path(tmp))
        search = _base() + ["search", QUERY]
        timed(search + [str(year), "--limit", "20"], env)  # fills the index cache (and the store's dates)
        timed(search + [str(day), "--limit", "20"], env)
        warm_year = [timed(search + [str(year), "--limit", "20"], env) for _ in range(runs)]
        warm_day = [timed(search + [str(day), "--limit", "20"], env) for _ in range(runs)]
        fzf = shutil.which("fzf")
        fzf_times = []
        if fzf:
            text = b"".join(p.read_bytes() for p in sorted(year.glob("*.txt")))
            fzf_times = [timed([fzf, "--filter", QUERY], stdin=text) for _ in range(runs)]
        firsts, afters = [], []
        try:
            for j in range(new_days):
                added.append(gen_year.write_day(gen_year.DAYS + j, year))
                firsts.append(timed(search + [str(year), "--limit", "20"], env))
                afters.append(statistics.median(timed(search + [str(year), "--limit", "20"], env) for _ in range(2)))
        finally:
            for path in added:
                path.unlink(missing_ok=True)
    return {
        "warm_year_s": statistics.median(warm_year),
        "warm_day_s": statistics.median(warm_day),
        "fzf_year_s": statistics.median(fzf_times) if fzf_times else None,
        "first_after_new_s": firsts,
        "warm_after_new_s": afters,
        "runs": {"warm_year": warm_year, "warm_day": warm_day, "fzf": fzf_times},
    }


# -- the app, in tmux ---------------------------------------------------------------------
def searchable(args: list[str], env: dict[str, str], timeout: float = 120) -> float:
    """Seconds from starting the app in a fresh tmux pane until the list's border says it is searchable."""
    sock = f"measure-year-{os.getpid()}"
    tmux = ["tmux", "-L", sock]
    pidfile = Path(env["XDG_DATA_HOME"]) / "app.pid"
    private = ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")
    exports = " ".join(f"{k}={v}" for k, v in env.items() if k.startswith("PAPER_READER_") or k in private)
    started = time.perf_counter()
    subprocess.run(
        [*tmux, "new", "-d", "-x", "120", "-y", "30", f"echo $$ > {pidfile}; {exports} exec {' '.join(args)}"],
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


def app_rows(year: Path, runs: int, new_days: int) -> dict:
    added: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="measure-year-app-") as tmp:
        env = _env(Path(tmp))
        args = _base() + [str(year)]
        searchable(args, env)  # a first run: index cache and first-seen dates
        warm = [searchable(args, env) for _ in range(runs)]
        firsts = []
        try:
            for j in range(new_days):
                added.append(gen_year.write_day(gen_year.DAYS + 100 + j, year))
                firsts.append(searchable(args, env))
        finally:
            for path in added:
                path.unlink(missing_ok=True)
    return {"warm_s": statistics.median(warm), "first_after_new_s": firsts, "runs": warm}


def table(cli: dict | None, app: dict | None, files: int, mb: float) -> str:
    rows: list[tuple[str, str, str]] = []
    if cli:
        ratio = cli["warm_year_s"] / cli["warm_day_s"]
        fzf = f"; fzf --filter on the year {cli['fzf_year_s']:.2f} s" if cli["fzf_year_s"] is not None else ""
        rows.append(
            (
                f"year ({files} files, {mb:.0f} MB): CLI search, warm cache, vs one day's file",
                f"{cli['warm_year_s']:.2f} s vs {cli['warm_day_s']:.2f} s = {ratio:.1f}x{fzf}",
                "<= 2x",
            )
        )
        pairs = list(zip(cli["first_after_new_s"], cli["warm_after_new_s"]))
        rows.append(
            (
                "same, first run after one new daily file, vs the warm run",
                ", ".join(f"{f:.2f}/{w:.2f} s = {f / w:.1f}x" for f, w in pairs),
                "<= 1.2x",
            )
        )
    if app:
        rows.append(("year in the app: command -> searchable, warm", f"{app['warm_s']:.2f} s", ""))
        rows.append(
            (
                "same, after one new daily file",
                ", ".join(f"{t:.2f} s" for t in app["first_after_new_s"]),
                "<= 0.7 s",
            )
        )
    w = [max(len(r[i]) for r in rows + [("figure", "measured", "goal")]) for i in range(3)]
    lines = [f"{'figure':<{w[0]}}  {'measured':<{w[1]}}  goal", "-" * (sum(w) + 4)]
    lines += [f"{a:<{w[0]}}  {b:<{w[1]}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per warm figure (median; default 5)")
    parser.add_argument("--new-days", type=int, default=3, help="new daily files added one after another (default 3)")
    parser.add_argument("--no-app", action="store_true", help="skip the app rows (tmux)")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI rows")
    args = parser.parse_args()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    year = gen_year.ensure(log)
    files = sorted(year.glob("*.txt"))
    mb = sum(f.stat().st_size for f in files) / 1e6
    load_before = os.getloadavg()
    cli = app = None
    if not args.no_cli:
        log("CLI rows ...")
        cli = cli_rows(year, args.runs, args.new_days)
    if not args.no_app:
        if shutil.which("tmux") is None:
            log("tmux is not installed: app rows skipped (apt-get install -y tmux)")
        else:
            log("app rows (tmux) ...")
            app = app_rows(year, max(1, args.runs // 2), args.new_days)
    load_after = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(table(cli, app, len(files), mb))
    gen.DATA.mkdir(exist_ok=True)
    out = gen.DATA / f"year-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"cli": cli, "app": app, "load": [load_before, load_after]}, indent=1))


if __name__ == "__main__":
    main()
