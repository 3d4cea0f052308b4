"""Export formats: what another tool reading them gets."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import ABSTRACT
from hypothesis import given, settings
from hypothesis import strategies as st

from reader.export import FORMATS, bibtex, export, markdown_link, paper_record
from reader.paper import Paper
from reader.store import Annotation
from reader.store.records import check_record

PAPER = Paper.make("Deep [Residual] Learning: 100% of $x_1$ & {more}", "Code at https://github.com/a/b. " + ABSTRACT)
RECORD = Annotation(
    PAPER.id,
    bookmarked_at="2024-01-02T03:04:05+00:00",
    tags=("ml", "to read"),
    note="first line\nsecond line",
    link="https://my.site/notes",
)


def stored(record: dict[str, object] | None) -> Annotation:
    """What a record as a hand-edited store holds it becomes once the store has checked it on load."""
    fixed, _ = check_record({**(record or {}), "id": PAPER.id}, "store.json")
    return Annotation.of(fixed)


def test_json_has_every_field_and_the_user_link_first():
    [data] = json.loads(export([(PAPER, RECORD)], "json"))
    assert data["id"] == PAPER.id and data["title"] == PAPER.title and data["abstract"] == PAPER.abstract
    assert data["links"][:2] == ["https://my.site/notes", "https://github.com/a/b"]
    assert data["tags"] == ["ml", "to read"] and data["bookmarked"] is True and data["note"] == RECORD.note


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
    out = export([(PAPER, RECORD), (evil, Annotation(evil.id, tags=("+cmd",), note="@SUM(A1)"))], "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:7] == ["id", "title", "bookmarked", "tags", "note", "link", "abstract"]
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


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
FIELDS = ("tags", "note", "link", "bookmarked_at", "read_at", "first_seen")


@settings(max_examples=100, deadline=None)
@given(
    title=st.text(min_size=1, max_size=40),
    abstract=st.text(max_size=80),
    record=st.none() | st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, JSONISH)),
)
def test_any_paper_and_record_export_in_every_format(title, abstract, record):
    # A hand-edited store can hold anything: the load check sets a wrong-typed field aside.
    paper = Paper.make(title, abstract)
    outs = {fmt: export([(paper, stored(record))], fmt) for fmt in FORMATS}
    [data] = json.loads(outs["json"])
    assert data["title"] == title and all(isinstance(t, str) for t in data["tags"])
    assert isinstance(data["note"], str) and isinstance(data["link"], str)
    assert len(list(csv.reader(io.StringIO(outs["csv"])))) == 2
    assert outs["ris"].startswith("TY  - GEN\r\n") and outs["ris"].endswith("ER  - \r\n")


def test_a_record_with_fields_of_the_wrong_type_exports():
    record = stored({"note": 5, "tags": ["ok", 1, None], "link": 7, "bookmarked_at": 3})
    out = export([(PAPER, record)], "json")
    [data] = json.loads(out)
    assert data["note"] == "" and data["tags"] == ["ok"] and data["link"] == "" and data["bookmarked"] is False


def test_markdown_tags_with_backticks_stay_one_code_span():
    out = export([(PAPER, Annotation(PAPER.id, tags=("a`b", "`x`", "plain")))], "markdown")
    assert "  tags: ``a`b``, `` `x` ``, `plain`" in out
