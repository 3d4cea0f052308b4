"""Code health as tests, so the README's one test command checks it: ruff, mypy, a Textual-free core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UI = ("reader.app", "reader.__main__", "reader.screens", "reader.widgets")  # everything else is the core


def core_modules() -> list[str]:
    """Every module of the package outside the UI, found on disk: a new core module is checked at once."""
    found = []
    for path in sorted((ROOT / "reader").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not any(name == ui or name.startswith(ui + ".") for ui in UI):
            found.append(name)
    return found


CORE = core_modules()


def _tool(name: str) -> list[str]:
    """Run a tool installed with the test extra, from this interpreter's environment."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: python3 -m pip install '.[test]'")
    return [found]


def test_the_core_never_imports_textual():
    code = (
        "import sys\n"
        f"for name in {CORE!r}:\n"
        "    __import__(name)\n"
        "    if 'textual' in sys.modules:\n"
        "        print(name)\n"
        "        break\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "", f"{done.stdout.strip()} (a core module) imports Textual, directly or not"


def test_ruff_lint_passes():
    done = subprocess.run([*_tool("ruff"), "check", "."], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_clean():
    done = subprocess.run([*_tool("ruff"), "format", "--check", "."], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_passes():
    done = subprocess.run([*_tool("mypy"), "reader"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
