"""Faults injected into the store: a full or failing disk, read-only and odd paths, truncation.

Each fault is raised by the real os/tempfile functions being swapped in this process
for ones that fail (as the kernel would); the store is a real TinyDB file under tmp_path.
Whatever fails, the user gets one clear line, the store and its backup stay byte for
byte as they were, and no temp file is left beside them.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from reader.cli import main
from reader.digest import bundled_digest, load_library
from reader.store import TMP_PREFIX, Store, StoreCorrupt, StoreError

PAPERS = load_library([bundled_digest()]).papers
PAPER, OTHER = PAPERS[0], PAPERS[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
MESSAGES = {
    errno.ENOSPC: "No space left on device",
    errno.EIO: "Input/output error",
    errno.EROFS: "Read-only file system",
    errno.EACCES: "Permission denied",
}


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def folder_state(folder: Path) -> dict[str, bytes]:
    """Every file beside the store (the lock file is empty and may be created on demand)."""
    files = sorted(folder.iterdir())
    return {p.name: p.read_bytes() for p in files if p.is_file() and not p.name.startswith(".~lock.")}


@pytest.fixture
def store_path(db_path: Path) -> Path:
    """A store written twice (so it has a backup): PAPER bookmarked and tagged, OTHER noted."""
    store = Store(db_path)
    store.set_bookmark(PAPER, True)
    store.add_tags(PAPER, ["kept", "Été"])
    store.set_note(OTHER, "my note")
    assert db_path.with_name(db_path.name + ".bak").exists()
    return db_path


def expect_records(path: Path) -> None:
    records = Store(path).records()
    assert records[PAPER.id]["bookmarked_at"] and records[PAPER.id]["tags"] == ["kept", "Été"]
    assert records[OTHER.id]["note"] == "my note"


def failing(code: int, real, when=lambda *a, **k: True):
    """A stand-in for ``real`` that raises OSError(code) when ``when(args)`` holds."""
    calls = {"n": 0}

    def fake(*args, **kwargs):
        if when(*args, **kwargs):
            calls["n"] += 1
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    fake.calls = calls
    return fake


def inject(monkeypatch, where: str, code: int, store_path: Path):
    """Make one step of a save fail with ``code``; returns the fake (its .calls counts failures)."""
    if where == "mkstemp":
        fake = failing(code, tempfile.mkstemp)
        monkeypatch.setattr(tempfile, "mkstemp", fake)
    elif where == "open":  # opening the store for the append (a read-only mount, say)
        fake = failing(code, os.open, lambda path, flags, *a: Path(path) == store_path and bool(flags & os.O_WRONLY))
        monkeypatch.setattr(os, "open", fake)
    elif where == "write":  # the appended line's or the temp file's bytes (never the terminal's fds 0-2)
        fake = failing(code, os.write, lambda fd, data: fd > 2)
        monkeypatch.setattr(os, "write", fake)
    elif where == "fsync":  # the append's fsync, or the temp file's before the rename
        fake = failing(code, os.fsync)
        monkeypatch.setattr(os, "fsync", fake)
    elif where == "rename":  # the rename over the store
        fake = failing(code, os.replace, lambda src, dst: Path(dst) == store_path)
        monkeypatch.setattr(os, "replace", fake)
    elif where == "every-rename":  # the backup's rename fails first
        fake = failing(code, os.replace)
        monkeypatch.setattr(os, "replace", fake)
    elif where == "link":  # no hard link for the backup: the save goes on without a new backup
        fake = failing(code, os.link)
        monkeypatch.setattr(os, "link", fake)
    else:
        raise AssertionError(where)
    return fake


APPEND_STEPS = ["open", "write", "fsync"]
COMPACTION_STEPS = ["mkstemp", "write", "fsync", "rename", "every-rename"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
@pytest.mark.parametrize("where", APPEND_STEPS)
def test_a_failed_save_says_why_and_leaves_the_store_as_it_was(monkeypatch, store_path, where, code):
    folder = store_path.parent
    before = folder_state(folder)
    store = Store(store_path)
    fake = inject(monkeypatch, where, code, store_path)
    with pytest.raises(StoreError) as err:
        store.add_tags(PAPER, ["lost"])
    assert fake.calls["n"] >= 1, "the fault was never reached"
    message = str(err.value)
    assert message == f"{store_path}: could not save the store: {MESSAGES[code]}"
    assert folder_state(folder) == before  # store and backup byte for byte, no temp file left
    # The same command line: one line on stderr, status 2, the store still as it was.
    status, out, errout = run_cli("--db", str(store_path), "tag", PAPER.id, "lost")
    assert (status, out) == (2, "")
    assert errout == f"paper-reader: error: {message}\n"
    assert folder_state(folder) == before
    monkeypatch.undo()
    # Once the disk is fine again the same store object saves, on top of what was there.
    store.add_tags(PAPER, ["later"])
    assert Store(store_path).get(PAPER.id)["tags"] == ["kept", "Été", "later"]
    assert not list(folder.glob(TMP_PREFIX + "*"))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
@pytest.mark.parametrize("where", COMPACTION_STEPS)
def test_a_failed_compaction_leaves_the_store_as_it_was(monkeypatch, store_path, where, code):
    folder = store_path.parent
    before = folder_state(folder)
    store = Store(store_path)
    fake = inject(monkeypatch, where, code, store_path)
    with pytest.raises(StoreError) as err:
        store.compact()
    assert fake.calls["n"] >= 1, "the fault was never reached"
    assert str(err.value) == f"{store_path}: could not save the store: {MESSAGES[code]}"
    assert folder_state(folder) == before
    monkeypatch.undo()
    store.add_tags(PAPER, ["later"])
    store.compact()
    assert Store(store_path).get(PAPER.id)["tags"] == ["kept", "Été", "later"]
    assert not list(folder.glob(TMP_PREFIX + "*"))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
def test_a_change_is_kept_when_the_compaction_after_it_fails(monkeypatch, store_path, code):
    import reader.store.logfile as logfile

    monkeypatch.setattr(logfile, "COMPACT_MIN", -1)  # every change compacts
    inject(monkeypatch, "mkstemp", code, store_path)
    Store(store_path).add_tags(PAPER, ["kept in the log"])
    monkeypatch.undo()
    assert Store(store_path).get(PAPER.id)["tags"] == ["kept", "Été", "kept in the log"]
    assert not list(store_path.parent.glob(TMP_PREFIX + "*"))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO, errno.EPERM])
def test_no_hard_link_for_the_backup_still_compacts(monkeypatch, store_path, code):
    backup = store_path.with_name(store_path.name + ".bak")
    old_backup = backup.read_bytes()
    store = Store(store_path)
    store.add_tags(PAPER, ["saved"])
    inject(monkeypatch, "link", code, store_path)
    store.compact()
    monkeypatch.undo()
    assert Store(store_path).get(PAPER.id)["tags"] == ["kept", "Été", "saved"]
    assert backup.read_bytes() == old_backup
    assert not list(store_path.parent.glob(TMP_PREFIX + "*"))


def test_folder_fsync_failing_after_the_rename_is_told_truthfully(monkeypatch, store_path):
    # The compacted store is in place when the folder's fsync fails: the change is there, but
    # the disk could not promise it survives a power cut, and the user is told exactly that.
    real_fsync, real_open = os.fsync, os.open
    folder_fds: set[int] = set()

    def open_(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if Path(path) == store_path.parent:
            folder_fds.add(fd)
        return fd

    def fsync(fd):
        if fd in folder_fds:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_fsync(fd)

    store = Store(store_path)
    store.add_tags(PAPER, ["maybe"])
    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(StoreError) as err:
        store.compact()
    monkeypatch.undo()
    assert folder_fds, "the folder was never fsynced"
    assert "Input/output error" in str(err.value)
    assert "written" in str(err.value)  # not "could not save": it was saved
    assert Store(store_path).get(PAPER.id)["tags"] == ["kept", "Été", "maybe"]
    assert store.get(PAPER.id)["tags"] == ["kept", "Été", "maybe"]
    assert not list(store_path.parent.glob(TMP_PREFIX + "*"))


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_a_store_folder_that_cannot_be_written_is_refused_cleanly(monkeypatch, store_path, code):
    # Read-only mount or file: opening the store to append is what fails (root ignores chmod,
    # so the kernel's answer is injected; the real chmod case follows, for non-root runs).
    before = folder_state(store_path.parent)
    inject(monkeypatch, "open", code, store_path)
    status, out, err = run_cli("--db", str(store_path), "bookmark", OTHER.id)
    assert (status, out) == (2, "")
    assert err == f"paper-reader: error: {store_path}: could not save the store: {MESSAGES[code]}\n"
    # Reading still works: export shows everything.
    status, out, err = run_cli("--db", str(store_path), "export")
    assert status == 0 and err == ""
    assert {p["id"] for p in json.loads(out)} == {PAPER.id, OTHER.id}
    assert folder_state(store_path.parent) == before


@pytest.mark.skipif(IS_ROOT, reason="root writes into read-only folders; the injected case above covers it")
def test_a_read_only_store_folder(store_path):
    folder = store_path.parent
    before = folder_state(folder)
    folder.chmod(0o555)
    try:
        status, out, err = run_cli("--db", str(store_path), "bookmark", OTHER.id)
        assert (status, out) == (2, "")
        assert err.startswith(f"paper-reader: error: {store_path}: ") and "Permission denied" in err
        assert err.count("\n") == 1
        assert folder_state(folder) == before
        expect_records(store_path)
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(IS_ROOT, reason="root reads files whatever their mode")
def test_a_store_that_cannot_be_read_for_real(store_path):
    before = store_path.read_bytes()
    store_path.chmod(0)
    try:
        with pytest.raises(StoreError, match="permission denied"):
            Store(store_path)
        status, _, err = run_cli("--db", str(store_path), "export")
        assert status == 2 and err == f"paper-reader: error: {store_path}: permission denied reading the store\n"
    finally:
        store_path.chmod(0o644)
    assert store_path.read_bytes() == before


def test_a_store_that_cannot_be_read(monkeypatch, store_path):
    before = folder_state(store_path.parent)
    real = Path.read_bytes

    def read_bytes(self):
        if self == store_path:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(StoreError) as err:
        Store(store_path)
    assert str(err.value) == f"{store_path}: permission denied reading the store"
    for argv in (["export"], ["bookmark", OTHER.id], ["note", PAPER.id, "x"]):
        status, out, errout = run_cli("--db", str(store_path), *argv)
        assert (status, out) == (2, ""), argv
        assert errout == f"paper-reader: error: {store_path}: permission denied reading the store\n"
    monkeypatch.undo()
    assert folder_state(store_path.parent) == before
    expect_records(store_path)


def test_a_store_path_that_is_a_folder(db_path):
    db_path.mkdir(parents=True)
    (db_path / "keep.txt").write_text("mine")
    for argv in (["export"], ["bookmark", PAPER.id], ["tag", PAPER.id, "x"]):
        status, out, err = run_cli("--db", str(db_path), *argv)
        assert (status, out) == (2, ""), argv
        assert err == f"paper-reader: error: {db_path}: store path is a folder, not a file\n"
    assert [p.name for p in db_path.iterdir()] == ["keep.txt"]
    assert not list(db_path.parent.glob(TMP_PREFIX + "*"))


def test_a_store_under_a_file(tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a folder")
    path = blocker / "store.json"
    status, out, err = run_cli("--db", str(path), "bookmark", PAPER.id)
    assert (status, out) == (2, "")
    assert err.startswith(f"paper-reader: error: {path}: ") and "Not a directory" in err
    assert err.count("\n") == 1
    assert blocker.read_text() == "not a folder"


# -- truncation ------------------------------------------------------------------------------


def test_a_store_cut_short_at_any_byte_is_refused_or_opens_an_earlier_state(store_path):
    # The file is a header line (the store at its last compaction) and one line per change:
    # cut inside the header it is refused, never taken for empty; cut after it, it opens with
    # the changes whose lines are whole (a line cut short was never acknowledged).
    store = Store(store_path)
    store.compact()
    store.set_note(OTHER, "second note")
    whole = store_path.read_bytes()
    head = whole.index(b"\n") + 1
    backup = store_path.with_name(store_path.name + ".bak")
    good_backup = backup.read_bytes()
    for size in range(len(whole)):
        store_path.write_bytes(whole[:size])
        try:
            records = Store(store_path).records()
        except StoreCorrupt as err:
            message = str(err)
            assert size < head - 1, f"cut at {size} bytes (after the header) was refused"
            assert message.startswith(f"{store_path}: ") and "\n" not in message
            assert "left as it is" in message
            assert f"{backup}" in message  # where the last good version is
        else:
            assert size >= head - 1, f"cut at {size} bytes inside the header opened"  # all but its newline
            assert records[OTHER.id]["note"] == "my note"  # the change whose line was cut is not there
        assert store_path.read_bytes() == whole[:size]
        assert backup.read_bytes() == good_backup
    # A write through the command line is refused just the same and touches nothing.
    for size in (0, 1, head // 2, head - 2):
        store_path.write_bytes(whole[:size])
        status, out, err = run_cli("--db", str(store_path), "bookmark", OTHER.id)
        assert (status, out) == (2, "")
        assert err.startswith(f"paper-reader: error: {store_path}: store ") and err.count("\n") == 1
        assert store_path.read_bytes() == whole[:size] and backup.read_bytes() == good_backup
    # Cut inside the last line: the next change replaces the cut line, the rest is kept.
    store_path.write_bytes(whole[:-3])
    status, _, _ = run_cli("--db", str(store_path), "bookmark", OTHER.id)
    assert status == 0
    records = Store(store_path).records()
    assert records[OTHER.id]["bookmarked_at"] and records[PAPER.id]["tags"] == ["kept", "Été"]
    assert not list(store_path.parent.glob(TMP_PREFIX + "*"))


@pytest.mark.parametrize("content", [b"", b"  \n"])
def test_an_empty_store_file_is_refused_even_without_a_backup(db_path, content):
    # A store cut to nothing looks like a new one; treating it as empty would save over it
    # and the user would find every bookmark gone without a word.
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(StoreCorrupt, match="empty"):
        Store(db_path)
    assert db_path.read_bytes() == content


# -- leftovers of killed writers -------------------------------------------------------------

# A writer that kills itself with SIGKILL at one step of a compaction: after writing its temp
# file ("fsync") or after also linking the backup ("replace", the rename over the store).
KILLED_WRITER = """
import os, signal, sys
from reader.store import Store
path, step = sys.argv[1], sys.argv[2]
store = Store(path)
def die(*args, **kwargs):
    if step == "hang":
        print("writing", flush=True)
        signal.pause()
    os.kill(os.getpid(), signal.SIGKILL)
