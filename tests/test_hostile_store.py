"""What a hostile tester did to the store and the CLI around it: each refused in one line, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from reader.cli import main
from reader.paper import paper_id
from reader.store import Store
from tests.cli_support import assert_one_error, cli, run

TITLE = "Neural Operator: Learning Maps Between Function Spaces"  # in the bundled sample
PID = paper_id(TITLE)


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "store.json"
    store = Store(path)
    store.update("abcd1234", lambda r: r.update(title=TITLE, note="precious", tags=["keep"]), "note")
    return path


# -- import and merge read regular files only ------------------------------------------------


@pytest.mark.parametrize("command", ["import", "merge"])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_import_and_merge_refuse_a_device_at_once(db, command, device):
    before = db.read_bytes()
    assert_one_error(run(command, device, "--db", str(db), timeout=20), device, "not a regular file")
    assert db.read_bytes() == before


@pytest.mark.parametrize("command", ["import", "merge"])
def test_import_and_merge_refuse_a_fifo_without_a_writer(db, tmp_path, command):
    fifo = tmp_path / "export.json"
    os.mkfifo(fifo)
    assert_one_error(run(command, str(fifo), "--db", str(db), timeout=20), fifo, "not a regular file")


@pytest.mark.parametrize("command", ["import", "merge"])
def test_import_and_merge_refuse_a_folder(db, tmp_path, command):
    folder = tmp_path / "folder"
    folder.mkdir()
    assert_one_error(run(command, str(folder), "--db", str(db)), folder, "not a regular file")


def test_import_takes_an_export_starting_with_a_bom(db, tmp_path, capsys):
    export = tmp_path / "export.json"
    export.write_bytes(b"\xef\xbb\xbf" + json.dumps([{"id": "abcd1234", "tags": ["bom"]}]).encode())
    status, out, err = cli(capsys, "import", str(export), "--db", str(db))
    assert status == 0, err
    assert "imported 1 paper " in out
    assert Store(db).annotation("abcd1234").tags == ("keep", "bom")


# -- merge never folds the store into itself -------------------------------------------------


@pytest.mark.parametrize("how", ["itself", "symlink", "hardlink", "marks", "via-env"])
def test_merge_refuses_the_store_itself(db, tmp_path, how):
    Store(db).mark_read(["abcd1234"])
    given = {"itself": db, "marks": db.with_name("store.json.marks")}.get(how, tmp_path / "other.json")
    if how == "symlink":
        given.symlink_to(db)
    elif how == "hardlink":
        os.link(db, given)
    before = db.read_bytes()
    if how == "via-env":
        done = run("merge", str(db), env={"PAPER_READER_DB": str(db)})
        given = db
    else:
        done = run("merge", str(given), "--db", str(db))
    assert_one_error(done, given, "this is the store itself")
    assert db.read_bytes() == before
    assert Store(db).annotation("abcd1234").note == "precious"


def test_merging_the_stores_own_backup_never_advises_deleting_it(db, tmp_path, capsys):
    Store(db).compact()  # the annotations file as it was becomes store.json.bak
    backup = db.with_name("store.json.bak")
    assert backup.is_file()
    status, out, _ = cli(capsys, "merge", str(backup), "--db", str(db))
    assert status == 0
    assert "delete" not in out and "keep it" in out
    assert backup.is_file()


# -- a store link into a missing folder ------------------------------------------------------


@pytest.mark.parametrize("command", [["bookmark", "abcd1234"], ["list"], ["export"], ["tag", "abcd1234", "x"]])
def test_a_store_link_into_a_missing_folder_is_refused_and_creates_nothing(tmp_path, command):
    missing = tmp_path / "unmounted" / "drive" / "store.json"
    link = tmp_path / "s.json"
    link.symlink_to(missing)
    done = run(*command, "--db", str(link))
    assert_one_error(done, link, "missing folder", str(missing))
    assert not (tmp_path / "unmounted").exists()
    assert link.is_symlink()


def test_a_store_link_to_a_missing_file_in_a_folder_that_exists_is_created(tmp_path, capsys):
    (tmp_path / "synced").mkdir()
    link = tmp_path / "s.json"
    link.symlink_to(tmp_path / "synced" / "store.json")
    assert cli(capsys, "note", PID, "hello", "--db", str(link))[0] == 0
    assert link.is_symlink() and (tmp_path / "synced" / "store.json").is_file()


def test_a_plain_missing_store_is_created_on_first_run(tmp_path, capsys):
    db = tmp_path / "new.json"
    assert cli(capsys, "note", PID, "hello", "--db", str(db))[0] == 0
    assert Store(db).annotation(PID).note == "hello"


# -- import checks the type of every field it reads ------------------------------------------


@pytest.mark.parametrize(
    "field, value, words",
    [
        *(("bookmarked", v, "bookmarked must be true or false") for v in ["false", "no", 5, -1, [1], {"a": 1}, 1e309]),
        ("bookmarked", 0, "bookmarked must be true or false"),
        ("bookmarked_at", "2024-99-99T99:99", "bookmarked_at must be an ISO date"),
        ("read_at", "yesterday", "read_at must be an ISO date"),
        ("first_seen", 20240101, "first_seen must be an ISO date"),
        ("link", ["http://x"], "link must be text"),
        ("abstract", {"a": 1}, "abstract must be text"),
    ],
)
def test_import_refuses_a_wrong_typed_field_and_changes_nothing(db, tmp_path, field, value, words):
    export = tmp_path / "export.json"
    export.write_text(json.dumps([{"id": "abcd1234", "title": TITLE}, {"id": "efgh5678", "title": "x", field: value}]))
    before = db.read_bytes()
    line = assert_one_error(run("import", str(export), "--db", str(db)), export, "paper 2", words)
    assert "Traceback" not in line
    assert db.read_bytes() == before
    assert not Store(db).annotation("abcd1234").bookmarked_at


def test_import_takes_true_false_and_null_bookmarks(db, tmp_path, capsys):
    export = tmp_path / "export.json"
    entries = [
        {"id": "abcd1234", "bookmarked": True, "bookmarked_at": None},
        {"id": "efgh5678", "title": "Two", "bookmarked": False},
        {"id": "ijkl9012", "title": "Three", "bookmarked": None, "first_seen": "2024-05-01"},
    ]
    export.write_text(json.dumps(entries))
    assert cli(capsys, "import", str(export), "--db", str(db))[0] == 0
    store = Store(db)
    assert store.annotation("abcd1234").bookmarked_at
    assert not store.annotation("efgh5678").bookmarked_at
    assert not store.annotation("ijkl9012").bookmarked_at


# -- import of a file naming one paper twice -------------------------------------------------


@pytest.mark.parametrize("second", ["dupe1234", " DUPE1234 "])
def test_import_refuses_two_entries_for_one_paper(db, tmp_path, second):
    export = tmp_path / "export.json"
    entries = [
        {"id": "abcd1234", "title": TITLE, "note": "fine"},
        {"id": "dupe1234", "title": "First", "note": "one"},
        {"id": second, "title": "Second", "note": "two"},
    ]
    export.write_text(json.dumps(entries))
    before = db.read_bytes()
    assert_one_error(
        run("import", str(export), "--db", str(db)), export, "papers 2 and 3", "dupe1234", "nothing was imported"
    )
    assert db.read_bytes() == before
    assert Store(db).annotation("dupe1234") is None


# -- a hand-edited store with a record under a key of its own --------------------------------


def _misfile(db: Path, pid: str, key: str, fields: dict, keep_home: bool = False) -> None:
    """Rewrite the store as a hand edit would: ``pid``'s record under the document key ``key``."""
    Store(db).compact()  # everything in the header line
    head = json.loads(db.read_text(encoding="utf-8").splitlines()[0])
    papers = head["tables"].setdefault("papers", {})
    record = {"id": pid, "title": "Evil test paper", "tags": [], "note": "", "link": "", "bookmarked_at": None}
    papers[key] = {**record, **fields}
    if not keep_home:
        from reader.paper import id_number

        papers.pop(str(id_number(pid)), None)
    db.write_text(json.dumps(head, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def test_a_misfiled_record_keeps_its_annotations_through_the_next_change(db, capsys):
    _misfile(db, "zzzzeviltest", "424242", {"bookmarked_at": "2024-05-01T09:00:00+00:00", "tags": ["a"], "note": "n"})
    status, out, err = cli(capsys, "tag", "zzzzeviltest", "b", "--db", str(db))
    assert status == 0, err
    assert "zzzzeviltest" in err and "filed under 424242" in err
    for store in (Store(db), Store(db, readonly=True)):
        a = store.annotation("zzzzeviltest")
        assert (a.tags, a.note, a.bookmarked_at) == (("a", "b"), "n", "2024-05-01T09:00:00+00:00")
    assert '["d","papers","424242"]' in db.read_text(encoding="utf-8")  # the fix was written, not only read
    status, out, _ = cli(capsys, "export", "--db", str(db))
    assert [d["tags"] for d in json.loads(out) if d["id"] == "zzzzeviltest"] == [["a", "b"]]
    store = Store(db)
    store.compact()
    assert Store(db).annotation("zzzzeviltest").note == "n"
    assert Store(db).annotation("abcd1234").note == "precious"


def test_a_second_record_for_one_paper_is_merged_into_its_own_with_a_warning(db, capsys):
    _misfile(db, "abcd1234", "424242", {"note": "second copy", "tags": ["other"]}, keep_home=True)
    status, out, err = cli(capsys, "tag", "abcd1234", "new", "--db", str(db))
    assert status == 0, err
    assert "abcd1234" in err and "merged" in err
    a = Store(db).annotation("abcd1234")
    assert "precious" in a.note and "second copy" in a.note
    assert a.tags == ("keep", "other", "new")
    Store(db).compact()
    a = Store(db).annotation("abcd1234")
    assert "precious" in a.note and "second copy" in a.note and a.tags == ("keep", "other", "new")
    assert "424242" not in db.read_text(encoding="utf-8")


# -- a hand-edited store with a time that is not one, and tags that clean to nothing ----------


def test_a_stored_time_that_is_not_real_is_set_aside_with_a_warning(db, capsys):
    from reader.paper import id_number

    _misfile(db, "zzzzeviltest", str(id_number("zzzzeviltest")), {}, keep_home=True)
    head = json.loads(db.read_text(encoding="utf-8").splitlines()[0])
    for doc in head["tables"]["papers"].values():
        if doc["id"] == "zzzzeviltest":
            doc.update(bookmarked_at="2024-99-99T99:99", note="kept")
    db.write_text(json.dumps(head) + "\n", encoding="utf-8")
    status, out, err = cli(capsys, "export", "--db", str(db))
    assert status == 0, err
    assert [d["bookmarked"] for d in json.loads(out) if d["id"] == "zzzzeviltest"] == [False]
    assert "zzzzeviltest" in err and "bookmarked_at" in err and "2024-99-99" in err
    assert cli(capsys, "note", "zzzzeviltest", "kept too", "--db", str(db))[0] == 0
    Store(db).compact()
    assert "2024-99-99T99:99" in db.read_text(encoding="utf-8")  # set aside in the record, not dropped


def test_stored_tags_that_clean_to_nothing_are_dropped_with_a_warning_and_kept_aside(db, capsys):
    from reader.paper import id_number

    _misfile(
        db, "zzzzeviltest", str(id_number("zzzzeviltest")), {"tags": ["\u001b[2J", "", "\u001b[31mred"]}, keep_home=True
    )
    status, out, err = cli(capsys, "export", "--db", str(db))
    assert status == 0, err
    assert [d["tags"] for d in json.loads(out) if d["id"] == "zzzzeviltest"] == [["red"]]
    assert "zzzzeviltest" in err and "tags" in err and "\x1b" not in err
    assert cli(capsys, "tag", "zzzzeviltest", "blue", "--db", str(db))[0] == 0
    assert Store(db).annotation("zzzzeviltest").tags == ("red", "blue")
    Store(db).compact()
    assert "\\u001b[2J" in db.read_text(encoding="utf-8")  # the original list kept under set_aside


def test_a_tag_with_escapes_from_the_command_line_is_stored_clean(db, capsys):
    assert cli(capsys, "tag", "abcd1234", "\x1b[2J", "\x1b[41mevil\x1b[0m", "--db", str(db))[0] == 0
    assert Store(db).annotation("abcd1234").tags == ("keep", "evil")
    assert "\x1b" not in db.read_text(encoding="utf-8")


# -- saved search names are data -------------------------------------------------------------


EVIL_NAME = "\x1b[2J\x1b[41mEVIL\x1b[0m"


def test_saved_search_names_with_escapes_are_stored_clean(db, capsys):
    assert cli(capsys, "searches", "save", EVIL_NAME, "operator", "--db", str(db))[0] == 0
    assert cli(capsys, "searches", "save", "plain", "neural\x1b[31m", "--db", str(db))[0] == 0
    assert cli(capsys, "searches", "rename", "plain", "re\x07named\x1b]52;c;aGk=\x07", "--db", str(db))[0] == 0
    status, out, _ = cli(capsys, "searches", "list", "--db", str(db))
    assert out.splitlines() == ["1\tEVIL\toperator", "2\trenamed\tneural"]
    assert "\\u001b" not in db.read_text(encoding="utf-8") and "\\u0007" not in db.read_text(encoding="utf-8")
    from reader.core.saved_searches import saved_searches

    assert [s.name for s in saved_searches(Store(db))] == ["EVIL", "renamed"]
    assert cli(capsys, "searches", "delete", EVIL_NAME, "--db", str(db))[0] == 0  # found by the name as typed


def test_saved_search_names_stored_raw_by_an_older_version_are_cleaned_on_load(db, capsys):
    Store(db).set_setting("saved_searches", [{"id": "a1", "name": EVIL_NAME, "query": "operator", "at": ""}])
    from reader.core.saved_searches import saved_searches

    assert [s.name for s in saved_searches(Store(db, readonly=True))] == ["EVIL"]
    status, out, _ = cli(capsys, "searches", "--db", str(db))
    assert out == "1\tEVIL\toperator\n"


# -- doctor's fix lines can be pasted whatever the file name -----------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "store (\x1b]52;c;aGk=\x07 conflicted copy).json",
        "store (it's \\ a conflicted copy).json",
        "store (\u202e\u00e9 conflicted copy).json",
        "store (conflicted copy).json",
    ],
)
def test_doctor_fix_line_names_the_conflict_copy_exactly(db, name):
    copy = db.with_name(name)
    copy.write_bytes(db.read_bytes())
    done = run("doctor", env={"PAPER_READER_DB": str(db)})
    fixes = [line.split("fix: ", 1)[1] for line in done.stdout.splitlines() if "fix: paper-reader merge " in line]
    assert len(fixes) == 1, done.stdout
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    argument = fixes[0].removeprefix("paper-reader merge ")
    said = subprocess.run(["bash", "-c", f"printf %s {argument}"], capture_output=True, timeout=10).stdout
    assert said == os.fsencode(str(copy))


