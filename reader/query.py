"""The query language: fzf-like terms plus filters on what the user annotated.

``neural opertor`` fuzzy terms, all must match · ``'exact`` substring ·
``!term`` excludes · ``"a phrase"`` · ``#tag`` · ``is:bookmarked``, ``is:unread``,
``is:read``, ``is:new`` · ``has:note``, ``has:code``, ``has:tags``, ``has:link`` ·
``rank:tag`` orders by likeness to the papers carrying the tag · ``author:name`` (fuzzy;
``author:"ada lovelace"``) papers whose source names such an author.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

FILTERS = {
    "is": ("bookmarked", "unread", "read", "new"),
    "has": ("note", "code", "tags", "link"),
}


@dataclass(frozen=True, slots=True)
class Term:
    """One query term. ``kind`` is fuzzy, exact, phrase, tag or filter."""

    kind: str
    text: str
    negate: bool = False


@dataclass(slots=True)
class Query:
    """A parsed query; ``errors`` names terms that were not understood (and match nothing)."""

    text: str
    terms: list[Term] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when the query puts no condition on papers."""
        return not self.terms and not self.errors

    def has_filter(self, kind: str, text: str | None = None) -> bool:
        """True when a positive term of this kind (and text) is in the query."""
        return any(t.kind == kind and not t.negate and (text is None or t.text == text) for t in self.terms)


def split_terms(text: str) -> list[tuple[str, bool]]:
    """Split on whitespace, keeping double-quoted runs together; returns (token, quoted).

    A token that starts with a quote (or ``!`` and a quote) is a phrase (quoted is True);
    a quote after another prefix only groups words: ``#"reading group"`` is the tag.
    """
    tokens: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        parts: list[str] = []
        quoted = False
        while i < n and not text[i].isspace():
            if text[i] == '"':
                end = text.find('"', i + 1)
                end = n if end < 0 else end
                quoted = quoted or "".join(parts) in ("", "!")
                parts.append(text[i + 1 : end])
                i = end + 1
            else:
                parts.append(text[i])
                i += 1
        tokens.append(("".join(parts), quoted))
    return tokens


def parse_query(text: str) -> Query:
    """Parse a query string; never raises."""
    query = Query(text)
    # Terms compare with digest text, which is NFC: "é" typed as e + combining accent is "é".
    normalized = text if text.isascii() else unicodedata.normalize("NFC", text)
    for token, quoted in split_terms(normalized):
        negate = token.startswith("!")
        body = token[1:] if negate else token
        if quoted:
            if body.strip():
                query.terms.append(Term("phrase", " ".join(body.split()), negate))
            continue
        if not body:
            continue
        if body.startswith("'"):
            if len(body) > 1:
                query.terms.append(Term("exact", body[1:], negate))
        elif body.startswith("#"):
            if len(body) > 1:
                query.terms.append(Term("tag", body[1:], negate))
        elif body.lower().startswith("author:"):
            if body[7:].strip():
                query.terms.append(Term("author", " ".join(body[7:].split()), negate))
        elif body.lower().startswith("rank:"):
            if len(body) > 5:
                query.terms.append(Term("rank", body[5:].lstrip("#"), False))
        elif ":" in body and body.split(":", 1)[0].lower() in FILTERS:
            name, value = body.split(":", 1)
            name, value = name.lower(), value.lower()
            if value in FILTERS[name]:
                query.terms.append(Term("filter", f"{name}:{value}", negate))
            elif value:
                choices = ", ".join(f"{name}:{v}" for v in FILTERS[name])
                query.errors.append(f"unknown filter {body!r} (try {choices})")
        else:
            query.terms.append(Term("exact" if negate else "fuzzy", body, negate))
    return query
