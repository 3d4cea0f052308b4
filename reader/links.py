"""Links of a paper: URLs found in its abstract (cleaned) and generated look-up links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote_plus, urlsplit

# A URL runs until whitespace, a brace, quote or angle bracket; LaTeX's \_ is part of it.
_URL = re.compile(r"https?://(?:[^\s{}<>\"'\\\[\]|^`]|\\_)+", re.I)
_TRAILING = ".,;:!?'\"*"
CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "huggingface.co", "sourceforge.net")


@dataclass(frozen=True, slots=True)
class Link:
    """A link with what it is: ``user``, ``code``, ``web`` (from the abstract) or ``lookup``."""

    url: str
    label: str
    kind: str


def _trim(url: str) -> str:
    """Drop what a sentence put after the URL: a full stop, a comma, an unmatched bracket."""
    while url:
        last = url[-1]
        if last in _TRAILING or last == ")" and url.count("(") < url.count(")"):
            url = url[:-1]
        else:
            break
    return url


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, clean URL) for each URL in ``text``; the span covers the raw URL."""
    found = []
    for match in _URL.finditer(text):
        raw = _trim(match.group(0))
        if len(raw) > len("https://"):
            found.append((match.start(), match.start() + len(raw), raw.replace("\\_", "_")))
    return found


def clean_urls_in_text(text: str) -> str:
    """Show the abstract with its URLs as :func:`find_urls` cleans them.

    ``url{url}`` (a LaTeX ``\\href`` leftover) keeps one copy.
    """
    spans = find_urls(text)
    if not spans:
        return text
    out = []
    pos = 0
    previous = None
    for start, end, url in spans:
        if previous == url and text[pos:start] == "{" and text[end : end + 1] == "}":
            pos = end + 1
            continue
        out.append(text[pos:start])
        out.append(url)
        pos = end
        previous = url
    out.append(text[pos:])
    return "".join(out)


def is_code_url(url: str) -> bool:
    """True for links to code hosts (GitHub, GitLab, Hugging Face, ...)."""
    host = urlsplit(url).hostname or ""
    return any(host == h or host.endswith("." + h) for h in CODE_HOSTS) and not host.endswith(".github.io")


def abstract_links(abstract: str) -> list[Link]:
    """Cleaned URLs from an abstract, each once, in the order they appear."""
    links: list[Link] = []
    seen: set[str] = set()
    for _, _, url in find_urls(abstract):
        if url in seen:
            continue
        seen.add(url)
        kind = "code" if is_code_url(url) else "web"
        links.append(Link(url, "Code" if kind == "code" else "Link", kind))
    return links


def lookup_links(title: str) -> list[Link]:
    """Search links for a paper by its title: arXiv, Hugging Face papers, Google Scholar."""
    q = quote_plus(title)
    return [
        Link(f"https://arxiv.org/search/?query={q}&searchtype=title", "arXiv search", "lookup"),
        Link(f"https://huggingface.co/papers?q={q}", "Hugging Face papers", "lookup"),
        Link(f"https://scholar.google.com/scholar?q={q}", "Google Scholar", "lookup"),
    ]


def paper_links(title: str, abstract: str, user_link: str | None = None) -> list[Link]:
    """All links of a paper: the user's own first, then the abstract's, then look-ups."""
    links = []
    if user_link:
        links.append(Link(user_link, "Your link", "user"))
    links.extend(link for link in abstract_links(abstract) if link.url != user_link)
    links.extend(lookup_links(title))
    return links


def has_code(abstract: str) -> bool:
    """True when the abstract links to code."""
    return any(link.kind == "code" for link in abstract_links(abstract))
