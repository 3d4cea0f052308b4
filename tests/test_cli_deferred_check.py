"""The command line checks only the start of a digest up front; bad bytes further in are
still one clear line and exit status 2 (found by the parse), never a traceback or papers."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ABSTRACT

from reader import digest
from reader.cli import main

TITLE = "Neural Operator: Learning Maps Between Function Spaces"


def _digest(papers: int) -> bytes:
    return "".join(f"{TITLE} {n}\n{ABSTRACT}\n" for n in range(papers)).encode()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(digest, "CHUNK", 4096)
    return 4096


@pytest.mark.parametrize("command", [["search", "operator"], ["list"], ["show", "x"]])
@pytest.mark.parametrize("bad", [b"\xff", b"\xc3("], ids=["never-utf8", "lead-byte-alone"])
def test_a_bad_byte_far_in_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_chunks: int, command: list[str], bad: bytes
) -> None:
    good = _digest(100)
    assert len(good) > 3 * small_chunks  # the bad byte sits well past the part checked up front
    path = tmp_path / "far.txt"
    path.write_bytes(good + b"A title " + bad + b" here\n" + ABSTRACT.encode() + b"\n")
    status = main([*command, str(path), "--db", str(tmp_path / "store.json")])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""  # nothing printed from the papers before the bad byte
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"paper-reader: error: {path}: not UTF-8 text (bad byte 0x{bad[0]:02x} at offset ")
    assert lines[0].endswith("convert it or pass --encoding")
    assert "Traceback" not in err


def test_a_truncated_character_at_the_very_end_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_chunks: int
) -> None:
    path = tmp_path / "truncated.txt"
    path.write_bytes(_digest(100) + "Padé".encode()[:-1])
    status = main(["search", "operator", str(path), "--db", str(tmp_path / "store.json")])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.startswith(f"paper-reader: error: {path}: not UTF-8 text")


def test_same_digest_without_the_bad_byte_searches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_chunks: int
) -> None:
    path = tmp_path / "good.txt"
    path.write_bytes(_digest(100))
    status = main(["list", str(path), "--db", str(tmp_path / "store.json")])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert len(out.splitlines()) == 100
    status = main(["search", "operator", str(path), "--db", str(tmp_path / "store.json")])
    out, err = capsys.readouterr()
    assert status == 0 and err == ""
    assert out.splitlines()[0].endswith(f"{TITLE} 0")


def test_the_app_still_checks_the_whole_file_before_it_starts(tmp_path: Path, small_chunks: int) -> None:
    # What the app opens is checked through to its end up front (errors before any UI).
    path = tmp_path / "far.txt"
    path.write_bytes(_digest(100) + b"\xff\n")
    with pytest.raises(digest.DigestError, match="bad byte 0xff"):
        digest.LibraryLoader([path])
    digest.LibraryLoader([path], check_whole=False)  # only the start: fine until parsed


@pytest.mark.parametrize("chunk", [64, 65, digest.CHUNK])
@pytest.mark.parametrize("check_whole", [True, False])
def test_the_offset_is_where_the_bad_sequence_starts(tmp_path: Path, chunk: int, check_whole: bool) -> None:
    # A lead byte at offset 63 whose continuation never comes, wherever a chunk ends around it.
    path = tmp_path / "lead.txt"
    path.write_bytes(b"T" * 63 + b"\xc3" + b"x" * 64 + b" title\n" + ABSTRACT.encode() + b"\n")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(digest, "CHUNK", chunk)
        with pytest.raises(digest.DigestError, match=r"bad byte 0xc3 at offset 63\)"):
            digest.load_library([path], check_whole=check_whole)


def test_a_file_of_one_cut_character_points_at_it(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_bytes(b"\xc3")
    with pytest.raises(digest.DigestError, match=r"bad byte 0xc3 at offset 0\)"):
        digest.load_library([path])
