"""Other forms of a query word: inflections, British/American spellings, compounds typed joined.

People remember a paper's words, not their exact form: "capability" for "capabilities",
"mine" for "mining", "optimise" for "optimize", "stepbystep" for "step-by-step",
"gpt4" for "GPT-4". These functions only propose candidate words; the engine keeps the
ones its vocabulary holds and ranks them below the word as typed. Nothing here knows
the papers: the rules are small, English, and err on proposing too much (a form no
paper has costs one dictionary lookup).
"""

from __future__ import annotations

import re
from collections.abc import Callable

MIN_STEM = 3  # letters a word keeps when a suffix is taken off
_VOWELS = frozenset("aeiou")
# British and American spellings, as (British, American) endings of a word's stem.
_SPELLINGS = (
    ("isation", "ization"),
    ("ise", "ize"),
    ("ised", "ized"),
    ("ises", "izes"),
    ("ising", "izing"),
    ("iser", "izer"),
    ("isers", "izers"),
    ("yse", "yze"),
    ("ysed", "yzed"),
    ("ysing", "yzing"),
    ("our", "or"),
    ("ours", "ors"),
    ("oured", "ored"),
    ("ouring", "oring"),
    ("ourable", "orable"),
    ("ourite", "orite"),
    ("ourites", "orites"),
    ("oural", "oral"),
    ("tre", "ter"),
    ("tres", "ters"),
    ("ogue", "og"),
    ("ogues", "ogs"),
    ("elled", "eled"),
    ("elling", "eling"),
    ("eller", "eler"),
    ("ellers", "elers"),
    ("ence", "ense"),
    ("amme", "am"),
    ("ammes", "ams"),
)
_ALPHA_DIGIT = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")


def stems(word: str) -> set[str]:
    """What ``word`` may be an inflection of: the word without -s, -es, -ies, -ing, -ed (and the
    -e or doubled consonant those take away or add), itself included."""
    found = {word}
    if not word.isalpha():
        return found

    def add(stem: str) -> None:
        if len(stem) >= MIN_STEM:
            found.add(stem)

    if word.endswith("ies"):
        add(word[:-3] + "y")
    if word.endswith("es"):
        add(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        add(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            add(stem)
            add(stem + "e")
            if len(stem) >= 2 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS:
                add(stem[:-1])  # running -> run
            if suffix == "ed" and stem.endswith("i"):
                add(stem[:-1] + "y")  # studied -> study
    return found


def inflections(stem: str) -> set[str]:
    """The regular inflections of a stem: -s/-es/-ies, -ing, -ed (dropping a final -e, -y)."""
    if not stem.isalpha() or len(stem) < MIN_STEM:
        return set()
    found = {stem + "s", stem + "es", stem + "ing", stem + "ed"}
    if stem.endswith("e"):
        found |= {stem[:-1] + "ing", stem + "d"}
    if stem.endswith("y") and stem[-2] not in _VOWELS:
        found |= {stem[:-1] + "ies", stem[:-1] + "ied"}
    if stem[-1] not in _VOWELS and stem[-2] in _VOWELS and stem[-1] not in "wxy":
        found |= {stem + stem[-1] + "ing", stem + stem[-1] + "ed"}  # run -> running
    return found


_OTHER_SPELLING = {
    have: other for british, american in _SPELLINGS for have, other in ((british, american), (american, british))
}
_SPELLING_END = re.compile("(" + "|".join(sorted(_OTHER_SPELLING, key=len, reverse=True)) + ")$")


def spellings(word: str) -> set[str]:
    """The word in the other spelling (British <-> American) of its ending, if it has one."""
    match = _SPELLING_END.search(word)
    if match is None or match.start() < MIN_STEM:
        return set()
    return {word[: match.start()] + _OTHER_SPELLING[match.group()]}


def word_forms(word: str) -> set[str]:
    """Other forms of ``word`` (not itself): its stems and their other spellings, and the inflections of those."""
    bases = stems(word)
    for stem in list(bases):
        bases |= spellings(stem)
    found = set(bases)
    for base in bases:
        found |= inflections(base)
    found.discard(word)
    return found


def splits(word: str, known: Callable[[str], bool], most: int = 4) -> list[tuple[str, ...]]:
    """Ways to cut ``word`` into 2..``most`` known words, fewest parts first (``stepbystep`` ->
    ``step by step``, ``gpt4`` -> ``gpt 4``). A part is at least two characters long, unless
    it ends or starts where letters meet digits (``k12`` -> ``k 12``)."""
    n = len(word)
    if n < 3:
        return []
    cuts = {m.start() for m in _ALPHA_DIGIT.finditer(word)}

    def allowed(start: int, end: int) -> bool:
        return (end - start >= 2 or start in cuts or end in cuts) and known(word[start:end])

    # best[i]: the ways to cut word[i:], each as few parts as it can be (at most 4 kept).
    best: list[list[tuple[str, ...]]] = [[] for _ in range(n + 1)]
    best[n] = [()]
    for start in range(n - 1, -1, -1):
        ways: list[tuple[str, ...]] = []
        for end in range(n, start, -1):  # longer first parts first
            if best[end] and allowed(start, end):
                ways.extend((word[start:end], *rest) for rest in best[end] if len(rest) < most)
        ways.sort(key=len)
        best[start] = ways[:4]
    return [way for way in best[0] if len(way) >= 2]


def alpha_digit_parts(word: str) -> list[str]:
    """The word cut where letters meet digits (``qwen2`` -> ``qwen``, ``2``)."""
    return _ALPHA_DIGIT.sub(" ", word).split()
