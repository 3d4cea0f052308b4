"""Export formats: what another tool reading them gets."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import ABSTRACT

from reader.export import FORMATS, bibtex, export, markdown_link, paper_record
from reader.paper import Paper

PAPER = Paper.make("Deep [Residual] Learning: 100% of $x_1$ & {more}", "Code at https://github.com/a/b. " + ABSTRACT)
RECORD = {
    "bookmarked_at": "2024-01-02T03:04:05+00:00",
    "tags": ["ml", "to read"],
    "note": "first line\nsecond line",
    "link": "https://my.site/notes",
}


def test_json_has_every_field_and_the_user_link_first():
    [data] = json.loads(export([(PAPER, RECORD)], "json"))
    assert data["id"] == PAPER.id and data["title"] == PAPER.title and data["abstract"] == PAPER.abstract
    assert data["links"][:2] == ["https://my.site/notes", "https://github.com/a/b"]
    assert data["tags"] == ["ml", "to read"] and data["bookmarked"] is True and data["note"] == RECORD["note"]


def test_json_of_a_paper_without_record():
    data = paper_record(PAPER, None)
    assert data["tags"] == [] and data["bookmarked"] is False and data["note"] == ""


def test_markdown_escapes_brackets_in_titles():
    line = markdown_link(PAPER, "https://x.org/a (b)")
    assert line.startswith("[Deep \\[Residual\\] Learning")
    assert line.endswith("](https://x.org/a%20%28b%29)")  # an unbalanced "(" would end the link early
    out = export([(PAPER, RECORD)], "markdown")
    assert "  tags: `ml`, `to read`" in out
    assert "  > first line\n  > second line" in out


def test_bibtex_escapes_what_tex_cannot_read_and_keeps_math_and_groups():
    entry = bibtex(PAPER, RECORD)
    assert entry.startswith("@misc{deep")
    assert "100\\% of $x_1$ \\& {more}" in entry
    assert "url = {https://my.site/notes}" in entry
    assert entry.count("{") == entry.count("}")


TEX = Paper.make("{\\sc MwpBench}: a benchmark", "Accuracy rises by 42.9\\% (Poincar\\'e, $x_1$, {\\em all}).")


def test_csv_and_ris_keep_tex_as_written():
    [_, row] = list(csv.reader(io.StringIO(export([(TEX, None)], "csv"))))
    assert row[1] == TEX.title and row[6] == TEX.abstract
    out = export([(TEX, None)], "ris")
    assert f"TI  - {TEX.title}\r\n" in out and f"AB  - {TEX.abstract}\r\n" in out


def test_csv_round_trips_and_defuses_formulas():
    evil = Paper.make('=HYPERLINK("http://evil")', ABSTRACT)
    out = export([(PAPER, RECORD), (evil, {"tags": ["+cmd"], "note": "@SUM(A1)"})], "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "title", "bookmarked", "tags", "note", "link", "abstract"]
    assert rows[1][:5] == [PAPER.id, PAPER.title, "yes", "ml; to read", "first line\nsecond line"]
    assert rows[2][1].startswith("'=") and rows[2][3].startswith("'+") and rows[2][4].startswith("'@")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_handles_no_papers(fmt):
    out = export([], fmt)
    assert PAPER.title not in out
    if fmt == "json":
        assert json.loads(out) == []


def test_unknown_format():
    with pytest.raises(ValueError):
        export([(PAPER, RECORD)], "yaml")
