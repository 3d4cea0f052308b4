"""HTML to plain lines with the standard library's HTML parser (never regexes over HTML)."""

from __future__ import annotations

from html.parser import HTMLParser

# Elements that end a line of text; what is inside script and style is not text.
_BLOCKS = frozenset([
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th",
    "tr", "ul",
])  # fmt: skip
_SKIP = frozenset(["script", "style", "head", "title", "template"])


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skipping = 0

    def _break(self) -> None:
        line = " ".join("".join(self.current).split())
        if line:
            self.lines.append(line)
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCKS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data)


def html_lines(html: str) -> list[str]:
    """The text of an HTML document or fragment, a line per block (paragraph, heading, list item...)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser._break()
    return parser.lines


def html_text(html: str) -> str:
    """An HTML fragment's text on one line (a feed's description)."""
    return " ".join(html_lines(html))
