"""BibTeX export read back by a real BibTeX parser (bibtexparser): TeX kept as written, nothing broken."""

from __future__ import annotations

import re

import bibtexparser
from hypothesis import given, settings
from hypothesis import strategies as st

from reader.digest import bundled_digest, read_digest
from reader.export import bib_field, bibtex, bibtex_key, export
from reader.paper import Paper, PaperMeta
from reader.store import Annotation

RECORD = Annotation("p", tags=("ml", "to read"), note="first line\nsecond line", link="https://my.site/notes")
# Characters that mean something to BibTeX or TeX, plus letters to make commands of.
PIECES = [*"{}\\%$&#_^~@\n\t ,=\"'abcXé", "@misc{", "\\sc ", "\\%"]
HOSTILE = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


def _parse(text: str) -> list[dict[str, str]]:
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [block.error for block in library.failed_blocks]
    return [{"key": entry.key, **{f.key: f.value for f in entry.fields}} for entry in library.entries]


def _tex_problems(value: str) -> list[str]:
    """What a BibTeX program or LaTeX would stumble on in a field value."""
    problems = []
    depth = 0
    for ch in value:  # BibTeX counts every brace, escaped or not
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            problems.append("a } closes the field early")
            break
    if depth > 0:
        problems.append("a { is never closed")
    tex = re.sub(r"\\.", "", value, flags=re.DOTALL)  # what is left after escapes and commands' first letter
    if re.search(r"[%&#]", tex):
        problems.append("a bare % & or #")
    if tex.count("$") % 2:
        problems.append("an unpaired $")
    trailing = re.search(r"\\+\Z", value)
    if trailing and len(trailing.group(0)) % 2:
        problems.append("ends in a backslash")
    outside_math = re.sub(r"\$[^$]*\$", "", tex)
    if re.search(r"[_^]", outside_math):
        problems.append("_ or ^ outside math")
    return problems


def test_valid_tex_is_kept_as_written():
    paper = Paper.make(
        "{\\sc MwpBench}: Poincar\\'e balls with $x_1^2$",
        "Accuracy rises by 42.9\\% in micro F1 and 43.7\\% in macro F1; EE\\&CS, {\\em finite} ~1000x.",
    )
    [entry] = _parse(bibtex(paper))
    assert entry["title"] == "{" + paper.title + "}"
    assert entry["abstract"] == paper.abstract  # not 42.9\\% (a line break, then a comment)


def test_what_breaks_tex_or_bibtex_is_escaped():
    assert bib_field("100% of R&D #1") == "100\\% of R\\&D \\#1"
    assert bib_field("snake_case x^2 but $x_1^2$") == "snake\\_case x\\^{}2 but $x_1^2$"
    assert bib_field("a } b { c") == "a \\textbraceright{} b \\textbraceleft{} c"
    assert bib_field("costs \\$5, ends in \\") == "costs \\$5, ends in \\textbackslash{}"
    assert bib_field("one $ only") == "one \\$ only"
    assert bib_field("note\n@misc{x, title={y}}") == "note\n{@}misc{x, title={y}}"


def test_every_paper_of_the_bundled_digest_reads_back():
    pairs, _ = read_digest(bundled_digest())
    papers = [Paper.make(title, abstract) for title, abstract in pairs]
    entries = _parse(export([(paper, RECORD) for paper in papers], "bibtex"))
    assert len(entries) == len(papers) == 164
    kept = 0
    for paper, entry in zip(papers, entries):
        assert entry["title"].startswith("{") and entry["title"].endswith("}")
        for name, value in (("title", entry["title"][1:-1]), ("abstract", entry["abstract"])):
            assert _tex_problems(value) == [], (paper.title, name, value)
        raw = paper.title + paper.abstract
        if not re.search(r"(?<!\\)[%&#_^$]", raw):
            assert entry["title"] == "{" + paper.title + "}" and entry["abstract"] == paper.abstract
            kept += 1
        assert entry["keywords"] == "ml, to read" and entry["note"] == "first line\nsecond line"
    assert kept > 100  # most papers (114 of 164) have no character TeX would need escaped
    abstracts = "\n".join(entry["abstract"] for entry in entries)
    assert "42.9\\% in micro" in abstracts and "\\\\%" not in abstracts and "Poincar\\'e" in abstracts


def test_hostile_links_stay_inside_the_url_field():
    [entry] = _parse(bibtex(Paper.make("T", "A"), Annotation("p", link="https://x.org/a}b{c d%e\\f")))
    assert entry["url"] == "https://x.org/a%7Db%7Bc%20d%25e%5Cf"


@settings(max_examples=300, deadline=None)
@given(title=HOSTILE, abstract=HOSTILE, note=HOSTILE, tags=st.lists(HOSTILE, max_size=3))
def test_any_text_gives_one_entry_with_every_field(title, abstract, note, tags):
    paper = Paper.make(title or "t", abstract)
    text = bibtex(paper, Annotation(paper.id, note=note, tags=tuple(tags)))
    [entry] = _parse(text)
    assert entry["key"].endswith(paper.id[:6])
    for name, value in entry.items():
        if name not in ("key", "url"):
            assert _tex_problems(value[1:-1] if name == "title" else value) == [], (name, value)
    assert ("note" in entry) == bool(note) and ("abstract" in entry) == bool(abstract)


def test_citation_keys_are_ascii_words():
    keys = [bibtex_key(Paper.make(title, "")) for title in ("深度学习 for all", "Über alles", "3D-LLM: go", "!!!")]
    assert [key[:-6] for key in keys] == ["for", "uber", "3d", "paper"]
    entries = _parse("\n".join(bibtex(Paper.make(t, "")) for t in ("深度学习 for all", "Über alles")))
    assert [entry["key"] for entry in entries] == keys[:2] and all(key.isascii() for key in keys)


def test_a_source_s_authors_and_dates_stay_data():
    meta = PaperMeta(arxiv_id="2401.0}001", authors=("Ada Lovelace", "Smith and Sons Lab", " "), published="}20x")
    paper = Paper("0123456789abcdef", "T", "A", meta=meta)
    [entry] = _parse(bibtex(paper))
    assert entry["author"] == "Ada Lovelace and {Smith and Sons Lab}"  # two authors, not three
    assert "year" not in entry and _tex_problems(entry["eprint"]) == []


@settings(max_examples=100, deadline=None)
@given(authors=st.lists(HOSTILE, max_size=3), date=st.text(max_size=10), arxiv=HOSTILE)
def test_any_source_metadata_gives_one_entry(authors, date, arxiv):
    meta = PaperMeta(arxiv_id=arxiv, authors=tuple(authors), published=date)
    [entry] = _parse(bibtex(Paper("0123456789abcdef", "T", "A", meta=meta)))
    assert all(_tex_problems(value) == [] for name, value in entry.items() if name not in ("key", "url", "title"))


def test_the_cli_export_of_a_bookmarked_tex_paper_reads_back(tmp_path, capsys):
    from reader.cli import main

    db = str(tmp_path / "store.json")
    pairs, _ = read_digest(bundled_digest())
    title = next(t for t, a in pairs if "42.9\\%" in a and "{\\sc MwpBench}" in a)
    assert main(["bookmark", Paper.make(title, "").id[:8], "--db", db]) == 0
    capsys.readouterr()
    assert main(["export", "--format", "bibtex", "--bookmarked", "--db", db]) == 0
    [entry] = _parse(capsys.readouterr().out)
    assert "42.9\\% in micro" in entry["abstract"] and "{\\sc MwpBench}" in entry["abstract"]
