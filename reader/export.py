"""Export papers with their annotations: JSON, Markdown, BibTeX, CSV, RIS."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence

from reader.links import paper_links
from reader.paper import Paper, PaperMeta
from reader.store.records import Annotation
from reader.text import fold

FORMATS = ("json", "markdown", "bibtex", "csv", "ris")


def paper_record(paper: Paper, annotation: Annotation | None) -> dict[str, object]:
    """One paper as plain data (for JSON and the other formats): id, title, abstract, links, tags, note, ..."""
    a = annotation or Annotation(paper.id)
    meta = paper.meta or PaperMeta()
    return {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "links": _links(paper, a),
        "tags": list(a.tags),
        "bookmarked": bool(a.bookmarked_at),
        "bookmarked_at": a.bookmarked_at or None,
        "note": a.note,
        "link": a.link,
        "read_at": a.read_at or None,
        "first_seen": a.first_seen or None,
        # What a structured source (the Hub, arXiv, an email listing) said; empty for a text digest.
        "arxiv_id": meta.arxiv_id or None,
        "authors": list(meta.authors),
        "published": meta.published or None,
        "submitted": meta.submitted or None,
        "upvotes": meta.upvotes,
        "github_repo": meta.github_repo or None,
        "project_page": meta.project_page or None,
        "keywords": list(meta.keywords),
    }


def _year(paper: Paper) -> str:
    """The four-digit year the source gave, or "" (a source's date is data: nothing else passes)."""
    meta = paper.meta
    year = (meta.published or meta.submitted)[:4] if meta is not None else ""
    return year if re.fullmatch(r"\d{4}", year) else ""


def _bib_author(name: str) -> str:
    """One author for a BibTeX ``and`` list; a name holding a lone "and" is kept whole in braces."""
    field = bib_field(name.strip())
    return "{" + field + "}" if re.search(r"\sand\s", field, re.IGNORECASE) else field


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# A backslash sequence (a command, a control symbol, or a lone backslash at the end), a brace,
# a dollar, a character TeX reads as special, or an @ starting a line (a block start to BibTeX tools).
_BIB_TOKEN = re.compile(r"\\(?:[A-Za-z]+|[^A-Za-z]|$)|[{}$%&#_^]|(?:^|(?<=\n))[ \t]*@", re.DOTALL)
# Braces, backslashes, percent signs and spaces in a URL field are percent-encoded.
_URL_UNSAFE = re.compile(r"[{}\\%\s]")
_BIB_SPECIAL = {"%": r"\%", "&": r"\&", "#": r"\#"}
_BIB_MATH_ONLY = {"_": r"\_", "^": r"\^{}"}


def _bib_braces(tokens: list[tuple[int, str]]) -> set[int]:
    """Positions of braces that do not pair up, counting ``\\{``/``\\}`` as braces too.

    BibTeX counts every brace character, escaped or not; TeX pairs ``{`` with ``}`` and reads
    ``\\{`` as a brace character. A brace is kept only when both would agree it is paired.
    """
    stack: list[tuple[int, str]] = []
    unpaired: set[int] = set()
    for pos, token in tokens:
        if token in ("{", "\\{"):
            stack.append((pos, token))
        elif token in ("}", "\\}"):
            if stack and stack[-1][1] == ("{" if token == "}" else "\\{"):
                stack.pop()
            else:
                unpaired.add(pos)
    unpaired.update(pos for pos, _ in stack)
    return unpaired


def bib_field(text: str) -> str:
    """Text for a brace-delimited BibTeX field: valid TeX stays as written.

    Commands and escapes (``42.9\\%``, ``{\\sc MwpBench}``, ``Poincar\\'e``), paired braces and
    ``$...$`` math are kept. What would break BibTeX or LaTeX is escaped: a bare ``%`` ``&`` ``#``,
    ``_`` and ``^`` outside math, a dollar without its pair, a brace without its pair (as
    ``\\textbraceleft{}``/``\\textbraceright{}``), a backslash ending the text, and an ``@``
    starting a line (``{@}``), which BibTeX parsers take for the start of a new entry; a
    ``\\\\`` line break just before a brace gets a space, so no tool reads ``\\{`` there.
    """
    tokens = [(m.start(), m.group(0)) for m in _BIB_TOKEN.finditer(text)]
    if not tokens:
        return text
    unpaired = _bib_braces(tokens)
    dollars = [pos for pos, token in tokens if token == "$"]
    lone_dollar = dollars[-1] if len(dollars) % 2 else -1
    out: list[str] = []
    last = 0
    math = False
    for pos, token in tokens:
        out.append(text[last:pos])
        last = pos + len(token)
        if pos in unpaired:
            token = r"\textbraceleft{}" if token.endswith("{") else r"\textbraceright{}"
        elif token == "\\":
            token = r"\textbackslash{}"
        elif token == "$":
            if pos == lone_dollar:
                token = r"\$"
            else:
                math = not math
        elif token in _BIB_SPECIAL:
            token = _BIB_SPECIAL[token]
        elif token in _BIB_MATH_ONLY and not math:
            token = _BIB_MATH_ONLY[token]
        elif token == "\\\\" and text[last : last + 1] in ("{", "}", ""):
            token = "\\\\ "  # a line break; BibTeX tools read \\{ or \\} as an escaped brace
        elif token[0] != "\\" and token.endswith("@"):
            token = token[:-1] + "{@}"
        out.append(token)
    out.append(text[last:])
    return "".join(out)


def bibtex_key(paper: Paper) -> str:
    """A citation key: the title's first ASCII word (at most 20 letters) plus the paper id."""
    words = [w for w in (re.sub(r"[^a-z0-9]", "", word) for word in fold(paper.title).split()) if w]
    return f"{(words or ['paper'])[0][:20]}{paper.id[:6]}"  # ASCII: classic BibTeX reads no other key


def _links(paper: Paper, a: Annotation) -> list[str]:
    return [item.url for item in paper_links(paper.title, paper.abstract, a.link or None, paper.meta)]


def bibtex(paper: Paper, annotation: Annotation | None = None) -> str:
    """A BibTeX @misc entry for the paper."""
    a = annotation or Annotation(paper.id)
    meta = paper.meta or PaperMeta()
    links = _links(paper, a)
    fields = [("title", "{" + bib_field(paper.title) + "}")]
    authors = [_bib_author(name) for name in meta.authors if name.strip()]
    if authors:
        fields.append(("author", " and ".join(authors)))
    if _year(paper):
        fields.append(("year", _year(paper)))
    if meta.arxiv_id:
        fields += [("eprint", bib_field(meta.arxiv_id)), ("archivePrefix", "arXiv")]
    if links:
        fields.append(("url", _URL_UNSAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", links[0])))
    if paper.abstract:
        fields.append(("abstract", bib_field(paper.abstract)))
    if a.tags:
        fields.append(("keywords", bib_field(", ".join(a.tags))))
    if a.note:
        fields.append(("note", bib_field(a.note)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{bibtex_key(paper)},\n{body}\n}}\n"


def markdown_link(paper: Paper, url: str) -> str:
    """``[title](url)`` with the brackets in the title escaped."""
    title = paper.title.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"[{title}]({url.replace('(', '%28').replace(')', '%29').replace(' ', '%20')})"


def _code_span(text: str) -> str:
    """Markdown inline code for ``text``: a fence longer than any run of backticks in it."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_RIS_TAG_LIKE = re.compile(r"^\S\S  -")  # any two characters: readers differ on what a tag may be


def _ris_field(tag: str, value: str) -> list[str]:
    """One RIS field; a value of several lines goes on continuation lines (never read as a tag)."""
    lines = [line.rstrip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line.strip()] or [""]
    out = [f"{tag}  - {lines[0]}"]
    out.extend(" " + line if _RIS_TAG_LIKE.match(line) else line for line in lines[1:])
    return out


def ris(paper: Paper, annotation: Annotation | None = None) -> str:
    """A RIS record (type GEN) for the paper: title, abstract, links, tags as keywords, note."""
    a = annotation or Annotation(paper.id)
    meta = paper.meta or PaperMeta()
    lines = _ris_field("TY", "GEN")
    lines += _ris_field("ID", paper.id)
    lines += _ris_field("TI", paper.title)
    for author in meta.authors:
        lines += _ris_field("AU", author)
    if _year(paper):
        lines += _ris_field("PY", _year(paper))
    if meta.published:
        lines += _ris_field("DA", meta.published.replace("-", "/"))
    if paper.abstract:
        lines += _ris_field("AB", paper.abstract)
    # The user's link and the abstract's; a title search only when there is neither.
    links = paper_links(paper.title, paper.abstract, a.link or None, paper.meta)
    own = [link.url for link in links if link.kind != "lookup"]
    for url in own or [link.url for link in links[:1]]:
        lines += _ris_field("UR", url)
    for tag in a.tags:
        lines += _ris_field("KW", tag)
    if a.note:
        lines += _ris_field("N1", a.note)
    lines += ["ER  - ", ""]
    return "\r\n".join(lines)


def export(items: Sequence[tuple[Paper, Annotation | None]], fmt: str) -> str:
    """Render papers with their annotations in a format of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps([paper_record(p, r) for p, r in items], ensure_ascii=False, indent=2) + "\n"
    if fmt == "bibtex":
        return "\n".join(bibtex(p, r) for p, r in items)
    if fmt == "markdown":
        out = []
        for paper, annotation in items:
            a = annotation or Annotation(paper.id)
            out.append(f"- {markdown_link(paper, _links(paper, a)[0])}")
            if a.tags:
                out.append("  tags: " + ", ".join(_code_span(t) for t in a.tags))
            if a.note:
                out.extend("  > " + line for line in a.note.splitlines())
        return "\n".join(out) + ("\n" if out else "")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["id", "title", "bookmarked", "tags", "note", "link", "abstract"]
            + ["arxiv_id", "authors", "published", "submitted", "upvotes", "github_repo", "project_page", "keywords"]
        )
        for paper, annotation in items:
            a = annotation or Annotation(paper.id)
            meta = paper.meta or PaperMeta()
            row = [
                paper.id,
                paper.title,
                "yes" if a.bookmarked_at else "",
                "; ".join(a.tags),
                a.note,
                _links(paper, a)[0],
                paper.abstract,
                meta.arxiv_id or "",
                "; ".join(meta.authors),
                meta.published or "",
                meta.submitted or "",
                "" if meta.upvotes is None else str(meta.upvotes),
                meta.github_repo or "",
                meta.project_page or "",
                "; ".join(meta.keywords),
            ]
            # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text.
            writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r") else c for c in row])
        return buffer.getvalue()
    if fmt == "ris":
        return "\r\n".join(ris(p, r) for p, r in items)
    raise ValueError(f"unknown format {fmt!r}")
