"""End to end: the installed ``paper-reader`` command in a real terminal (tmux).

The app runs in a detached tmux session on a private tmux server, with no
DISPLAY / WAYLAND_DISPLAY, so pyperclip has no clipboard and the app must fall
back to OSC 52; with ``set -s set-clipboard on`` tmux stores what an OSC 52
write carries in its paste buffer, which is what reached "the terminal
clipboard". We type as a user would and read the screen with ``capture-pane``,
the store through the CLI, and the clipboard with ``show-buffer``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (the end-to-end test drives the app in a tmux pane)"
)

TIMEOUT = 60.0  # only a hang waits this long
TOTAL = 164  # papers in the bundled digest
WIDTH, HEIGHT = 150, 45


def reader_command() -> str:
    """The installed ``paper-reader`` script: next to this Python first, else on PATH."""
    beside = Path(sys.executable).parent / "paper-reader"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("paper-reader")
    if found is None:
        pytest.fail("the paper-reader command is not installed (pip install -e . in this environment)")
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """Our environment without a display (pyperclip then has no clipboard) nor an enclosing tmux."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "TMUX_PANE")}
    env["SHELL"] = "/bin/sh"  # the pane's shell, whatever the user's login shell is
    env.update(extra)
    return env


class Terminal:
    """One private tmux server with one 150x45 pane."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env
        self.socket_path: str | None = None

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TMUX, "-L", self.socket, "-f", os.devnull, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=check,
        )

    def start(self, shell_command: str) -> None:
        # One tmux invocation: the clipboard option is set before the app's process exists.
        # The pane's terminal starts at tmux's default size and is resized after; on a busy
        # machine an app started at once can read the old size and miss the resize, so the
        # command waits until the terminal has the session's size.
        wait = f'while [ "$(stty size)" != "{HEIGHT} {WIDTH}" ]; do sleep 0.05; done; '
        self.tmux(
            "start-server",
            ";",
            "set-option",
            "-s",
            "set-clipboard",
            "on",
            ";",
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            wait + shell_command,
        )
        self.socket_path = self.tmux("display-message", "-p", "#{socket_path}").stdout.strip() or None
        assert self.tmux("show-options", "-s", "set-clipboard").stdout.split() == ["set-clipboard", "on"]

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e").stdout

    def keys(self, *keys: str) -> None:
        """Named keys (Enter, Escape) or single characters."""
        self.tmux("send-keys", "-t", "e2e", *keys)

    def type(self, text: str) -> None:
        """Literal text, as if typed."""
        self.tmux("send-keys", "-t", "e2e", "-l", text)

    def buffer(self) -> str | None:
        """tmux's most recent paste buffer (what OSC 52 wrote), or None if there is none."""
        done = self.tmux("show-buffer", check=False)
        return done.stdout if done.returncode == 0 else None

    def wait_screen(self, ok: Callable[[str], Any], what: str, timeout: float = TIMEOUT) -> Any:
        """Poll the pane until ``ok(screen)`` is truthy; return that value."""
        return wait_for(lambda: ok(self.screen()), what, timeout, lambda: "screen:\n" + self.screen())

    def kill(self) -> None:
        self.tmux("kill-server", check=False)
        if self.socket_path:  # kill-server leaves the socket file behind
            Path(self.socket_path).unlink(missing_ok=True)


