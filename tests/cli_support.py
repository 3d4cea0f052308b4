"""Helpers for tests of the command line: run it (in a process or in this one) and read its one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reader.cli import main


def run(
    *args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """``python -m reader ARGS`` with stdout and stderr on pipes and no inherited store."""
    full_env = dict(os.environ)
    full_env.pop("PAPER_READER_DB", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reader", *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout
    )


def assert_one_error(done: subprocess.CompletedProcess, path: Path | str, *words: str) -> str:
    """The single stderr line of a refused command (exit 2, no traceback), checked for ``words``."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert lines[0].startswith(f"paper-reader: error: {path}: "), lines[0]
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    return lines[0]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``paper-reader ARGS`` in this process: exit status, stdout, stderr."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err
