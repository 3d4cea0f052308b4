"""The system clipboard through pyperclip, with fake ``xclip`` tools on PATH.

pyperclip picks ``xclip`` first where there is a display; each fake here behaves like
one kind of real trouble. Whatever happens: no exception, nothing printed to our own
stdout/stderr (the app's terminal), and a CopyResult that tells the truth.

No test here times the copy: a working tool gets a minute (a hang turns into a failure, a slow
machine does not), and the fakes that must not be waited for sleep far longer than that.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import time
from pathlib import Path

import pytest

from reader.clipboard import copy_system

# Long enough that only a hang hits it, whatever the load on the machine.
GENEROUS = 60.0
TEXT = "Neural Operator: Learning Maps — Été μ [27] https://arxiv.org/abs/2108.08481\n"


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """Put a folder of fake tools first on PATH, with a display and no Wayland."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    def install(name: str, script: str) -> Path:
        path = folder / name
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return path

    return install


def test_no_display(monkeypatch, capfd):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = copy_system(TEXT)
    assert not result.ok
    assert result.detail == "no display for a system clipboard"
    assert capfd.readouterr() == ("", "")


def test_a_silent_xclip_that_copies_nothing(fake_tools, capfd):
    fake_tools("xclip", "cat > /dev/null\n")
    result = copy_system(TEXT, timeout=GENEROUS)
    assert result == type(result)(False, "the clipboard tool ran, but the clipboard does not hold the text")
    assert capfd.readouterr() == ("", "")


def test_a_working_clipboard_gets_the_text(fake_tools, tmp_path, capfd):
    clip = tmp_path / "clipboard"
    # Like xclip: stdin into the selection, "-o" prints it back.
    fake_tools("xclip", f'for a; do [ "$a" = -o ] && exec cat "{clip}"; done\ncat > "{clip}"\n')
    result = copy_system(TEXT, timeout=GENEROUS)
    assert result.ok, result.detail
    assert clip.read_bytes().decode("utf-8") == TEXT
    assert capfd.readouterr() == ("", "")


def test_a_failing_xclip_is_reported_not_taken_for_a_copy(fake_tools, capfd):
    # pyperclip does not check xclip's exit status: the copy "works" and nothing is copied.
    fake_tools("xclip", 'echo "Error: Can\'t open display: :99" >&2\nexit 1\n')
    result = copy_system(TEXT, timeout=GENEROUS)
    assert not result.ok
    assert "Can't open display: :99" in result.detail
    assert "\n" not in result.detail and len(result.detail) <= 200
    assert capfd.readouterr() == ("", "")


def test_an_xclip_that_prints_and_succeeds_but_copies_nothing(fake_tools, capfd):
    fake_tools("xclip", 'cat > /dev/null\necho "Warning: something odd" >&2\necho "noise on stdout"\n')
    result = copy_system(TEXT, timeout=GENEROUS)
    assert not result.ok
    assert result.detail == "the clipboard tool failed: Warning: something odd"
    assert capfd.readouterr() == ("", "")


def test_no_clipboard_tool_at_all(fake_tools, monkeypatch, tmp_path, capfd):
    # A display but no xclip/xsel/wl-copy: PATH holds only what pyperclip needs to look.
    only = tmp_path / "only"
    only.mkdir()
    (only / "which").symlink_to("/usr/bin/which")
    monkeypatch.setenv("PATH", str(only))
    result = copy_system(TEXT, timeout=GENEROUS)
    assert not result.ok
    assert result.detail == "no clipboard tool found (install xclip, xsel or wl-clipboard)"
    assert "\n" not in result.detail and len(result.detail) <= 200
    assert capfd.readouterr() == ("", "")


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def wait_until_gone(pid: int, what: str) -> None:
    deadline = time.monotonic() + GENEROUS
    while running(pid):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} (pid {pid}) is still running")
        time.sleep(0.05)


def test_a_hanging_xclip_times_out_and_leaves_nothing_running(fake_tools, tmp_path, capfd):
    marker = tmp_path / "xclip-pid"
    fake_tools("xclip", f'echo $$ > "{marker}"\nexec sleep 600\n')
    # 5 s: time for pyperclip to start the tool even on a busy machine, then the hang.
    result = copy_system(TEXT, timeout=5)
    assert not result.ok
    assert result.detail == "the clipboard tool did not answer within 5 s"
    assert capfd.readouterr() == ("", "")
    # The hung tool was stopped with it, not left behind sleeping.
    written = marker.read_text().strip() if marker.exists() else ""
    assert written, "the fake xclip never started: pyperclip took over 5 s to run it"
    wait_until_gone(int(written), "the hung xclip")


def test_an_xclip_that_keeps_the_selection_in_the_background_is_fine(fake_tools, tmp_path, capfd):
    # Real xclip forks a child that owns the selection and outlives the copy: here it would
    # outlive the timeout too, so a copy that waited for it could not succeed.
    clip = tmp_path / "clipboard"
    keeper = tmp_path / "keeper-pid"
    fake_tools(
        "xclip",
        f'for a; do [ "$a" = -o ] && exec cat "{clip}"; done\ncat > "{clip}"\n'
        f'(sleep {GENEROUS * 10:g} >/dev/null 2>&1 & echo $! > "{keeper}")\n',
    )
    try:
        result = copy_system(TEXT, timeout=GENEROUS)
        assert result.ok, result.detail
        assert clip.read_bytes().decode("utf-8") == TEXT
        assert running(int(keeper.read_text())), "the selection keeper should still be there"
        assert capfd.readouterr() == ("", "")
    finally:
        if keeper.exists() and keeper.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(keeper.read_text()), signal.SIGKILL)
