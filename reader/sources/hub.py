"""The Hugging Face Hub's daily papers, through ``huggingface_hub`` (``HfApi.list_daily_papers``).

``HF_ENDPOINT`` (or ``endpoint=``) points it at another server, a local one in the tests.
A day is fetched whole: the API answers a page (``limit`` papers) at a time, and pages
are asked for until one comes back short, up to a cap.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

from reader.paper import PaperMeta, arxiv_id
from reader.sources.errors import FetchError
from reader.sources.formats import Entry, clean, clean_list

NAME = "Hugging Face"
PAGE = 50  # papers per call (the API's default)
DEFAULT_ENDPOINT = "https://huggingface.co"


def endpoint() -> str:
    """The Hub's address: ``$HF_ENDPOINT`` or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _date(value: Any) -> str:
    return value.date().isoformat() if isinstance(value, dt.datetime) else ""


def to_entry(info: Any) -> Entry | None:
    """An entry from a ``PaperInfo`` (None when it has no title)."""
    title = clean(getattr(info, "title", None))
    if not title:
        return None
    upvotes = getattr(info, "upvotes", None)
    authors = getattr(info, "authors", None) or []
    meta = PaperMeta(
        arxiv_id=arxiv_id(clean(getattr(info, "id", None))),
        authors=tuple(name for name in (clean(getattr(a, "name", None)) for a in authors) if name),
        published=_date(getattr(info, "published_at", None)),
        submitted=_date(getattr(info, "submitted_at", None)),
        upvotes=upvotes if isinstance(upvotes, int) and not isinstance(upvotes, bool) else None,
        github_repo=clean(getattr(info, "github_repo", None)),
        project_page=clean(getattr(info, "project_page", None)),
        keywords=clean_list(getattr(info, "ai_keywords", None)),
    )
    return Entry(title, clean(getattr(info, "summary", None)), meta)


def _failure(err: BaseException, where: str, timeout: float) -> FetchError:
    """What to tell the user about an exception from the client."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    source = f"{NAME} ({where})"
    if isinstance(err, OfflineModeIsEnabled):
        return FetchError(f"{NAME}: HF_HUB_OFFLINE is set; unset it to fetch")
    if isinstance(err, HfHubHTTPError):
        code = err.response.status_code if err.response is not None else 0
        if code == 429:
            return FetchError(f"{source}: too many requests (HTTP 429); wait a few minutes, then fetch again")
        if code >= 500:
            return FetchError(f"{source}: server error (HTTP {code}); try again later")
        if code in (401, 403):
            return FetchError(f"{source}: access refused (HTTP {code}); check HF_TOKEN")
        return FetchError(f"{source}: HTTP {code}; check the date and HF_ENDPOINT")
    if isinstance(err, httpx2.TimeoutException):
        return FetchError(f"{source}: no answer within {timeout:g} s; try again later (or --timeout)")
    if isinstance(err, httpx2.ConnectError):
        reason = str(err).split("]")[-1].strip() or "connection failed"
        return FetchError(f"{source}: cannot connect ({reason}); check the network connection or HF_ENDPOINT")
    if isinstance(err, httpx2.HTTPError):
        return FetchError(f"{source}: the connection broke off ({err.__class__.__name__}); try again later")
    return FetchError(f"{source}: the answer is not the list of papers expected (truncated?); try again later")


def fetch_day(
    day: dt.date,
    *,
    cap: int,
    limit: int | None = None,
    sort: str = "trending",
    timeout: float = 30.0,
    on_page: Callable[[int], None] | None = None,
) -> tuple[list[Entry], int]:
    """The day's papers (at most ``limit``, never more than ``cap``) and how many had no title.

    Raises FetchError (one line) for any failure: nothing is returned half.
    """
    import httpx2
    from huggingface_hub import HfApi, get_session

    get_session().timeout = httpx2.Timeout(timeout)  # the client's default is to wait forever
    api = HfApi(endpoint=endpoint())
    want = min(limit or cap, cap)
    size = min(PAGE, want)
    entries: list[Entry] = []
    seen: set[str] = set()
    untitled = 0
    page = 0
    while len(entries) < want:
        try:
            infos = list(api.list_daily_papers(date=day.isoformat(), sort=sort, p=page, limit=size))  # type: ignore[arg-type]
        except Exception as err:  # every failure of the client (network, HTTP, JSON, shape) is one line
            raise _failure(err, endpoint(), timeout) from None
        fresh = 0
        for info in infos:
            entry = to_entry(info)
            if entry is None:
                untitled += 1
                continue
            key = entry.meta.arxiv_id if entry.meta and entry.meta.arxiv_id else entry.title
            if key in seen:
                continue
            seen.add(key)
            entries.append(entry)
            fresh += 1
        if on_page is not None:
            on_page(len(entries))
        if len(infos) < size or not fresh:
            break
        page += 1
    return entries[:want], untitled
