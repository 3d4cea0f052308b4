"""Text hygiene: nothing from a file reaches the terminal raw; folding for matching."""

from __future__ import annotations

import pytest

from reader.text import clean_line, fold, fold_with_offsets


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ("a\x1b]0;pwned\x07b", "ab"),  # OSC: set the window title
        ("a\x1b]52;c;aGVsbG8=\x1b\\b", "ab"),  # OSC 52: write the clipboard (ST terminator)
        ("\x1b[31mred\x1b[0m", "red"),  # CSI colours
        ("\x1b[2J\x1b[Hx", "x"),  # clear screen, cursor home
        ("a\x9b31mb", "ab"),  # 8-bit CSI
        ("a\x9d0;t\x07b", "ab"),  # 8-bit OSC
        ("a\x1bPq#0\x1b\\b", "ab"),  # DCS (sixel)
        ("a\x1b7b\x1b8c", "abc"),  # two-byte escapes
        ("evil\u202etxt.exe", "eviltxt.exe"),  # bidi override
        ("a\u2066b\u2069c", "abc"),  # bidi isolates
        ("nul\x00bell\x07del\x7f", "nulbelldel"),
        ("tab\there", "tab here"),
        ("\ufeffbom", "bom"),
        ("trailing escape\x1b", "trailing escape"),
    ],
)
def test_clean_line_removes_escapes_and_controls(dirty, clean):
    assert clean_line(dirty) == clean


def test_clean_line_leaves_ordinary_text_alone():
    text = "Padé approximants, μ-transfer [27] and Schrödinger: 100% “quoted” ✓"
    assert clean_line(text) == text


def test_clean_line_output_never_has_controls():
    nasty = "".join(chr(c) for c in range(0, 0xA0)) + "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    out = clean_line(nasty * 3)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in out)
    assert not any(ch in out for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@pytest.mark.parametrize(
    "a, b",
    [
        ("Padé Approximants", "Pade approximants"),
        ("Neural  Operator:\tLearning", "neural operator learning"),
        ("SCHRÖDINGER", "schrodinger"),
        ("ﬁne-tuning", "fine tuning"),
    ],
)
def test_fold_ignores_case_accents_punctuation_and_spacing(a, b):
    assert fold(a) == fold(b)


def test_fold_with_offsets_points_back_into_the_original():
    title = "Padé: Approximants"
    folded, where = fold_with_offsets(title)
    start = folded.index("approximants")
    assert title[where[start] : where[start + len("approximants") - 1] + 1] == "Approximants"
    assert folded[: len("pade")] == "pade"
