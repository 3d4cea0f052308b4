"""``paper-reader doctor``: what works here (clipboard paths), the store's health, the config in force.

Each check is a line with a status ("ok", "note" or "problem") and, for a problem, a
one-line fix. Nothing here writes anything or prints to the terminal: pyperclip and
tmux are asked in child processes whose output is captured.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reader.config import ConfigError, config_path, config_problems, load_config
from reader.store import META, SCHEMA, Store, StoreError, tag_counts
from reader.store.merge import conflict_copies
from reader.store.store import resolve
from reader.text import inert

OK, NOTE, PROBLEM = "ok", "note", "problem"
TIMEOUT = 3.0

# Ask pyperclip which backend it would use; print its name, never copy anything.
_WHICH_BACKEND = (
    "import pyperclip\n"
    "copy, _ = pyperclip.determine_clipboard()\n"
    "print(getattr(copy, '__qualname__', type(copy).__qualname__))\n"
)
# Ask Textual for its theme names in a child, so doctor itself never imports Textual.
_THEMES = "from textual.theme import BUILTIN_THEMES\nprint('\\n'.join(BUILTIN_THEMES))\n"
_BACKENDS = {
    "xclip": "xclip",
    "xsel": "xsel",
    "wl": "wl-copy (wl-clipboard)",
    "osx_pbcopy": "pbcopy",
    "osx_pyobjc": "pyobjc (macOS)",
    "klipper": "klipper",
    "qt": "Qt",
    "gtk": "GTK",
    "windows": "the Windows API",
    "wsl": "clip.exe (WSL)",
    "dev_clipboard": "/dev/clipboard (Cygwin)",
}


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    status: str
    name: str
    detail: str
    fix: str = ""


def _run(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT,
            check=False,
            env=dict(env),
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def pyperclip_backend(env: Mapping[str, str]) -> str | None:
    """The clipboard tool pyperclip finds with this environment, or None (none found or pyperclip failed)."""
    done = _run([sys.executable, "-c", _WHICH_BACKEND], env)
    if done is None or done.returncode != 0:
        return None
    name = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    found = re.search(r"init_(\w+?)_clipboard", name)
    if not found or found.group(1) == "no":
        return None
    return _BACKENDS.get(found.group(1), found.group(1))


def textual_themes(env: Mapping[str, str]) -> list[str] | None:
    """The names of Textual's themes, asked in a child process; None if it did not answer."""
    done = _run([sys.executable, "-c", _THEMES], env)
    if done is None or done.returncode != 0:
        return None
    return done.stdout.split()


def clipboard_checks(env: Mapping[str, str]) -> list[Check]:
    """The system clipboard (pyperclip), OSC 52, and tmux's part in passing OSC 52 on."""
    checks = []
    display = sys.platform in ("darwin", "win32") or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    backend = pyperclip_backend(env)
    if backend:
        checks.append(Check(OK, "system clipboard", f"pyperclip uses {backend}"))
    elif display:
        checks.append(
            Check(
                PROBLEM,
                "system clipboard",
                "a display is set but pyperclip finds no clipboard tool",
                "install xclip or xsel (X11) or wl-clipboard (Wayland)",
            )
        )
    else:
        checks.append(
            Check(
                NOTE,
                "system clipboard",
                "no display ($DISPLAY/$WAYLAND_DISPLAY unset): copies go to the terminal's clipboard (OSC 52)",
            )
        )
    term = env.get("TERM", "")
    if term in ("", "dumb"):
        checks.append(Check(NOTE, "OSC 52", f"TERM is {term or 'unset'}: a terminal this plain may ignore OSC 52"))
    else:
        checks.append(
            Check(
                OK,
                "OSC 52",
                "always sent as the fallback; works where the terminal supports it "
                "(most do; macOS Terminal does not), no confirmation comes back",
            )
        )
    if env.get("TMUX"):
        tmux = shutil.which("tmux", path=env.get("PATH"))
        done = _run([tmux, "show", "-sv", "set-clipboard"], env) if tmux else None
        value = done.stdout.strip() if done is not None and done.returncode == 0 else ""
        if value == "on":
            checks.append(Check(OK, "tmux", "inside tmux, set-clipboard is on: OSC 52 copies reach the terminal"))
        elif value:
            checks.append(
                Check(
                    PROBLEM,
                    "tmux",
                    f"inside tmux, set-clipboard is {value}: tmux does not pass the app's OSC 52 copies on",
                    "tmux set -s set-clipboard on   (and put 'set -s set-clipboard on' in ~/.tmux.conf)",
                )
            )
        else:
            checks.append(
                Check(
                    NOTE,
                    "tmux",
                    "inside tmux ($TMUX set) but `tmux show -sv set-clipboard` "
                    "did not answer; OSC 52 needs set-clipboard on",
                )
            )
    else:
        checks.append(Check(OK, "tmux", "not inside tmux"))
    return checks


