"""Time from the command to papers on screen, in a real terminal (tmux): the real digest and 100k.

Also, for 100k, the time until search is ready (the border says no more "loading" nor "indexing"), with no
index cache (a first run) and with the cache the first run left.

Run: python benchmarks/first_screen.py   (needs tmux; run benchmarks/run.py once first for the 100k data)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
READY = "╭─ Papers ─"  # the list's border once loading and indexing are done
COMMAND = str(Path(sys.executable).with_name("paper-reader"))


def first_screen(args: str, marker: str, runs: int = 5, cache: str = "") -> list[float]:
    """Seconds from starting the command in a fresh tmux pane until ``marker`` is on screen.

    Each run gets a new store, and a new index cache unless ``cache`` names one.
    """
    times = []
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        for n in range(runs):
            sock = f"paper-reader-bench-{n}"
            tmux = ["tmux", "-L", sock]
            env = f"PAPER_READER_DB={tmp}/s{n}.json PAPER_READER_CACHE={cache or f'{tmp}/cache{n}'}"
            started = time.perf_counter()
            pidfile = f"{tmp}/pid{n}"
            subprocess.run(
                [*tmux, "new", "-d", "-x", "120", "-y", "30", f"echo $$ > {pidfile}; {env} exec {COMMAND} {args}"],
                check=True,
            )
            try:
                while time.perf_counter() - started < 30:
                    screen = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout
                    if marker in screen:
                        break
                    time.sleep(0.005)
                times.append(time.perf_counter() - started)
            finally:
                subprocess.run([*tmux, "kill-server"], capture_output=True)
                _wait_gone(pidfile)  # a run still loading or indexing would slow the next one
    return times


def _wait_gone(pidfile: str) -> None:
    try:
        pid = int(Path(pidfile).read_text())
    except (OSError, ValueError):
        return
    deadline = time.perf_counter() + 10
    while Path(f"/proc/{pid}").exists() and time.perf_counter() < deadline:
        time.sleep(0.02)


def main() -> None:
    if shutil.which("tmux") is None:
        sys.exit("tmux is needed: apt-get install -y tmux")
    rows = [("real digest (164 papers): papers on screen", "", "/ 164", "<= 0.5 s")]
    big = HERE / "data" / "papers-100k.txt"
    if big.exists():
        rows.append(("100k digest (126 MB): first papers on screen", str(big), "│  ●", "<= 1 s"))
    for label, args, marker, goal in rows:
        report(label, first_screen(args, marker), goal)
    if big.exists():
        report("100k digest: searchable, no index cache", first_screen(str(big), READY), "<= 3 s")
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as cache:
            fill_cache(str(big), cache)
            report("100k digest: searchable, index cached", first_screen(str(big), READY, cache=cache), "<= 3 s")


def fill_cache(path: str, cache: str) -> None:
    """Leave the segment cache a first open writes. Not by a first run of the app: the app writes
    it once search is ready, and the benchmark kills it the moment search is ready."""
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        env = {**os.environ, "PAPER_READER_DB": f"{tmp}/s.json", "PAPER_READER_CACHE": cache}
        subprocess.run([COMMAND, "search", "x", path], env=env, check=True, capture_output=True)


def report(label: str, times: list[float], goal: str) -> None:
    print(f"{label:48} median {statistics.median(times):.2f} s (runs {', '.join(f'{t:.2f}' for t in times)})  {goal}")


if __name__ == "__main__":
    main()
