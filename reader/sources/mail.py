"""Digest emails: a saved ``.eml``, an mbox of several days, or one piped into stdin.

Each message is read with the standard library's ``email`` package; its text part is
used, else its HTML part turned into lines by ``html.parser``. An arXiv subscription
listing (papers between lines of dashes, each with ``arXiv:ID``, ``Title:``,
``Authors:`` and its abstract between ``\\\\`` lines) is read field by field; any other
email (the trending-papers digest) is handed back as lines for the text-digest parser.
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from reader.paper import PaperMeta
from reader.sources.formats import Entry, FormatError, Parsed, clean
from reader.sources.htmltext import html_lines

_MBOX_FROM = re.compile(rb"^From \S", re.M)
_DASHES = re.compile(r"^-{20,}\s*$", re.M)
_LISTING_ID = re.compile(r"^arXiv:(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})", re.M)
_FIELD = re.compile(r"^([A-Z][A-Za-z-]*):\s?(.*)$")


def _messages(data: bytes) -> list[bytes]:
    """The raw messages of an mbox (split at its "From " lines), or the one message of an .eml."""
    if not data.startswith(b"From "):
        return [data]
    starts = [m.start() for m in _MBOX_FROM.finditer(data)]
    chunks = [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)])]
    # The "From " separator line is mbox's, not the message's; ">From " lines were escaped "From " lines.
    return [
        re.sub(rb"^>(>*From )", rb"\1", chunk.split(b"\n", 1)[1] if b"\n" in chunk else b"", flags=re.M)
        for chunk in chunks
    ]


def _body(message: EmailMessage) -> list[str]:
    """The lines of a message's text part, else of its HTML part's text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return []
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # an unknown charset, a broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return []
    if part.get_content_subtype() == "html":
        return html_lines(content)
    return content.replace("\r\n", "\n").split("\n")


def _date(text: str) -> str:
    try:
        return parsedate_to_datetime(text.split("(")[0].strip()).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def _listing_paper(block: str) -> Entry | None:
    """One paper of an arXiv listing (the text between two lines of dashes)."""
    found = _LISTING_ID.search(block)
    if not found:
        return None
    parts = block.split("\\\\")
    # parts: [before], [header fields], [abstract], [" ( https://arxiv.org/abs/... )"]
    header = parts[1] if len(parts) > 2 else block
    fields: dict[str, str] = {}
    last = ""
    for line in header.split("\n"):
        match = _FIELD.match(line)
        if match and not line.startswith((" ", "\t")):
            last = match.group(1).lower()
            fields[last] = match.group(2).strip()
        elif line.startswith((" ", "\t")) and last:
            fields[last] += " " + line.strip()
    title = clean(fields.get("title"))
    if not title:
        return None
    abstract = clean(parts[2]) if len(parts) > 3 else ""
    authors = [clean(a) for a in re.split(r",\s*|\s+and\s+", fields.get("authors", ""))]
    meta = PaperMeta(
        arxiv_id=found.group(1),
        authors=tuple(a for a in authors if a),
        published=_date(fields.get("date", "")),
    )
    return Entry(title, abstract, meta)


def read_mail(data: bytes, source: str) -> Parsed:
    """The papers of an email or mbox: an arXiv listing's, or each digest text in ``texts``."""
    parsed = Parsed()
    messages = _messages(data)
    for raw in messages:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        if not isinstance(message, EmailMessage) or not (message.keys() or message.get_payload()):
            continue
        body = _body(message)
        text = "\n".join(body)
        if _LISTING_ID.search(text) and re.search(r"^Title:", text, re.M):
            for block in _DASHES.split(text):
                entry = _listing_paper(block)
                if entry is not None:
                    parsed.entries.append(entry)
        elif any(line.strip() for line in body):
            parsed.texts.append((len(parsed.entries), body))
    if not parsed.entries and not parsed.texts:
        raise FormatError("an email with no text or HTML part holding papers")
    return parsed