def _size(n: int) -> str:
    """A byte count as people read it: 512 B, 15.8 MB."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} old"
    return f"{seconds} second{'s' if seconds != 1 else ''} old"


def _q(path: Path | str) -> str:
    """A path quoted for the shell, so a fix line can be pasted as it is.

    A name with control characters (an ESC, a BEL, a byte that is not UTF-8) gets bash's
    ``$'…'`` form with each written as an escape; inside plain single quotes ``\\x1b`` would be
    four literal characters and the command would name another file.
    """
    text = str(path)
    if text.isprintable():
        return shlex.quote(text)
    return "$'" + "".join(map(_ansi_c, text)) + "'"


def _ansi_c(char: str) -> str:
    """One character as bash's $'…' quoting writes it."""
    code = ord(char)
    if char in "\\'":
        return "\\" + char
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): the byte itself
        return f"\\x{code - 0xDC00:02x}"
    if char.isprintable():
        return char
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a folder on the way that cannot be searched, a name too long
        return False


def _parses(path: Path) -> str | None:
    """None when the file reads as a store, else what is wrong."""
    try:
        Store(path, readonly=True)
    except StoreError as err:
        return err.message
    return None


def store_checks(path: Path, now: datetime | None = None) -> list[Check]:
    """Where the store is, how big, whether it parses (schema, counts), and its backup."""
    try:
        return _store_checks(path, now)
    except OSError as err:  # a name too long, a folder on the way that cannot be searched
        return [Check(PROBLEM, "store", f"{path}: cannot look at it ({err.strerror or err})", "pick another with --db")]


def _store_checks(path: Path, now: datetime | None) -> list[Check]:
    now = now or datetime.now()
    backup = path.with_name(path.name + ".bak")
    checks = [
        Check(
            PROBLEM,
            "sync conflict",
            f"{copy}: a copy a sync tool left beside the store",
            f"paper-reader merge {_q(copy)}",
        )
        for copy in conflict_copies(Path(os.path.realpath(path)))
    ]
    if not path.exists():
        try:
            resolve(path)  # a link (of the file or a folder above it) to a missing folder is refused
            dangling = ""
        except StoreError as err:
            dangling = err.message
        if dangling:
            checks.append(
                Check(
                    PROBLEM,
                    "store",
                    f"{path}: {dangling}",
                    "mount or sync that folder, or point --db / $PAPER_READER_DB elsewhere",
                )
            )
        elif backup.is_file():
            checks.append(
                Check(PROBLEM, "store", f"{path}: missing, but its backup is there", f"cp {_q(backup)} {_q(path)}")
            )
        else:
            checks.append(Check(NOTE, "store", f"{path}: not created yet (the first bookmark, tag or note creates it)"))
        return checks
    if path.is_dir():
        checks.append(
            Check(
                PROBLEM,
                "store",
                f"{path}: a folder, not a file",
                "move it away, or pick another store with --db PATH or $PAPER_READER_DB",
            )
        )
        return checks
    checks.append(Check(OK, "store", f"{path} ({_size(path.stat().st_size)})"))
    try:
        store = Store(path, readonly=True)
        tables = store.storage.read()
    except StoreError as err:
        bak_ok = backup.is_file() and _parses(backup) is None
        fix = (
            "keep the broken file aside and restore the backup: "
            f"mv {_q(path)} {_q(f'{path}.broken')} && cp {_q(backup)} {_q(path)}"
            if bak_ok
            else f"repair the JSON by hand, or move {_q(path)} aside to start afresh"
        )
        checks.append(Check(PROBLEM, "store health", err.message, fix))
    else:
        meta: dict[str, Any] = next(iter(tables.get(META, {}).values()), {})
        schema = meta.get("schema", SCHEMA)
        annotations = store.annotations()
        read = store.read_ids()
        # Papers with a record or a read mark (each counted once; no set of a million ids is built).
        papers = len(annotations) + len(read) - sum(1 for pid in annotations if pid in read)
        kept = sum(1 for a in annotations.values() if a.kept)
        bookmarks = sum(1 for a in annotations.values() if a.bookmarked_at)
        tags = len(tag_counts(a.tags for a in annotations.values()))
        checks.append(
            Check(
                OK,
                "store health",
                f"parses; schema {schema}; {papers} papers ({kept} annotated), {bookmarks} bookmarks, {tags} tags",
            )
        )
    if not os.access(path.parent, os.W_OK):
        checks.append(
            Check(
                PROBLEM,
                "store folder",
                f"{path.parent} is not writable: changes cannot be saved",
                f"chmod u+w {_q(path.parent)}",
            )
        )
    if backup.is_file():
        age = _age(now.timestamp() - backup.stat().st_mtime)
        problem = _parses(backup)
        if problem:
            checks.append(Check(NOTE, "backup", f"{backup} ({age}) does not parse: {problem}"))
        else:
            checks.append(Check(OK, "backup", f"{backup} ({_size(backup.stat().st_size)}, {age})"))
    else:
        checks.append(Check(NOTE, "backup", f"none yet ({backup.name} is kept from the next change)"))
    return checks


