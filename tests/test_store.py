"""The annotation store: what it keeps, how it survives corruption, kills and concurrent writers."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from conftest import ABSTRACT
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from reader.paper import Paper, paper_id
from reader.store import (
    SCHEMA,
    TMP_PREFIX,
    Annotation,
    Store,
    StoreCorrupt,
    StoreError,
    default_path,
    now,
    tag_counts,
)

PAPER = Paper.make("Neural Operator: Learning Maps Between Function Spaces", ABSTRACT)
OTHER = Paper.make("PAON: A New Neuron Model using Padé Approximants", "Padé " + ABSTRACT)


def on_disk(path: Path) -> dict:
    """The store's tables, read without the store's code: a header line, then one line per change."""
    lines = path.read_bytes().decode("utf-8").split("\n")
    head = json.loads(lines[0])
    assert head["paper-reader"] == "store"
    tables = head["tables"]
    tables["meta"] = {"1": {"schema": head["schema"]}}
    for line in lines[1:-1]:
        for op, table, key, *value in json.loads(line)["c"]:
            docs = tables.setdefault(table, {})
            if op == "d":
                docs.pop(key, None)
            elif op == "r":
                docs[key] = value[0]
            else:
                docs[key] = {**docs.get(key, {}), **value[0]}
    return tables


def disk_records(path: Path) -> dict[str, dict]:
    return {doc["id"]: doc for doc in on_disk(path)["papers"].values()}


# -- what is kept --------------------------------------------------------------------------


def test_new_store_is_empty_and_creates_nothing(db_path):
    store = Store(db_path)
    assert store.records() == {}
    assert store.get(PAPER.id) is None
    assert not db_path.exists()


def test_bookmark_keeps_time_and_a_snapshot(db_path):
    store = Store(db_path)
    record = store.set_bookmark(PAPER, True)
    assert record.bookmarked_at
    saved = disk_records(db_path)[PAPER.id]
    assert (saved["title"], saved["abstract"]) == (PAPER.title, PAPER.abstract)
    assert saved["bookmarked_at"] == record.bookmarked_at
    # Bookmarking again keeps the first time; off clears it.
    again = store.set_bookmark(PAPER, True)
    assert again.bookmarked_at == record.bookmarked_at
    assert store.set_bookmark(PAPER, False).bookmarked_at is None
    assert Store(db_path).get(PAPER.id)["bookmarked_at"] is None


def test_tags_are_ordered_unique_and_case_insensitive(db_path):
    store = Store(db_path)
    store.add_tags(PAPER, ["ml", "To Read", "#physics"])
    store.add_tags(PAPER, ["ML", "to  read", "optics", "Physics", "", "  "])
    assert Store(db_path).get(PAPER.id)["tags"] == ["ml", "To Read", "physics", "optics"]
    store.remove_tags(PAPER, ["TO READ", "#ML"])
    assert Store(db_path).get(PAPER.id)["tags"] == ["physics", "optics"]


def test_remove_tag_matches_however_it_is_spaced(db_path):
    store = Store(db_path)
    store.add_tags(PAPER, ["to read"])
    store.remove_tags(PAPER, ["  To   Read "])
    assert Store(db_path).get(PAPER.id)["tags"] == []


def test_note_link_and_read(db_path):
    store = Store(db_path)
    store.set_note(PAPER, "Read section 3.\nCompare with FNO. Été μ")
    store.set_link(PAPER, "  https://example.org/mine  ")
    store.mark_read([PAPER, OTHER])
    record = Store(db_path).get(PAPER.id)
    assert record["note"] == "Read section 3.\nCompare with FNO. Été μ"
    assert record["link"] == "https://example.org/mine"
    assert record["read_at"] and Store(db_path).get(OTHER.id)["read_at"]
    first = record["read_at"]
    assert store.mark_read([PAPER])[0].read_at == first
    store.mark_read([PAPER], read=False)
    store.set_note(PAPER, "")
    assert Store(db_path).get(PAPER.id)["read_at"] is None
    assert Store(db_path).get(PAPER.id)["note"] == ""


def test_a_read_mark_alone_takes_no_snapshot(db_path):
    store = Store(db_path)
    store.mark_read([OTHER])
    assert not db_path.exists() or OTHER.id not in disk_records(db_path)  # only the marks file grew
    assert Store(db_path).get(OTHER.id)["read_at"]
    store.add_tags(OTHER, ["x"])
    assert disk_records(db_path)[OTHER.id]["title"] == OTHER.title
    size = db_path.stat().st_size
    store.add_tags(OTHER, ["y"])
    store.set_bookmark(OTHER, True)
    appended = db_path.read_bytes()[size:].decode("utf-8")
    assert OTHER.abstract not in appended and '"y"' in appended  # the snapshot is written once


def test_annotations_by_bare_id_work_too(db_path):
    store = Store(db_path)
    store.add_tags(PAPER.id, ["x"])
    assert Store(db_path).get(PAPER.id)["tags"] == ["x"]


def test_schema_version_is_in_the_file(db_path):
    Store(db_path).add_tags(PAPER, ["x"])
    data = on_disk(db_path)
    assert data["meta"]["1"]["schema"] == SCHEMA


def test_newer_schema_is_refused_and_left_alone(db_path):
    Store(db_path).add_tags(PAPER, ["x"])
    data = on_disk(db_path)
    data["meta"]["1"]["schema"] = SCHEMA + 1
    db_path.write_text(json.dumps(data))
    before = db_path.read_bytes()
    with pytest.raises(StoreCorrupt, match="newer"):
        Store(db_path)
    assert db_path.read_bytes() == before


def test_file_is_utf8_whatever_the_locale(db_path, tmp_path):
    script = tmp_path / "write.py"
    script.write_text(
        textwrap.dedent(
            f"""
        import locale, sys
        from reader.store import Store
        assert locale.getpreferredencoding(False).lower() not in ("utf-8", "utf8"), locale.getpreferredencoding(False)
        store = Store({str(db_path)!r})
        store.add_tags({PAPER.id!r}, ["Été", "μ-transfer", "数学"])
        store.set_note({PAPER.id!r}, "Schrödinger ✓")
        print(Store({str(db_path)!r}).get({PAPER.id!r})["tags"] == ["Été", "μ-transfer", "数学"])
        """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONUTF8", "PYTHONIOENCODING"))}
    env.update(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0", PYTHONIOENCODING="ascii")
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    record = disk_records(db_path)[PAPER.id]  # decodes as UTF-8 or fails
    assert record["tags"] == ["Été", "μ-transfer", "数学"] and record["note"] == "Schrödinger ✓"


def test_backup_of_an_earlier_store_is_kept(db_path):
    store = Store(db_path)
    store.add_tags(PAPER, ["first"])
    store.add_tags(PAPER, ["second"])
    store.add_tags(PAPER, ["third"])
    backup = db_path.with_name(db_path.name + ".bak")
    assert disk_records(backup)[PAPER.id]["tags"] == ["first"]  # a whole earlier version, renewed daily
    assert disk_records(db_path)[PAPER.id]["tags"] == ["first", "second", "third"]
    Store(db_path).storage.compact(on_disk(db_path))  # a compaction keeps the file it replaced
    assert disk_records(backup)[PAPER.id]["tags"] == ["first", "second", "third"]


def test_env_var_chooses_the_store(monkeypatch, db_path):
    monkeypatch.setenv("PAPER_READER_DB", str(db_path))
    assert default_path() == db_path
    Store().add_tags(PAPER, ["x"])
    assert disk_records(db_path)[PAPER.id]["tags"] == ["x"]


def test_tag_counts():
    assert tag_counts([["ML", "optics"], ["ml"], []]) == {"ML": 2, "optics": 1}


def test_merge_never_drops_what_is_there(db_path):
    store = Store(db_path)
    store.add_tags(PAPER, ["mine"])
    store.set_note(PAPER, "my note")
    store.merge(Annotation(PAPER.id, tags=("theirs", "MINE"), note="their note", bookmarked_at=now()))
    record = Store(db_path).get(PAPER.id)
    assert record["tags"] == ["mine", "theirs"]
    assert "my note" in record["note"] and "their note" in record["note"]
    assert record["bookmarked_at"]
    assert record["title"] == PAPER.title


@pytest.mark.parametrize("odd_id", ["hello", "ABCDEFGHIJKL", "x!"])
def test_merge_with_an_odd_id_does_not_crash(db_path, odd_id):
    store = Store(db_path)
    store.merge(Annotation(odd_id, tags=("t",), title="Some title"))
    assert [r["tags"] for r in Store(db_path).records().values()] == [["t"]]


# -- corrupt stores ------------------------------------------------------------------------

GOOD = {"meta": {"1": {"schema": 1}}, "papers": {"1": {"id": PAPER.id, "tags": ["x"]}}}


@pytest.mark.parametrize(
    "content",
    [
        json.dumps(GOOD)[:-7].encode(),  # truncated mid-write
        json.dumps(GOOD).encode() + b"}, {}",  # "Extra data" after valid JSON
        b"\x00\x00\x00\x00",
        b"\xff\xfe not json",
        b"[]",
        b"null",
        b'{"papers": []}',
        b'{"papers": {"1": 5}}',
        b'{"papers": {"1": {"tags": ["no id"]}}}',
        b'{"meta": {"1": {"schema": "one"}}}',
        b'{"meta": {"1": 3}}',
    ],
)
def test_corrupt_store_raises_and_is_never_overwritten(db_path, content):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(StoreCorrupt) as err:
        store = Store(db_path)
        store.add_tags(PAPER, ["y"])
    assert str(err.value).startswith(f"{db_path}: ")
    assert "\n" not in str(err.value)
    assert db_path.read_bytes() == content
    assert not db_path.with_name(db_path.name + ".bak").exists()


def test_store_that_goes_corrupt_while_open_is_not_overwritten(db_path):
    store = Store(db_path)
    store.add_tags(PAPER, ["x"])
    db_path.write_bytes(b'{"papers": {"1": {"id"')
    with pytest.raises(StoreCorrupt):
        store.add_tags(PAPER, ["y"])
    assert db_path.read_bytes() == b'{"papers": {"1": {"id"'


def test_store_path_that_is_a_folder(db_path):
    db_path.mkdir(parents=True)
    with pytest.raises(StoreError, match="folder"):
        Store(db_path).add_tags(PAPER, ["x"])


def test_read_only_store_refuses_writes(db_path):
    Store(db_path).add_tags(PAPER, ["x"])
    before = db_path.read_bytes()
    with pytest.raises(StoreError):
        Store(db_path, readonly=True).add_tags(PAPER, ["y"])
    assert db_path.read_bytes() == before


# -- model-based: the store against a dict, reopened from disk --------------------------------

IDS = [paper_id(f"Paper {n}") for n in range(4)]
TAGS = st.lists(st.sampled_from(["ml", "ML", "#ml", "to read", "To  Read", "Été", "été", "μ", "x", " "]), max_size=3)


def clean(tag: str) -> str:
    return " ".join(tag.split()).lstrip("#")


class StoreModel(RuleBasedStateMachine):
    """Every operation goes to the store and to a dict; reopening from disk must agree with the dict."""

    @initialize()
    def start(self):
        self.folder = tempfile.mkdtemp(prefix="store-model-")
        self.path = Path(self.folder) / "store.json"
        self.store = Store(self.path)
        self.other = Store(self.path)  # a second process, as far as the file is concerned
        self.model: dict[str, dict] = {}

    def teardown(self):
        shutil.rmtree(getattr(self, "folder", ""), ignore_errors=True)

    def entry(self, pid: str) -> dict:
        return self.model.setdefault(pid, {"bookmarked": False, "tags": [], "note": "", "link": "", "read": False})

    def writer(self, use_other: bool) -> Store:
        return self.other if use_other else self.store

    @rule(pid=st.sampled_from(IDS), on=st.booleans(), use_other=st.booleans())
    def bookmark(self, pid, on, use_other):
        self.writer(use_other).set_bookmark(pid, on)
        self.entry(pid)["bookmarked"] = on

    @rule(pid=st.sampled_from(IDS), tags=TAGS, use_other=st.booleans())
    def add_tags(self, pid, tags, use_other):
        self.writer(use_other).add_tags(pid, tags)
        have = self.entry(pid)["tags"]
        for tag in map(clean, tags):
            if tag and tag.casefold() not in {t.casefold() for t in have}:
                have.append(tag)

    @rule(pid=st.sampled_from(IDS), tags=TAGS, use_other=st.booleans())
    def remove_tags(self, pid, tags, use_other):
        self.writer(use_other).remove_tags(pid, tags)
        gone = {clean(t).casefold() for t in tags}
        entry = self.entry(pid)
        entry["tags"] = [t for t in entry["tags"] if t.casefold() not in gone]

    @rule(pid=st.sampled_from(IDS), note=st.text(max_size=20), use_other=st.booleans())
    def note(self, pid, note, use_other):
        self.writer(use_other).set_note(pid, note)
        self.entry(pid)["note"] = note

    @rule(pid=st.sampled_from(IDS), link=st.sampled_from(["", "https://a.org/x", "https://b.org/y"]))
    def link(self, pid, link):
        self.store.set_link(pid, link)
        self.entry(pid)["link"] = link

    @rule(pids=st.lists(st.sampled_from(IDS), max_size=3), read=st.booleans())
    def mark_read(self, pids, read):
        self.store.mark_read(pids, read)
        for pid in pids:
            self.entry(pid)["read"] = read

    @rule()
    def reopen(self):
        self.store = Store(self.path)

    def seen(self, store: Store) -> dict[str, dict]:
        return {
            pid: {
                "bookmarked": bool(r["bookmarked_at"]),
                "tags": r["tags"],
                "note": r["note"],
                "link": r["link"],
                "read": bool(r["read_at"]),
            }
            for pid, r in store.records().items()
        }

    @invariant()
    def agrees_with_the_model(self):
        # A paper whose every field is back to empty may keep its record or have none.
        blank = {"bookmarked": False, "tags": [], "note": "", "link": "", "read": False}
        model = {pid: entry for pid, entry in self.model.items() if entry != blank}
        for store in (Store(self.path, readonly=True), self.store, self.other):
            assert {pid: e for pid, e in self.seen(store).items() if e != blank} == model
        for pid in IDS:
            record = self.store.get(pid)
            assert (record is not None) == (pid in model) or (record is not None and pid in self.model)


TestStoreModel = StoreModel.TestCase
TestStoreModel.settings = settings(max_examples=50, stateful_step_count=20, deadline=None)


# -- kill -9 mid-write ---------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from reader.store import Store
    path, prefix = sys.argv[1], sys.argv[2]
    store = Store(path)
    print("ready", flush=True)
    n = 0
    while True:
        store.add_tags(f"target-{n % 7}", [f"{prefix}-t{n}"])
        print(n, flush=True)
        n += 1
    """
)