def wait_for(
    probe: Callable[[], Any], what: str, timeout: float = TIMEOUT, explain: Callable[[], str] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n" + (explain() if explain else ""))
        time.sleep(0.1)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal(f"paper-reader-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}", clean_env())
    try:
        yield term
    finally:
        term.kill()


def cli(db: Path, *args: str) -> str:
    """Run the installed command line on the same store; its stdout."""
    done = subprocess.run(
        [reader_command(), "--db", str(db), *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def export(db: Path) -> list[dict[str, Any]]:
    return json.loads(cli(db, "export", "--format", "json"))


def top_row(screen: str) -> str:
    """The first row of the paper list (the line under its top border, inside the list's box)."""
    lines = screen.splitlines()
    for n, line in enumerate(lines[:-1]):
        if "\u256d\u2500 Papers" in line or "\u256d\u2500 Bookmarks" in line:
            return lines[n + 1].split("\u2502")[1]
    return ""


def counts(screen: str) -> list[int]:
    """The "shown / total" numbers on screen (the list border's subtitle)."""
    return [int(shown) for shown in re.findall(rf"\b(\d+) / {TOTAL}\b", screen)]


def flat(screen: str) -> str:
    """Screen text with box-drawing, toast edges and runs of spaces folded, for text that may wrap."""
    return " ".join(re.sub(r"[\u2500-\u259f]", " ", screen).split())


def toast_text(screen: str) -> str:
    """The text inside notifications (right of their "▌" edge), wrapped lines joined without spaces."""
    parts = (line.rsplit("\u258c", 1)[1] for line in screen.splitlines() if "\u258c" in line)
    return "".join(re.sub(r"[\u2500-\u257f]", "", part).strip() for part in parts)  # minus borders behind


def test_search_bookmark_copy_quit_in_tmux(terminal: Terminal, tmp_path: Path) -> None:
    db = tmp_path / "store.json"
    app = f"env -u DISPLAY -u WAYLAND_DISPLAY PAPER_READER_DB={shlex.quote(str(db))} {shlex.quote(reader_command())}"
    # The shell stays after the app so its exit status can be read on the pane.
    terminal.start(f"{app}; echo EXITED-$?; sleep 600")

    # First screen: the whole digest listed.
    terminal.wait_screen(lambda s: f"{TOTAL} / {TOTAL}" in s, f'"{TOTAL} / {TOTAL}" in the list border')

    # Search with typos; enter moves to the list with the top result selected.
    terminal.keys("/")
    terminal.type("nueral opertor")
    terminal.wait_screen(lambda s: "nueral opertor" in s, "the query in the search box")
    terminal.keys("Enter")
    terminal.wait_screen(
        lambda s: "Neural Operator" in s and any(0 < n < TOTAL for n in counts(s)),
        f'a filtered count "N / {TOTAL}" and "Neural Operator" on screen',
    )

    # The top result is what the command line ranks first for the same query.
    top_id, _score, top_title = cli(db, "search", "nueral opertor", "--limit", "1").rstrip("\n").split("\t")
    assert top_title.startswith("Neural Operator"), top_title

    # b: the selected (top) paper is bookmarked, on disk, and marked in the list.
    terminal.keys("b")

    def bookmarked() -> list[dict[str, Any]]:
        return [p for p in export(db) if p["bookmarked"]] if db.exists() else []

    marked = wait_for(bookmarked, "a bookmarked paper in the store", explain=lambda: terminal.screen())
    assert len(marked) == 1, [p["title"] for p in marked]
    paper = marked[0]
    assert paper["title"].startswith("Neural Operator"), paper["title"]
    assert paper["id"] == top_id, (paper["title"], top_title)
    terminal.wait_screen(
        lambda s: "\u2605" in top_row(s) and paper["title"][:40] in top_row(s),
        "the top list row to show the bookmark mark and the paper's title",
    )
    assert paper["links"] and paper["links"][0].startswith("https://"), paper["links"]

    # y: the primary link reaches tmux's paste buffer through OSC 52.
    terminal.keys("y")

    def url_in_buffer() -> str | None:
        text = terminal.buffer()
        return text if text and text.startswith("https://") else None

    copied = wait_for(
        url_in_buffer,
        "an https:// URL in tmux's paste buffer (OSC 52)",
        explain=lambda: f"buffer: {terminal.buffer()!r}\nscreen:\n{terminal.screen()}",
    )
    assert copied == paper["links"][0]
    terminal.wait_screen(
        # Inside the notice (its lines may wrap "OSC" and "52" apart, beside other panes' text).
        lambda s: "OSC52" in toast_text(s).replace(" ", "") and copied in toast_text(s),
        "a notification mentioning OSC 52 and showing the copied link",
    )

    # q: the app exits cleanly and gives the terminal back.
    terminal.keys("q")
    terminal.wait_screen(lambda s: "EXITED-" in s, "the app to exit")
    screen = terminal.screen()
    assert "EXITED-0" in screen, screen
    assert "Traceback" not in screen, screen
