"""The command line as a shell over the core: rank:, first-seen, finding papers to annotate,
read marks, saved searches, own links, list --json, the config's digests folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ABSTRACT

from reader.cli import main
from reader.paper import paper_id
from reader.store import Store

NEURAL_OPERATOR = "Neural Operator: Learning Maps Between Function Spaces"


@pytest.fixture(autouse=True)
def own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file of the test's own (none written yet), never the user's."""
    path = tmp_path / "config" / "config.toml"
    monkeypatch.setenv("PAPER_READER_CONFIG", str(path))
    monkeypatch.delenv("PAPER_READER_DB", raising=False)
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def rows(out: str) -> list[list[str]]:
    return [line.split("\t") for line in out.splitlines()]


def test_rank_orders_by_likeness_to_the_tagged_papers(capsys, db_path):
    db = str(db_path)
    cli(capsys, "tag", paper_id(NEURAL_OPERATOR), "neural", "--db", db)
    _, plain, _ = cli(capsys, "search", "operator", "--limit", "0", "--db", db)
    status, ranked, err = cli(capsys, "search", "operator rank:neural", "--limit", "0", "--db", db)
    assert status == 0 and not err
    found = rows(ranked)
    assert found[0][0] == paper_id(NEURAL_OPERATOR) and found[0][1] == "1.00"  # most like itself
    assert sorted(r[0] for r in found) == sorted(r[0] for r in rows(plain))  # the same papers...
    assert [r[0] for r in found] != [r[0] for r in rows(plain)]  # ...in another order
    scores = [float(r[1]) for r in found]
    assert scores == sorted(scores, reverse=True) and scores[1] > 0


def test_rank_by_a_tag_nobody_has_warns(capsys, db_path):
    status, out, err = cli(capsys, "search", "operator rank:nosuch", "--db", str(db_path))
    assert status == 0 and out
    assert err.splitlines() == ["paper-reader: warning: no papers tagged #nosuch to rank by"]


def test_show_json_gives_the_first_seen_date_the_store_holds(capsys, db_path):
    Store(db_path).record_seen({paper_id(NEURAL_OPERATOR): "2024-01-02"})
    status, out, _ = cli(capsys, "show", paper_id(NEURAL_OPERATOR), "--json", "--db", str(db_path))
    assert status == 0
    assert json.loads(out)["first_seen"] == "2024-01-02"


def test_annotating_a_paper_of_the_config_digests_folder_stores_its_title(
    capsys, db_path, own_config, write_digest, tmp_path
):
    digest = write_digest([("Only In The Folder", ABSTRACT)], name="folder/today.txt")
    own_config.parent.mkdir(parents=True)
    own_config.write_text(f'digests = "{digest.parent}"\n', encoding="utf-8")
    pid = paper_id("Only In The Folder")
    status, out, err = cli(capsys, "tag", pid, "later", "--db", str(db_path))
    assert status == 0, err
    assert Store(db_path).get(pid)["title"] == "Only In The Folder"
    # Found again by show (from the store's snapshot), and exported with its title.
    assert cli(capsys, "show", pid, "--db", str(db_path))[1].startswith("Only In The Folder")
    assert "[Only In The Folder](" in cli(capsys, "export", "--format", "markdown", "--db", str(db_path))[1]


def test_an_unknown_id_stores_nothing(capsys, db_path):
    status, out, err = cli(capsys, "tag", "zzzzzzzzzzzz", "x", "--db", str(db_path))
    assert status == 2
    assert err.startswith("paper-reader: error: zzzzzzzzzzzz: no paper with this id")
    assert not db_path.exists() or Store(db_path).records() == {}


def test_a_missing_file_does_not_matter_when_the_store_knows_the_paper(capsys, db_path, tmp_path):
    db = str(db_path)
    cli(capsys, "bookmark", paper_id(NEURAL_OPERATOR), "--db", db)
    missing = str(tmp_path / "nosuch.txt")
    status, out, err = cli(capsys, "tag", paper_id(NEURAL_OPERATOR), "x", "--file", missing, "--db", db)
    assert status == 0, err
    assert Store(db_path).get(paper_id(NEURAL_OPERATOR))["tags"] == ["x"]


def test_a_short_id_says_four_characters_are_needed(capsys, db_path):
    status, _, err = cli(capsys, "show", "4pg", "--db", str(db_path))
    assert status == 2
    assert err.strip() == "paper-reader: error: 4pg: give at least 4 characters of a paper id"


