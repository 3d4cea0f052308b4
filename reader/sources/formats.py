"""Structured digest files: JSON lines (what ``fetch`` writes), RSS/Atom feeds, emails and mboxes.

Each is read whole (a day's list is small) into entries, a title, an abstract and what
else the source knows (:class:`reader.paper.PaperMeta`). All text from the file goes
through ``clean_line``: escape sequences and control characters never reach a screen.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reader.paper import PaperMeta, arxiv_id
from reader.text import clean_line

TEXT, JSONL, FEED, EMAIL = "text", "jsonl", "feed", "email"
_BY_SUFFIX = {".jsonl": JSONL, ".json": JSONL, ".rss": FEED, ".atom": FEED, ".xml": FEED, ".eml": EMAIL, ".mbox": EMAIL}
_MAIL_HEADERS = re.compile(
    rb"^(from|to|subject|date|mime-version|content-type|received|message-id|return-path|delivered-to):", re.I | re.M
)


class FormatError(Exception):
    """A structured file that cannot be used; ``str()`` says what is wrong (without the path)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One paper read from a structured file."""

    title: str
    abstract: str
    meta: PaperMeta | None = None


@dataclass
class Parsed:
    """The entries of a file and the warnings about odd ones."""

    entries: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Texts for the plain digest parser (a trending-papers email's body), each with how many
    # entries come before it, so an mbox keeps its messages' order.
    texts: list[tuple[int, list[str]]] = field(default_factory=list)


def sniff(suffix: str, head: bytes) -> str:
    """The format of a file, by its name's suffix, else by its first bytes."""
    if suffix.lower() in _BY_SUFFIX:
        return _BY_SUFFIX[suffix.lower()]
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"{"):
        return JSONL
    if start.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf:RDF")):
        return FEED
    if start.startswith(b"From ") or len(set(m.lower() for m in _MAIL_HEADERS.findall(head[:4096]))) >= 2:
        return EMAIL
    return TEXT


def clean(text: Any) -> str:
    """One line of text from outside, inert and in one Unicode spelling ("" for anything not text)."""
    if not isinstance(text, str):
        return ""
    line = clean_line(" ".join(text.split()))
    return unicodedata.normalize("NFC", line) if not line.isascii() else line


def clean_list(items: Any) -> tuple[str, ...]:
    """A list of strings from outside, cleaned, empty ones dropped."""
    if not isinstance(items, list):
        return ()
    return tuple(text for text in (clean(item) for item in items) if text)


def _date(value: Any) -> str:
    text = clean(value)
    return text[:10] if re.match(r"\d{4}-\d{2}-\d{2}", text) else ""


# -- JSON lines --------------------------------------------------------------------------------


def to_record(entry: Entry) -> dict[str, Any]:
    """An entry as the JSON object ``fetch`` writes (empty fields left out)."""
    meta = entry.meta or PaperMeta()
    record: dict[str, Any] = {"arxiv_id": meta.arxiv_id, "title": entry.title, "abstract": entry.abstract}
    record.update(
        authors=list(meta.authors),
        published=meta.published,
        submitted=meta.submitted,
        upvotes=meta.upvotes,
        github_repo=meta.github_repo,
        project_page=meta.project_page,
        keywords=list(meta.keywords),
    )
    return {key: value for key, value in record.items() if value not in ("", [], None)}


def dump_jsonl(entries: Iterable[Entry]) -> bytes:
    """Entries as JSON lines, one paper a line, the same bytes for the same entries."""
    return "".join(json.dumps(to_record(e), ensure_ascii=False, sort_keys=False) + "\n" for e in entries).encode()


def from_record(record: dict[str, Any]) -> Entry | None:
    """An entry from one JSON object (None without a title); an ``arxiv_id`` not shaped like one is left out."""
    title = clean(record.get("title"))
    if not title:
        return None
    upvotes = record.get("upvotes")
    meta = PaperMeta(
        arxiv_id=arxiv_id(clean(record.get("arxiv_id"))),
        authors=clean_list(record.get("authors")),
        published=_date(record.get("published")),
        submitted=_date(record.get("submitted")),
        upvotes=upvotes if isinstance(upvotes, int) and not isinstance(upvotes, bool) else None,
        github_repo=clean(record.get("github_repo")),
        project_page=clean(record.get("project_page")),
        keywords=clean_list(record.get("keywords")),
    )
    return Entry(title, clean(record.get("abstract")), meta if meta != PaperMeta() else None)


def read_jsonl(text: str, source: str) -> Parsed:
    """Papers from JSON lines; a line that is not a paper is a warning, not an error."""
    parsed = Parsed()
    # Lines end at LF, CRLF or CR only: U+2028 and NEL are valid inside a JSON string, and
    # str.splitlines would cut the record there.
    for number, line in enumerate(re.split(r"\r\n?|\n", text), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            parsed.warnings.append(f"{source}:{number}: not a JSON object, skipped")
            continue
        except RecursionError:  # [[[[... : json recurses once a level
            parsed.warnings.append(f"{source}:{number}: JSON nested too deeply, skipped")
            continue
        entry = from_record(record) if isinstance(record, dict) else None
        if entry is None:
            parsed.warnings.append(f"{source}:{number}: no title, skipped")
            continue
        given = record.get("arxiv_id")
        if given not in (None, "") and not (entry.meta and entry.meta.arxiv_id):
            shown = clean(given if isinstance(given, str) else json.dumps(given))[:40]
            parsed.warnings.append(
                f"{source}:{number}: arxiv_id {shown!r} is not an arXiv id (like 2405.00002), listed by its title"
            )
        parsed.entries.append(entry)
    return parsed
