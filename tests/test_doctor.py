"""`paper-reader doctor` and `config path`, run as a user would, on real stores under tmp_path."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from reader.cli import main
from reader.store import SCHEMA, Store

PAPER_ID = "0123456789abcdef"


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reader", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No display, no tmux, a private config folder, and a bin folder first on PATH for fake tools."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gone = ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "PAPER_READER_DB", "PAPER_READER_CONFIG")
    clean = {k: v for k, v in os.environ.items() if k not in gone}
    clean.update(
        PATH=f"{bin_dir}:{os.environ.get('PATH', '')}", XDG_CONFIG_HOME=str(tmp_path / "config"), TERM="xterm-256color"
    )
    return clean


def fake_tool(env: dict[str, str], name: str, script: str) -> None:
    path = Path(env["PATH"].split(":")[0]) / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)


def line(out: str, name: str) -> str:
    """The report line of the check called ``name`` ("status  name  detail")."""
    found = []
    for row in out.splitlines():
        if row[:1].isspace() or "  " not in row:
            continue  # a fix line, or the summary
        _, rest = row.split(None, 1)
        if rest.split("  ", 1)[0].strip() == name:
            found.append(row)
    assert len(found) == 1, (name, out)
    return found[0]


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    db = tmp_path / "data" / "store.json"
    store = Store(db)
    store.set_bookmark(PAPER_ID, True)
    store.add_tags(PAPER_ID, ["ml", "to read"])
    store.add_tags("fedcba9876543210", ["ml"])  # a second change, so a backup exists
    return db


def test_healthy_store_reports_counts_and_backup_and_exits_0(healthy, env):
    done = run(["doctor", "--db", str(healthy)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert line(out, "store").startswith("ok") and str(healthy) in out
    health = line(out, "store health")
    assert f"schema {SCHEMA}" in health and "2 papers" in health and "1 bookmarks" in health and "2 tags" in health
    backup = line(out, "backup")
    assert backup.startswith("ok") and f"{healthy}.bak" in backup and re.search(r"\d+ seconds? old", backup)
    assert out.rstrip().endswith("0 problems: all good")
    assert "\x1b" not in out  # plain text, no colour


def test_corrupt_store_is_a_problem_with_a_fix_and_left_untouched(healthy, env):
    healthy.write_bytes(b'{"papers": {"1": {"id": "x"')  # torn write
    before = healthy.read_bytes()
    done = run(["doctor", "--db", str(healthy)], env)
    assert done.returncode == 1
    health = line(done.stdout, "store health")
    assert health.startswith("problem") and "corrupt" in health
    fix = done.stdout.splitlines()[done.stdout.splitlines().index(health) + 1]
    assert (
        "fix:" in fix and f"cp {shlex.quote(f'{healthy}.bak')} {shlex.quote(str(healthy))}" in fix
    )  # the backup parses: restore it
    assert "1 problem: store health" in done.stdout
    assert healthy.read_bytes() == before


def test_missing_store_is_fine_unless_its_backup_is_left(tmp_path, env):
    db = tmp_path / "nowhere" / "store.json"
    done = run(["doctor", "--db", str(db)], env)
    assert done.returncode == 0
    assert line(done.stdout, "store").startswith("note") and "not created yet" in done.stdout
    assert not db.parent.exists()  # doctor creates nothing
    db.parent.mkdir()
    Path(str(db) + ".bak").write_text('{"papers": {}}')
    done = run(["doctor", "--db", str(db)], env)
    assert done.returncode == 1
    assert (
        "missing, but its backup is there" in done.stdout
        and f"fix: cp {shlex.quote(f'{db}.bak')} {shlex.quote(str(db))}" in done.stdout
    )


def test_store_from_environment_variable(healthy, env):
    env["PAPER_READER_DB"] = str(healthy)
    done = run(["doctor"], env)
    assert done.returncode == 0 and str(healthy) in line(done.stdout, "store")


def test_clipboard_without_display_falls_back_to_osc52(healthy, env):
    out = run(["doctor", "--db", str(healthy)], env).stdout
    assert line(out, "system clipboard").startswith("note") and "OSC 52" in line(out, "system clipboard")
    assert line(out, "OSC 52").startswith("ok")
    assert line(out, "tmux").startswith("ok") and "not inside tmux" in out


def test_clipboard_backend_found_by_pyperclip(healthy, env):
    fake_tool(env, "xclip", "exit 0")
    env["DISPLAY"] = ":99"
    done = run(["doctor", "--db", str(healthy)], env)
    assert line(done.stdout, "system clipboard").startswith("ok")
    assert "pyperclip uses xclip" in done.stdout and done.returncode == 0


def test_display_without_clipboard_tool_is_a_problem(healthy, env):
    env["DISPLAY"] = ":99"
    env["PATH"] = env["PATH"].split(":")[0] + ":" + str(Path(sys.executable).parent)  # no xclip/xsel anywhere
    done = run(["doctor", "--db", str(healthy)], env)
    assert done.returncode == 1
    assert line(done.stdout, "system clipboard").startswith("problem")
    assert "fix: install xclip or xsel" in done.stdout


@pytest.mark.parametrize(
    ("value", "status", "code"), [("on", "ok", 0), ("external", "problem", 1), ("off", "problem", 1)]
)
def test_tmux_set_clipboard(healthy, env, value, status, code):
    fake_tool(env, "tmux", f'[ "$*" = "show -sv set-clipboard" ] && echo {value}')
    env["TMUX"] = "/tmp/tmux-0/default,1,0"
    done = run(["doctor", "--db", str(healthy)], env)
    assert done.returncode == code
    tmux = line(done.stdout, "tmux")
    assert tmux.startswith(status) and f"set-clipboard is {value}" in tmux
    if status == "problem":
        assert "fix: tmux set -s set-clipboard on" in done.stdout


def test_config_path_and_its_state(healthy, env, tmp_path):
    done = run(["config", "path"], env)
    path = tmp_path / "config" / "paper-reader" / "config.toml"
    assert done.returncode == 0 and done.stdout == f"{path}\n"
    out = run(["doctor", "--db", str(healthy)], env).stdout
    assert f"{path}: not present" in line(out, "config")
    path.parent.mkdir(parents=True)
    path.write_text('theme = "nord"\n')
    assert "present (theme nord)" in line(run(["doctor", "--db", str(healthy)], env).stdout, "config")
    path.write_text("theme = \n")
    done = run(["doctor", "--db", str(healthy)], env)
    assert done.returncode == 1 and line(done.stdout, "config").startswith("problem")


def test_doctor_in_process_exit_status(healthy, capsys, monkeypatch):
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(healthy.parent / "cfg"))
    assert main(["doctor", "--db", str(healthy)]) == 0
    healthy.write_text("not json")
    assert main(["doctor", "--db", str(healthy)]) == 1
    assert "store health" in capsys.readouterr().out


def test_a_store_path_too_long_is_a_problem_not_a_traceback(env):
    done = run(["doctor", "--db", "x" * 5000], env)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-500:]
    assert "cannot look at it (File name too long)" in line(done.stdout, "store")


ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"


def test_escapes_in_paths_and_config_values_are_shown_inert(tmp_path, env):
    config = tmp_path / f"conf{ESC}ig.toml"
    config.write_text('theme = "x\\u001b[2J"\n[keys]\n"q\\u001b[31m" = "x"\nquit = "\\u001b"\n', encoding="utf-8")
    env = {**env, "PAPER_READER_CONFIG": str(config)}
    done = run(["config", "path"], env)
    assert done.stdout == str(config).replace("\x1b", "\\x1b").replace("\x07", "\\x07") + "\n"
    done = run(["doctor", "--db", str(tmp_path / f"st{ESC}ore.json")], env)
    assert not any(ch in done.stdout for ch in "\x1b\x07\x9b"), done.stdout
    assert "st\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31more.json" in line(done.stdout, "store")
    problems = [row for row in done.stdout.splitlines() if row.startswith("problem")]
    assert any("'x\\x1b[2J' is not a theme" in row for row in problems), problems
    assert any("'q\\x1b[31m' is not an action" in row for row in problems), problems
    assert any("quit: '\\x1b' is a control character" in row for row in problems), problems


def test_fix_lines_quote_paths_for_the_shell(tmp_path, env):
    db = tmp_path / "it's here" / "store.json"
    db.parent.mkdir()
    db.with_name("store.json.bak").write_text("{}")
    done = run(["doctor", "--db", str(db)], env)
    fix = [row for row in done.stdout.splitlines() if "fix: cp " in row][0]
    assert shlex.split(fix.split("fix: ", 1)[1]) == ["cp", f"{db}.bak", str(db)]
