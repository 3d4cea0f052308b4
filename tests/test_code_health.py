"""Code health as tests, so the README's one test command checks it: ruff, mypy, a Textual-free core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = [
    "reader.text", "reader.paper", "reader.digest", "reader.links", "reader.query", "reader.store",
    "reader.collection", "reader.export", "reader.cli", "reader.clipboard", "reader.sorting", "reader.tex",
    "reader.config", "reader.doctor", "reader.completions", "reader.index.tokenizer", "reader.index.postings",
    "reader.index.engine", "reader.index.highlight", "reader.index.storage", "reader.index.cache",
    "reader.index.build", "reader.index.similar", "reader.index.forms",
    "reader.core", "reader.core.results", "reader.core.ranking", "reader.core.library", "reader.core.opening",
    "reader.core.saved_searches", "reader.core.exporting", "reader.core.importing",
    "reader.sources", "reader.sources.folder", "reader.sources.formats", "reader.sources.errors",
    "reader.sources.hub", "reader.sources.fetch", "reader.sources.arxiv", "reader.sources.feed",
    "reader.sources.mail", "reader.sources.htmltext", "reader.sources.stdin",
]  # fmt: skip


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
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "", f"core modules pulled in Textual: {done.stdout.strip()}"


def test_ruff_lint_passes():
    done = subprocess.run([*_tool("ruff"), "check", "."], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_clean():
    done = subprocess.run([*_tool("ruff"), "format", "--check", "."], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_passes():
    done = subprocess.run([*_tool("mypy"), "reader"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
