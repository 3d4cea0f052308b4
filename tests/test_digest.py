"""Reading digests: the real file, crafted odd files, bad files, several files as one library."""

from __future__ import annotations

import os

import pytest
from conftest import ABSTRACT

from reader.digest import DigestError, bundled_digest, load_library, parse_digest, read_digest
from reader.paper import paper_id

FIRST = "PAON: A New Neuron Model using Padé Approximants"
LAST = "Weighting vectors for machine learning: numerical harmonic analysis applied to boundary detection"
HEADER = "Get trending papers in your email inbox once a day!\nGet trending papers in your email inbox!\n"


def pairs(n: int, prefix: str = "Paper") -> list[tuple[str, str]]:
    return [(f"{prefix} number {i}: a title", f"Abstract {i}. {ABSTRACT}") for i in range(n)]


def as_text(entries) -> str:
    return "".join(f"{t}\n{a}\n" for t, a in entries)


# -- the real digest ---------------------------------------------------------------------


def test_real_digest_has_164_papers_with_the_right_first_and_last(sample_path):
    library = load_library([sample_path])
    assert len(library.papers) == 164
    assert library.papers[0].title == FIRST  # "Subscribe" glued to it is gone
    assert library.papers[-1].title == LAST
    assert library.warnings == []
    assert all(p.abstract for p in library.papers)
    assert [p.order for p in library.papers] == list(range(164))


def test_real_digest_titles_are_short_and_abstracts_long(sample_path):
    for paper in load_library([sample_path]).papers:
        assert len(paper.title) < len(paper.abstract)
        assert not paper.title.startswith("Subscribe")
        assert "Get trending papers" not in paper.title


def test_bundled_digest_is_inside_the_package():
    path = bundled_digest()
    assert path.is_file()
    assert path.parent.parent.name == "reader"


# -- accepted variations ------------------------------------------------------------------


def test_bom_crlf_blank_lines_and_trailing_blank_lines(write_digest):
    entries = pairs(3)
    text = "\ufeff" + HEADER.replace("\n", "\r\n") + "\r\n\r\n".join(f"{t}\r\n{a}" for t, a in entries) + "\r\n\r\n\r\n"
    library = load_library([write_digest(text)])
    assert [(p.title, p.abstract) for p in library.papers] == entries
    assert library.warnings == []


def test_no_header(write_digest):
    entries = pairs(2)
    library = load_library([write_digest(as_text(entries))])
    assert [(p.title, p.abstract) for p in library.papers] == entries


def test_subscribe_glued_to_first_title_is_stripped(write_digest):
    entries = pairs(2)
    text = HEADER + "Subscribe" + as_text(entries)
    assert load_library([write_digest(text)]).papers[0].title == entries[0][0]


@pytest.mark.parametrize(
    "title", ["Subscriber churn prediction", "Subscribers: a study", "Subscribed users and ranking"]
)
def test_a_first_title_starting_with_subscribe_as_a_word_is_kept(write_digest, title):
    entries = [(title, ABSTRACT)] + pairs(1)
    library = load_library([write_digest(as_text(entries))])
    assert library.papers[0].title == entries[0][0]


def test_final_title_without_abstract_is_kept_with_a_warning(write_digest):
    entries = pairs(2)
    path = write_digest(as_text(entries) + "A last title with nothing after it\n\n")
    library = load_library([path])
    assert len(library.papers) == 3
    assert library.papers[-1].title == "A last title with nothing after it"
    assert library.papers[-1].abstract == ""
    assert len(library.warnings) == 1
    assert str(path) in library.warnings[0] and "no abstract" in library.warnings[0]


def test_title_followed_by_title_does_not_shift_the_rest(write_digest):
    entries = pairs(3)
    text = as_text(entries[:1]) + "An orphan title\n" + as_text(entries[1:])
    library = load_library([write_digest(text)])
    assert [p.title for p in library.papers] == [entries[0][0], "An orphan title", entries[1][0], entries[2][0]]
    assert [p.abstract for p in library.papers if p.title != "An orphan title"] == [a for _, a in entries]


def test_ten_megabyte_single_line_loads(write_digest):
    big = "word " * 2_000_000
    path = write_digest("A title\n" + big + "\n")
    library = load_library([path])
    assert len(library.papers) == 1
    assert len(library.papers[0].abstract) >= 9_999_000


