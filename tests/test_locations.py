"""Where the program keeps its files, as a user sees them: each environment variable wins, else the
user's data, cache and config folders (XDG on Linux)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV_VARS = ("PAPER_READER_DB", "PAPER_READER_CACHE", "PAPER_READER_CONFIG", "PAPER_READER_DIGESTS")


def run(tmp_path: Path, *argv: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ENV_VARS and not k.startswith("XDG_")}
    home = {f"XDG_{kind}_HOME": str(tmp_path / kind.lower()) for kind in ("DATA", "CACHE", "CONFIG")}
    done = subprocess.run(
        [sys.executable, "-m", "reader", *argv],
        env={**clean, **home, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_without_environment_variables_files_go_to_the_user_folders(tmp_path):
    out = run(tmp_path, "doctor")
    assert f"{tmp_path / 'data' / 'paper-reader' / 'store.json'}: not created yet" in out
    assert f"{tmp_path / 'config' / 'paper-reader' / 'config.toml'}: not present" in out
    assert run(tmp_path, "config", "path").strip() == str(tmp_path / "config" / "paper-reader" / "config.toml")
    run(tmp_path, "search", "neural operator")  # indexes the bundled sample: its cache lands in the user cache
    assert (tmp_path / "cache" / "paper-reader" / "index").is_dir()


@pytest.mark.parametrize("prefix", ["~/elsewhere", "{tmp}/elsewhere"])
def test_each_environment_variable_wins(tmp_path, prefix):
    base = prefix.replace("{tmp}", str(tmp_path))  # "~" is HOME, the test's own folder here
    env = {
        "HOME": str(tmp_path),
        "PAPER_READER_DB": f"{base}/my.json",
        "PAPER_READER_CONFIG": f"{base}/my.toml",
        "PAPER_READER_CACHE": f"{base}/cache",
    }
    where = tmp_path / "elsewhere"
    out = run(tmp_path, "doctor", **env)
    assert f"{where / 'my.json'}: not created yet" in out and f"{where / 'my.toml'}: not present" in out
    run(tmp_path, "search", "neural operator", **env)
    assert (where / "cache" / "paper-reader-index").is_dir()
    assert not (tmp_path / "data").exists() and not (tmp_path / "cache").exists()