def test_kill_9_mid_write_leaves_a_readable_store_with_every_acknowledged_change(db_path):
    # The records written to come first in the file and a few hundred others follow, so a
    # write takes a while and a write cut short leaves new bytes before old ones.
    store = Store(db_path)
    store.update_many([f"target-{n}" for n in range(7)], lambda r: r.update(note="start"))
    store.update_many([paper_id(f"Padding paper {n}") for n in range(400)], lambda r: r.update(note="x" * 200))
    rng = random.Random(1234)
    acknowledged: dict[str, set[str]] = {}
    for round_ in range(40):
        prefix = f"r{round_}"
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), prefix], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "ready"
        first = child.stdout.readline()  # one change acknowledged before the kill: the same work on any machine
        time.sleep(rng.uniform(0.0, 0.08))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=60)
        assert child.returncode == -signal.SIGKILL
        for line in [first, *out.splitlines()]:
            if line.strip().isdigit():  # a line cut short by the kill is not an acknowledgement
                n = int(line)
                acknowledged.setdefault(f"target-{n % 7}", set()).add(f"{prefix}-t{n}")
        records = Store(db_path).records()  # parses, or this raises
        assert len(records) == 407
        for pid, tags in acknowledged.items():
            assert tags <= set(records[pid]["tags"]), f"round {round_}: lost {tags - set(records[pid]['tags'])}"
    assert sum(len(t) for t in acknowledged.values()) >= 40  # every writer got a change in before its kill
    backup = db_path.with_name(db_path.name + ".bak")
    assert on_disk(backup)["papers"]


