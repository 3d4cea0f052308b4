"""The paper-reader command line, run for real: output, exit status, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ABSTRACT

from reader import __version__
from reader.digest import load_library
from reader.paper import paper_id
from reader.store import Store
from tests.cli_support import assert_one_error, cli, run

FIRST = "PAON: A New Neuron Model using Padé Approximants"
NEURAL_OPERATOR = "Neural Operator: Learning Maps Between Function Spaces"


# -- bad input: exit 2, one line naming the file, no traceback ----------------------------------


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", ["empty"]),
        (b" \n\t\r\n  \n", ["whitespace"]),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 8, ["binary"]),
        ("Padé approximants\n".encode("latin-1") + b"x" * 300 + b"\n", ["UTF-8", "--encoding"]),
    ],
)
def test_bad_files_exit_2_with_one_line(tmp_path, content, words):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert_one_error(run("list", str(path), "--db", str(tmp_path / "db.json")), path, *words)


def test_missing_path(tmp_path):
    missing = tmp_path / "no-such-digest.txt"
    assert_one_error(run("list", str(missing)), missing, "no such")


def test_folder_with_no_digests(tmp_path):
    folder = tmp_path / "digests"
    folder.mkdir()
    (folder / "notes.md").write_text("hello")
    assert_one_error(run("list", str(folder)), folder, "no")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(f"A title\n{ABSTRACT}\n")
    path.chmod(0)
    try:
        assert_one_error(run("list", str(path)), path, "permission")
    finally:
        path.chmod(0o644)


def test_bad_file_makes_the_default_command_fail_before_any_ui(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert_one_error(run(str(path), "--db", str(tmp_path / "db.json")), path, "empty")


def test_latin1_digest_with_encoding_option(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(f"Padé approximants for neurons\n{ABSTRACT}\n".encode("latin-1"))
    done = run("list", str(path), "--encoding", "latin-1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{paper_id('Pade approximants for neurons')}\tPadé approximants for neurons\n"


def test_hand_edited_store_with_escapes_never_reaches_the_terminal(db_path):
    evil = "Evil \x1b]0;pwned\x07title\x1b[31m red\u202e"
    db_path.parent.mkdir(parents=True)
    db_path.write_text(
        json.dumps(
            {
                "meta": {"1": {"schema": 1}},
                "papers": {
                    "1": {
                        "id": "aaaaaaaaaaaa",
                        "title": evil,
                        "abstract": "Abstract \x1b[2J" + ABSTRACT,
                        "bookmarked_at": "2024-01-01T00:00:00+00:00",
                        "tags": ["t\x1b[1m"],
                        "note": "n\x1b]52;c;eA==\x07",
                        "link": "",
                        "first_seen": None,
                        "read_at": None,
                    }
                },
            }
        )
    )
    outputs = [run("show", "aaaaaaaaaaaa", "--db", str(db_path))]
    outputs += [run("export", "--format", fmt, "--db", str(db_path)) for fmt in ("json", "markdown", "bibtex", "csv")]
    outputs.append(run("search", "is:bookmarked", "--db", str(db_path)))
    for done in outputs:
        assert done.returncode == 0, done.stderr
        assert "Evil" in done.stdout
        assert not any(c in done.stdout for c in "\x1b\x07\u202e"), done.args


# -- list, search, show -------------------------------------------------------------------------


def test_list_prints_every_paper_in_file_order_from_the_bundled_digest(sample_path):
    done = run("list")
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    papers = load_library([sample_path]).papers
    assert lines == [f"{p.id}\t{p.title}" for p in papers]
    assert lines[0].split("\t") == [paper_id(FIRST), FIRST]
    assert len(lines) == 164


def test_list_warns_about_a_title_without_abstract(tmp_path, capsys):
    path = tmp_path / "d.txt"
    path.write_text(f"A title\n{ABSTRACT}\nA last title\n")
    status, out, err = cli(capsys, "list", str(path))
    assert status == 0
    assert out.splitlines()[-1].endswith("\tA last title")
    assert err.startswith("paper-reader: warning: ") and "no abstract" in err


def test_list_of_a_folder_and_files_merges_duplicates(tmp_path, capsys):
    (tmp_path / "days").mkdir()
    (tmp_path / "days" / "1.txt").write_text(f"{NEURAL_OPERATOR}\n{ABSTRACT}\nOther paper\n{ABSTRACT}\n")
    (tmp_path / "days" / "2.txt").write_text(f"NEURAL  operator - learning maps between function spaces\n{ABSTRACT}\n")
    status, out, _ = cli(capsys, "list", str(tmp_path / "days"))
    assert status == 0
    ids = [line.split("\t")[0] for line in out.splitlines()]
    assert sorted(ids) == sorted([paper_id(NEURAL_OPERATOR), paper_id("Other paper")])


def test_output_to_a_pipe_has_no_escape_sequences(tmp_path):
    path = tmp_path / "evil.txt"
    path.write_text(
        "\x1b]0;pwned\x07Deep \x1b[31mResidual\x1b[0m Learning\u202e\n"
        f"An abstract \x1b]52;c;ZXZpbA==\x07 with \x9b2J escapes. {ABSTRACT}\n"
    )
    db = str(tmp_path / "db.json")
    pid = paper_id("Deep Residual Learning")
    outputs = [
        run("list", str(path)),
        run("search", "residual", str(path), "--db", db),
        run("search", "residual", str(path), "--db", db, "--json"),
        run("show", pid, str(path), "--db", db),
        run("show", pid, str(path), "--db", db, "--json"),
    ]
    for done in outputs:
        assert done.returncode == 0, done.stderr
        assert pid in done.stdout
        assert not any(c in done.stdout + done.stderr for c in "\x1b\x07\x9b\u202e")
    assert outputs[0].stdout == f"{pid}\tDeep Residual Learning\n"


def test_search_ranks_and_tolerates_typos(capsys):
    status, out, _ = cli(capsys, "search", "nueral opertor", "--limit", "3", "--db", os.devnull + ".none")
    assert status == 0
    lines = [line.split("\t") for line in out.splitlines()]
    assert len(lines) == 3
    assert NEURAL_OPERATOR in [title for _, _, title in lines]
    scores = [float(score) for _, score, _ in lines]
    assert scores == sorted(scores, reverse=True)


def test_search_limit_must_not_be_negative(capsys, db_path):
    status, out, err = cli(capsys, "search", "neural", "--limit", "-1", "--db", str(db_path))
    assert status == 2 and not out
    assert err.splitlines() == ["paper-reader: error: --limit -1: give a whole number, 0 or more (0: all)"]
    status, out, _ = cli(capsys, "search", "", "--limit", "0", "--db", str(db_path))
    assert status == 0 and len(out.splitlines()) == 164


def test_search_json_lines(capsys, db_path):
    cli(capsys, "bookmark", paper_id(NEURAL_OPERATOR), "--db", str(db_path))
    cli(capsys, "tag", paper_id(NEURAL_OPERATOR), "operators", "--db", str(db_path))
    status, out, _ = cli(capsys, "search", "neural operator", "--json", "--db", str(db_path))
    assert status == 0
    objects = [json.loads(line) for line in out.splitlines()]
    hit = next(o for o in objects if o["title"] == NEURAL_OPERATOR)
    assert hit["id"] == paper_id(NEURAL_OPERATOR)
    assert hit["bookmarked"] is True and hit["tags"] == ["operators"]
    assert {"id", "title", "score", "tags", "bookmarked", "links"} <= set(hit)
    assert any("arxiv.org" in link for link in hit["links"])


def test_search_with_an_unknown_filter_warns(capsys, db_path):
    status, out, err = cli(capsys, "search", "is:starred", "--db", str(db_path))
    assert status == 0 and out == ""
    assert "is:starred" in err and err.startswith("paper-reader: warning:")


def test_search_filters_on_annotations(capsys, db_path):
    pid = paper_id(NEURAL_OPERATOR)
    cli(capsys, "tag", pid, "ToRead", "--db", str(db_path))
    status, out, _ = cli(capsys, "search", "#toread", "--db", str(db_path))
    assert status == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == [pid]
    _, out, _ = cli(capsys, "search", "is:bookmarked", "--db", str(db_path))
    assert out == ""


def test_show_prints_title_abstract_links_tags_note(capsys, db_path):
    pid = paper_id("Projection NTK placeholder")  # unknown id first
    status, _, err = cli(capsys, "show", pid, "--db", str(db_path))
    assert status == 2 and err.startswith(f"paper-reader: error: {pid}: ")
    library = load_library([Path(__file__).parents[1] / "reader" / "data" / "trending-papers.txt"])
    paper = next(p for p in library.papers if "projection\\_ntk" in p.abstract)
    cli(capsys, "tag", paper.id, "ntk", "--db", str(db_path))
    cli(capsys, "note", paper.id, "check the kernel", "--db", str(db_path))
    status, out, _ = cli(capsys, "show", paper.id[:6], "--db", str(db_path))
    assert status == 0
    assert out.startswith(paper.title + "\n")
    assert "https://github.com/pnnl/projection_ntk\n" in out
    assert "tags: ntk" in out and "note: check the kernel" in out
    assert paper.abstract in out
    status, out, _ = cli(capsys, "show", paper.id, "--json", "--db", str(db_path))
    data = json.loads(out)
    assert data["id"] == paper.id and data["title"] == paper.title and data["abstract"] == paper.abstract
    assert data["tags"] == ["ntk"] and data["note"] == "check the kernel" and data["bookmarked"] is False
    assert data["links"][0] == "https://github.com/pnnl/projection_ntk"


# -- annotating -----------------------------------------------------------------------------


def test_bookmark_tag_note_change_the_store_and_say_so(capsys, db_path):
    pid = paper_id(NEURAL_OPERATOR)
    status, out, _ = cli(capsys, "bookmark", pid, "--db", str(db_path))
    assert status == 0 and out == f"bookmarked\t{pid}\t{NEURAL_OPERATOR}\n"
    status, out, _ = cli(capsys, "tag", pid, "ml", "Physics", "ML", "--db", str(db_path))
    assert status == 0 and out.startswith("tags +ml +Physics\t") and out.rstrip().endswith("[ml, Physics]")
    status, out, _ = cli(capsys, "tag", pid, "physics", "--remove", "--db", str(db_path))
    assert out.startswith("tags -Physics\t")
    status, out, _ = cli(capsys, "tag", pid, "ml", "--db", str(db_path))
    assert out.startswith("tags unchanged\t")
    status, out, _ = cli(capsys, "note", pid, "read it twice", "--db", str(db_path))
    assert out.startswith("note saved\t")
    record = next(iter(Store(db_path, readonly=True).records().values()))
    assert record["id"] == pid and record["tags"] == ["ml"] and record["note"] == "read it twice"
    assert record["bookmarked_at"] and record["title"] == NEURAL_OPERATOR
    status, out, _ = cli(capsys, "bookmark", pid, "--off", "--db", str(db_path))
    assert out.startswith("unbookmarked\t")
    status, out, _ = cli(capsys, "note", pid, "", "--db", str(db_path))
    assert out.startswith("note cleared\t")


def test_annotating_an_unknown_id_exits_2(tmp_path, db_path):
    done = run("tag", "zzzzzzzzzzzz", "x", "--db", str(db_path))
    assert_one_error(done, "zzzzzzzzzzzz", "no paper")
    assert not db_path.exists()


def test_annotating_by_file_and_then_from_the_store_alone(tmp_path, capsys, db_path):
    path = tmp_path / "day.txt"
    path.write_text(f"A paper only in this file\n{ABSTRACT}\n")
    pid = paper_id("A paper only in this file")
    assert cli(capsys, "bookmark", pid, "--db", str(db_path))[0] == 2
    assert cli(capsys, "bookmark", pid, "--file", str(path), "--db", str(db_path))[0] == 0
    # The digest is gone but the bookmark's snapshot still names the paper.
    status, out, _ = cli(capsys, "tag", pid, "kept", "--db", str(db_path))
    assert status == 0 and "A paper only in this file" in out
    status, out, _ = cli(capsys, "show", pid, "--db", str(db_path))
    assert status == 0 and out.startswith("A paper only in this file\n")


def test_db_option_and_environment_variable(tmp_path):
    pid = paper_id(NEURAL_OPERATOR)
    by_env = tmp_path / "env" / "store.json"
    by_opt = tmp_path / "opt" / "store.json"
    assert run("tag", pid, "from-env", env={"PAPER_READER_DB": str(by_env)}).returncode == 0
    assert run("--db", str(by_opt), "tag", pid, "from-opt", env={"PAPER_READER_DB": str(by_env)}).returncode == 0
    assert "from-env" in by_env.read_text(encoding="utf-8") and "from-opt" not in by_env.read_text(encoding="utf-8")
    assert "from-opt" in by_opt.read_text(encoding="utf-8")
    done = run("show", pid, "--json", env={"PAPER_READER_DB": str(by_env)})
    assert json.loads(done.stdout)["tags"] == ["from-env"]


# -- a corrupt store ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["tag", paper_id(NEURAL_OPERATOR), "x"],
        ["bookmark", paper_id(NEURAL_OPERATOR)],
        ["show", paper_id(NEURAL_OPERATOR)],
        ["search", "neural"],
        ["export"],
    ],
)
def test_corrupt_store_exits_2_and_is_left_byte_for_byte(db_path, args):
    db_path.parent.mkdir(parents=True)
    content = b'{"papers": {"1": {"id": "abc", "tags": ["x"]}}, "meta": {"1": {"sch'
    db_path.write_bytes(content)
    line = assert_one_error(run(*args, "--db", str(db_path)), db_path, "corrupt")
    assert "left" in line
    assert db_path.read_bytes() == content
    assert sorted(p.name for p in db_path.parent.iterdir() if not p.name.endswith(".lock")) == ["store.json"]


# -- export and import ----------------------------------------------------------------------


def test_export_json_then_import_into_a_fresh_store_round_trips(tmp_path, capsys):
    old, new = str(tmp_path / "old.json"), str(tmp_path / "new.json")
    pid = paper_id(NEURAL_OPERATOR)
    other = paper_id(FIRST)
    cli(capsys, "bookmark", pid, "--db", old)
    cli(capsys, "tag", pid, "ml", "Été", "--db", old)
    cli(capsys, "note", other, "line one\nline two", "--db", old)
    status, exported, _ = cli(capsys, "export", "--db", old)
    assert status == 0
    data = json.loads(exported)
    assert {d["id"] for d in data} == {pid, other}
    for item in data:
        assert {"id", "title", "abstract", "links", "tags", "bookmarked", "note"} <= set(item)
    export_file = tmp_path / "export.json"
    export_file.write_text(exported, encoding="utf-8")
    status, out, _ = cli(capsys, "import", str(export_file), "--db", new)
    assert status == 0 and "imported 2" in out
    _, again, _ = cli(capsys, "export", "--db", new)
    by_id = lambda items: {d["id"]: d for d in items}  # noqa: E731
    assert by_id(json.loads(again)) == by_id(data)


def test_import_merges_without_dropping_existing_tags(tmp_path, capsys, db_path):
    pid = paper_id(NEURAL_OPERATOR)
    export_file = tmp_path / "export.json"
    export_file.write_text(json.dumps([{"id": pid, "title": NEURAL_OPERATOR, "tags": ["theirs", "MINE"], "note": "n"}]))
    cli(capsys, "tag", pid, "mine", "--db", str(db_path))
    assert cli(capsys, "import", str(export_file), "--db", str(db_path))[0] == 0
    _, out, _ = cli(capsys, "show", pid, "--json", "--db", str(db_path))
    assert json.loads(out)["tags"] == ["mine", "theirs"]


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"id": "x"}',
        '[{"title": "no id"}]',
        '[{"id": 5}]',
        '[{"id": "abc", "tags": "not a list"}]',
        '[{"id": "abc", "note": 5}]',
        '[{"id": "  "}]',
        '[{"id": "abc", "tags": ["ok"]}, {"id": "def", "tags": [1]}]',
    ],
)
def test_import_of_a_bad_file_exits_2_and_changes_nothing(tmp_path, db_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert run("tag", paper_id(NEURAL_OPERATOR), "mine", "--db", str(db_path)).returncode == 0
    before = db_path.read_bytes()
    assert_one_error(run("import", str(bad), "--db", str(db_path)), bad)
    assert db_path.read_bytes() == before


def test_import_of_a_missing_file(tmp_path, db_path):
    assert_one_error(run("import", str(tmp_path / "nope.json"), "--db", str(db_path)), tmp_path / "nope.json")


def test_export_filters(capsys, db_path):
    a, b = paper_id(NEURAL_OPERATOR), paper_id(FIRST)
    cli(capsys, "bookmark", a, "--db", str(db_path))
    cli(capsys, "tag", b, "Neurons", "--db", str(db_path))
    _, out, _ = cli(capsys, "export", "--bookmarked", "--db", str(db_path))
    assert [d["id"] for d in json.loads(out)] == [a]
    _, out, _ = cli(capsys, "export", "--tag", "#neurons", "--db", str(db_path))
    assert [d["id"] for d in json.loads(out)] == [b]
    for fmt, marker in (("markdown", "- ["), ("bibtex", "@misc{"), ("csv", "id,title")):
        status, out, _ = cli(capsys, "export", "--format", fmt, "--db", str(db_path))
        assert status == 0 and marker in out and "Neural Operator" in out


# -- the rest -------------------------------------------------------------------------------


def test_version_and_help():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"paper-reader {__version__}"
    done = run("--help")
    assert done.returncode == 0
    for command in ("list", "search", "show", "bookmark", "tag", "note", "export", "import"):
        assert command in done.stdout


def test_output_cut_short_by_a_closed_pipe_is_not_an_error():
    reader = subprocess.Popen([sys.executable, "-m", "reader", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.readline()
    reader.stdout.close()
    _, err = reader.communicate(timeout=60)
    assert reader.returncode == 0
    assert b"Traceback" not in err
