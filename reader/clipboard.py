"""Copying text to the system clipboard through pyperclip, safely.

pyperclip runs in a child process: a clipboard tool that hangs is timed out,
and whatever it prints goes to a pipe, never to the terminal behind the app.
Where there is no clipboard (no display, SSH, containers) the caller falls
back to the terminal's own clipboard (OSC 52).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import webbrowser
from dataclasses import dataclass

from reader.text import clean_line

TIMEOUT = 3.0
# pyperclip ignores the tool's exit status (a broken xclip "copies" nothing without a word):
# reading the clipboard back is what shows the copy took.
CHECK_FAILED = "the clipboard tool ran, but the clipboard does not hold the text"
_COPY = f"""
import sys, pyperclip
text = sys.stdin.buffer.read().decode("utf-8")
pyperclip.copy(text)
if pyperclip.paste() != text:
    sys.exit({CHECK_FAILED!r})
"""


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
            child = subprocess.Popen(
                [sys.executable, "-c", _COPY],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
        except OSError as err:
            return CopyResult(False, f"could not run pyperclip: {err.strerror or err}")
        try:
            child.communicate(text.encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired:
            # The whole group: the hung tool too, not only the Python that started it.
            with contextlib.suppress(OSError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return CopyResult(False, f"the clipboard tool did not answer within {timeout:g} s")
        except OSError:
            pass  # the child closed its stdin early: its exit status says what happened
        errors.seek(0)
        stderr = errors.read()
    if child.returncode != 0:
        lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        if not lines:
            return CopyResult(False, "pyperclip failed")
        detail = lines[-1]
        if detail == CHECK_FAILED and len(lines) > 1:
            detail = f"the clipboard tool failed: {lines[0]}"  # what the tool itself said
        elif detail.startswith("pyperclip.PyperclipException") or "copy/paste mechanism" in stderr.decode(
            "utf-8", "replace"
        ):
            detail = "no clipboard tool found (install xclip, xsel or wl-clipboard)"
        return CopyResult(False, clean_line(detail)[:200])
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
        return CopyResult(False, f"could not start {(opener or ['a browser'])[0]}: {err.strerror or err}")
    return CopyResult(True)
