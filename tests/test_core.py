"""The application core on its own: search with sorts and rank:, actions and undo, notes that
changed elsewhere, saved searches, export files (missing folders, no overwrites), import."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest

from reader.core.exporting import ExportError, FolderMissing, default_folder
from reader.core.importing import ImportProblem
from reader.core.library import NOTE_CONFLICT, OpenLibrary
from reader.core.opening import open_library
from reader.core.saved_searches import SavedSearchError
from reader.digest import DigestError, bundled_digest
from reader.paper import paper_id
from reader.sorting import SORTS
from reader.store import Store

NEURAL_OPERATOR = "Neural Operator: Learning Maps Between Function Spaces"


@pytest.fixture
def library(db_path: Path) -> OpenLibrary:
    return open_library([bundled_digest()], Store(db_path))


def ids(library: OpenLibrary, rows) -> list[str]:  # type: ignore[no-untyped-def]
    return [library.papers[i].id for i in rows.tolist()]


def test_every_sort_gives_the_same_papers_and_scores_follow_their_rows(library):
    relevance = library.search("neural operator")
    assert len(relevance) > 3 and relevance.unread == len(relevance)
    for sort in SORTS:
        found = library.search("neural operator", sort)
        assert sorted(ids(library, found.rows)) == sorted(ids(library, relevance.rows))
        by_id = dict(zip(ids(library, relevance.rows), relevance.scores.tolist()))
        assert [by_id[pid] for pid in ids(library, found.rows)] == found.scores.tolist()
    titles = [library.papers[i].title.casefold() for i in library.search("neural operator", "title").rows]
    assert titles == sorted(titles)
    with pytest.raises(ValueError):
        library.search("x", "nosuch")


def test_rank_and_query_errors_are_warnings(library):
    paper = library.find(paper_id(NEURAL_OPERATOR))
    library.add_tags([paper], ["ops"])
    found = library.search("operator rank:ops")
    assert ids(library, found.rows)[0] == paper.id and found.scores[0] == pytest.approx(1.0)
    assert list(found.scores) == sorted(found.scores, reverse=True)
    assert library.search("operator rank:nosuch").warnings == ("no papers tagged #nosuch to rank by",)
    assert "unknown filter" in library.search("has:c").warnings[0]


def test_similar_is_by_likeness_whatever_the_sort(library):
    paper = library.find(paper_id(NEURAL_OPERATOR))
    found = library.similar(paper)
    assert found.like is paper and found.rows[0] == paper.order
    assert list(found.scores[1:]) == sorted(found.scores[1:], reverse=True)
    assert len(found) <= 51


def test_actions_are_undo_steps_and_say_what_changed(library, db_path):
    a, b = library.papers[:2]
    assert library.toggle_bookmark([a, b]).message == "Bookmarked: 2 papers"
    assert library.toggle_bookmark([a]).message == "Bookmark removed"
    tagged = library.add_tags([a, b], ["ml"])
    assert tagged.message == "Tagged #ml: 2 of 2 papers" and tagged.changed
    again = library.add_tags([a], ["ML"])
    assert not again.changed and again.message == "#ML: already there"
    assert library.mark_read([a, b]).message == "Marked 2 papers read"
    assert library.search("is:unread").unread == library.file_count - 2
    assert library.undo().message.startswith("Undid read · 2 papers")
    assert not library.is_read(a) and library.tags(a) == ["ml"]  # only the read step went
    assert library.redo().label == "read · 2 papers"
    assert library.mark_read([a], read=False).message == "Marked unread"
    assert not library.mark_read([a], read=False).changed
    library.set_link(a, "https://example.org/mine")
    assert library.links(a)[0].url == "https://example.org/mine"
    assert Store(db_path).get(a.id)["link"] == "https://example.org/mine"


def test_a_note_changed_elsewhere_meanwhile_keeps_both_texts(library, db_path):
    paper = library.papers[0]
    library.set_note(paper, "mine")
    Store(db_path).set_note(paper, "from the other terminal")  # while the editor had "mine" open
    result = library.set_note(paper, "mine, edited", opened_with="mine")
    assert "both texts kept" in result.message
    assert library.note(paper) == f"mine, edited\n\n{NOTE_CONFLICT}\nfrom the other terminal"
    # No conflict: the editor saves over its own text.
    library.set_note(paper, "plain", opened_with=library.note(paper))
    assert library.note(paper) == "plain"


def test_saved_searches(library):
    assert library.save_search("ops", "neural operator") == 1
    assert library.save_search("math", "math") == 2
    assert library.save_search("ops", "operator") == 2  # same name: replaced, moved last
    assert [s.name for s in library.saved_searches()] == ["math", "ops"]
    assert library.rename_search(2, "operators").name == "operators"
    assert library.saved_search("operators") == (2, library.saved_searches()[1])
    library.delete_search("math")
    assert [(s.name, s.query) for s in library.saved_searches()] == [("operators", "operator")]
    with pytest.raises(SavedSearchError):
        library.saved_search(5)
    for n in range(12):
        library.save_search(f"s{n}", "q")
    assert len(library.saved_searches()) == 9


def test_export_asks_before_making_a_folder_and_never_overwrites(library, tmp_path):
    library.toggle_bookmark(library.papers[:3])
    scopes = library.export_scopes(shown=library.papers[:5])
    assert [s.key for s in scopes] == ["bookmarked", "shown"]
    folder = tmp_path / "exprts"
    with pytest.raises(FolderMissing):
        library.write_export(scopes[0], "json", folder)
    assert not folder.exists()
    first = library.write_export(scopes[0], "json", folder, create=True)
    second = library.write_export(scopes[0], "json", folder)
    assert first.path.name == "paper-reader-bookmarked.json" and second.path.name == "paper-reader-bookmarked-2.json"
    assert len(json.loads(first.path.read_text())) == 3 and first.count == 3
    with pytest.raises(ExportError):
        library.write_export(scopes[0], "json", first.path)  # a file, not a folder


def test_export_with_the_working_folder_deleted(library, tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    os.rmdir(gone)
    assert default_folder() == Path.home()
    scope = library.export_scopes(shown=library.papers[:1])[0]
    with pytest.raises(ExportError, match="working folder is gone"):
        library.write_export(scope, "json", "relative")


def test_import_is_checked_before_anything_is_written(library, tmp_path, db_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(ImportProblem, match="not a JSON export"):
        library.import_file(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"id": library.papers[0].id, "title": library.papers[0].title, "tags": ["x"]}]))
    assert library.import_file(good).message == f"imported 1 paper into {db_path}"
    assert library.tags(library.papers[0]) == ["x"]


def test_filters_follow_each_change_its_undo_and_changes_made_elsewhere(library, db_path):
    a, b, c = library.papers[:3]

    def shown(query: str) -> set[str]:
        return set(ids(library, library.search(query).rows))

    library.set_bookmark([a], True)
    library.add_tags([b], ["ml"])
    library.set_note(c, "a note")
    assert shown("is:bookmarked") == {a.id} and shown("#ml") == {b.id} and shown("has:note") == {c.id}
    library.undo()  # the note: c's first annotation, its record goes
    assert shown("has:note") == set() and shown("#ml") == {b.id}
    library.redo()
    assert shown("has:note") == {c.id}
    library.remove_tags(b, ["ml"])
    assert shown("#ml") == set() and shown("has:tags") == set()
    Store(db_path).set_link(a, "https://example.org/mine")  # another process
    library.reload()
    assert shown("has:link") == {a.id} and library.annotation(a).link == "https://example.org/mine"
    library.mark_read([a, c])
    assert shown("is:read") == {a.id, c.id} and library.search("").unread == len(library.papers) - 2


def test_each_tag_is_an_export_scope_with_its_papers_in_library_order(library):
    a, b, c = library.papers[2], library.papers[5], library.papers[9]
    library.add_tags([c, a], ["ML"])
    library.add_tags([b], ["ml", "Optics"])  # "ml" is the same tag as "ML"
    scopes = {s.key: s for s in library.export_scopes()}
    assert [p.id for p in scopes["tag-ML"].papers] == [a.id, b.id, c.id]
    assert [p.id for p in scopes["tag-Optics"].papers] == [b.id]
    assert scopes["tag-ML"].label == "#ML papers (3)"
    assert [p.id for p in library.tagged("optics")] == [b.id]


def test_an_open_leaves_the_garbage_collector_running(tmp_path: Path) -> None:
    """Opening pauses the cyclic collector while it makes the papers: it must run again after,
    also when the open fails, or every later cycle of objects would stay in memory."""
    assert gc.isenabled()
    library = open_library([bundled_digest()], Store(tmp_path / "store.json"))
    assert library.collection.papers and gc.isenabled()
    with pytest.raises(DigestError):
        open_library([tmp_path / "missing.txt"], Store(tmp_path / "store.json"))
    assert gc.isenabled()