# -- command-line errors: one line, exit 2 -----------------------------------------------------


@pytest.mark.parametrize(
    "args, words",
    [
        (["search", "x", "--sort", "nosuch"], ["--sort", "nosuch"]),
        (["fetch", "--week", "2024-W99"], ["--week"]),
        (["fetch", "--limit", "0"], ["--limit"]),
        (["fetch", "--since", "9999-01-01"], ["--since", "in the future"]),
        (["fetch", "--arxiv", ""], ["--arxiv", "category"]),
        (["fetch", "--arxiv", " , "], ["--arxiv", "category"]),
        (["list", "-", "-"], ["standard input", "once"]),
        (["list", ""], ["empty path"]),
        (["search", "x", ""], ["empty path"]),
        (["import", ""], ["empty path"]),
        (["bookmark", PID, "--file", ""], ["empty path"]),
        (["export", "--db", ""], ["--db", "empty path"]),
        (["search"], ["required"]),
        (["tag", "--remove"], ["required"]),
        (["completions", "tcsh"], ["tcsh"]),
        (["searches", "frobnicate"], ["frobnicate"]),
    ],
)
def test_command_line_errors_are_one_line_and_exit_2(tmp_path, args, words):
    env = {
        "PAPER_READER_DB": str(tmp_path / "db.json"),
        "PAPER_READER_CACHE": str(tmp_path / "cache"),
        "PAPER_READER_CONFIG": str(tmp_path / "config.toml"),
        "XDG_DATA_HOME": str(tmp_path),
    }
    done = run(*args, env=env, timeout=30)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("paper-reader: error: "), done.stderr
    assert "usage:" not in done.stderr
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    assert not (tmp_path / "digests").exists()  # nothing fetched


