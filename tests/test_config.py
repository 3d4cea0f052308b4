"""The config file: theme, key overrides, a digests folder; bad files get one line and exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reader.config import ConfigError, load_config
from reader.widgets.paper_list import PaperList
from tests.app_support import SIZE, settle

ABSTRACT = "An abstract long enough to be read as one, about operators and learning. " * 4


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reader", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.fixture
def env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    monkeypatch.setenv("PAPER_READER_CONFIG", str(config))
    monkeypatch.setenv("PAPER_READER_DB", str(tmp_path / "store.json"))
    import os

    return dict(os.environ)


def test_no_config_file_is_the_defaults(tmp_path, env):
    config = load_config()
    assert config.theme is None and config.digests is None and config.keys == {}
    assert run_cli("config", "path", env=env).stdout.strip() == str(tmp_path / "config.toml")


def test_settings_are_read_and_a_relative_folder_is_next_to_the_file(tmp_path, env):
    (tmp_path / "config.toml").write_text(
        'theme = "nord"\ndigests = "daily"\n[keys]\nbookmark = "ctrl+b"\n', encoding="utf-8"
    )
    config = load_config()
    assert config.theme == "nord" and config.digests == tmp_path / "daily"
    assert config.keys == {"bookmark": "ctrl+b"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("theme = nord", "not valid TOML"),
        ("colour = 'red'", "unknown setting 'colour'"),
        ("theme = 3", "theme must be a string"),
        ("[keys]\nbookmark = 1", "[keys] maps action names"),
    ],
)
def test_a_bad_config_is_one_line_and_exit_2(tmp_path, env, text, says):
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=None) as err:
        load_config()
    assert says in str(err.value)
    done = run_cli(env=env)  # plain paper-reader: the app never starts
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("paper-reader: error: ")
    assert says in done.stderr and "Traceback" not in done.stderr


def test_an_empty_digests_folder_is_an_error_before_the_app(tmp_path, env):
    (tmp_path / "daily").mkdir()
    (tmp_path / "config.toml").write_text('digests = "daily"\n', encoding="utf-8")
    done = run_cli(env=env)
    assert done.returncode == 2 and "folder has no *.txt digests" in done.stderr


async def test_the_app_opens_the_digests_folder_newest_first_with_theme_and_keys(tmp_path, monkeypatch):
    folder = tmp_path / "daily"
    folder.mkdir()
    (folder / "2026-11-26.txt").write_text(f"Older Paper\n{ABSTRACT}\n", encoding="utf-8")
    (folder / "2026-11-27.txt").write_text(f"Newest Paper\n{ABSTRACT}\n", encoding="utf-8")
    (tmp_path / "config.toml").write_text(
        'theme = "nord"\ndigests = "daily"\n[keys]\nbookmark = "ctrl+b"\n', encoding="utf-8"
    )
    monkeypatch.setenv("PAPER_READER_CONFIG", str(tmp_path / "config.toml"))
    config = load_config()
    from reader.app import PaperReaderApp
    from reader.digest import load_library
    from reader.store import Store

    app = PaperReaderApp(load_library([config.digests]), Store(tmp_path / "store.json"), config=config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        papers = app.screen.query_one(PaperList)
        assert [papers.papers[i].title for i in papers.rows] == ["Newest Paper", "Older Paper"]
        assert app.theme == "nord"
        await pilot.press("b")  # rebound: b no longer bookmarks
        assert not (Store(tmp_path / "store.json").get(papers.paper.id) or {}).get("bookmarked_at")
        await pilot.press("ctrl+b")
        assert Store(tmp_path / "store.json").get(papers.paper.id)["bookmarked_at"]
