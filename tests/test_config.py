"""The config file: theme, key overrides, a digests folder; bad files get one line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.binding import Binding

from reader.app import PaperReaderApp
from reader.config import ACTIONS, Config, ConfigError, check_config, config_problems, key_problem, load_config
from reader.digest import bundled_digest, load_library
from reader.screens.main import MainScreen
from reader.store import Store
from reader.widgets.paper_list import PaperList
from reader.widgets.search_box import SearchBox
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


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('theme = "café"\n'.encode("latin-1"), "not UTF-8 (byte 0xe9 at offset 12); save it as UTF-8"),
        (("a = " + "[" * 100_000 + "]" * 100_000).encode(), "nested too deeply"),
        (b"x = {" * 5000, "not valid TOML"),
    ],
    ids=["latin-1", "nested", "unclosed"],
)
def test_an_unreadable_config_is_one_line_in_the_app_and_in_doctor(tmp_path, env, content, says):
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    done = run_cli(env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"paper-reader: error: {path}: ") and says in done.stderr
    done = run_cli("doctor", env=env)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr, done.stderr
    [problem] = [line for line in done.stdout.splitlines() if line.startswith("problem")]
    assert problem.split()[1] == "config" and says in problem


@pytest.mark.parametrize(
    ("text", "setting", "says"),
    [
        ('theme = "nosuchtheme"', "theme", "'nosuchtheme' is not a theme (known: ansi-dark, "),
        ('[keys]\nfrobnicate = "x"', "keys", "'frobnicate' is not an action (known: focus_search, "),
        ('[keys]\nquit = "ctrl-q"', "keys", "quit: 'ctrl-q' is not a key name"),  # it used to unbind q
        ('[keys]\nquit = "q,,x"', "keys", "quit: '' is empty"),
        ('[keys]\nbookmark = "hyper+ctrl+"', "keys", "bookmark: 'hyper+ctrl+' has no key after the +"),
        ('[keys]\nbookmark = "cmd+b"', "keys", "bookmark: 'cmd+b' has a modifier other than ctrl, shift, alt"),
        ('[keys]\nquit = "q,ctrl+x"\nbookmark = "ctrl+x"', "keys", "bookmark: 'ctrl+x' is bound to quit too"),
        # a key another action has by default, where both are live (the footer said "q bookmark", "q quit")
        ('[keys]\nbookmark = "q"', "keys", "bookmark: 'q' is bound to quit too"),
        ('[keys]\nbookmark = "j"', "keys", "bookmark: 'j' is bound to cursor_down too"),
        ('[keys]\nbookmark = "B"', "keys", "bookmark: 'B' is bound to bookmarks_only too"),
        ('[keys]\nbookmark = "question_mark"', "keys", "bookmark: '?' is bound to help too"),
        ('[keys]\nbookmark = "ctrl+c"', "keys", "bookmark: 'ctrl+c' is bound to quit too"),
        ('[keys]\nmark = "2"', "keys", "mark: '2' is bound to saved_search_2 too"),
    ],
)
def test_a_setting_that_cannot_work_is_named_at_start_up_and_by_doctor(tmp_path, text, setting, says):
    # In process, on a real file: the subprocess run of both commands is test_every_bad_setting_...
    from textual.theme import BUILTIN_THEMES

    from reader.doctor import PROBLEM, config_checks

    path = tmp_path / "config.toml"
    path.write_text(text + "\n", encoding="utf-8")
    label = "[keys]" if setting == "keys" else setting
    with pytest.raises(ConfigError) as err:
        check_config(load_config(path), BUILTIN_THEMES)  # what start-up runs before the app
    assert str(err.value).startswith(f"{path}: {label} {says}") and "\n" not in str(err.value)
    [problem] = [check for check in config_checks(path) if check.status == PROBLEM]
    assert problem.name == setting and says in problem.detail


@pytest.mark.parametrize(
    "keys",
    [
        {"quit": "ctrl+q", "bookmark": "q"},  # the other action moved off the key in the same file
        {"saved_search_2": "f2", "mark": "2"},
        {"next_result": "ctrl+x", "cursor_down": "ctrl+x"},  # the search box and the list are never both live
        {"previous_result": "ctrl+p"},  # an overlap the defaults have (palette elsewhere)
        {"help": "question_mark,f1"},
    ],
)
def test_taking_a_key_from_an_action_that_moved_off_it_is_fine(keys):
    assert config_problems(Config(keys=keys)) == []


async def test_a_clash_with_a_default_key_stops_start_up_and_doctor_lists_it(tmp_path, env):
    (tmp_path / "config.toml").write_text('[keys]\nbookmark = "q"\n', encoding="utf-8")
    done = run_cli(env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("paper-reader: error: ")
    assert "[keys] bookmark: 'q' is bound to quit too" in done.stderr
    doctor = run_cli("doctor", env=env).stdout
    keys = [line for line in doctor.splitlines() if line.startswith("problem") and line.split()[1] == "keys"]
    assert len(keys) == 1 and "bookmark: 'q' is bound to quit too" in keys[0]
    # moved off q in the same file: doctor is content, q bookmarks and ctrl+q quits
    (tmp_path / "config.toml").write_text('[keys]\nquit = "ctrl+q"\nbookmark = "q"\n', encoding="utf-8")
    doctor = run_cli("doctor", env=env).stdout
    assert not [line for line in doctor.splitlines() if line.startswith("problem") and line.split()[1] == "keys"]
    db = tmp_path / "store.json"
    app = PaperReaderApp(
        load_library([bundled_digest()]), Store(db), store_path=str(db), config=load_config(tmp_path / "config.toml")
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        paper = app.screen.query_one(PaperList).paper
        await pilot.press("q")
        await settle(app, pilot)
        assert app.is_running and Store(db).get(paper.id)["bookmarked_at"]
        await pilot.press("ctrl+q")
        await settle(app, pilot)
        assert not app.is_running


def test_every_bad_setting_is_named_in_one_line(tmp_path, env):
    (tmp_path / "config.toml").write_text('theme = "x"\n[keys]\nquit = "ctrl-q"\nnope = "n"\n', encoding="utf-8")
    done = run_cli(env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "theme 'x' is not" in done.stderr and "quit: 'ctrl-q'" in done.stderr and "'nope' is not" in done.stderr
    doctor = run_cli("doctor", env=env).stdout
    assert [line.split()[1] for line in doctor.splitlines() if line.startswith("problem")] == ["theme", "keys", "keys"]
    assert doctor.splitlines()[-1] == "3 problems: theme, keys"


def test_every_key_textual_can_report_is_accepted():
    from textual.keys import Keys

    names = {key.value for key in Keys if "<" not in key.value and key.value != "ctrl-at"}
    names |= {binding.key for binding in MainScreen.BINDINGS if isinstance(binding, Binding)}
    rejected = {name: key_problem(key) for name in names for key in name.split(",") if key_problem(key.strip())}
    assert rejected == {}
    assert all(key_problem(k) for k in ("ctrl-q", "Ctrl+B", "\x1b", "esc", "ctrl+nosuch"))


def test_the_actions_are_the_bindings_the_keys_table_can_rebind():
    bindings = [*MainScreen.BINDINGS, *PaperList.BINDINGS, *SearchBox.BINDINGS, *PaperReaderApp.BINDINGS]
    ids = {b.id.split(".", 1)[1] for b in bindings if isinstance(b, Binding) and b.id}
    assert set(ACTIONS) == ids


def test_odd_files_as_config_are_one_line(tmp_path, env):
    os.mkfifo(tmp_path / "fifo")
    for target, says in ((tmp_path / "fifo", "not a regular file"), (tmp_path, "not a regular file")):
        env = {**env, "PAPER_READER_CONFIG": str(target)}
        done = run_cli("doctor", env=env)
        assert f"{target}: {says}" in done.stdout and done.returncode == 1
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * 1_000_000)
    with pytest.raises(ConfigError, match="over 1 MB, not a config file"):
        load_config(big)


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=200) | st.text(alphabet="[]{}=\"'.,#\nxé \\", max_size=200).map(str.encode))
def test_any_bytes_are_a_config_or_one_config_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_bytes(content)
    try:
        config = load_config(path)
    except ConfigError as err:
        assert str(err).startswith(f"{path}: ") and "\n" not in str(err).removeprefix(str(path))
    else:
        config_problems(config, ["nord"])


@settings(max_examples=200, deadline=None)
@given(keys=st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=4), theme=st.text(max_size=10))
def test_any_keys_table_gives_problems_not_exceptions(keys, theme):
    problems = config_problems(Config(theme=theme, keys=keys), ["nord"])
    assert all(name in ("theme", "keys") for name, _ in problems)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('digests = "~nosuchuser-for-paper-reader/x"', "cannot tell whose home folder ~ is"),
        ('digests = "a\\u0000b"', "digests holds a NUL character"),
    ],
    ids=["unknown-user", "nul"],
)
def test_a_digests_folder_that_cannot_be_is_one_line(tmp_path, env, text, says):
    (tmp_path / "config.toml").write_text(text + "\n", encoding="utf-8")
    for args in (("list",), ("doctor",)):  # plain paper-reader reads the config as list does
        done = run_cli(*args, env=env)
        assert "Traceback" not in done.stderr and says in done.stdout + done.stderr, (args, done.stderr[-300:])


def test_doctor_checks_an_empty_theme_and_a_digests_file(tmp_path, env):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "config.toml").write_text('theme = ""\ndigests = "notes.txt"\n', encoding="utf-8")
    out = run_cli("doctor", env=env).stdout
    assert "problem  theme" in out and "'' is not a theme" in out
    assert f"{tmp_path / 'notes.txt'}: not a folder" in out
