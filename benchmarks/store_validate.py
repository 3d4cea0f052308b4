"""Validating the store on load (issue 11): the hand checks beside msgspec Structs, on the same file.

    python benchmarks/store_validate.py                # 10k annotated papers (title + abstract snapshots)
    python benchmarks/store_validate.py --annotated 50000

The annotations file's first line holds the whole store as it was at the last compaction;
opening a store parses it and checks every paper record once. Rows (median of ``--runs``):

- hand checks: ``orjson.loads`` then ``reader.store.records.check_record`` on every record and
  the typed ``Annotation`` built from it (what ``Store()`` + ``annotations()`` do);
- msgspec: ``msgspec.json.decode`` into Structs that type every field (decode and validate in
  one pass; typed records come out). A wrong type anywhere fails the whole decode, so a store
  would still need the hand checks to repair and set aside a bad field: the figure is the
  best case, a clean file;
- msgspec, then dicts: the same decode handing plain dicts to TinyDB, as the store keeps them.

Figures from a shared 2-core machine are noisy; the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from store import new_store, papers  # noqa: E402

from reader.store.records import Annotation, check_record  # noqa: E402

try:
    import msgspec
except ImportError:
    msgspec = None

if msgspec is not None:

    class Doc(msgspec.Struct, frozen=True):
        id: str
        title: str = ""
        abstract: str = ""
        bookmarked_at: str | None = None
        tags: tuple[str, ...] = ()
        note: str = ""
        link: str = ""
        first_seen: str | None = None
        read_at: str | None = None
        times: dict[str, str] = {}
        tag_times: dict[str, tuple[str, int]] = {}

    class Tables(msgspec.Struct):
        papers: dict[str, Doc] = {}

    class Header(msgspec.Struct, rename={"paper_reader": "paper-reader"}):
        paper_reader: str
        schema: int
        gen: str
        tables: Tables


def hand(line: bytes) -> int:
    tables = orjson.loads(line)["tables"]
    out = []
    for doc in tables["papers"].values():
        fixed, _ = check_record(doc, "store.json")
        out.append(Annotation.of(fixed))
    return len(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotated", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if msgspec is None:
        print("msgspec is not installed (pip install msgspec): only the hand checks are measured")

    with tempfile.TemporaryDirectory(prefix="store-validate-") as tmp:
        path = new_store(Path(tmp), papers(args.annotated), 0)
        line = path.read_bytes().split(b"\n", 1)[0]
    rows: list[tuple[str, Callable[[], int]]] = [
        ("hand checks (orjson + check_record + Annotation)", lambda: hand(line))
    ]
    if msgspec is not None:
        typed = msgspec.json.Decoder(Header)

        def structs() -> int:
            return len(typed.decode(line).tables.papers)

        def as_dicts() -> int:
            docs = typed.decode(line).tables.papers
            return len([msgspec.structs.asdict(d) for d in docs.values()])

        rows += [("msgspec Structs (decode + validate)", structs), ("msgspec Structs, then dicts", as_dicts)]
    print(
        f"store load validation, {args.annotated:,} annotated papers, {len(line) / 1e6:.1f} MB "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: shared machine, noisy)"
    )
    for name, fn in rows:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            n = fn()
            times.append(time.perf_counter() - start)
        assert n == args.annotated
        print(f"{name:58} {statistics.median(times) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
