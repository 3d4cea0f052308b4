"""The store's files as a user meets them: migration from schema 1, symlinks, odd paths, bad fields,
bad text, imports as one undo step, read marks in their own file."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from app_support import make_app, notifications, settle

from reader.cli import main
from reader.digest import bundled_digest, load_library
from reader.store import SCHEMA, Store, StoreError

FIXTURE = Path(__file__).parent / "data" / "store-schema1.json"  # written by the schema-1 Store
NEURAL, MEMO = "4pgdtahzulkf", "i6vygk6xyaqv"
PAPERS = load_library([bundled_digest()]).papers


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def run_process(*argv: str | bytes, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "reader", *argv], capture_output=True, timeout=timeout)


# -- schema 1 ----------------------------------------------------------------------------------


def test_a_schema_1_store_is_migrated_once_and_the_old_file_kept(db_path):
    db_path.parent.mkdir(parents=True)
    shutil.copy(FIXTURE, db_path)
    old = db_path.read_bytes()
    # Read-only: read in memory, nothing written.
    records = Store(db_path, readonly=True).records()
    assert records[NEURAL]["tags"] == ["ml", "to read"] and records[NEURAL]["read_at"]
    assert db_path.read_bytes() == old
    store = Store(db_path)
    assert db_path.with_name("store.json.schema1.bak").read_bytes() == old
    assert db_path.read_bytes().startswith(b'{"paper-reader":"store","schema":%d' % SCHEMA)
    records = store.records()
    assert records[NEURAL]["bookmarked_at"] == "2026-11-29T15:19:52+00:00"
    assert records[NEURAL]["note"] == "section 3\nÉté" and records[MEMO]["link"] == "https://example.org/mine"
    assert records[NEURAL]["title"].startswith("Neural Operator")
    assert records[NEURAL]["read_at"].startswith("2026-11-29T15:19") and records["unannotated1"]["read_at"]
    assert not records[MEMO]["read_at"]
    assert store.seen() == {NEURAL: "2026-11-01", MEMO: "2026-11-02", "unannotated1": "2026-10-30"}
    assert store.setting("theme") == "nord"
    assert store.journal()["undo"][-1] == "link · Memorizing Transformers"
    assert store.journal()["redo"] == ["tag #later · Memorizing Transformers"]
    assert store.redo() == "tag #later · Memorizing Transformers"
    assert Store(db_path).get(MEMO)["tags"] == ["later"]
    assert store.undo() == "tag #later · Memorizing Transformers"
    assert store.undo() == "link · Memorizing Transformers"
    assert Store(db_path).get(MEMO)["link"] == ""
    # Once: a second open leaves the kept copy alone.
    Store(db_path).add_tags(NEURAL, ["more"])
    assert db_path.with_name("store.json.schema1.bak").read_bytes() == old


# -- undo of an import, a bulk read mark ------------------------------------------------------


def test_undo_after_an_import_restores_exactly_the_state_before(db_path, tmp_path):
    paper = PAPERS[0]
    assert run_cli("--db", str(db_path), "bookmark", paper.id)[0] == 0
    export = tmp_path / "export.json"
    export.write_text(
        json.dumps(
            [
                {"id": paper.id, "title": paper.title, "tags": ["imported"], "note": "their note"},
                {"id": "newpaper0001", "title": "A paper from elsewhere", "bookmarked": True},
            ]
        ),
        encoding="utf-8",
    )
    before = Store(db_path).records()
    status, out, err = run_cli("--db", str(db_path), "import", str(export))
    assert status == 0 and out.startswith("imported 2 papers") and err == ""
    after = Store(db_path).records()
    assert after[paper.id]["tags"] == ["imported"] and after["newpaper0001"]["bookmarked_at"]
    store = Store(db_path)
    assert store.undo() == "import · 2 papers"
    now = Store(db_path).records()
    for pid, record in before.items():
        assert {k: now[pid][k] for k in ("bookmarked_at", "tags", "note", "link", "read_at")} == {
            k: record[k] for k in ("bookmarked_at", "tags", "note", "link", "read_at")
        }
    assert now[paper.id]["bookmarked_at"] == before[paper.id]["bookmarked_at"]  # the CLI bookmark stays
    assert not now.get("newpaper0001", {}).get("bookmarked_at")
    assert store.redo() == "import · 2 papers"
    again = Store(db_path).records()
    assert again[paper.id]["tags"] == ["imported"] and again[paper.id]["note"] == "their note"
    assert again["newpaper0001"]["bookmarked_at"]


def test_undo_after_a_bulk_read_mark_leaves_other_changes_alone(db_path):
    store = Store(db_path)
    store.mark_read([PAPERS[0]])  # the cursor: not a step
    store.set_bookmark(PAPERS[1], True)
    store.mark_read(PAPERS[:5], undoable=True)  # R
    store.add_tags(PAPERS[1], ["x"])
    assert store.undo().startswith("tag #x")
    assert store.undo() == "read · 5 papers"
    records = Store(db_path).records()
    assert records[PAPERS[0].id]["read_at"]  # read before the step: still read
    assert not any(records.get(p.id, {}).get("read_at") for p in PAPERS[1:5])
    assert records[PAPERS[1].id]["bookmarked_at"]


def test_one_imported_paper_is_said_in_the_singular(db_path, tmp_path):
    export = tmp_path / "one.json"
    export.write_text(json.dumps([{"id": "newpaper0001", "title": "One", "tags": ["t"]}]), encoding="utf-8")
    status, out, _ = run_cli("--db", str(db_path), "import", str(export))
    assert status == 0 and out.startswith("imported 1 paper into ")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[" * 100000, "not a JSON export"),
        (json.dumps([{"id": "nosuchpaper1", "tags": ["t"]}]), "has no title and is not in the store"),
        ('[{"id": "abcdabcdabcd", "title": "T", "note": "\\ud800"}]', "not valid UTF-8"),
    ],
)
def test_a_bad_import_is_one_line_and_changes_nothing(db_path, tmp_path, content, says):
    Store(db_path).add_tags(PAPERS[0], ["kept"])
    before = db_path.read_bytes()
    export = tmp_path / "bad.json"
    export.write_text(content, encoding="utf-8")
    status, out, err = run_cli("--db", str(db_path), "import", str(export))
    assert (status, out) == (2, "")
    assert err.startswith(f"paper-reader: error: {export}: ") and says in err and err.count("\n") == 1
    assert db_path.read_bytes() == before


# -- paths ---------------------------------------------------------------------------------------


def test_a_symlinked_store_writes_its_target(tmp_path):
    synced = tmp_path / "Sync"
    synced.mkdir()
    target = synced / "store.json"
    Store(target).add_tags(PAPERS[0], ["first"])
    link = tmp_path / "config" / "store.json"
    link.parent.mkdir()
    link.symlink_to(target)
    store = Store(link)
    store.add_tags(PAPERS[0], ["second"])
    store.add_tags(PAPERS[0], ["third"])
    store.compact()
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert Store(target).get(PAPERS[0].id)["tags"] == ["first", "second", "third"]
    assert sorted(p.name for p in link.parent.iterdir()) == ["store.json"]  # nothing beside the link
    backup = synced / "store.json.bak"
    assert backup.is_file() and not backup.is_symlink()
    assert (synced / ".~lock.store.json#").exists()


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_store_path_that_is_no_file_is_one_line_at_once(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "store.json"
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "store.json"
        path.mkdir()
    for argv in (["export"], ["bookmark", PAPERS[0].id], ["list"]):
        done = run_process("--db", str(path), *argv, timeout=60)  # a hang fails here
        assert done.returncode == 2, done.stderr
        err = done.stderr.decode()
        assert err.startswith(f"paper-reader: error: {path}: ") and err.count("\n") == 1, err
    with pytest.raises(StoreError):
        Store(path)


# -- bad text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["tag", "note"])
def test_text_that_is_not_utf8_is_one_line_and_exit_2(db_path, command):
    Store(db_path).add_tags(PAPERS[0], ["kept"])
    before = db_path.read_bytes()
    done = run_process("--db", str(db_path), command, PAPERS[0].id, b"bad\xfftext")
    assert done.returncode == 2
    err = done.stderr.decode("utf-8", "replace")
    assert err.startswith("paper-reader: error: ") and "not valid UTF-8" in err and err.count("\n") == 1, err
    assert db_path.read_bytes() == before


# -- wrong types in a hand-edited store ------------------------------------------------------------

BAD_FIELDS = [
    ("note", 5),
    ("link", 7),
    ("title", None),
    ("abstract", {}),
    ("bookmarked_at", 12345),
    ("tags", "ml"),
    ("read_at", [1]),
    ("first_seen", True),
]


def bad_store(path: Path, field: str, value: object) -> None:
    """A schema-2 store, edited by hand: one paper's field holds the wrong type."""
    paper = PAPERS[0]
    store = Store(path)
    store.set_bookmark(paper, True)
    store.add_tags(paper, ["kept"])
    store.set_note(PAPERS[1], "other note")
    store.compact()
    head, _ = path.read_bytes().split(b"\n", 1)
    data = json.loads(head)
    for doc in data["tables"]["papers"].values():
        if doc["id"] == paper.id:
            doc[field] = value
    data["tables"]["settings"] = {"1": {"saved_searches": "not a list", "sessions": 3}}
    path.write_bytes(json.dumps(data).encode() + b"\n")


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_a_wrong_typed_field_is_set_aside_with_a_warning_in_the_cli(db_path, field, value):
    bad_store(db_path, field, value)
    original = db_path.read_bytes()
    for argv in (["export"], ["export", "--format", "bibtex"], ["list", "--sort", "bookmarked"]):
        status, out, err = run_cli("--db", str(db_path), *argv)
        assert status == 0, err
        assert f"paper {PAPERS[0].id}" in err and f"{field} is " in err and "set aside" in err, err
        assert "Traceback" not in err
    exported = {p["id"]: p for p in json.loads(run_cli("--db", str(db_path), "export")[1])}
    assert exported[PAPERS[1].id]["note"] == "other note"
    assert db_path.read_bytes() == original  # reading repairs in memory only
    # A change to the paper keeps the original value in the record, under set_aside.
    assert run_cli("--db", str(db_path), "tag", PAPERS[0].id, "new")[0] == 0
    record = Store(db_path).get(PAPERS[0].id)
    assert record["set_aside"][field] == value
    assert "new" in record["tags"]


