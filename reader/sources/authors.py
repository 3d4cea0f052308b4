"""``author:name`` in the query language: does a typed name match one of a paper's authors?

Fuzzy as people remember names: case, accents and punctuation ignored (``godel`` finds
Kurt Gödel), a word may be the start of a name word (``lov`` finds Lovelace), and one typo
is forgiven in words of five letters or more (``lovlace``). Every typed word must match
a word of the same author.
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from reader.text import fold


def _word_matches(typed: str, word: str) -> bool:
    if word.startswith(typed):
        return True
    return len(typed) >= 5 and Levenshtein.distance(typed, word[: len(typed) + 1], score_cutoff=1) <= 1


def author_matches(typed: str, authors: tuple[str, ...]) -> bool:
    """True when every word of ``typed`` matches a word of one of ``authors``."""
    words = fold(typed).split()
    if not words:
        return False
    for author in authors:
        names = fold(author).split()
        if all(any(_word_matches(w, n) for n in names) for w in words):
            return True
    return False