def test_mark_read_and_unread_and_undo(capsys, db_path):
    db, pid = str(db_path), paper_id(NEURAL_OPERATOR)
    cli(capsys, "note", pid, "keep", "--db", db)
    assert cli(capsys, "read", pid, "--db", db)[0] == 0
    assert Store(db_path).get(pid)["read_at"]
    _, out, _ = cli(capsys, "search", "is:read", "--db", db)
    assert [r[0] for r in rows(out)] == [pid]
    cli(capsys, "unread", pid, "--db", db)
    assert not Store(db_path).get(pid)["read_at"]
    _, out, _ = cli(capsys, "undo", "--db", db)
    assert out.startswith("Undid unread")
    assert Store(db_path).get(pid)["read_at"] and Store(db_path).get(pid)["note"] == "keep"


def test_own_link_is_shown_first(capsys, db_path):
    db, pid = str(db_path), paper_id(NEURAL_OPERATOR)
    assert cli(capsys, "link", pid, "https://example.org/mine", "--db", db)[0] == 0
    _, out, _ = cli(capsys, "show", pid, "--json", "--db", db)
    assert json.loads(out)["links"][0] == "https://example.org/mine"
    cli(capsys, "link", pid, "", "--db", db)
    assert Store(db_path).get(pid)["link"] == ""


def test_saved_searches_list_rename_delete(capsys, db_path):
    db = str(db_path)
    assert cli(capsys, "searches", "save", "ops", "neural operator", "--db", db)[1] == "saved\t1\tops\n"
    cli(capsys, "searches", "save", "math", "math reasoning", "--db", db)
    assert rows(cli(capsys, "searches", "--db", db)[1]) == [
        ["1", "ops", "neural operator"],
        ["2", "math", "math reasoning"],
    ]
    cli(capsys, "searches", "rename", "1", "operators", "--db", db)
    cli(capsys, "searches", "delete", "math", "--db", db)
    assert rows(cli(capsys, "searches", "list", "--db", db)[1]) == [["1", "operators", "neural operator"]]
    status, _, err = cli(capsys, "searches", "delete", "nosuch", "--db", db)
    assert status == 2 and err.strip() == "paper-reader: error: no saved search named 'nosuch'"


def test_list_json_is_json_lines(capsys, db_path):
    db = str(db_path)
    cli(capsys, "bookmark", paper_id(NEURAL_OPERATOR), "--db", db)
    status, out, _ = cli(capsys, "list", "--json", "--db", db)
    objects = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and len(objects) == 164
    marked = [o for o in objects if o["bookmarked"]]
    assert [o["id"] for o in marked] == [paper_id(NEURAL_OPERATOR)]
    assert {"id", "title", "tags", "read", "first_seen", "links"} <= set(marked[0])


def test_list_and_search_open_the_config_digests_folder(capsys, db_path, own_config, write_digest):
    digest = write_digest([("Folder Paper About Operators", ABSTRACT)], name="folder/today.txt")
    own_config.parent.mkdir(parents=True)
    own_config.write_text(f'digests = "{digest.parent}"\n', encoding="utf-8")
    assert rows(cli(capsys, "list", "--db", str(db_path))[1]) == [
        [paper_id("Folder Paper About Operators"), "Folder Paper About Operators"]
    ]
    _, out, _ = cli(capsys, "search", "operators", "--db", str(db_path))
    assert [r[2] for r in rows(out)] == ["Folder Paper About Operators"]


def test_help_says_search_json_is_json_lines_and_export_json_one_array(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    assert "JSON Lines" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "one array" in " ".join(capsys.readouterr().out.split())


def test_marking_several_papers_read_is_one_undo_step(capsys, db_path):
    db = str(db_path)
    ids = [r[0] for r in rows(cli(capsys, "list", "--db", db)[1])[:3]]
    assert cli(capsys, "read", *ids, "--db", db)[0] == 0
    assert all(Store(db_path).get(pid)["read_at"] for pid in ids)
    assert cli(capsys, "undo", "--db", db)[1].startswith("Undid read · 3 papers")
    assert not any((Store(db_path).get(pid) or {}).get("read_at") for pid in ids)
    status, _, err = cli(capsys, "read", ids[0], "zzzzzzzzzzzz", "--db", db)
    assert status == 2 and not Store(db_path).get(ids[0])["read_at"]  # an unknown id: nothing marked
