"""Reading a digest file a chunk at a time gives what parsing its whole text gives.

reader.digest._read_lines skips clean_line for UTF-8 chunks with no suspect byte, and
_check_file skips decoding ASCII chunks: whatever the chunk boundaries (mid-line,
mid-character, mid-escape-sequence), a file must read as ``parse_digest`` of its text,
and nothing from a file may reach the screen with a control character in it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ABSTRACT
from hypothesis import given, settings
from hypothesis import strategies as st

from reader import digest
from reader.digest import DigestError, load_library, parse_digest, read_digest
from reader.paper import paper_id

# What clean_line must take out: C0 and C1 controls, DEL, line and paragraph separators,
# bidi overrides and isolates, the byte-order mark.
_UNSAFE_CHARS = frozenset(
    [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)] + list("\u2028\u2029\ufeff")
    + [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
)  # fmt: skip

# Hostile pieces by kind (what is removed, and the UTF-8 byte that gives it away).
HOSTILE_KINDS = {
    "escape sequences": [
        "\x1b[31m", "\x1b[0m", "\x1b[2J\x1b[H", "\x1b]52;c;ZXZpbA==\x07", "\x1b]0;pwned\x1b\\", "\x1bPq#0\x1b\\",
        "\x1b7", "\x1b",
    ],
    "C0 controls": ["\x07", "\x01", "\x08", "\x0b", "\x0c", "\x1c", "\x1f"],
    "tab": ["\t"],
    "lone CR": ["\r"],
    "DEL": ["\x7f"],
    "C1 controls (0xc2)": ["\x9b2J", "\x9b31m", "\x9d0;t\x07", "\x9d0;t\x9c", "\x85", "\x80", "\x9f"],
    "separators and bidi (0xe2)": ["\u2028", "\u2029", "\u202e", "\u202a", "\u2066", "\u2069"],
    "BOM (0xef)": ["\ufeff"],
}  # fmt: skip
HOSTILE = [piece for kind in HOSTILE_KINDS.values() for piece in kind]
# Harmless text, multi-byte characters to be cut by chunk boundaries; and harmless text sharing
# a UTF-8 lead byte with what is removed (— … ’ € ✓ start with 0xe2, Â ¼ and NBSP with 0xc2, ｆ ﬁ with 0xef).
NICE = [
    "Padé", "Schrödinger", "μ-transfer", "中文", "𠀀", "naïve", "ß", "word", "Neural", "operator", " ", "  ",
    ",", ".", "-", "'", "(x)", "e\u0301", "\U0001f600",
]  # fmt: skip
NICE_SUSPECT = ["—", "…", "’", "€", "Â", "¼", "\u00a0", "ｆ", "ﬁ", "✓"]
ENDING = st.sampled_from(["\n", "\r\n", "\n\n", "\r\n\r\n", "\n \n"])


@st.composite
def digests(draw: st.DrawFn) -> str:
    """Digest text: papers with hostile titles and abstracts, odd lines between them, mixed line ends.

    Most lines are plain, and the hostile pieces of a digest are mostly of one kind (C1
    controls, bidi marks...): a chunk then holds no other suspect byte than theirs.
    """
    hostile = draw(st.sampled_from([*HOSTILE_KINDS.values(), HOSTILE]))
    nice = draw(st.sampled_from([NICE, NICE + NICE_SUSPECT]))
    plain = st.lists(st.sampled_from(nice), max_size=6).map("".join)
    dirty = st.lists(st.sampled_from(hostile + nice), min_size=1, max_size=12).map("".join)
    pieces = st.one_of(plain, plain, plain, dirty)
    # A line between papers: pieces around some words (never a NUL: that makes the file "binary").
    line = st.tuples(pieces, st.sampled_from(["", "A title", "word " * 30]), pieces).map("".join)
    parts = []
    if draw(st.booleans()):
        parts.append("\ufeff")
    for k in range(draw(st.integers(1, 10))):
        title = f"{draw(pieces)}Paper {k}{draw(pieces)}"
        abstract = f"{draw(pieces)}{ABSTRACT}{draw(pieces)}"
        parts += [title, draw(ENDING), abstract, draw(ENDING)]
        if draw(st.integers(0, 4)) == 0:
            parts += [draw(line), draw(ENDING)]
    if draw(st.booleans()):
        parts.pop()  # no line end at the very end
    return "".join(parts)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chunks")


def assert_safe(text: str) -> None:
    assert not _UNSAFE_CHARS.intersection(text), repr(text)


def assert_reads_as_parsed(path: Path, text: str, encoding: str | None = None) -> list[tuple[str, str]]:
    """read_digest(path) is parse_digest(text), with the same warnings; nothing unsafe; the library agrees."""
    entries, warnings = read_digest(path, encoding)
    assert (entries, warnings) == parse_digest(text, str(path))
    for title, abstract in entries:
        assert_safe(title)
        assert_safe(abstract)
        assert not any(c in title + abstract for c in "\x1b\x9b\r\u202e\u2028")
    # The app's loader (LibraryLoader.batches): each paper once, the longest abstract kept.
    papers: dict[str, list[str]] = {}
    for title, abstract in entries:
        kept = papers.setdefault(paper_id(title), [title, abstract])
        if len(abstract) > len(kept[1]):
            kept[1] = abstract
    library = load_library([path], encoding)
    assert [[p.title, p.abstract] for p in library.papers] == list(papers.values())
    return entries


@given(digests(), st.sampled_from([1, 3, 64, 300, 1000, digest.CHUNK]), st.sampled_from([None, "utf-8", "UTF8"]))
@settings(max_examples=400, deadline=None)
def test_a_file_reads_as_its_text_parses(workdir: Path, text: str, chunk: int, encoding: str | None) -> None:
    path = workdir / "digest.txt"
    path.write_bytes(text.encode("utf-8"))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        entries = assert_reads_as_parsed(path, text, encoding)
    assert entries


def _clean_digest(papers: int) -> str:
    """A big plain digest: UTF-8 with accents and CJK, but nothing clean_line would touch."""
    return "".join(f"Padé paper {k}: 中文 naïve\n{ABSTRACT} Schrödinger {k}.\n" for k in range(papers))


DIRTY_TITLE = "\x1b]0;pwned\x07Evil \x1b[31mtitle\x1b[0m\u202e\x9b2J\u2028\ufeff with\ttab\x85\r\r"
DIRTY_ABSTRACT = "Abstract\x1b]52;c;ZXZpbA==\x07 with \u2066isolate\u2069\x7f\x01. " + ABSTRACT


@pytest.mark.parametrize("chunk", [64, 1000, 4096, digest.CHUNK])
@pytest.mark.parametrize("crlf", [False, True])
def test_one_dirty_paper_far_into_a_clean_file(workdir: Path, chunk: int, crlf: bool) -> None:
    clean = _clean_digest(500)  # ~130 KB: the dirty paper is past the up-front check's 64 KiB
    text = clean + f"{DIRTY_TITLE}\n{DIRTY_ABSTRACT}\n" + _clean_digest(20)
    if crlf:
        text = text.replace("\n", "\r\n")
    path = workdir / "one-dirty.txt"
    path.write_bytes(text.encode("utf-8"))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        entries = assert_reads_as_parsed(path, text)
    assert len(entries) == 521
    assert entries[500] == ("Evil title  with tab", "Abstract with isolate. " + ABSTRACT)
    assert entries[0] == ("Padé paper 0: 中文 naïve", f"{ABSTRACT} Schrödinger 0.")


# A lone CR ends a line (old Mac files) rather than being removed from one: see test_hostile_digests.
IN_LINE = [piece for piece in HOSTILE if piece != "\r"]


@pytest.mark.parametrize("chunk", [4096, digest.CHUNK])
@pytest.mark.parametrize("dirty", IN_LINE)
def test_one_kind_of_dirt_in_one_line_of_a_clean_file(workdir: Path, dirty: str, chunk: int) -> None:
    # The only suspect byte of its chunk (of the file, at the default CHUNK): it must still be cleaned.
    text = _clean_digest(270) + f"Dirty {dirty}title\nAbstract {dirty}here. {ABSTRACT}\n" + _clean_digest(3)
    path = workdir / "one-kind.txt"
    path.write_bytes(text.encode("utf-8"))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        entries = assert_reads_as_parsed(path, text)
    assert len(entries) == 274
    title, abstract = entries[270]
    assert title.startswith("Dirty") and title.endswith("itle")  # a lone ESC takes the character after it
    assert abstract.startswith("Abstract") and abstract.endswith(ABSTRACT)


@pytest.mark.parametrize("dirty", ["\x1b[31m", "\x1b]0;pwned\x07", "\x85", "\x9b2J", "\u202e", "\u2028", "\ufeff"])
@pytest.mark.parametrize("line", ["title", "abstract"])
def test_chunk_boundary_at_every_byte_of_a_dirty_character(workdir: Path, dirty: str, line: str) -> None:
    # Clean text up to the dirty character, then shifted one byte at a time so that the chunk
    # boundary falls before it, inside it (between the bytes of \x85, U+202E, U+FEFF) and after it.
    chunk = 64
    before = "Clean paper\n" + ABSTRACT + ("\nTitle " if line == "title" else "\nTitle\n")
    for shift in range(len(dirty.encode()) + 3):  # how far into the dirty character a chunk ends
        pad = "x" * ((-len(before.encode()) - shift) % chunk)
        assert (len(before.encode()) + len(pad) + shift) % chunk == 0
        after = "end\n" + ABSTRACT + "\n" if line == "title" else ABSTRACT + "\n"
        text = f"{before}{pad}{dirty}{after}"
        path = workdir / "boundary.txt"
        path.write_bytes(text.encode("utf-8"))
        with pytest.MonkeyPatch.context() as m:
            m.setattr(digest, "CHUNK", chunk)
            entries = assert_reads_as_parsed(path, text)
        assert len(entries) == 2, shift


@pytest.mark.parametrize("char", ["é", "中", "𠀀", "—", "\u00a0"])
def test_a_character_cut_by_a_chunk_boundary_loads(workdir: Path, char: str) -> None:
    encoded = char.encode()
    for before in range(len(encoded) + 1):  # the boundary before, inside and after the character
        title = "T" * (64 - before) + char + " a title"
        text = f"{title}\n{ABSTRACT}\n"
        path = workdir / "cut.txt"
        path.write_bytes(text.encode("utf-8"))
        assert path.read_bytes()[64 - before : 64 - before + len(encoded)] == encoded
        with pytest.MonkeyPatch.context() as m:
            m.setattr(digest, "CHUNK", 64)
            entries = assert_reads_as_parsed(path, text)
        assert entries[0][0].startswith("T" * (64 - before))


# -- other encodings are always cleaned line by line ---------------------------------------


@pytest.mark.parametrize("chunk", [8, digest.CHUNK])
def test_latin1_c1_controls_are_cleaned(workdir: Path, chunk: int) -> None:
    # In latin-1 the bytes 0x85 and 0x9b are the C1 controls NEL and CSI: no 0xc2 lead byte
    # (what marks them in UTF-8) is there to send the chunk through clean_line.
    raw = b"Pad\xe9 \x9b31mred\x85 title\r\nAbstract with a NEL\x85 and \x9b2J clear. " + ABSTRACT.encode() + b"\r\n"
    assert b"\xc2" not in raw and b"\xe2" not in raw and b"\xef" not in raw
    path = workdir / "latin1.txt"
    path.write_bytes(raw)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        entries = assert_reads_as_parsed(path, raw.decode("latin-1"), "latin-1")
        cli_spelling = read_digest(path, "ISO-8859-1")[0]
    assert entries == cli_spelling == [("Padé red title", "Abstract with a NEL and  clear. " + ABSTRACT)]


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "utf-8-sig"])
def test_other_encodings_are_cleaned(workdir: Path, encoding: str) -> None:
    text = f"\x1b[31mRed\x1b[0m title\x07\r\n{ABSTRACT}\x1b]52;c;eA==\x07\x7f\r\n"
    path = workdir / "other.txt"
    path.write_bytes(text.encode(encoding))
    entries = assert_reads_as_parsed(path, text.removeprefix("\ufeff"), encoding)
    assert entries == [("Red title", ABSTRACT)]


# -- the up-front check --------------------------------------------------------------------


def _message(path: Path, encoding: str | None = None) -> str:
    with pytest.raises(DigestError) as err:
        read_digest(path, encoding)
    assert str(err.value) == f"{path}: {err.value.message}"
    assert "\n" not in str(err.value)
    return err.value.message


WHITESPACE_ONLY = "only whitespace, no papers in it"
NO_PAPERS = "no papers found (expected a title line then its abstract line)"


@pytest.mark.parametrize("chunk", [1, 7, 64, digest.CHUNK])
@pytest.mark.parametrize(
    "content",
    [
        b"\x1c\x1d",
        b" \t\r\n\x0b\x0c\x1c\x1d\x1e\x1f" * 300,
        b"\n" * 70_000,  # more than the 64 KiB the check parses
        " \u3000\u00a0\u2003\n".encode() * 50,  # non-ASCII whitespace in some chunks, ASCII in others
        b" " * 100 + "\u3000".encode() + b"\r\n" * 100,
    ],
    ids=["fs-gs", "ascii-spaces", "70k-newlines", "unicode-spaces", "one-unicode-space"],
)
def test_whitespace_only_files(workdir: Path, chunk: int, content: bytes) -> None:
    path = workdir / "blank.txt"
    path.write_bytes(content)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        assert _message(path) == WHITESPACE_ONLY
        assert _message(path, "utf-8") == WHITESPACE_ONLY


@pytest.mark.parametrize("chunk", [1, 64, digest.CHUNK])
def test_one_letter_after_whitespace_chunks_is_not_blank(workdir: Path, chunk: int) -> None:
    path = workdir / "letter.txt"
    path.write_bytes(b" \n" * 200 + b"x")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        entries, warnings = read_digest(path)
    assert entries == [("x", "")] and len(warnings) == 1


@pytest.mark.parametrize("chunk", [1, 64, digest.CHUNK])
def test_controls_only_is_no_papers_not_whitespace(workdir: Path, chunk: int) -> None:
    path = workdir / "controls.txt"
    path.write_bytes(b"\x01\x1b[0m\x7f\n" * 100)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        assert _message(path) == NO_PAPERS


@pytest.mark.parametrize("chunk", [1000, digest.CHUNK])
def test_papers_after_64_kib_of_empty_lines_are_found(workdir: Path, chunk: int) -> None:
    text = "\x01\x1b[0m \n" * 20_000 + f"Late title\n{ABSTRACT}\n"
    path = workdir / "late.txt"
    path.write_bytes(text.encode())
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        assert assert_reads_as_parsed(path, text) == [("Late title", ABSTRACT)]


@pytest.mark.parametrize("chunk", [1, 64, digest.CHUNK])
@pytest.mark.parametrize("cut", ["é", "中", "𠀀"])
def test_a_truncated_character_at_the_end_is_not_utf8(workdir: Path, chunk: int, cut: str) -> None:
    encoded = cut.encode()
    for keep in range(1, len(encoded)):
        path = workdir / "truncated.txt"
        path.write_bytes(f"A title\n{ABSTRACT}\n".encode() + encoded[:keep])
        with pytest.MonkeyPatch.context() as m:
            m.setattr(digest, "CHUNK", chunk)
            message = _message(path)
            assert message.startswith(f"not UTF-8 text (bad byte 0x{encoded[0]:02x} at offset ")
            assert message.endswith("; convert it or pass --encoding")
            for check_whole in (True, False):  # the command line checks only the start, the parse finds it
                with pytest.raises(DigestError) as err:
                    load_library([path], check_whole=check_whole)
                assert err.value.message == message


@pytest.mark.parametrize("chunk", [64, digest.CHUNK])
@pytest.mark.parametrize("after", [b"", b"\xa9"], ids=["ascii-after", "continuation-a-chunk-later"])
def test_a_lead_byte_then_ascii_is_not_utf8(workdir: Path, chunk: int, after: bytes) -> None:
    # The boundary right after a lead byte: the next chunk is all ASCII, yet the lead byte
    # before it has no continuation and the file is not UTF-8 (not even with one a chunk later).
    data = b"T" * 63 + b"\xc3" + b"x" * 64 + after + b" title\n" + ABSTRACT.encode() + b"\n"
    path = workdir / "lead.txt"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        assert _message(path).startswith("not UTF-8 text (bad byte 0xc3 at offset ")
        assert _message(path, "utf-8").startswith("not valid utf-8 text (offset ")
        with pytest.raises(DigestError) as err:
            load_library([path], check_whole=False)
        assert err.value.message.startswith("not UTF-8 text (bad byte 0xc3 at offset ")


def test_whitespace_and_a_bom_mid_file_errors_alike_whatever_the_chunks(workdir: Path) -> None:
    # 52827e5's ASCII fast path did not feed the utf-8-sig decoder, which then took a U+FEFF
    # opening a later chunk for the file's BOM: "only whitespace" or "no papers" by where a chunk ended.
    path = workdir / "bom.txt"
    path.write_bytes(b" " * 64 + "\ufeff".encode() + b"  \n")
    whole = _message(path)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", 64)
        assert _message(path) == whole