# -- two writers at once --------------------------------------------------------------------

BUSY = textwrap.dedent(
    """
    import sys, time
    from reader.store import Store
    path, name, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = Store(path)
    while time.time() < start:
        time.sleep(0.001)
    for n in range(50):
        store.add_tags("sharedpaperid", [f"{name}-{n}"])
        store.set_bookmark(f"{name}-paper-{n}", True)
    """
)


def test_two_writer_processes_lose_nothing(db_path):
    start = time.time() + 0.5
    children = [
        subprocess.Popen(
            [sys.executable, "-c", BUSY, str(db_path), name, str(start)], stderr=subprocess.PIPE, text=True
        )
        for name in ("a", "b")
    ]
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    records = Store(db_path).records()
    tags = records["sharedpaperid"]["tags"]
    assert sorted(tags) == sorted(f"{name}-{n}" for name in "ab" for n in range(50))
    for name in "ab":
        for n in range(50):
            assert records[f"{name}-paper-{n}"]["bookmarked_at"], f"{name}-paper-{n}"
    assert len(records) == 101


def test_merge_by_an_upper_case_id_lands_on_the_paper(db_path):
    store = Store(db_path)
    store.add_tags(PAPER, ["mine"])
    store.merge(Annotation(PAPER.id.upper(), tags=("theirs",)))
    assert Store(db_path).get(PAPER.id)["tags"] == ["mine", "theirs"]
    assert len(Store(db_path).records()) == 1


