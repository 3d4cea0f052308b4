"""A year of daily digests: 365 dated files of 164 papers in benchmarks/data/year/ (never committed).

Each day is drawn like gen.py's synthetic digests (the bundled digest's title and abstract
words with their real frequencies and lengths, a few made-up compounds), with a seed of its
own, so the files are the same on every machine and every run: 59,860 papers, ~72 MB. A
file's modification time is noon of its day, as if it had arrived that day. ``write_day``
writes any later day (the benchmark's 366th) the same way.

    python benchmarks/gen_year.py        # generate (only if missing or out of date)
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import gen  # noqa: E402

from reader.digest import bundled_digest, read_digest  # noqa: E402

YEAR = gen.DATA / "year"
DAYS = 365
PER_DAY = 164
FIRST_DAY = date(2025, 1, 1)
VERSION = 1
SEED = 20_250_000  # + the day's number


def day_path(k: int, folder: Path = YEAR) -> Path:
    """The file of day ``k`` (0 is the first day of the year)."""
    return folder / f"trending-{FIRST_DAY + timedelta(days=k)}.txt"


def _entries() -> tuple[list[tuple[str, str]], str]:
    path = bundled_digest()
    entries, _ = read_digest(path)
    return entries, hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()


def write_day(k: int, folder: Path = YEAR, entries: list[tuple[str, str]] | None = None) -> Path:
    """Write day ``k``'s digest into ``folder`` (atomically), dated noon of that day."""
    entries = entries if entries is not None else _entries()[0]
    folder.mkdir(parents=True, exist_ok=True)
    path = day_path(k, folder)
    tmp = path.with_suffix(".tmp")
    gen.generate(entries, PER_DAY, tmp, seed=SEED + k)
    os.replace(tmp, path)
    noon = datetime.combine(FIRST_DAY + timedelta(days=k), datetime.min.time()).replace(hour=12).timestamp()
    os.utime(path, (noon, noon))
    return path


def ensure(log=print) -> Path:
    """The year's folder, generated unless an up-to-date one is there already."""
    entries, source = _entries()
    meta_path = YEAR.with_suffix(".meta.json")
    want = {"version": VERSION, "gen": gen.GEN_VERSION, "days": DAYS, "per_day": PER_DAY, "source": source}
    try:
        if json.loads(meta_path.read_text()) == want and all(day_path(k).exists() for k in range(DAYS)):
            return YEAR
    except (OSError, ValueError):
        pass
    log(f"generating a year of digests in {YEAR} ({DAYS} files x {PER_DAY} papers) ...")
    if YEAR.exists():
        for stale in YEAR.glob("trending-*.txt"):
            stale.unlink()
    for k in range(DAYS):
        write_day(k, YEAR, entries)
    meta_path.write_text(json.dumps(want))
    size = sum(f.stat().st_size for f in YEAR.glob("*.txt"))
    log(f"  {size / 1e6:.0f} MB")
    return YEAR


if __name__ == "__main__":
    ensure()
