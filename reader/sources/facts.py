"""A paper's source data in a few short phrases, for the detail pane: authors, upvotes, date."""

from __future__ import annotations

from reader.paper import Paper

SHOWN_AUTHORS = 3  # more are counted, not named: a 40-author paper stays one line


def source_facts(paper: Paper) -> list[str]:
    """``["Ada Lovelace, Bo Li +2 more", "42 upvotes", "published 2024-05-01"]`` (empty for a text digest)."""
    meta = paper.meta
    if meta is None:
        return []
    facts = []
    if meta.authors:
        named = ", ".join(meta.authors[:SHOWN_AUTHORS])
        more = len(meta.authors) - SHOWN_AUTHORS
        facts.append(named + (f" +{more} more" if more > 0 else ""))
    if meta.upvotes is not None:
        facts.append(f"{meta.upvotes} upvote" + ("" if meta.upvotes == 1 else "s"))
    if meta.published or meta.submitted:
        facts.append(f"published {meta.published}" if meta.published else f"listed {meta.submitted}")
    return facts
