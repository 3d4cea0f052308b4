"""Signals to the running app: SIGTERM, SIGINT, SIGHUP, and a terminal that goes away.

The installed ``paper-reader`` runs in a pane of a private tmux server (``tmux -L``)
that keeps the pane after the process ends, so we can read its exit status, its
last screen and whether it left the alternate screen. A bookmark is made with ``b``
and seen on disk (through the CLI's export) before the signal is sent.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from reader.cli import main
from reader.digest import bundled_digest, load_library

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
FIRST = load_library([bundled_digest()]).papers[0]
TIMEOUT = 60.0  # only a hang waits this long


def reader_command() -> str:
    beside = Path(sys.executable).parent / "paper-reader"
    if beside.is_file():
        return str(beside)
    found = shutil.which("paper-reader")
    if found is None:
        pytest.fail("the paper-reader command is not installed")
    return found


def exported(db: Path) -> list[dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(["--db", str(db), "export"])
    return json.loads(out.getvalue()) if status == 0 else []


def _annotations(papers: list[dict]) -> dict[str, tuple]:
    """What the user made per paper (read marks left out: scrolling may add them)."""
    return {p["id"]: (p.get("bookmarked"), tuple(p.get("tags") or ()), p.get("note") or "") for p in papers}


def wait_for(what, message: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(0.05)


def state(pid: int) -> str:
    """The process's state letter (R, S, Z...), or '' once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def running(pid: int) -> bool:
    return state(pid) not in ("", "Z", "X")


class Pane:
    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"signals-{uuid.uuid4().hex[:10]}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "TMUX_PANE")}
        self.env["SHELL"] = "/bin/sh"
        self.db = tmp_path / "store" / "store.json"

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", os.devnull, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        return done.stdout

    def start(self) -> int:
        """Start the app in the pane (under a shell that records its exit status); its pid."""
        self.status_file = self.db.parent.parent / "exit-status"
        command = (
            f"{shlex.quote(reader_command())} --db {shlex.quote(str(self.db))}; "
            f"echo $? > {shlex.quote(str(self.status_file))}"
        )
        self.tmux(
            "start-server",
            ";",
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
            ";",
            "new-session",
            "-d",
            "-s",
            "s",
            "-x",
            "120",
            "-y",
            "36",
            command,
        )
        shell = int(self.tmux("display-message", "-p", "#{pane_pid}").strip())
        children = Path(f"/proc/{shell}/task/{shell}/children")
        pid = int(wait_for(lambda: children.read_text().split(), "the app did not start")[0])
        wait_for(lambda: FIRST.title[:30] in self.screen(), "the app never showed the papers")
        return pid

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J")

    def fmt(self, name: str) -> str:
        return self.tmux("display-message", "-p", "#{" + name + "}").strip()

    def exit_status(self) -> int:
        """The app's exit status as its shell saw it (128 + N when signal N killed it)."""
        text = wait_for(
            lambda: self.status_file.exists() and self.status_file.read_text().strip(), "the app did not exit"
        )
        return int(text)

    def stop(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=TIMEOUT)


@pytest.fixture
def pane(tmp_path):
    p = Pane(tmp_path)
    yield p
    p.stop()


def bookmark_first(pane: Pane) -> None:
    pane.tmux("send-keys", "-t", "s", "b")
    wait_for(
        lambda: any(p["id"] == FIRST.id and p.get("bookmarked") for p in exported(pane.db)),
        "the bookmark never reached the store",
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_ends_the_app_cleanly_with_every_change_on_disk(pane, sig):
    pid = pane.start()
    assert pane.fmt("alternate_on") == "1"  # the app runs on the alternate screen
    bookmark_first(pane)
    earlier = pane.db.with_name("before-signal.json")
    earlier.write_bytes(pane.db.read_bytes())
    os.kill(pid, sig)
    status = pane.exit_status()
    screen = pane.screen()
    assert "Traceback" not in screen and "Error" not in screen, screen
    assert pane.fmt("alternate_on") == "0", "the terminal was left on the app's screen"
    assert status in (0, 128 + sig), status
    # Nothing half-written: the annotations as they were (leaving saves only the place in the list).
    assert _annotations(exported(pane.db)) == _annotations(exported(earlier))
    assert [p["id"] for p in exported(pane.db) if p.get("bookmarked")] == [FIRST.id]
    assert not list(pane.db.parent.glob(".paper-reader-tmp-*"))


def test_ctrl_c_quits_and_restores_the_terminal(pane):
    pane.start()
    bookmark_first(pane)
    pane.tmux("send-keys", "-t", "s", "C-c")
    assert pane.exit_status() == 0
    assert pane.fmt("alternate_on") == "0"
    assert "Traceback" not in pane.screen()
    assert [p["id"] for p in exported(pane.db) if p.get("bookmarked")] == [FIRST.id]


HANG = (
    "after a real hangup the app did not exit: Textual's shutdown writes to the vanished terminal and "
    "can block (LinuxDriver.close -> WriterThread.stop -> queue.put); the app's SIGHUP handler must skip it"
)


def test_the_terminal_going_away_keeps_the_store_and_ends_the_app(pane):
    pid = pane.start()
    bookmark_first(pane)
    before = pane.db.read_bytes()
    try:
        # The terminal goes away (the tmux server dies, the pty hangs up) while the app is
        # busy drawing: the user was scrolling when they closed the window.
        pane.tmux("send-keys", "-t", "s", *["j"] * 40)
        pane.stop()
        deadline = time.monotonic() + TIMEOUT
        while running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        hung = running(pid)
        # Whatever the process does, the store holds the bookmark (scrolling may add read marks).
        assert exported(pane.db), "the store no longer opens"
        assert [p["id"] for p in exported(pane.db) if p.get("bookmarked")] == [FIRST.id]
        # Nothing the user made changed: the store before the hangup exports the same annotations.
        earlier = pane.db.with_name("before-hangup.json")
        earlier.write_bytes(before)
        assert _annotations(exported(pane.db)) == _annotations(exported(earlier))
        if not hung:
            assert not list(pane.db.parent.glob(".paper-reader-tmp-*"))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # never leave it behind
    assert not hung, HANG
