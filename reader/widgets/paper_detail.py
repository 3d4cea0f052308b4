"""The detail pane: a paper's title, tags, note, numbered links and abstract."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from reader.index.highlight import Matched
from reader.links import Link
from reader.paper import Paper
from reader.sources.facts import source_facts
from reader.store import Annotation
from reader.tex import tex_spans
from reader.text import inert, inert_lines

# How TeX's emphasis shows; the text itself is never parsed as markup.
TEX_STYLES = {"italic": "italic", "bold": "bold", "mono": "$text-secondary", "smallcaps": "bold"}


# How the query's matches show in the title and abstract (as in the list).
MATCH_STYLE = "bold underline $text-warning"


MAX_TITLE_SHOWN = 2_000  # characters of a title the pane renders, reads as TeX and highlights
MAX_ABSTRACT_SHOWN = 20_000  # the same for an abstract: a 5 MB one costs no more than a long one


def _readable(text: str, limit: int) -> tuple[str, list[tuple[int, int, str]]]:
    """Digest text with TeX leftovers made readable (URLs cleaned too), and its emphasis spans.

    Only the first ``limit`` characters are shown; the pane says how much more there is
    (copy and export still use the whole text).
    """
    if len(text) <= limit:
        return tex_spans(text)
    cleaned, spans = tex_spans(text[:limit])
    return cleaned + f" … ({len(text) - limit:,} more characters not shown; Y copies the whole text)", spans


def _styled(cleaned: str, spans: list[tuple[int, int, str]], matches: Sequence[tuple[int, int]] = ()) -> Content:
    """Readable text with its emphasis as styles; ``matches``: spans of it to highlight."""
    content = Content(cleaned)
    for start, end, style in spans:
        content = content.stylize(TEX_STYLES.get(style, "italic"), start, end)
    for start, end in matches:
        content = content.stylize(MATCH_STYLE, start, end)
    return content


class PaperDetail(VerticalScroll, can_focus=True):
    """Everything about one paper, wrapped and scrollable."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(id="detail-meta")
        yield Static(id="detail-tags")
        yield Static(id="detail-note")
        yield Static(id="detail-links")
        yield Static(id="detail-abstract")

    def show(
        self,
        paper: Paper | None,
        annotation: Annotation | None,
        links: list[Link],
        seen: str = "",
        matched: Callable[[str, str], Matched] | None = None,
    ) -> None:
        """Show a paper (None: an empty pane with a hint); ``matched`` tells where the query
        matched its title and abstract as shown (reader.index.highlight.matched)."""
        title = self.query_one("#detail-title", Static)
        meta = self.query_one("#detail-meta", Static)
        tags = self.query_one("#detail-tags", Static)
        note = self.query_one("#detail-note", Static)
        links_view = self.query_one("#detail-links", Static)
        abstract = self.query_one("#detail-abstract", Static)
        if paper is None:
            title.update(Content("No paper matches."))
            for widget in (meta, tags, note, links_view, abstract):
                widget.update(Content(""))
            for widget in (tags, note):
                widget.display = False
            return
        shown_title = _readable(paper.title, MAX_TITLE_SHOWN)
        shown_abstract = _readable(paper.abstract, MAX_ABSTRACT_SHOWN)
        why = matched(shown_title[0], shown_abstract[0]) if matched is not None else Matched((), ())
        title.update(_styled(*shown_title, why.title))
        facts = [f"id {paper.public_id}", *source_facts(paper)]
        if annotation is not None and annotation.bookmarked_at:
            facts.insert(0, "★ bookmarked " + annotation.bookmarked_at[:10])
        if seen:
            facts.append(seen)
        if paper.from_store:
            facts.append("from your store (not in the open digests)")
        elif paper.source:
            facts.append(inert(paper.source.rsplit("/", 1)[-1]))  # a file name is shown, never acted on
        meta.update(Content("  ·  ".join(facts)))
        tag_list = list(annotation.tags) if annotation is not None else []
        tags.display = bool(tag_list)
        tags.update(Content("Tags: " + "  ".join(f"#{inert(t)}" for t in tag_list)))
        note_text = annotation.note if annotation is not None else ""
        note.display = bool(note_text)
        note.update(Content("Note: " + inert_lines(note_text)))
        lines = [
            Content.assemble((f"[{n}] ", "bold"), (link.label + ": ", "dim"), link.url)
            for n, link in enumerate(links, 1)
        ]
        links_view.update(Content("\n").join(lines))
        abstract.update(_styled(*shown_abstract, why.abstract) if paper.abstract else Content("(no abstract)"))
        self.scroll_home(animate=False)
