"""Digests a hostile tester feeds the reader: devices, endless streams, codecs that are not text,
JSON nested without end, ids that are not arXiv ids, old Mac line ends and page breaks."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from reader import digest
from reader.cli import main
from reader.digest import DigestError, load_library
from reader.paper import paper_id
from reader.sources.formats import clean

MEMORY_CAP = 2 << 30  # address space a child reading a device may take before it fails


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run(*args: str, stdin=None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The CLI in a child with a memory cap: a reader that never stops fails instead of filling the machine."""
    return subprocess.run(
        [sys.executable, "-m", "reader", *args],
        stdin=stdin,
        capture_output=True,
        timeout=timeout,
        preexec_fn=_capped,
        env=dict(os.environ),
    )


def one_error(result: subprocess.CompletedProcess, expected: str) -> None:
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err == f"paper-reader: error: {expected}\n", err


# -- devices and streams -------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_before_it_is_read(device):
    one_error(run("list", device), f"{device}: a device, not a digest")


def test_a_device_on_stdin_is_refused():
    with open("/dev/zero", "rb") as zero:
        one_error(run("list", "-", stdin=zero), "-: a device, not a digest")


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom"])
def test_an_endless_binary_pipe_is_refused_on_its_first_bytes(source):
    feeder = subprocess.Popen(["cat", source], stdout=subprocess.PIPE)
    try:
        one_error(run("list", "-", stdin=feeder.stdout), "-: binary file, not a text digest")
    finally:
        feeder.kill()
        feeder.wait()
        assert feeder.stdout is not None
        feeder.stdout.close()


def test_a_binary_pipe_in_a_wide_encoding_is_refused_too(tmp_path):
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    feeder = subprocess.Popen(["sh", "-c", f"cat /dev/zero > '{fifo}'"])
    try:
        one_error(run("--encoding", "utf-16-le", "list", str(fifo)), f"{fifo}: binary file, not a text digest")
    finally:
        feeder.kill()
        feeder.wait()


def test_a_text_digest_through_a_pipe_still_reads(sample_path):
    with open(sample_path, "rb") as digest:
        result = run("list", "-", stdin=digest)
    assert result.returncode == 0, result.stderr.decode()
    assert len(result.stdout.decode().splitlines()) == 164


def test_a_latin1_file_of_nul_bytes_is_binary(tmp_path, capsys):
    path = tmp_path / "zeros.txt"
    path.write_bytes(b"Title one\n" + b"\0" * 5000)
    assert main(["--encoding", "latin-1", "list", str(path)]) == 2
    assert capsys.readouterr().err == f"paper-reader: error: {path}: binary file, not a text digest\n"


# -- encodings that are not text -----------------------------------------------------------

NOT_TEXT = ["rot13", "hex", "base64", "zlib", "bz2", "uu", "quopri"]