def test_merge_keeps_the_earliest_first_seen(db_path):
    store = Store(db_path)
    store.merge(Annotation(PAPER.id, tags=("t",), first_seen="2020-01-01T00:00:00+00:00"))
    assert Store(db_path).get(PAPER.id)["first_seen"] == "2020-01-01T00:00:00+00:00"
    store.merge(Annotation(PAPER.id, first_seen="2023-01-01T00:00:00+00:00"))
    assert Store(db_path).get(PAPER.id)["first_seen"] == "2020-01-01T00:00:00+00:00"


def test_an_emptied_store_does_not_replace_the_last_good_backup(db_path):
    store = Store(db_path)
    store.add_tags(PAPER, ["precious"])
    store.add_tags(PAPER, ["more"])
    db_path.write_bytes(b"")  # emptied by something else
    backup = db_path.with_name(db_path.name + ".bak")
    # Refused, not taken for a new store (that would hide everything, then save over it).
    with pytest.raises(StoreCorrupt, match=f"empty.*{backup}"):
        Store(db_path).add_tags(OTHER, ["new"])
    with pytest.raises(StoreCorrupt):
        store.add_tags(OTHER, ["new"])
    assert db_path.read_bytes() == b""
    assert disk_records(backup)[PAPER.id]["tags"] == ["precious"]


def test_old_temp_files_of_killed_writers_are_removed(db_path):
    Store(db_path).add_tags(PAPER, ["x"])
    old = db_path.with_name(TMP_PREFIX + "old.tmp")
    young = db_path.with_name(TMP_PREFIX + "young.tmp")
    old.write_bytes(b"{")
    young.write_bytes(b"{")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    Store(db_path)
    assert not old.exists() and young.exists()
    assert Store(db_path).get(PAPER.id)["tags"] == ["x"]
