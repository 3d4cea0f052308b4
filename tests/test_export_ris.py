"""RIS export (what a reference manager reads) and the CSV formula guard, through the CLI too."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import ABSTRACT
from hypothesis import given, settings
from hypothesis import strategies as st

from reader.cli import main
from reader.export import FORMATS, export, ris
from reader.paper import Paper
from reader.store import Annotation

PAPER = Paper.make("Deep [Residual] Learning: 100% of $x_1$", "Code at https://github.com/a/b. " + ABSTRACT)
RECORD = Annotation(
    PAPER.id,
    bookmarked_at="2024-01-02T03:04:05+00:00",
    tags=("ml", "to read"),
    note="first line\nER  - not the end\nthird",
    link="https://my.site/notes",
)


def parse_ris(text: str) -> list[list[tuple[str, str]]]:
    """A small RIS reader like reference managers use: TAG  - value; other lines continue the value."""
    records, fields = [], None
    for line in text.split("\r\n"):
        if len(line) >= 5 and line[2:5] == "  -" and line[:2].isalnum() and line[:2].isupper():
            tag, value = line[:2], line[6:]
            if tag == "TY":
                fields = []
            if tag == "ER":
                records.append(fields)
                fields = None
                continue
            fields.append((tag, value))
        elif line and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + "\n" + line)
    assert fields is None, "a record without ER"
    return records


def test_ris_record_has_title_abstract_links_keywords_and_note():
    [fields] = parse_ris(ris(PAPER, RECORD))
    assert fields[0] == ("TY", "GEN")

    def get(tag: str) -> list[str]:
        return [v for t, v in fields if t == tag]

    assert get("ID") == [PAPER.id]
    assert get("TI") == [PAPER.title]  # raw, nothing escaped or lost
    assert get("AB") == [PAPER.abstract]
    assert get("UR") == ["https://my.site/notes", "https://github.com/a/b"]  # no title-search links
    assert get("KW") == ["ml", "to read"]
    # A note line that looks like a tag does not end the record early.
    assert [v.replace("\n ER", "\nER") for v in get("N1")] == ["first line\nER  - not the end\nthird"]


def test_ris_of_a_paper_without_links_gets_a_lookup_link_and_no_empty_fields():
    paper = Paper.make("A Title With No Links At All", ABSTRACT)
    [fields] = parse_ris(ris(paper, None))
    tags = [t for t, _ in fields]
    assert tags.count("UR") == 1 and "arxiv.org" in dict(fields)["UR"]
    assert "KW" not in tags and "N1" not in tags


def test_ris_of_several_papers_is_one_record_each_with_crlf_lines():
    other = Paper.make("Another Paper About Things", ABSTRACT)
    out = export([(PAPER, RECORD), (other, Annotation(other.id, tags=("x",)))], "ris")
    assert [dict(r)["TI"] for r in parse_ris(out)] == [PAPER.title, other.title]
    assert "\n" not in out.replace("\r\n", "")
    assert export([], "ris") == ""


def test_cli_exports_ris_from_a_real_store(tmp_path, capsys):
    db = str(tmp_path / "store.json")
    assert main(["list"]) == 0
    pid = capsys.readouterr().out.split("\t", 1)[0]
    assert main(["--db", db, "bookmark", pid]) == 0
    assert main(["--db", db, "tag", pid, "ml"]) == 0
    capsys.readouterr()
    assert "ris" in FORMATS
    assert main(["--db", db, "export", "--format", "ris"]) == 0
    [fields] = parse_ris(capsys.readouterr().out)
    assert ("ID", pid) in fields and ("KW", "ml") in fields
    assert main(["--db", db, "export", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["title"] == dict(fields)["TI"]


@pytest.mark.parametrize("first", ["=", "+", "-", "@"])
def test_csv_neutralises_a_title_that_starts_a_formula(first):
    title = first + "cmd|' /C calc'!A0 and a long enough title"
    out = export([(Paper.make(title, ABSTRACT), Annotation("p", tags=(first + "tag",), note=first + "1+1"))], "csv")
    row = list(csv.reader(io.StringIO(out)))[1]
    assert row[1] == "'" + title  # the text is all there, but a spreadsheet reads it as text
    assert row[3] == "'" + first + "tag" and row[4] == "'" + first + "1+1"
    assert not any(cell[:1] in "=+-@" for cell in row if cell)


LINE_PIECES = ["ER  - ", "TY  - GEN", "1A  - x", "é2  - y", "\n", "\r\n", "\r", " ", "a", "-", "  -"]
HOSTILE_RIS = st.lists(st.sampled_from(LINE_PIECES), max_size=12).map("".join)


@settings(max_examples=200, deadline=None)
@given(title=HOSTILE_RIS, abstract=HOSTILE_RIS, note=HOSTILE_RIS, tags=st.lists(HOSTILE_RIS, max_size=3))
def test_any_text_stays_inside_its_one_ris_record(title, abstract, note, tags):
    paper = Paper.make(title or "t", abstract)
    records = parse_ris(export([(paper, Annotation(paper.id, note=note, tags=tuple(tags))), (PAPER, None)], "ris"))
    assert len(records) == 2 and [t for t, _ in records[1]][:3] == ["TY", "ID", "TI"]
    assert {tag for tag, _ in records[0]} <= {"TY", "ID", "TI", "AB", "UR", "KW", "N1"}


CELL = st.lists(st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", '"', ",", ";", "a", " ", "1"]), max_size=10)


@settings(max_examples=200, deadline=None)
@given(title=CELL.map("".join), note=CELL.map("".join), tags=st.lists(CELL.map("".join), max_size=2))
def test_csv_reads_back_and_no_cell_is_a_formula(title, note, tags):
    paper = Paper.make(title or "t", "abstract")
    text = export([(paper, Annotation(paper.id, note=note, tags=tuple(tags)))], "csv")
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    assert len(row) == len(header)
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row)
    cells = dict(zip(header, row))
    for name, value in (("title", title or "t"), ("note", note), ("tags", "; ".join(tags))):
        assert cells[name] in (value, "'" + value)