@pytest.mark.parametrize("codec", NOT_TEXT)
@pytest.mark.parametrize("command", [["list"], ["search", "learning"], []])
def test_a_codec_that_is_not_a_text_encoding_is_refused_before_reading(codec, command, sample_path, capsys):
    # [] is plain paper-reader FILE: the app, refused before it starts.
    assert main(["--encoding", codec, *command, str(sample_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"paper-reader: error: --encoding {codec}: ") and "not a text encoding" in err, err
    assert err.count("\n") == 1


@pytest.mark.parametrize("codec", NOT_TEXT)
@pytest.mark.parametrize("name", ["digest.txt", "digest.jsonl"])
def test_the_library_refuses_them_too_naming_the_file(codec, name, write_digest):
    path = write_digest('{"title": "A title", "abstract": "An abstract."}\n' if name.endswith("l") else "T\nA.\n", name)
    with pytest.raises(DigestError) as caught:
        load_library([path], codec)
    assert str(caught.value).startswith(f"{path}: ") and "not a text encoding" in str(caught.value)


def test_utf16_without_a_byte_order_mark_cannot_be_decoded_in_one_line(sample_path, tmp_path, capsys):
    path = tmp_path / "digest.txt"
    path.write_bytes(sample_path.read_text(encoding="utf-8").encode("utf-16-le"))  # no BOM
    assert main(["--encoding", "utf-16", "list", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"paper-reader: error: {path}: cannot decode as utf-16 (") and err.count("\n") == 1, err
    assert main(["--encoding", "utf-16-le", "list", str(path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 164


def test_unknown_encoding_is_one_line(sample_path, capsys):
    assert main(["--encoding", "nosuch", "list", str(sample_path)]) == 2
    assert capsys.readouterr().err == "paper-reader: error: --encoding nosuch: unknown encoding 'nosuch'\n"


# -- nesting without end -------------------------------------------------------------------

DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize("name", ["deep.jsonl", "deep.json"])
def test_a_json_digest_nested_without_end_is_one_line(name, tmp_path, capsys):
    path = tmp_path / name
    path.write_text("[" * 100_000)
    assert main(["list", str(path)]) == 2
    err = capsys.readouterr().err
    why = "no papers found in this jsonl file (line 1: JSON nested too deeply, skipped)"
    assert err == f"paper-reader: error: {path}: {why}\n"


def test_a_paper_line_nested_too_deeply_is_skipped_naming_its_line(tmp_path, capsys):
    path = tmp_path / "day.jsonl"
    good = json.dumps({"title": "A Good Paper", "abstract": "We study good things."})
    deep = '{"title": "Deep Authors", "abstract": "x.", "authors": ' + DEEP + "}"
    path.write_text(f"{good}\n{deep}\n")
    assert main(["list", str(path)]) == 0
    out, err = capsys.readouterr()
    assert [line.split("\t")[1] for line in out.splitlines()] == ["A Good Paper"]
    assert err == f"paper-reader: warning: {path}:2: JSON nested too deeply, skipped\n"
    path.write_text(f"{deep}\n")
    assert main(["list", str(path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_an_email_nested_without_end_is_one_line(tmp_path, capsys):
    parts = "".join(f'--b{i}\nContent-Type: multipart/mixed; boundary="b{i + 1}"\n\n' for i in range(3000))
    ends = "".join(f"--b{i}--\n" for i in reversed(range(3000)))
    path = tmp_path / "deep.eml"
    path.write_text(
        'From: a@example.org\nSubject: papers\nContent-Type: multipart/mixed; boundary="b0"\n\n'
        f"{parts}--b3000\nContent-Type: text/plain\n\nA Title\nWe study things.\n{ends}"
    )
    assert main(["list", str(path)]) == 2
    assert capsys.readouterr().err == f"paper-reader: error: {path}: not a readable email file (nested too deeply)\n"


# -- ids that are not arXiv ids --------------------------------------------------------------

IDS = {
    "ab": "",
    "x y z": "",
    "[bold]1234": "",
    "2405.0\t0002": "",
    "٢٤٠٥.٠٠٠٠٥": "",  # digits, but not ASCII ones
    "2405.00002": "2405.00002",
    "2405.00003v2": "2405.00003v2",
    "hep-th/9901001": "hep-th/9901001",
    "math.AG/0101001": "math.AG/0101001",
    "arXiv:2405.00004": "2405.00004",
}


def test_only_arxiv_shaped_ids_become_a_papers_id(tmp_path, capsys):
    path = tmp_path / "day.jsonl"
    records = [
        {"arxiv_id": given, "title": f"Paper number {n}", "abstract": "We study."} for n, given in enumerate(IDS)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["list", str(path)]) == 0
    out, err = capsys.readouterr()
    listed = [line.split("\t")[0] for line in out.splitlines()]
    for shown, (given, expected) in zip(listed, IDS.items(), strict=True):
        assert shown == (expected or paper_id(f"Paper number {list(IDS).index(given)}")), given
    bad = [n for n, expected in enumerate(IDS.values(), 1) if not expected]
    assert err.splitlines() == [
        f"paper-reader: warning: {path}:{n}: arxiv_id {clean(list(IDS)[n - 1])!r} is not an arXiv id "
        "(like 2405.00002), listed by its title"
        for n in bad
    ]
    assert main(["show", "ab", str(path)]) == 2
    assert "at least 4 characters" in capsys.readouterr().err
    assert main(["show", "hep-th/9901001", str(path)]) == 0
    assert capsys.readouterr().out.startswith("Paper number 7\nid: hep-th/9901001")


# -- old Mac line ends, page breaks ------------------------------------------------------------


@pytest.mark.parametrize("chunk", [64, 4093, digest.CHUNK])
def test_a_digest_with_bare_cr_line_ends_reads_as_the_real_one(sample_path, tmp_path, chunk, monkeypatch):
    monkeypatch.setattr(digest, "CHUNK", chunk)  # a chunk may end between a CR and the next line
    real = load_library([sample_path])
    path = tmp_path / "mac.txt"
    path.write_bytes(sample_path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    assert b"\n" not in path.read_bytes()
    mac = load_library([path])
    assert [(p.id, p.title, p.abstract) for p in mac.papers] == [(p.id, p.title, p.abstract) for p in real.papers]
    assert len(mac.papers) == 164 and mac.warnings == []


def test_bare_cr_line_ends_on_the_command_line(sample_path, tmp_path, capsys):
    path = tmp_path / "mac.txt"
    path.write_bytes(sample_path.read_bytes().replace(b"\n", b"\r"))
    assert main(["list", str(path)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 164 and err == ""


@pytest.mark.parametrize("sep", ["\x0c", "\x0b", "\u2028", "\t"])
def test_a_page_break_inside_a_title_is_a_space(sep, tmp_path, capsys):
    path = tmp_path / "digest.txt"
    path.write_text(f"Title{sep}one\nWe study{sep}things in depth.\nTitle two\nWe study more.\n")
    assert [(p.title, p.abstract) for p in load_library([path]).papers] == [
        ("Title one", "We study things in depth."),
        ("Title two", "We study more."),
    ]
    jsonl = tmp_path / "day.jsonl"
    jsonl.write_text(json.dumps({"title": f"Title{sep}one", "abstract": "We."}, ensure_ascii=False) + "\n")
    assert [p.title for p in load_library([jsonl]).papers] == ["Title one"]
