"""Reading digests as a user has them: short abstracts, broken alternation, pipes, files that vanish."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from app_support import SIZE, settle
from conftest import ABSTRACT

from reader.app import PaperReaderApp
from reader.cli import main
from reader.digest import MAX_WARNINGS, Library, LibraryLoader, load_library, parse_digest
from reader.store import Store

# Titles of 60-90 characters with abstracts of about 130: the old length rule took them for titles.
SHORT = [
    (
        "Sparse Mixtures of Experts for Long-Context Retrieval in Small Language Models",
        "We route tokens to few experts and keep retrieval quality on long "
        "inputs while halving the compute of dense baselines.",
    ),
    (
        "A Benchmark of Tabular Reasoning Errors in Instruction-Tuned Models",
        "We collect nine thousand tabular questions and show that instruction "
        "tuning hides arithmetic errors instead of fixing them.",
    ),
    (
        "Diffusion Priors for Inverse Problems under Heavy-Tailed Measurement Noise",
        "A robust likelihood term lets pretrained diffusion priors solve "
        "deblurring and inpainting when the noise has outliers.",
    ),
]
NEW_PAPER = (
    "A New Paper on the Things We Study Here",
    "We study new things. Code: https://github.com/example/new-paper.",
)


def text_of(entries: list[tuple[str, str]]) -> str:
    return "".join(f"{t}\n{a}\n" for t, a in entries)


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PAPER_READER_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "reader", *args], input=stdin, capture_output=True, env=env, cwd=cwd, timeout=60
    )


# -- the alternation ------------------------------------------------------------------------


def test_the_real_digest_keeps_its_164_papers_and_their_ids(sample_path):
    library = load_library([sample_path])
    ids = [p.id for p in library.papers]
    assert len(ids) == 164 and library.warnings == []
    assert hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16] == "87c4f7339825fca2"


def test_short_abstracts_stay_abstracts(write_digest):
    assert all(115 <= len(a) <= 135 for _, a in SHORT)
    library = load_library([write_digest(text_of(SHORT))])
    assert [(p.title, p.abstract) for p in library.papers] == SHORT
    assert library.warnings == []


def test_a_short_abstract_with_a_code_link_is_not_a_title(write_digest):
    entries = [*SHORT[:1], NEW_PAPER, *SHORT[1:]]
    library = load_library([write_digest(text_of(entries))])
    assert [(p.title, p.abstract) for p in library.papers] == entries
    assert library.warnings == []


def test_an_orphan_title_among_short_abstracts_is_kept_with_a_warning():
    text = text_of(SHORT[:1]) + "An Orphan Title With Nothing Under It\n" + text_of(SHORT[1:])
    entries, warnings = parse_digest(text, "d")
    assert entries == [SHORT[0], ("An Orphan Title With Nothing Under It", ""), *SHORT[1:]]
    assert len(warnings) == 1 and "title with no abstract" in warnings[0] and "d:3" in warnings[0]


def test_an_abstract_whose_title_is_missing_does_not_shift_the_rest():
    lost = "Lost abstract. " + ABSTRACT
    text = text_of(SHORT[:1]) + lost + "\n" + text_of(SHORT[1:])
    entries, warnings = parse_digest(text, "d")
    assert [a for _, a in entries] == [SHORT[0][1], lost, SHORT[1][1], SHORT[2][1]]
    assert [t for t, _ in entries][2:] == [SHORT[1][0], SHORT[2][0]]
    assert entries[1][0].startswith("Lost abstract.") and len(entries[1][0]) <= 81
    assert len(warnings) == 1 and "abstract with no title" in warnings[0]


def test_a_file_of_titles_only_says_the_first_few_and_a_count(write_digest, capsys, tmp_path):
    path = write_digest("".join(f"Only a title number {n}\n" for n in range(50_000)))
    library = load_library([path])
    assert len(library.papers) == 50_000 and all(p.abstract == "" for p in library.papers)
    assert len(library.warnings) == MAX_WARNINGS + 1
    assert library.warnings[-1] == f"... and {50_000 - MAX_WARNINGS} more odd entries not listed"
    assert main(["list", str(path), "--db", str(tmp_path / "s.json")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == MAX_WARNINGS + 1
    assert err[-1] == f"paper-reader: warning: ... and {50_000 - MAX_WARNINGS} more odd entries not listed"


# -- files that are not regular files ---------------------------------------------------


def test_a_fifo_fed_by_a_writer_is_listed(sample_path, tmp_path):
    fifo = tmp_path / "digest.fifo"
    os.mkfifo(fifo)
    data = sample_path.read_bytes()

    def feed() -> None:
        with open(fifo, "wb") as out:
            out.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    done = run("list", str(fifo), "--db", str(tmp_path / "s.json"))
    writer.join(5)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.decode().splitlines()) == 164


@pytest.mark.parametrize("how", ["/dev/stdin", "-"])
def test_a_digest_piped_into_stdin_is_listed(sample_path, tmp_path, how):
    done = run("list", how, "--db", str(tmp_path / "s.json"), stdin=sample_path.read_bytes())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 164 and lines[0].endswith("PAON: A New Neuron Model using Padé Approximants")


def test_process_substitution_is_listed(sample_path, tmp_path):
    script = f'{sys.executable} -m reader list <(cat "$1") --db "$2"'
    done = subprocess.run(
        ["bash", "-c", script, "x", str(sample_path), str(tmp_path / "s.json")], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.decode().splitlines()) == 164


def test_search_reads_a_pipe_once(sample_path, tmp_path):
    done = run("search", "neural operator", "-", "--db", str(tmp_path / "s.json"), stdin=sample_path.read_bytes())
    assert done.returncode == 0, done.stderr
    assert b"Neural Operator" in done.stdout


# -- a digest deleted while it is read -----------------------------------------------------


def test_a_digest_deleted_after_its_check_is_still_read(sample_path, tmp_path):
    path = tmp_path / "d.txt"
    path.write_bytes(sample_path.read_bytes())
    loader = LibraryLoader([path])
    path.unlink()
    library = loader.load()
    assert len(library.papers) == 164


async def test_the_app_loads_a_digest_deleted_while_it_opens(sample_path, tmp_path):
    path = tmp_path / "d.txt"
    path.write_bytes(sample_path.read_bytes())
    loader = LibraryLoader([path])
    path.unlink()
    app = PaperReaderApp(Library(), Store(tmp_path / "s.json"), loader=loader)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert len(app.collection.papers) == 164
        assert app.is_running
