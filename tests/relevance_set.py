"""The relevance set: queries of people half-remembering one paper of the bundled digest.

Each case is a query a person would type, the paper they mean (its id as
``paper-reader list`` prints it, and its title for the reader of the file) and the
class of mistake or memory it stands for. The cases live in ``relevance_set.tsv``
beside this module, one a line: ``class<TAB>query<TAB>id<TAB>title``; ``#`` starts a
comment. ``benchmarks/relevance.py`` scores search engines on it (recall@k, MRR), and
takes any other file in the same format (``--set``), e.g. a hidden set of unseen queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SET_PATH = Path(__file__).with_name("relevance_set.tsv")

# Class name -> what the queries of that class do to the paper's words.
CLASSES: dict[str, str] = {
    "exact": "words as they are in the title or abstract",
    "typo": "one typo (a letter wrong, missing or extra) in some words",
    "two_typos": "two typos in one long word",
    "transposition": "two neighbouring letters swapped (modle, nueral)",
    "prefix": "words typed only partly",
    "abstract": "words found only in the abstract",
    "word_order": "the title's words in another order",
    "number": "singular for plural or plural for singular",
    "compound": "a hyphenated or spaced compound typed as one word (stepbystep, finetuning)",
    "stem": "another form of a word: y/ies plurals, -ing/-ed/-e stems (capability, mine)",
    "spelling": "British for American spelling or the other way (-ise/-ize, -our/-or, -ll-/-l-)",
    "digits": "letters and digits split or glued (qwen 2.5, gpt4, internlm 2)",
    "extra_word": "the paper's words plus one remembered word that is not in the paper",
}


@dataclass(frozen=True)
class Case:
    """One query and the paper it should find."""

    cls: str
    query: str
    paper_id: str
    title: str


class SetFileError(ValueError):
    """A relevance set file that is not in the format above."""


def load(path: Path | str = SET_PATH) -> list[Case]:
    """The cases of a set file (the bundled set by default), in file order."""
    cases = []
    path = Path(path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) not in (3, 4) or not all(f.strip() for f in fields[:3]):
            raise SetFileError(f"{path}:{number}: want class<TAB>query<TAB>id[<TAB>title], got {line!r}")
        cls, query, paper_id = (f.strip() for f in fields[:3])
        if cls not in CLASSES:
            raise SetFileError(f"{path}:{number}: unknown class {cls!r} (known: {', '.join(CLASSES)})")
        cases.append(Case(cls, query, paper_id, fields[3].strip() if len(fields) == 4 else ""))
    return cases
