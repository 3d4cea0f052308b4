"""RSS 1.0/2.0 and Atom feeds (arXiv's listings, a saved feed file) read with the standard library.

``xml.etree.ElementTree`` over expat: no extra dependency, and expat (2.4.1 and later, as
bundled with Python 3.11) refuses entity-expansion bombs; external entities are never
fetched. A feed that is not well-formed XML is one clear error, not a guess.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime

from reader.paper import PaperMeta
from reader.sources.formats import Entry, FormatError, Parsed, clean
from reader.sources.htmltext import html_text

_ARXIV_ID = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arXiv:|oai:arXiv\.org:)([a-z-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})", re.I
)
# arXiv's RSS descriptions start "arXiv:2401.00001v1 Announce Type: new Abstract: ...".
_ANNOUNCE = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.I)
_SKIPPED_ANNOUNCE = ("replace", "replace-cross")  # an old paper's new version, not news


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element | None) -> str:
    return "".join(element.itertext()) if element is not None else ""


def arxiv_id(*texts: str) -> str:
    """The arXiv id (without version) in a link, guid or "arXiv:" mention, or ""."""
    for text in texts:
        found = _ARXIV_ID.search(text or "")
        if found:
            return found.group(1)
    return ""


def _date(text: str) -> str:
    text = text.strip()
    if re.match(r"\d{4}-\d{2}-\d{2}", text):
        return text[:10]
    try:
        return parsedate_to_datetime(text).date().isoformat() if text else ""
    except (TypeError, ValueError):
        return ""


def _item(item: ET.Element, atom: bool) -> Entry | None:
    """A feed item or Atom entry as an entry (None: no title, or an announced replacement)."""
    announce = clean(_text(_child(item, "announce_type")))
    if announce in _SKIPPED_ANNOUNCE:
        return None
    title = clean(html_text(_text(_child(item, "title"))))
    if not title:
        return None
    body = _child(item, "summary") if atom else _child(item, "description")
    if body is None:
        body = _child(item, "content") if atom else _child(item, "encoded")
    abstract = clean(_ANNOUNCE.sub("", clean(html_text(_text(body)))))
    links = [link.get("href", "") for link in _children(item, "link")] if atom else [_text(_child(item, "link"))]
    ident = _text(_child(item, "id")) if atom else _text(_child(item, "guid"))
    if atom:
        authors = [clean(_text(_child(author, "name"))) for author in _children(item, "author")]
        date = _date(_text(_child(item, "published")) or _text(_child(item, "updated")))
    else:
        authors = [clean(name) for creator in _children(item, "creator") for name in _text(creator).split(",")]
        date = _date(_text(_child(item, "pubDate")) or _text(_child(item, "date")))
    meta = PaperMeta(
        arxiv_id=arxiv_id(*links, ident, _text(body)),
        authors=tuple(name for name in authors if name),
        published=date,
    )
    return Entry(title, abstract, meta if meta != PaperMeta() else None)


def read_feed(data: bytes, source: str) -> Parsed:
    """The items of an RSS or Atom feed; FormatError when it is not one."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise FormatError(f"not a well-formed RSS/Atom feed ({err})") from None
    kind = _local(root.tag)
    if kind == "feed":
        items, atom = _children(root, "entry"), True
    elif kind in ("rss", "RDF"):
        channel = _child(root, "channel")
        items = _children(channel, "item") if kind == "rss" and channel is not None else _children(root, "item")
        atom = False
    else:
        raise FormatError(f"not an RSS or Atom feed (its root element is <{clean(kind)}>)")
    parsed = Parsed()
    for number, item in enumerate(items, 1):
        entry = _item(item, atom)
        if entry is not None:
            parsed.entries.append(entry)
        elif not clean(_text(_child(item, "title"))):
            parsed.warnings.append(f"{source}: item {number} has no title, skipped")
    return parsed
