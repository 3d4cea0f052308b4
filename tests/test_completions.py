"""`paper-reader completions SHELL`: scripts a shell accepts, and bash completing what a user types."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reader.cli import main
from reader.export import FORMATS


def script(shell: str, capsys) -> str:
    assert main(["completions", shell]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_script_names_every_command_and_the_export_formats(shell, capsys):
    out = script(shell, capsys)
    for word in (
        "list",
        "search",
        "show",
        "bookmark",
        "tag",
        "note",
        "export",
        "import",
        "doctor",
        "completions",
        "--db",
        "--format",
        "--bookmarked",
        *FORMATS,
    ):
        if shell == "fish" and word.startswith("--"):
            word = "-l " + word[2:]  # fish names long options without dashes
        assert word in out, word


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_shell_accepts_the_script(shell, capsys, tmp_path):
    binary = shutil.which(shell)
    if binary is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / f"completion.{shell}"
    path.write_text(script(shell, capsys))
    flag = ["--no-execute"] if shell == "fish" else ["-n"]
    done = subprocess.run([binary, *flag, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_unknown_shell_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["completions", "powershell"])
    assert exit_info.value.code == 2


def complete(line: str, script_text: str, cwd: Path) -> list[str]:
    """What bash offers for the last word of ``line`` (a trailing space starts a new word)."""
    words = line.split()
    if line.endswith(" "):
        words.append("")
    program = (
        script_text
        + "\nCOMP_WORDS=("
        + " ".join(f"'{w}'" for w in words)
        + ")"
        + f"\nCOMP_CWORD={len(words) - 1}\n_paper_reader\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
    )
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    done = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", program], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert done.returncode == 0, done.stderr
    return sorted(w for w in done.stdout.splitlines() if w)


def test_bash_completes_commands_options_format_values_and_files(capsys, tmp_path):
    text = script("bash", capsys)
    (tmp_path / "today.txt").write_text("x")
    (tmp_path / "export.json").write_text("[]")
    assert complete("paper-reader ex", text, tmp_path) == ["export", "export.json"]  # a command, or a digest file
    assert complete("paper-reader export --format ", text, tmp_path) == sorted(FORMATS)
    assert complete("paper-reader export --format r", text, tmp_path) == ["ris"]
    assert complete("paper-reader export --b", text, tmp_path) == ["--bookmarked"]
    assert complete("paper-reader import ", text, tmp_path) == ["export.json", "today.txt"]
    assert complete("paper-reader --db store.json list to", text, tmp_path) == ["today.txt"]
    assert complete("paper-reader completions ", text, tmp_path) == ["bash", "fish", "zsh"]
    assert complete("paper-reader search --limit ", text, tmp_path) == []  # a number: nothing to offer
