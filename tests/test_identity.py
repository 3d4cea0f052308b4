"""One paper across sources: known by arXiv id in a fetched digest and by title in the bundled one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reader.cli import main
from reader.digest import bundled_digest, load_library
from reader.paper import paper_id

NEURAL_OPERATOR = "Neural Operator: Learning Maps Between Function Spaces"
ARXIV = "2108.08481"
HASH = paper_id(NEURAL_OPERATOR)


def day_file(folder: Path, name: str, records: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def fetched(title: str = NEURAL_OPERATOR, arxiv: str = ARXIV) -> dict:
    return {
        "arxiv_id": arxiv,
        "title": title,
        "abstract": "The classical development of neural networks has focused on finite-dimensional spaces.",
        "authors": ["Nikola Kovachki", "Zongyi Li"],
        "upvotes": 7,
    }


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPER_READER_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("PAPER_READER_DIGESTS", str(tmp_path / "none"))
    monkeypatch.setenv("PAPER_READER_DB", str(tmp_path / "store.json"))
    return tmp_path


def out(capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_a_store_made_from_the_bundled_digest_keeps_its_annotations_under_the_arxiv_id(env, capsys):
    # Annotated by title hash, as before any source knew arXiv ids.
    out(capsys, "tag", HASH, "keep")
    out(capsys, "bookmark", HASH)
    folder = env / "digests"
    day_file(folder, "2024-05-02.jsonl", [fetched("neural  operator - learning maps between function SPACES")])
    paths = [str(folder), str(bundled_digest())]
    listed = out(capsys, "list", *paths).splitlines()
    assert len(listed) == 164  # the fetched paper is the bundled one
    assert [line for line in listed if "learning maps between function" in line.lower()] == [
        f"{ARXIV}\tneural operator - learning maps between function SPACES"
    ]
    for typed in (ARXIV, ARXIV[:6], HASH, HASH[:5]):
        shown = out(capsys, "show", typed, *paths)
        assert f"id: {ARXIV} (also {HASH})" in shown and "tags: keep" in shown and "bookmarked:" in shown
    out(capsys, "tag", ARXIV, "more", "--file", str(folder))
    shown = out(capsys, "show", HASH)  # the bundled digest alone: same paper, same annotations
    assert f"id: {HASH}\n" in shown and "tags: keep, more" in shown


def test_a_paper_retitled_between_days_stays_one_paper(env):
    folder = env / "digests"
    day_file(folder, "2024-05-01.jsonl", [fetched("Neural Operators, a first title")])
    day_file(folder, "2024-05-02.jsonl", [fetched("Neural Operators: the final title")])
    papers = load_library([folder]).papers
    assert len(papers) == 1 and papers[0].public_id == ARXIV


def test_an_ambiguous_arxiv_prefix_says_so(env, capsys):
    folder = env / "digests"
    day_file(folder, "d.jsonl", [fetched("One paper", "2405.00001"), fetched("Another paper", "2405.00002")])
    assert main(["show", "2405.0000", str(folder)]) == 2
    assert "matches 2 papers" in capsys.readouterr().err
    assert "Another paper" in out(capsys, "show", "2405.00002", str(folder))