async def test_a_wrong_typed_store_opens_in_the_app_with_a_warning(db_path):
    bad_store(db_path, "note", 5)
    app = make_app(db_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert any(f"paper {PAPERS[0].id}" in n and "note is a number" in n for n in notifications(app))
        for key in ("b", "n", "escape", "1", "y", "u"):
            await pilot.press(key)
            await settle(app, pilot)
        assert app.is_running


# -- read marks ------------------------------------------------------------------------------------


def test_a_read_mark_cut_short_by_a_kill_is_dropped_and_the_next_lands_whole(db_path):
    store = Store(db_path)
    store.mark_read([PAPERS[0]])
    marks = db_path.with_name("store.json.marks")
    whole = marks.read_bytes()
    marks.write_bytes(whole + b"partial")  # a kill in the middle of a 16-byte record
    assert Store(db_path).get(PAPERS[0].id)["read_at"]
    Store(db_path).mark_read([PAPERS[1]])
    assert (marks.stat().st_size - 16) % 16 == 0
    records = Store(db_path).records()
    assert records[PAPERS[0].id]["read_at"] and records[PAPERS[1].id]["read_at"]


def test_another_process_read_marks_are_seen_without_reopening(db_path):
    mine, theirs = Store(db_path), Store(db_path)
    mine.set_bookmark(PAPERS[0], True)
    assert not mine.changed()
    theirs.mark_read([PAPERS[2]])
    assert mine.changed()
    assert mine.records()[PAPERS[2].id]["read_at"]


def test_a_cursor_read_mark_written_later_is_on_disk_after_flush(db_path):
    store = Store(db_path)
    store.mark_read_later(PAPERS[3])
    assert store.is_read(PAPERS[3].id)  # at once, in memory
    store.flush()
    assert Store(db_path).get(PAPERS[3].id)["read_at"]


def test_opening_a_big_digest_adds_16_bytes_a_paper(db_path):
    store = Store(db_path)
    store.record_seen({f"p{n:011d}": "2026-11-01" for n in range(10000)})
    marks = db_path.with_name("store.json.marks")
    assert marks.stat().st_size == 16 + 16 * 10000
    store.record_seen({f"p{n:011d}": "2026-11-02" for n in range(10000)})  # later: nothing to add
    assert marks.stat().st_size == 16 + 16 * 10000
    assert Store(db_path).seen()["p00000000042"] == "2026-11-01"


# -- two machines, one synced folder --------------------------------------------------------------


def test_two_machines_changes_meet_in_a_merge_that_loses_neither(tmp_path):
    import time

    synced = tmp_path / "Sync"
    synced.mkdir()
    a_path = synced / "store.json"
    p = PAPERS
    a = Store(a_path)
    a.set_bookmark(p[0], True)
    a.add_tags(p[1], ["ml", "shared"])
    a.set_note(p[2], "base")
    a.mark_read([p[7]])
    # The sync tool copies the store to machine B; both go on working apart.
    b_folder = tmp_path / "B"
    shutil.copytree(synced, b_folder)
    b_path = b_folder / "store.json"
    a.add_tags(p[1], ["a-tag"])
    a.set_note(p[2], "A's text")
    a.mark_read([p[3]])
    time.sleep(1.1)  # B's changes are later, by their time stamps
    b = Store(b_path)
    b.add_tags(p[1], ["b-tag"])
    b.remove_tags(p[1], ["ml"])
    b.set_note(p[2], "B's text")
    b.set_link(p[4], "https://example.org/b")
    b.mark_read([p[5]])
    b.mark_read([p[7]], read=False)
    b.set_bookmark(p[6], True)
    # Back together, the way Syncthing leaves it: A's files plus B's as conflict copies.
    annotations = synced / "store.sync-conflict-20261129-101500-ABCDEFG.json"
    marks = synced / "store.json.sync-conflict-20261129-101500-ABCDEFG.marks"
    shutil.copy(b_path, annotations)
    shutil.copy(b_folder / "store.json.marks", marks)
    done = run_process("doctor", "--db", str(a_path))
    report = done.stdout.decode()
    assert done.returncode == 1 and str(annotations) in report and str(marks) in report
    assert "paper-reader merge" in report
    before = Store(a_path).records()
    status, out, err = run_cli("--db", str(a_path), "merge", str(annotations))
    assert status == 0 and out.startswith(f"merged {annotations}: ") and err == "", err
    status, out, err = run_cli("--db", str(a_path), "merge", str(marks))
    assert status == 0, err
    records = Store(a_path).records()
    assert records[p[0].id]["bookmarked_at"] and records[p[6].id]["bookmarked_at"]
    assert sorted(records[p[1].id]["tags"]) == ["a-tag", "b-tag", "shared"]  # ml removed later on B
    note = records[p[2].id]["note"]
    assert "A's text" in note and "B's text" in note and "--- note from the other copy" in note
    assert records[p[4].id]["link"] == "https://example.org/b"
    assert records[p[3].id]["read_at"] and records[p[5].id]["read_at"]
    assert not records.get(p[7].id, {}).get("read_at")  # marked unread on B after A read it
    # Each merge is one undo step: undoing both gives back A's store as it was.
    store = Store(a_path)
    first, second = store.undo(), store.undo()
    assert first.startswith("merge · ") and second.startswith("merge · ")
    again = Store(a_path).records()
    fields = ("bookmarked_at", "tags", "note", "link", "read_at")
    for pid, record in before.items():
        assert {f: again[pid][f] for f in fields} == {f: record[f] for f in fields}, pid
    assert not any(again.get(q.id, {}).get("bookmarked_at") for q in (p[6],))
    # Nothing of ours beside the store looks like something to sync or a conflict.
    assert sorted(x.name for x in synced.iterdir() if "sync-conflict" not in x.name) == [
        ".~lock.store.json#",
        "store.json",
        "store.json.bak",
        "store.json.marks",
    ]


def test_a_merge_brings_saved_searches_and_settings_and_undo_takes_them_back(tmp_path):
    import time

    synced = tmp_path / "Sync"
    synced.mkdir()
    a_path = synced / "store.json"
    assert run_cli("--db", str(a_path), "searches", "save", "ops", "operator")[0] == 0
    assert run_cli("--db", str(a_path), "searches", "save", "old", "old stuff")[0] == 0
    Store(a_path).set_setting("theme", "dark")
    b_folder = tmp_path / "B"
    shutil.copytree(synced, b_folder)  # machine B's copy; both go on working apart
    b_path = b_folder / "store.json"
    time.sleep(1.1)
    assert run_cli("--db", str(b_path), "searches", "delete", "old")[0] == 0
    assert run_cli("--db", str(b_path), "searches", "save", "math", "math reasoning")[0] == 0
    assert run_cli("--db", str(b_path), "searches", "rename", "ops", "b-ops")[0] == 0
    Store(b_path).set_setting("theme", "light")
    time.sleep(1.1)  # A renames the same search later: A's name wins
    assert run_cli("--db", str(a_path), "searches", "rename", "ops", "operators")[0] == 0
    copy = synced / "store.sync-conflict-20261129-101500-ABCDEFG.json"
    shutil.copy(b_path, copy)

    status, out, err = run_cli("--db", str(a_path), "merge", str(copy))
    assert status == 0 and err == "", err
    assert "saved searches" in out and "theme" in out
    status, out, _ = run_cli("--db", str(a_path), "searches")
    assert [line.split()[1:3] for line in out.splitlines()] == [["operators", "operator"], ["math", "math"]]
    assert Store(a_path).setting("theme") == "light"
    # The merge is one undo step, saved searches and settings included.
    status, out, _ = run_cli("--db", str(a_path), "undo")
    assert status == 0 and "merge" in out
    status, out, _ = run_cli("--db", str(a_path), "searches")
    assert [line.split()[1] for line in out.splitlines()] == ["operators", "old"]
    assert Store(a_path).setting("theme") == "dark"
    status, out, _ = run_cli("--db", str(a_path), "redo")
    assert Store(a_path).setting("theme") == "light"
    # Merged again, nothing changes: the deleted search stays deleted.
    run_cli("--db", str(a_path), "merge", str(copy))
    status, out, _ = run_cli("--db", str(a_path), "searches")
    assert [line.split()[1] for line in out.splitlines()] == ["operators", "math"]


def test_a_search_saved_again_after_the_other_copy_deleted_it_comes_back(tmp_path):
    import time

    a_path, b_path = tmp_path / "a" / "store.json", tmp_path / "b" / "store.json"
    run_cli("--db", str(a_path), "searches", "save", "ops", "operator")
    shutil.copytree(a_path.parent, b_path.parent)
    run_cli("--db", str(b_path), "searches", "delete", "ops")
    time.sleep(1.1)
    run_cli("--db", str(a_path), "searches", "save", "ops", "neural operator")  # changed after B deleted it
    assert run_cli("--db", str(a_path), "merge", str(b_path))[0] == 0
    status, out, _ = run_cli("--db", str(a_path), "searches")
    assert [line.split()[1:] for line in out.splitlines()] == [["ops", "neural", "operator"]]


def test_merging_a_file_that_is_no_store_is_one_line(db_path, tmp_path):
    junk = tmp_path / "junk.json"
    junk.write_text("not a store", encoding="utf-8")
    status, out, err = run_cli("--db", str(db_path), "merge", str(junk))
    assert (status, out) == (2, "") and err.startswith(f"paper-reader: error: {junk}: ") and err.count("\n") == 1
    status, out, err = run_cli("--db", str(db_path), "merge", str(tmp_path / "missing.json"))
    assert status == 2 and "no such file" in err