def test_escape_sequences_and_controls_are_removed_at_load(write_digest):
    title = "\x1b]0;pwned\x07Deep \x1b[31mResidual\x1b[0m Learning\u202e\x9b2J\x7f"
    abstract = "Abstract with \x1b]52;c;ZXZpbA==\x07clipboard write and \x1b[2J a clear. " + ABSTRACT
    library = load_library([write_digest(as_text([(title, abstract)]))])
    paper = library.papers[0]
    assert paper.title == "Deep Residual Learning"
    for text in (paper.title, paper.abstract):
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in text)
    assert "pwned" not in paper.title


def test_latin1_file_reads_with_encoding(write_digest):
    entries = [("Padé approximants for neurons", ABSTRACT)]
    path = write_digest(as_text(entries).encode("latin-1"))
    with pytest.raises(DigestError) as err:
        load_library([path])
    assert "UTF-8" in str(err.value) and str(path) in str(err.value)
    library = load_library([path], encoding="latin-1")
    assert library.papers[0].title == "Padé approximants for neurons"


def test_parse_digest_works_on_text():
    entries, warnings = parse_digest(HEADER + "Subscribe" + as_text(pairs(2)), "x")
    assert entries == pairs(2) and warnings == []


# -- several files -------------------------------------------------------------------------


def test_several_files_are_one_library_with_duplicates_merged(write_digest):
    day1 = pairs(3, "Day one")
    shared = ("Neural Operator: Learning Maps Between Function Spaces", ABSTRACT)
    respaced = ("neural  operator -  learning maps between function SPACES", ABSTRACT)
    a = write_digest(as_text(day1 + [shared]), "2024-01-01.txt")
    b = write_digest(as_text([respaced] + pairs(2, "Day two")), "2024-01-02.txt")
    library = load_library([a, b])
    titles = [p.title for p in library.papers]
    assert len(titles) == 6
    assert titles.count(shared[0]) == 1 and respaced[0] not in titles
    ids = [p.id for p in library.papers]
    assert len(set(ids)) == 6
    assert paper_id(respaced[0]) in ids
    assert library.files == [str(a), str(b)]


def test_folder_of_digests_loads_every_txt(write_digest, tmp_path):
    write_digest(as_text(pairs(2, "Monday")), "days/2024-01-01.txt")
    write_digest(as_text(pairs(2, "Tuesday") + pairs(1, "Monday")), "days/2024-01-02.txt")
    write_digest("not a digest", "days/notes.md")
    library = load_library([tmp_path / "days"])
    assert len(library.papers) == 4
    assert {p.title.split()[0] for p in library.papers} == {"Monday", "Tuesday"}


def test_duplicate_inside_one_file_is_one_paper(write_digest):
    entries = pairs(2) + pairs(1)
    assert len(load_library([write_digest(as_text(entries))]).papers) == 2


# -- bad input -----------------------------------------------------------------------------


def _error(paths, **kw) -> str:
    with pytest.raises(DigestError) as err:
        load_library(paths, **kw)
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "empty"),
        (b"  \n\r\n\t \n", "whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        ("Padé title\n".encode("latin-1") + b"x" * 300, "UTF-8"),
        (b"\xef\xbb\xbf", "no papers"),
        (HEADER.encode() + b"Subscribe\n", "no papers"),
        (f"A title\n{ABSTRACT}\n".encode("utf-16"), "--encoding utf-16"),
    ],
)
def test_bad_files_raise_one_line_naming_the_file(write_digest, content, words):
    path = write_digest(content)
    message = _error([path])
    assert message.startswith(f"{path}: ")
    assert words.lower() in message.lower()


def test_missing_path(tmp_path):
    missing = tmp_path / "nope.txt"
    assert _error([missing]).startswith(f"{missing}: ")


def test_folder_with_no_digests(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("hi")
    message = _error([tmp_path / "empty"])
    assert message.startswith(f"{tmp_path / 'empty'}: ") and "no" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(write_digest):
    path = write_digest(as_text(pairs(1)))
    path.chmod(0)
    try:
        assert "permission denied" in _error([path])
    finally:
        path.chmod(0o644)


def test_utf16_file_reads_with_encoding(write_digest):
    path = write_digest(f"Padé title\n{ABSTRACT}\n".encode("utf-16"))
    assert load_library([path], encoding="utf-16").papers[0].title == "Padé title"


def test_unknown_encoding_is_reported(write_digest):
    path = write_digest(as_text(pairs(1)))
    assert "unknown encoding" in _error([path], encoding="no-such-codec")


def test_read_digest_error_names_the_file(write_digest):
    path = write_digest(b"")
    with pytest.raises(DigestError) as err:
        read_digest(path)
    assert err.value.path == str(path)