def test_help_is_unchanged(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["search", "--help"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.startswith("usage: paper-reader search")


@pytest.mark.parametrize("linked", ["file", "folder"])
def test_doctor_names_a_store_link_into_a_missing_folder(tmp_path, linked):
    link = tmp_path / "s.json"
    if linked == "file":
        link.symlink_to(tmp_path / "unmounted" / "store.json")
    else:
        (tmp_path / "Sync").symlink_to(tmp_path / "unmounted")
        link = tmp_path / "Sync" / "store.json"
    done = run("doctor", "--db", str(link), env={"PAPER_READER_CONFIG": str(tmp_path / "c.toml")})
    assert done.returncode == 1
    assert "missing folder" in done.stdout and "not created yet" not in done.stdout, done.stdout
    assert not (tmp_path / "unmounted").exists()


def test_a_store_in_a_linked_folder_that_is_missing_is_refused_and_creates_nothing(tmp_path):
    folder_link = tmp_path / "Sync"
    folder_link.symlink_to(tmp_path / "unmounted" / "Sync")
    db = folder_link / "paper-reader" / "store.json"
    assert_one_error(run("bookmark", PID, "--db", str(db)), db, "link to a missing folder")
    assert not (tmp_path / "unmounted").exists() and folder_link.is_symlink()
