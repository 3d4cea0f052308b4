"""`paper-reader list/search --sort`: the CLI side of the sort modes."""

from __future__ import annotations

from reader.cli import main
from reader.digest import bundled_digest, load_library
from reader.store import Store
from reader.text import fold


def lines(capsys) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [line.split("\t") for line in capsys.readouterr().out.splitlines()]


def test_list_sorted_by_title_and_by_bookmark_time(tmp_path, capsys):
    db = tmp_path / "store.json"
    assert main(["list", "--db", str(db), "--sort", "title"]) == 0
    titles = [row[1] for row in lines(capsys)]
    assert len(titles) == 164 and titles == sorted(titles, key=fold)
    papers = load_library([bundled_digest()]).papers
    store = Store(db)
    store.set_bookmark(papers[5], True)
    store.set_bookmark(papers[9], True)  # later: first in the list
    assert main(["list", "--db", str(db), "--sort", "bookmarked"]) == 0
    ids = [row[0] for row in lines(capsys)]
    assert ids[0] in (papers[9].id, papers[5].id) and set(ids[:2]) == {papers[5].id, papers[9].id}
    assert len(ids) == 164


def test_search_sorted_keeps_the_same_papers(tmp_path, capsys):
    db = ["--db", str(tmp_path / "store.json")]
    assert main(["search", "math", "--limit", "0", *db]) == 0
    ranked = lines(capsys)
    assert main(["search", "math", "--limit", "0", "--sort", "title", *db]) == 0
    by_title = lines(capsys)
    assert sorted(r[0] for r in ranked) == sorted(r[0] for r in by_title)
    assert [r[2] for r in by_title] == sorted((r[2] for r in by_title), key=fold)
    assert main(["search", "math", "--limit", "0", "--sort", "file", *db]) == 0
    order = {p.id: n for n, p in enumerate(load_library([bundled_digest()]).papers)}
    by_file = [order[r[0]] for r in lines(capsys)]
    assert by_file == sorted(by_file)
