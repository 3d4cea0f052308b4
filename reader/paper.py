"""Papers and their stable identity."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from dataclasses import dataclass

from reader.text import fold, fold_ascii

ID_LENGTH = 12
_ID = re.compile(rf"[a-z2-7]{{{ID_LENGTH}}}")
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
# arXiv identifiers, with or without a version: new style 2405.00002v2, old style hep-th/9901001
# or math.AG/0101001. ASCII digits only (\d alone takes any script's digits).
_ARXIV_ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{2})?/\d{7})(?:v\d+)?", re.ASCII)
_PAIRS = [a + b for a in _BASE32 for b in _BASE32]  # 10 bits -> two base32 characters


def arxiv_id(text: str) -> str:
    """``text`` as an arXiv id (an ``arXiv:`` prefix dropped), or "" when it is not shaped like one.

    A source's id becomes the id a paper is listed, shown and typed by: text that is not an
    arXiv id ("ab", "[bold]1234") must not take the place of the title hash.
    """
    text = text.strip()
    if text[:6].lower() == "arxiv:":
        text = text[6:]
    return text if _ARXIV_ID.fullmatch(text) else ""


def paper_id(title: str) -> str:
    """Return the short stable id of a paper with this title.

    The title is folded (Unicode normalization, accents, case, punctuation and
    whitespace), so re-spacings and re-casings of a title keep their id.
    """
    if title.isascii():  # the common case, folded as bytes: the same key, a third of the time
        key = fold_ascii(title)
    else:
        key = fold(title).encode("utf-8")
    if not key:
        # A title with no letters or digits folds to nothing: key on the text itself
        # so such titles do not all share one id.
        key = " ".join(unicodedata.normalize("NFC", title).split()).encode("utf-8")
    # The first 60 bits of the digest in lowercase base32, i.e. base64.b32encode(digest)[:12]
    # (what ids have always been), with a table: base64's pure-Python encoder is a third of loading.
    bits = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 4
    return (
        _PAIRS[bits >> 50]
        + _PAIRS[(bits >> 40) & 1023]
        + _PAIRS[(bits >> 30) & 1023]
        + (_PAIRS[(bits >> 20) & 1023] + _PAIRS[(bits >> 10) & 1023] + _PAIRS[bits & 1023])
    )


def id_number(pid: str) -> int:
    """Return the id as a positive integer, used as the store's document id.

    Any string gets a number (an id typed by hand or read from an import file
    must not crash the store); well-formed ids decode as they always have.
    """
    if not _ID.fullmatch(pid):
        digest = hashlib.blake2b(pid.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        return (int.from_bytes(digest, "big") >> 8) | 1
    return int.from_bytes(base64.b32decode(pid.upper() + "====")[:8].ljust(8, b"\0"), "big") >> 4


@dataclass(frozen=True, slots=True)
class PaperMeta:
    """What a structured source (the Hub, arXiv, an email listing) says of a paper besides its text.

    Dates are ISO ``YYYY-MM-DD`` ("" when unknown); ``upvotes`` is None when the source has none.
    """

    arxiv_id: str = ""
    authors: tuple[str, ...] = ()
    published: str = ""  # when the paper came out (arXiv)
    submitted: str = ""  # when it reached the source's list (the Hub's day)
    upvotes: int | None = None
    github_repo: str = ""
    project_page: str = ""
    keywords: tuple[str, ...] = ()


@dataclass(slots=True)
class Paper:
    """One paper: a title and its abstract, where it came from, and its place in file order."""

    id: str
    title: str
    abstract: str
    source: str = ""
    order: int = 0
    # True when the paper is not in any open digest and comes from a stored snapshot.
    from_store: bool = False
    # Authors, dates, upvotes and links, from sources that have them (None: a plain text digest).
    meta: PaperMeta | None = None

    @property
    def public_id(self) -> str:
        """The id shown and typed: the arXiv id when a source knows it, else the title hash (``id``).

        ``id`` stays the paper's key in the store, so annotations made under it are kept; both
        ids, and unique prefixes of either, find the paper.
        """
        return self.meta.arxiv_id if self.meta is not None and self.meta.arxiv_id else self.id

    @classmethod
    def make(cls, title: str, abstract: str, source: str = "", order: int = 0) -> Paper:
        """Build a paper, deriving its id from the title."""
        return cls(paper_id(title), title, abstract, source, order)
