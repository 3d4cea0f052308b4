"""The config file (TOML): theme, key overrides, and a digests folder.

::

    # ~/.config/paper-reader/config.toml  (paper-reader config path)
    theme = "nord"                   # any Textual theme; wins over one picked in the app
    digests = "~/papers/digests"     # plain `paper-reader` opens every *.txt here, newest first
    fetch_max = 500                  # `paper-reader fetch`: at most this many papers a day

    [keys]                           # action = "key[,key...]" (see `?` in the app)
    bookmark = "b,ctrl+b"
    similar = "m"
"""

from __future__ import annotations

import stat
import tomllib
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from reader import locations
from reader.commands import ACTIONS, key_clashes, key_label  # the actions [keys] can rebind, from the command table

KNOWN = ("theme", "digests", "fetch_max", "keys")
FETCH_MAX = 500  # papers fetched at most for one day (paper-reader fetch)
MAX_BYTES = 1_000_000  # a config file is a few lines; more is a wrong path (a digest, /dev/zero)
# Key names as Textual reports them: modifiers joined with "+" to a named key, a letter or
# digit, or the name of a character (question_mark, slash); one character alone is also fine.
MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
NAMED_KEYS = frozenset([
    *(f"f{n}" for n in range(1, 36)),
    "escape", "enter", "return", "tab", "space", "backspace", "delete", "insert",
    "home", "end", "pageup", "pagedown", "up", "down", "left", "right",
    "caps_lock", "num_lock", "scroll_lock", "print_screen", "pause", "menu",
    "slash", "backslash", "at", "minus", "plus", "underscore",  # Textual's short names for / \\ @ - + _
])  # fmt: skip


class ConfigError(Exception):
    """The config file cannot be used; ``str()`` is ``PATH: what is wrong``."""


@dataclass
class Config:
    """Settings from the config file (defaults where it says nothing)."""

    theme: str | None = None
    digests: Path | None = None
    keys: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    fetch_max: int = FETCH_MAX


def config_path() -> Path:
    """Where the config file is read from: ``$PAPER_READER_CONFIG`` or the user config folder (reader.locations)."""
    return locations.config_path()


def load_config(path: Path | None = None) -> Config:
    """Read the config file; no file is the defaults. Raises ConfigError naming what is wrong."""
    path = path or config_path()
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block, /dev/zero never end
            raise ConfigError(f"{path}: not a regular file")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return Config()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror or err})") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}: over {MAX_BYTES // 1_000_000} MB, not a config file")
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: not UTF-8 (byte 0x{raw[err.start]:02x} at offset {err.start}); save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (arrays or tables nested too deeply)") from None
    unknown = sorted(set(data) - set(KNOWN))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(KNOWN)})")
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise ConfigError(f'{path}: theme must be a string, like theme = "nord"')
    digests = data.get("digests")
    if digests is not None and not isinstance(digests, str):
        raise ConfigError(f"{path}: digests must be a folder path in quotes")
    fetch_max = data.get("fetch_max", FETCH_MAX)
    if not isinstance(fetch_max, int) or isinstance(fetch_max, bool) or fetch_max < 1:
        raise ConfigError(f"{path}: fetch_max must be a whole number of papers, 1 or more, like fetch_max = 500")
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
        raise ConfigError(f'{path}: [keys] maps action names to keys in quotes, like bookmark = "b,ctrl+b"')
    if digests and "\0" in digests:
        raise ConfigError(f"{path}: digests holds a NUL character, which no folder name can")
    try:
        folder = Path(digests).expanduser() if digests else None
    except RuntimeError:  # ~user with no such user, or no home folder
        raise ConfigError(f"{path}: digests {digests!r}: cannot tell whose home folder ~ is") from None
    if folder is not None and not folder.is_absolute():
        folder = path.parent / folder
    return Config(theme=theme, digests=folder, keys=dict(keys), path=path, fetch_max=fetch_max)


def key_problem(key: str) -> str | None:
    """What is wrong with one key name of a [keys] value, or None when Textual can report it."""
    if len(key) == 1:
        return None if key.isprintable() else "is a control character"
    if not key:
        return "is empty"
    *modifiers, name = key.split("+")
    if not name:
        return "has no key after the +"
    if any(m not in MODIFIERS for m in modifiers):
        return f"has a modifier other than {', '.join(MODIFIERS)}"
    if name in NAMED_KEYS or (len(name) == 1 and name.isprintable() and not name.isspace()):
        return None
    try:
        char = unicodedata.lookup(name.replace("_", " "))  # question_mark, number_sign, full_stop ...
    except KeyError:
        return "is not a key name"
    return None if char.isprintable() else "is not a key name"  # aliases such as "esc" name controls


def config_problems(config: Config, themes: Collection[str] | None = None) -> list[tuple[str, str]]:
    """Each setting that parses but cannot work, as (setting, what is wrong): ("theme", ...), ("keys", ...).

    ``themes`` are the theme names to accept (None: the theme is not checked); the
    caller asks Textual, so this module stays free of it.
    """
    problems = []
    if config.theme is not None and themes is not None and config.theme not in themes:
        problems.append(("theme", f"{config.theme!r} is not a theme (known: {', '.join(sorted(themes))})"))
    usable: dict[str, str] = {}  # the overrides that name an action and valid keys
    for action, keys in config.keys.items():
        if action not in ACTIONS:
            problems.append(("keys", f"{action!r} is not an action (known: {', '.join(ACTIONS)})"))
            continue
        bad = [(key, why) for key in (k.strip() for k in keys.split(",")) if (why := key_problem(key))]
        for key, why in bad:
            problems.append(("keys", f"{action}: {key!r} {why} (keys look like x, ctrl+b, f2, question_mark)"))
        if not bad:
            usable[action] = ",".join(k.strip() for k in keys.split(","))
    # A key another action runs where this one is live (its default key or the config's) would
    # leave one of them unreachable: q would bookmark and no longer quit.
    for action, key, other in key_clashes(usable):
        problems.append(("keys", f"{action}: {key_label(key)!r} is bound to {other} too"))
    return problems


def check_config(config: Config, themes: Collection[str] | None = None) -> None:
    """Raise ConfigError naming every setting of ``config`` that cannot work, on one line."""
    problems = config_problems(config, themes)
    if problems:
        said = "; ".join(f"{'[keys]' if name == 'keys' else name} {detail}" for name, detail in problems)
        raise ConfigError(f"{config.path or config_path()}: {said}")
