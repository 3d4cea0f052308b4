"""Authors, dates, upvotes, arXiv id and code links from structured sources, where users meet them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import bibtexparser
import pytest

from reader.cli import main
from reader.digest import load_library
from reader.export import export, paper_record
from reader.links import has_code, paper_links
from reader.paper import Paper, PaperMeta
from reader.store import Annotation

META = PaperMeta(
    arxiv_id="2405.00001",
    authors=("Ada Lovelace", "Grace {Hopper}", "Kurt Gödel"),
    published="2024-05-01",
    submitted="2024-05-02",
    upvotes=42,
    github_repo="https://github.com/example/sparse",
    project_page="https://example.org/sparse",
    keywords=("sparse", "retrieval"),
)
PAPER = Paper.make("Sparse Experts for Retrieval", "We route tokens. It works.")
FETCHED = Paper(PAPER.id, PAPER.title, PAPER.abstract, "d.jsonl", 0, meta=META)


def test_the_source_links_come_before_the_abstract_and_replace_the_arxiv_search():
    links = paper_links(FETCHED.title, FETCHED.abstract, "https://my.site", FETCHED.meta)
    assert [(link.label, link.url) for link in links[:4]] == [
        ("Your link", "https://my.site"),
        ("arXiv", "https://arxiv.org/abs/2405.00001"),
        ("Code", "https://github.com/example/sparse"),
        ("Project page", "https://example.org/sparse"),
    ]
    assert "arXiv search" not in [link.label for link in links]
    assert has_code(FETCHED.abstract, FETCHED.meta) and not has_code(PAPER.abstract)
    # A non-web "repository" from outside is not a link.
    odd = PaperMeta(github_repo="javascript:alert(1)")
    assert not has_code("", odd) and all(link.kind == "lookup" for link in paper_links("T", "", None, odd))


def test_json_and_csv_exports_carry_every_field():
    [data] = json.loads(export([(FETCHED, None)], "json"))
    assert data["arxiv_id"] == "2405.00001" and data["authors"] == list(META.authors)
    assert (data["published"], data["submitted"], data["upvotes"]) == ("2024-05-01", "2024-05-02", 42)
    assert data["github_repo"] == META.github_repo and data["project_page"] == META.project_page
    assert data["keywords"] == ["sparse", "retrieval"]
    assert paper_record(PAPER, None)["authors"] == [] and paper_record(PAPER, None)["upvotes"] is None
    rows = list(csv.DictReader(io.StringIO(export([(FETCHED, None), (PAPER, None)], "csv"))))
    assert rows[0]["authors"] == "Ada Lovelace; Grace {Hopper}; Kurt Gödel" and rows[0]["upvotes"] == "42"
    assert rows[0]["arxiv_id"] == "2405.00001" and rows[0]["keywords"] == "sparse; retrieval"
    assert rows[1]["authors"] == "" and rows[1]["upvotes"] == ""


def test_bibtex_has_authors_year_and_eprint_read_back_by_bibtexparser():
    plain_paper = Paper.make("A Plain Paper", "From a text digest.")
    library = bibtexparser.parse_string(export([(FETCHED, None), (plain_paper, None)], "bibtex"))
    assert not library.failed_blocks
    fetched, plain = ({f.key: f.value for f in entry.fields} for entry in library.entries)
    assert fetched["author"] == "Ada Lovelace and Grace {Hopper} and Kurt Gödel"
    assert (fetched["year"], fetched["eprint"], fetched["archivePrefix"]) == ("2024", "2405.00001", "arXiv")
    assert fetched["url"] == "https://arxiv.org/abs/2405.00001"
    assert "author" not in plain and "year" not in plain and "eprint" not in plain


def test_ris_has_au_and_py():
    lines = export([(FETCHED, None)], "ris").split("\r\n")
    assert [line for line in lines if line.startswith(("AU", "PY", "DA"))] == [
        "AU  - Ada Lovelace",
        "AU  - Grace {Hopper}",
        "AU  - Kurt Gödel",
        "PY  - 2024",
        "DA  - 2024/05/01",
    ]
    assert "UR  - https://github.com/example/sparse" in lines


@pytest.fixture
def day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPER_READER_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("PAPER_READER_DIGESTS", str(tmp_path / "none"))
    monkeypatch.setenv("PAPER_READER_DB", str(tmp_path / "store.json"))
    path = tmp_path / "2024-05-02.jsonl"
    records = [
        {
            "arxiv_id": "2405.00001",
            "title": "Sparse Experts",
            "abstract": "No link here.",
            "github_repo": META.github_repo,
        },
        {"arxiv_id": "2405.00002", "title": "Dense Experts", "abstract": "No link either.", "upvotes": 3},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_has_code_finds_the_structured_repository(day, capsys):
    assert main(["search", "has:code", str(day)]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == ["2405.00001"]


def test_show_and_list_json_give_the_fields(day, capsys):
    assert main(["show", "2405.00001", str(day)]) == 0
    shown = capsys.readouterr().out
    assert "[1] https://arxiv.org/abs/2405.00001" in shown and "[2] https://github.com/example/sparse" in shown
    assert main(["show", "2405.00002", str(day)]) == 0
    assert "\n3 upvotes\n" in capsys.readouterr().out
    assert main(["show", "2405.00002", str(day), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["arxiv_id"] == "2405.00002" and data["upvotes"] == 3


def test_a_json_export_with_the_new_fields_imports_back(day, tmp_path, capsys):
    papers = load_library([day]).papers
    path = tmp_path / "export.json"
    path.write_text(export([(p, Annotation(p.id, tags=("keep",))) for p in papers], "json"))
    assert main(["import", str(path)]) == 0, capsys.readouterr().err
    assert "imported 2 papers" in capsys.readouterr().out


@pytest.mark.parametrize(
    "query, found",
    [
        ("author:lovelace", ["2405.00001"]),
        ("author:lovlace", ["2405.00001"]),  # one typo
        ('author:"ada love"', ["2405.00001"]),  # words of one author, the last a prefix
        ("author:godel", ["2405.00002"]),  # accents ignored
        ("author:hopper", []),
        ("!author:lovelace", ["2405.00002"]),
        ("experts author:godel", ["2405.00002"]),
    ],
)
def test_author_filter_is_fuzzy(tmp_path, monkeypatch, capsys, query, found):
    monkeypatch.setenv("PAPER_READER_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("PAPER_READER_DB", str(tmp_path / "store.json"))
    path = tmp_path / "d.jsonl"
    records = [
        {"arxiv_id": "2405.00001", "title": "Sparse Experts", "abstract": "A.", "authors": ["Ada Lovelace", "Bo Li"]},
        {"arxiv_id": "2405.00002", "title": "Dense Experts", "abstract": "B.", "authors": ["Kurt Gödel"]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["search", query, str(path)]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == found


def test_sort_by_upvotes_and_by_date(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAPER_READER_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("PAPER_READER_DB", str(tmp_path / "store.json"))
    path = tmp_path / "d.jsonl"
    records = [
        {"arxiv_id": "2405.00001", "title": "Few votes", "upvotes": 2, "published": "2024-05-03"},
        {"arxiv_id": "2405.00002", "title": "No votes, no date"},
        {"arxiv_id": "2405.00003", "title": "Many votes", "upvotes": 90, "published": "2024-04-30"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["list", str(path), "--sort", "upvotes"]) == 0
    assert [line.split("\t")[0][-1] for line in capsys.readouterr().out.splitlines()] == ["3", "1", "2"]
    assert main(["list", str(path), "--sort", "date"]) == 0
    assert [line.split("\t")[0][-1] for line in capsys.readouterr().out.splitlines()] == ["1", "3", "2"]
