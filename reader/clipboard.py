"""Copying text to the system clipboard through pyperclip, safely.

pyperclip runs in a child process: a clipboard tool that hangs is timed out,
and whatever it prints goes to a pipe, never to the terminal behind the app.
Where there is no clipboard (no display, SSH, containers) the caller falls
back to the terminal's own clipboard (OSC 52).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import webbrowser
from dataclasses import dataclass

TIMEOUT = 3.0
_COPY = "import sys, pyperclip; pyperclip.copy(sys.stdin.read())"


@dataclass(frozen=True)
class CopyResult:
    """Whether the system clipboard took the text, and why not if it did not."""

    ok: bool
    detail: str = ""


def has_display() -> bool:
    """True where a desktop clipboard or browser can exist (a display, or macOS/Windows)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def copy_system(text: str, timeout: float = TIMEOUT) -> CopyResult:
    """Copy ``text`` with pyperclip in a child process; never raises, never prints."""
    if not has_display():
        return CopyResult(False, "no display for a system clipboard")
    # Output goes to a file, not a pipe: xclip leaves a child holding the selection
    # (and any pipe it inherited) open long after the copy is done.
    with tempfile.TemporaryFile() as errors:
        try:
            done = subprocess.run(
                [sys.executable, "-c", _COPY],
                input=text.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                stderr=errors,
                timeout=timeout,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            return CopyResult(False, f"the clipboard tool did not answer within {timeout:g} s")
        except OSError as err:
            return CopyResult(False, f"could not run pyperclip: {err.strerror or err}")
        errors.seek(0)
        stderr = errors.read()
    if done.returncode != 0:
        lines = stderr.decode("utf-8", "replace").strip().splitlines()
        return CopyResult(False, lines[-1][:200] if lines else "pyperclip failed")
    return CopyResult(True)


def open_url(url: str) -> CopyResult:
    """Open ``url`` in a desktop browser; never starts a text browser inside our terminal."""
    if not has_display():
        return CopyResult(False, "no display to open a browser on")
    opener = {"darwin": ["open"], "win32": None}.get(sys.platform, ["xdg-open"])
    try:
        if opener is None:
            return CopyResult(webbrowser.open(url), "no browser answered")
        subprocess.Popen(
            [*opener, url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as err:
        return CopyResult(False, f"could not start {opener[0]}: {err.strerror or err}")
    return CopyResult(True)
