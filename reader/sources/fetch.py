"""``paper-reader fetch``: write each day's list of papers as a file in the digests folder.

One file per day, named by date (``2024-05-01.jsonl`` for the Hub, ``arxiv-cs.LG-2024-05-01.jsonl``
for an arXiv category), in JSON lines that keep the arXiv id, authors, dates, upvotes and
links. A file is rewritten only when the answer changed, and atomically. Any failure is
one line naming the source and what to do, exit status 2; files written for earlier days
stay, the failing day's file is untouched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from reader.config import ConfigError, load_config
from reader.sources import hub
from reader.sources.errors import FetchError
from reader.sources.folder import digests_folder, write_if_changed
from reader.sources.formats import Entry, dump_jsonl
from reader.text import clean_line

PROG = "paper-reader"
DAY_PAUSE = 0.2  # seconds between two days' calls to the Hub


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-05-01") from None


def _week(text: str) -> list[dt.date]:
    try:
        year, week = text.upper().split("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a week like 2024-W18") from None
    return [monday + dt.timedelta(days=n) for n in range(7)]


def _month(text: str) -> list[dt.date]:
    try:
        first = dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2024-05") from None
    days = []
    day = first
    while day.month == first.month:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``paper-reader fetch``."""
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--date", type=_day, metavar="YYYY-MM-DD", help="one day (default: today, UTC)")
    when.add_argument("--week", type=_week, metavar="YYYY-Www", help="every day of an ISO week, one file each")
    when.add_argument("--month", type=_month, metavar="YYYY-MM", help="every day of a month, one file each")
    when.add_argument(
        "--since", type=_day, metavar="YYYY-MM-DD", help="backfill: every day from this one to today without a file yet"
    )
    parser.add_argument("--limit", type=_positive, metavar="N", help="at most N papers a day (default: the whole day)")
    parser.add_argument("--sort", choices=["trending", "published"], default="trending", help="order of the day's list")
    parser.add_argument(
        "--arxiv", metavar="CATEGORY", help="an arXiv category's new papers instead (cs.LG; several: cs.LG,cs.CL)"
    )
    parser.add_argument("--to", metavar="FOLDER", help="digests folder (default: the config's, else the user data one)")
    parser.add_argument("--timeout", type=_seconds, default=30.0, metavar="S", help="seconds to wait for an answer")


def _days(args: argparse.Namespace, today: dt.date, folder: Path, name: str) -> list[dt.date]:
    if args.date:
        return [args.date]
    if args.week or args.month:
        return [day for day in (args.week or args.month) if day <= today]
    if args.since:
        days = [args.since + dt.timedelta(days=n) for n in range((today - args.since).days + 1)]
        return [day for day in days if day == today or not (folder / name.format(day=day)).exists()]
    return [today]


class _Progress:
    """One line on a terminal's stderr, redrawn in place while days and pages come in (nothing when not a terminal)."""

    def __init__(self, total: int) -> None:
        self.on = sys.stderr.isatty()
        self.total = total

    def show(self, n: int, day: dt.date, papers: int = 0) -> None:
        if self.on:
            sys.stderr.write(f"\r\x1b[Kfetching {day} ({n}/{self.total} days) {papers} papers")
            sys.stderr.flush()

    def done(self) -> None:
        if self.on:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    """Fetch and write the days asked for; 0 when all went well, 2 (one line) when not."""
    try:
        return _run(args)
    except (FetchError, ConfigError) as err:
        print(f"{PROG}: error: {clean_line(str(err))}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    config = load_config()
    folder = Path(args.to).expanduser() if args.to else digests_folder(config.digests)
    today = dt.datetime.now(dt.UTC).date()
    if args.arxiv:
        from reader.sources import arxiv

        return arxiv.run(args, folder, today)
    name = "{day}.jsonl"
    days = _days(args, today, folder, name)
    if args.date and args.date > today:
        raise FetchError(f"{hub.NAME}: {args.date} is in the future; give a date up to {today}")
    progress = _Progress(len(days))
    for n, day in enumerate(days, 1):
        progress.show(n, day)
        if n > 1:
            time.sleep(DAY_PAUSE)

        def paged(count: int, n: int = n, day: dt.date = day) -> None:
            progress.show(n, day, count)

        try:
            entries, untitled = hub.fetch_day(
                day,
                cap=config.fetch_max,
                limit=args.limit,
                sort="publishedAt" if args.sort == "published" else "trending",
                timeout=args.timeout,
                on_page=paged,
            )
        finally:
            progress.done()
        if untitled:
            print(f"{PROG}: warning: {hub.NAME}: {day}: {untitled} papers without a title left out", file=sys.stderr)
        save(folder / name.format(day=day), entries, day)
    return 0


def save(path: Path, entries: list[Entry], day: dt.date) -> None:
    """Write a day's papers (nothing for a day with none) and say what happened on stdout."""
    if not entries:
        print(f"{day}\tno papers")
        return
    try:
        state = write_if_changed(path, dump_jsonl(entries))
    except OSError as err:
        raise FetchError(f"{path}: cannot write ({err.strerror or err}); check the digests folder") from None
    print(f"{path}\t{len(entries)} papers\t{state}")
