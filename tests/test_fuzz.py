"""Property-based tests: any digest bytes, any query string.

A digest is either read into papers or refused with one line
``paper-reader: error: FILE: ...`` and exit status 2, never a traceback. A query
always gives a result, and ``!x`` never lets through a paper whose title contains
``x``. "Contains" here is a case-insensitive substring of the text as the user sees
it: both sides are taken in Unicode NFC (canonically equivalent spellings, such as
``é`` typed as one code point or as ``e`` plus a combining accent, are the same
text) and casefolded (so ``!STRASSE`` also drops "Straße"). Accents are not folded
away: ``!x`` is an exact term, so ``!cafe`` keeps "Café" (fuzzy words are the
accent-blind ones).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import pytest
from conftest import ABSTRACT
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from reader.cli import main
from reader.digest import DigestError, bundled_digest, load_library
from reader.index.engine import SearchEngine, State
from reader.query import Term, parse_query
from reader.tex import clean_tex

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

LIBRARY = load_library([bundled_digest()])
ENGINE = SearchEngine(LIBRARY.papers)
TITLES = [p.title for p in LIBRARY.papers]


def contains(title: str, x: str) -> bool:
    """Whether a user would say ``title`` contains ``x`` (case-insensitively, same text)."""
    return unicodedata.normalize("NFC", x).casefold() in unicodedata.normalize("NFC", title).casefold()


# -- digest bytes ---------------------------------------------------------------------------

LINES = st.sampled_from(
    [
        "Get trending papers in your email inbox once a day!",
        "Subscribe",
        "SubscribePAON: A New Neuron Model",
        "Deep [Residual] Learning",
        ABSTRACT,
        "Été μ-transfer ö " + ABSTRACT,
        "\x1b]52;c;aGVsbG8=\x07evil title",
        "\u202eright to left",
        "",
        "   ",
        "\t",
    ]
)


def _joined(parts: list[str]) -> bytes:
    return "\n".join(parts).encode("utf-8")


DIGEST_BYTES = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda s: s.encode("utf-8")),
    st.lists(LINES, max_size=8).map(_joined),
    st.tuples(
        st.lists(LINES, max_size=6).map(_joined),
        st.binary(max_size=20),
        st.sampled_from([b"", b"\r\n", b"\xef\xbb\xbf"]),
    ).map(lambda t: t[2] + t[0] + t[1]),
)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``paper-reader ARGV`` in this process: (status, stdout, stderr); an escaping exception fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def check_outcome(path: Path, status: int, out: str, err: str) -> None:
    error_lines = [line for line in err.splitlines() if not line.startswith("paper-reader: warning: ")]
    if status == 2:
        assert out == ""
        assert len(error_lines) == 1, err
        assert error_lines[0].startswith(f"paper-reader: error: {path}: "), err
        assert "Traceback" not in err
    else:
        assert status == 0, err
        assert error_lines == [], err
        rows = out.splitlines()
        assert rows, "status 0 with no paper listed"
        for row in rows:
            pid, _, title = row.partition("\t")
            assert len(pid) == 12 and title.strip(), row


@SETTINGS
@given(data=DIGEST_BYTES)
@example(data=b"")
@example(data=b"\xff\xfe\x00t")
@example(data=b"\x00")
@example(data=b"\xef\xbb\xbf")
@example(data=b"\r\n\r\n")
@example(data=b"Subscribe\n")
@example(data="!\u2028!\x85x\u2029".encode())
def test_any_bytes_are_papers_or_one_error_line(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "digest.txt"
        path.write_bytes(data)
        try:
            library = load_library([path])
        except DigestError as err:
            assert str(err).startswith(f"{path}: ") and "\n" not in str(err)
            refused = True
        else:
            assert library.papers
            assert all(p.title.strip() for p in library.papers)
            # Nothing that could drive the terminal survives into a paper.
            for paper in library.papers:
                for text in (paper.title, paper.abstract):
                    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text), repr(text)
                    assert len(text.splitlines()) <= 1, repr(text)  # no line or paragraph separator
            refused = False
        status, out, err = run_cli(["list", str(path)])
        check_outcome(path, status, out, err)
        assert (status == 2) == refused
        if not refused:
            assert len(out.splitlines()) == len(library.papers)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01binary",
        b"\xff\xfe\x00t\x00i",
        b"caf\xe9 latin-1\n" + ABSTRACT.encode(),
        b"   \n\n",
        b"Get trending papers in your email inbox once a day!\nSubscribe\n",
    ],
)
def test_the_real_command_prints_one_line_and_exits_2(tmp_path, data):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-m", "reader", "list", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PAPER_READER_DB": str(tmp_path / "db.json")},
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"paper-reader: error: {path}: ")
    assert done.stderr.count("\n") == 1, done.stderr


# -- queries ----------------------------------------------------------------------------------

QUERY_ALPHABET = st.characters(codec="utf-8")
QUERY_WORDS = st.sampled_from(
    [
        "neural",
        "opertor",
        "'exact",
        "!the",
        '"a phrase',
        '"',
        "!",
        "'",
        "#",
        "#tag",
        "is:",
        "is:read",
        "is:nope",
        "has:code",
        "!has:note",
        "!#x",
        '!"learning"',
        "::",
        "\\",
        "[/",
        "é",
        "Ü",
        "ß",
        "İ",
        "ﬁ",
        "\u0301",
        "\x00",
    ]
)
QUERIES = st.one_of(
    st.text(QUERY_ALPHABET, max_size=40),
    st.lists(st.one_of(QUERY_WORDS, st.text(QUERY_ALPHABET, max_size=6)), max_size=6).map(" ".join),
)
STATE = State.from_records(
    {
        LIBRARY.papers[0].id: {
            "id": LIBRARY.papers[0].id,
            "bookmarked_at": "2024-01-01",
            "tags": ["tag", "x"],
            "note": "n",
            "read_at": "2024-01-01",
            "link": "https://a.org",
        },
        LIBRARY.papers[5].id: {"id": LIBRARY.papers[5].id, "tags": ["Été"], "read_at": "2024-01-01"},
    }
)


@SETTINGS
@given(text=QUERIES)
def test_any_query_gives_a_result(text: str) -> None:
    query = parse_query(text)
    assert query.text == text
    result = ENGINE.search(text, STATE)
    assert len(result.indices) == len(result.scores)
    indices = result.indices.tolist()
    assert len(set(indices)) == len(indices)
    assert all(0 <= i < len(LIBRARY.papers) for i in indices)
    limited = ENGINE.search(text, STATE, limit=3)
    assert limited.indices.tolist() == indices[:3]


def _substring(data: st.DataObject) -> str:
    title = data.draw(st.sampled_from(TITLES))
    start = data.draw(st.integers(0, len(title) - 1))
    end = data.draw(st.integers(start + 1, min(len(title), start + 12)))
    piece = title[start:end]
    form = data.draw(st.sampled_from(["same", "upper", "lower", "NFD", "swapcase"]))
    if form == "NFD":
        return unicodedata.normalize("NFD", piece)
    return piece if form == "same" else getattr(piece, form)()


@SETTINGS
@given(data=st.data())
@example(data=None)
def test_excluded_word_never_appears_in_a_result_title(data) -> None:
    if data is None:  # the accented titles of the real digest, typed decomposed and upper case
        xs = [unicodedata.normalize("NFD", w).upper() for t in TITLES for w in t.split() if not w.isascii()]
        assert xs
    else:
        how = data.draw(st.sampled_from(["substring", "text", "letters"]))
        if how == "substring":
            xs = [_substring(data)]
        elif how == "text":
            xs = [data.draw(st.text(QUERY_ALPHABET, min_size=1, max_size=8))]
        else:
            xs = [data.draw(st.text(st.sampled_from("aeiouéèüöıİßſKﬁ\u0301\u0308stnrl-:'"), min_size=1, max_size=5))]
    for x in xs:
        query = parse_query("!" + x)
        # One word (no spaces, not a filter or tag): the query is "exclude x".
        assume(query.terms == [Term("exact", unicodedata.normalize("NFC", x), True)])
        result = ENGINE.search(query, State())
        kept = [TITLES[i] for i in result.indices.tolist()]
        assert not [t for t in kept if contains(t, x)], (x, [t for t in kept if contains(t, x)][:3])
        # And nothing else is dropped: every paper whose title and abstract lack x, as written
        # and as shown (TeX made readable), is still listed.
        kept_set = set(result.indices.tolist())
        for i, paper in enumerate(LIBRARY.papers):
            texts = (paper.title, paper.abstract, clean_tex(paper.title), clean_tex(paper.abstract))
            if not any(contains(text, x) for text in texts):
                assert i in kept_set, (x, paper.title)


@pytest.mark.parametrize(
    "typed_tag, query", [("e\u0301te\u0301", "#été"), ("été", "#E\u0301TE\u0301"), ("Ärger", "#ärger")]
)
def test_a_tag_is_found_however_its_accents_were_typed(tmp_path, typed_tag, query):
    from reader.collection import Collection
    from reader.store import Store

    store = Store(tmp_path / "store.json")
    paper = LIBRARY.papers[7]
    store.add_tags(paper, [typed_tag])
    collection = Collection(LIBRARY, store)
    assert collection.engine.search(query, collection.state).indices.tolist() == [7]
    assert collection.engine.search("!" + query, collection.state).indices.tolist().count(7) == 0