def config_checks(path: Path | None = None, env: Mapping[str, str] | None = None) -> list[Check]:
    """The config file in force (none yet: defaults), and each setting in it that cannot work."""
    path = path or config_path()
    try:
        config = load_config(path)
    except ConfigError as err:
        return [Check(PROBLEM, "config", f"{err}", f"fix it in {path}")]
    if config.path is None:
        return [Check(OK, "config", f"{path}: not present (defaults in force)")]
    themes = textual_themes(os.environ if env is None else env) if config.theme is not None else None
    problems = [Check(PROBLEM, name, detail, f"fix it in {path}") for name, detail in config_problems(config, themes)]
    parts = [f"theme {config.theme}"] if config.theme else []
    if config.digests:
        parts.append(f"digests {config.digests}")
    if config.keys:
        parts.append(f"{len(config.keys)} key overrides")
    checks = [Check(OK, "config", f"{path}: present ({', '.join(parts) or 'empty'})"), *problems]
    if config.theme is not None and themes is None:
        checks.append(Check(NOTE, "theme", f"{config.theme!r} not checked: Textual did not list its themes"))
    if config.digests and not _is_dir(config.digests):
        what = "not a folder" if _exists(config.digests) else "no such folder"
        checks.append(Check(PROBLEM, "digests", f"{config.digests}: {what}", f"create it or fix digests in {path}"))
    return checks


def run_checks(store_path: Path, env: Mapping[str, str], config: Path | None = None) -> list[Check]:
    """Every check, in report order."""
    return clipboard_checks(env) + store_checks(store_path) + config_checks(config, env)


def report(checks: list[Check]) -> str:
    """The checks as text: one line each, a fix line under each problem, a summary last."""
    lines = []
    width = max((len(c.name) for c in checks), default=0)
    for check in checks:  # paths and config values are shown inert: escapes print as \x1b, not act
        lines.append(f"{check.status:<8} {check.name:<{width}}  {inert(check.detail)}")
        if check.fix:
            lines.append(f"{'':<8} {'':<{width}}  fix: {inert(check.fix)}")
    problems = list(dict.fromkeys(c.name for c in checks if c.status == PROBLEM))
    count = sum(1 for c in checks if c.status == PROBLEM)
    lines.append(
        f"{count} problem{'s' if count != 1 else ''}" + (": " + ", ".join(problems) if problems else ": all good")
    )
    return "\n".join(lines) + "\n"
