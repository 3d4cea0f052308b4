"""Links of a paper: URLs found in its abstract (cleaned) and generated look-up links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote_plus, urlsplit

from reader.paper import PaperMeta

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


def _web(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") and bool(urlsplit(url).hostname)


def source_links(meta: PaperMeta | None) -> list[Link]:
    """The links a structured source gave: the arXiv page, the code repository, the project page."""
    if meta is None:
        return []
    links = []
    if meta.arxiv_id:
        links.append(Link(f"https://arxiv.org/abs/{meta.arxiv_id}", "arXiv", "web"))
    if meta.github_repo and _web(meta.github_repo):
        links.append(Link(meta.github_repo, "Code", "code"))
    if meta.project_page and _web(meta.project_page):
        links.append(Link(meta.project_page, "Project page", "web"))
    return links


def paper_links(title: str, abstract: str, user_link: str | None = None, meta: PaperMeta | None = None) -> list[Link]:
    """All links of a paper: the user's own first, then the source's (arXiv, code, project page),
    the abstract's, then look-ups (the arXiv title search only when the arXiv id is unknown)."""
    links = []
    if user_link:
        links.append(Link(user_link, "Your link", "user"))
    seen = {user_link}
    for link in [*source_links(meta), *abstract_links(abstract)]:
        if link.url not in seen:
            seen.add(link.url)
            links.append(link)
    known = meta is not None and bool(meta.arxiv_id)
    links.extend(link for link in lookup_links(title) if not (known and link.label == "arXiv search"))
    return links


def has_code(abstract: str, meta: PaperMeta | None = None) -> bool:
    """True when the source gave a code repository or the abstract links to code."""
    if meta is not None and meta.github_repo and _web(meta.github_repo):
        return True
    return any(link.kind == "code" for link in abstract_links(abstract))
