"""``paper-reader fetch --arxiv CATEGORY``: an arXiv category's new papers from its RSS feed.

One call per category (``https://rss.arxiv.org/rss/cs.LG`` lists the day's announcement),
at least 3 s apart as arXiv asks; ``$PAPER_READER_ARXIV_URL`` points it at another server
(a local one in the tests). Written like the Hub's days: one JSON-lines file per category
and day, atomically, only when it changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from reader import __version__
from reader.sources.errors import FetchError
from reader.sources.feed import read_feed
from reader.sources.folder import write_if_changed
from reader.sources.formats import FormatError, dump_jsonl

NAME = "arXiv"
DEFAULT_URL = "https://rss.arxiv.org/rss"
PAUSE = 3.0  # seconds between two calls (arXiv's terms of use)
ARCHIVES = (
    "astro-ph", "cond-mat", "cs", "econ", "eess", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math",
    "math-ph", "nlin", "nucl-ex", "nucl-th", "physics", "q-bio", "q-fin", "quant-ph", "stat",
)  # fmt: skip
_CATEGORY = re.compile(r"^([a-z-]+)(?:\.([A-Za-z-]{2,}))?$")
_last_call = 0.0


def base_url() -> str:
    return (os.environ.get("PAPER_READER_ARXIV_URL") or DEFAULT_URL).rstrip("/")


def check_category(category: str) -> str:
    """The category as arXiv spells it; FetchError for one that cannot exist."""
    match = _CATEGORY.match(category.strip())
    if not match or match.group(1).lower() not in ARCHIVES:
        raise FetchError(
            f"{NAME}: unknown category {category!r}; use one like cs.LG, math.PR, stat.ML or hep-th "
            "(https://arxiv.org/category_taxonomy)"
        )
    archive, sub = match.group(1).lower(), match.group(2)
    return (
        f"{archive}.{sub.upper() if archive in ('cs', 'stat', 'econ', 'eess', 'q-bio', 'q-fin') else sub}"
        if sub
        else archive
    )


def _get(url: str, timeout: float) -> bytes:
    """The body at ``url``, at least PAUSE seconds after the previous call; FetchError on failure."""
    global _last_call
    wait = _last_call + PAUSE - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    request = urllib.request.Request(url, headers={"User-Agent": f"paper-reader/{__version__}"})
    source = f"{NAME} ({url})"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as err:
        if err.code == 429:
            raise FetchError(f"{source}: too many requests (HTTP 429); wait a few minutes, then fetch again") from None
        if err.code >= 500:
            raise FetchError(f"{source}: server error (HTTP {err.code}); try again later") from None
        if err.code in (400, 404):
            raise FetchError(f"{source}: HTTP {err.code}; is the category right? (like cs.LG)") from None
        raise FetchError(f"{source}: HTTP {err.code}; try again later") from None
    except TimeoutError:
        raise FetchError(f"{source}: no answer within {timeout:g} s; try again later (or --timeout)") from None
    except urllib.error.URLError as err:
        reason = err.reason if isinstance(err.reason, str) else getattr(err.reason, "strerror", None) or err.reason
        raise FetchError(f"{source}: cannot connect ({reason}); check the network connection") from None
    except (OSError, ValueError) as err:
        raise FetchError(f"{source}: the connection broke off ({err.__class__.__name__}); try again later") from None
    finally:
        _last_call = time.monotonic()


def run(args: argparse.Namespace, folder: Path, today: dt.date) -> int:
    """Fetch each category named (comma-separated) and write its day's file."""
    categories = [check_category(c) for c in args.arxiv.split(",") if c.strip()]
    if not categories:
        raise FetchError(f"{NAME}: no category given; use one like cs.LG")
    for category in categories:
        url = f"{base_url()}/{category}"
        data = _get(url, args.timeout)
        try:
            parsed = read_feed(data, url)
        except FormatError as err:
            raise FetchError(f"{NAME} ({url}): the answer is not a feed ({err}); try again later") from None
        for warning in parsed.warnings:
            print(f"paper-reader: warning: {warning}", file=sys.stderr)
        entries = parsed.entries[: args.limit] if args.limit else parsed.entries
        if not entries:
            print(f"{category}\tno papers (none announced today)")
            continue
        dates = sorted({e.meta.published for e in entries if e.meta and e.meta.published})
        day = dates[-1] if dates else today.isoformat()
        path = folder / f"arxiv-{category}-{day}.jsonl"
        try:
            state = write_if_changed(path, dump_jsonl(entries))
        except OSError as err:
            raise FetchError(f"{path}: cannot write ({err.strerror or err}); check the digests folder") from None
        print(f"{path}\t{len(entries)} papers\t{state}")
    return 0
