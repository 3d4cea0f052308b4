"""The config file (TOML): theme, key overrides, and a digests folder.

::

    # ~/.config/paper-reader/config.toml  (paper-reader config path)
    theme = "nord"                   # any Textual theme; wins over one picked in the app
    digests = "~/papers/digests"     # plain `paper-reader` opens every *.txt here, newest first

    [keys]                           # action = "key[,key...]" (see `?` in the app)
    bookmark = "b,ctrl+b"
    similar = "m"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_dir

CONFIG_NAME = "config.toml"
ENV_VAR = "PAPER_READER_CONFIG"
KNOWN = ("theme", "digests", "keys")


class ConfigError(Exception):
    """The config file cannot be used; ``str()`` is ``PATH: what is wrong``."""


@dataclass
class Config:
    """Settings from the config file (defaults where it says nothing)."""

    theme: str | None = None
    digests: Path | None = None
    keys: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


def config_path() -> Path:
    """Where the config file is read from: ``$PAPER_READER_CONFIG`` or the user config folder."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(user_config_dir("paper-reader", appauthor=False)) / CONFIG_NAME


def load_config(path: Path | None = None) -> Config:
    """Read the config file; no file is the defaults. Raises ConfigError naming what is wrong."""
    path = path or config_path()
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return Config()
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror or err})") from None
    unknown = sorted(set(data) - set(KNOWN))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(KNOWN)})")
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise ConfigError(f'{path}: theme must be a string, like theme = "nord"')
    digests = data.get("digests")
    if digests is not None and not isinstance(digests, str):
        raise ConfigError(f"{path}: digests must be a folder path in quotes")
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
        raise ConfigError(f'{path}: [keys] maps action names to keys in quotes, like bookmark = "b,ctrl+b"')
    folder = Path(digests).expanduser() if digests else None
    if folder is not None and not folder.is_absolute():
        folder = path.parent / folder
    return Config(theme=theme, digests=folder, keys=dict(keys), path=path)
