"""Paper identity: a short id that survives re-casing, re-spacing, punctuation and accents."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reader.digest import load_library
from reader.paper import Paper, id_number, paper_id

TITLE = "Neural Operator: Learning Maps Between Function Spaces"


@pytest.mark.parametrize(
    "variant",
    [
        "neural operator: learning maps between function spaces",
        "NEURAL OPERATOR: LEARNING MAPS BETWEEN FUNCTION SPACES",
        "  Neural   Operator:  Learning Maps\tBetween Function Spaces  ",
        "Neural Operator - Learning Maps Between Function Spaces.",
        "Neural Operator; Learning Maps Between Function-Spaces",
    ],
)
def test_id_is_stable_across_case_whitespace_and_punctuation(variant):
    assert paper_id(variant) == paper_id(TITLE)


def test_id_is_stable_across_accents_and_unicode_forms():
    assert paper_id("PAON: A New Neuron Model using Padé Approximants") == paper_id(
        "PAON: A New Neuron Model using Pade Approximants"
    )
    # Composed é versus e + combining acute.
    assert paper_id("Pad\u00e9") == paper_id("Pade\u0301")


def test_different_titles_get_different_ids(sample_path):
    ids = [p.id for p in load_library([sample_path]).papers]
    assert len(set(ids)) == len(ids) == 164


def test_ids_are_short_and_typeable(sample_path):
    for paper in load_library([sample_path]).papers:
        assert re.fullmatch(r"[a-z2-7]{12}", paper.id), paper.id


def test_titles_with_no_letters_do_not_all_share_one_id():
    assert paper_id("???") != paper_id("!!!")
    assert paper_id("???") == paper_id("???")


def test_make_derives_the_id_from_the_title():
    paper = Paper.make("Padé Approximants", "An abstract.", "f.txt", 3)
    assert paper.id == paper_id("pade approximants")
    assert (paper.title, paper.abstract, paper.source, paper.order) == ("Padé Approximants", "An abstract.", "f.txt", 3)


def test_document_numbers_follow_ids_and_differ(sample_path):
    ids = [p.id for p in load_library([sample_path]).papers]
    numbers = {id_number(pid) for pid in ids}
    assert len(numbers) == len(ids)
    assert all(n > 0 for n in numbers)


@pytest.mark.parametrize("odd", ["hello", "abc", "", "not-an-id!", "ABCDEFGHIJKL"])
def test_document_number_of_any_string_does_not_crash(odd):
    assert id_number(odd) > 0
    assert id_number(odd) == id_number(odd)


def _id_as_before(title: str) -> str:
    """paper_id as first written (str folding, base64): ids are store keys and must never change."""
    import base64
    import hashlib
    import unicodedata

    from reader.text import ASCII_FOLD, fold

    folded = " ".join(title.translate(ASCII_FOLD).split()) if title.isascii() else fold(title)
    key = (folded or " ".join(unicodedata.normalize("NFC", title).split())).encode("utf-8")
    return base64.b32encode(hashlib.blake2b(key, digest_size=8).digest()).decode("ascii")[:12].lower()


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60) | st.text(max_size=30))
def test_a_titles_id_never_changes(title: str) -> None:
    assert paper_id(title) == _id_as_before(title)