setattr(os, "fsync" if step in ("fsync", "hang") else "replace", die)
store.compact()
"""


def killed_writer(path: Path, step: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), step], stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_leftovers_of_a_killed_writer_are_removed_at_the_next_start(store_path, step):
    folder = store_path.parent
    before = folder_state(folder)
    child = killed_writer(store_path, step)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    leftovers = sorted(p.name for p in folder.glob(TMP_PREFIX + "*"))
    assert len(leftovers) == (1 if step == "fsync" else 2), leftovers  # the temp file (and the backup link)
    assert {k: v for k, v in folder_state(folder).items() if not k.startswith(TMP_PREFIX)} == before
    store = Store(store_path)  # at once, not a minute later: nobody holds the lock
    assert folder_state(folder) == before
    expect_records(store_path)
    store.add_tags(PAPER, ["after"])
    assert not list(folder.glob(TMP_PREFIX + "*"))


def test_a_live_writers_temp_file_is_not_touched(store_path):
    # While another process is writing (it holds the lock), its fresh temp file must stay,
    # or that writer's rename would fail; an hour-old file goes whoever holds the lock.
    folder = store_path.parent
    stale = folder / (TMP_PREFIX + "stale.tmp")
    stale.write_bytes(b"{")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    child = killed_writer(store_path, "hang")
    try:
        assert child.stdout.readline().strip() == "writing"
        busy = [p for p in folder.glob(TMP_PREFIX + "*") if p != stale]
        assert len(busy) == 1
        # Opening never waits for a writer: this one holds the lock until it is killed.
        opening = concurrent.futures.ThreadPoolExecutor(1)
        try:
            opening.submit(Store, store_path).result(timeout=60)
        except concurrent.futures.TimeoutError:
            pytest.fail("opening the store waited for the lock a live writer holds")
        finally:
            opening.shutdown(wait=False)
        assert busy[0].exists()
        assert not stale.exists()
    finally:
        child.kill()
        child.communicate(timeout=30)
    Store(store_path)
    assert not list(folder.glob(TMP_PREFIX + "*"))
    expect_records(store_path)


def test_another_stores_fresh_temp_file_in_the_same_folder_is_left_alone(store_path):
    # Two stores in one folder: each cleans only its own (the other may be mid-write).
    other = store_path.with_name("other.json")
    Store(other).add_tags(PAPER, ["other"])
    child = killed_writer(other, "fsync")
    child.communicate(timeout=30)
    theirs = list(store_path.parent.glob(TMP_PREFIX + "*"))
    assert len(theirs) == 1
    Store(store_path)
    assert theirs[0].exists()
    Store(other)
    assert not theirs[0].exists()


def test_a_read_only_open_removes_nothing(store_path):
    child = killed_writer(store_path, "fsync")
    child.communicate(timeout=30)
    leftovers = list(store_path.parent.glob(TMP_PREFIX + "*"))
    assert leftovers
    Store(store_path, readonly=True)
    assert all(p.exists() for p in leftovers)
