"""Where paper-reader keeps its files: each from its environment variable, else the user's folder
for that kind of file (platformdirs: data, cache, config). The one place this rule is written.

- the annotation store: ``PAPER_READER_DB`` (the file), else ``store.json`` in the user data folder;
- the search index cache: ``PAPER_READER_CACHE`` (a folder: entries go in its ``paper-reader-index``),
  else ``index`` in the user cache folder;
- the config file: ``PAPER_READER_CONFIG`` (the file), else ``config.toml`` in the user config folder;
- fetched digests: ``PAPER_READER_DIGESTS`` (the folder), else ``digests`` in the user data folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "paper-reader"
STORE_ENV = "PAPER_READER_DB"
CACHE_ENV = "PAPER_READER_CACHE"
CONFIG_ENV = "PAPER_READER_CONFIG"
DIGESTS_ENV = "PAPER_READER_DIGESTS"
CACHE_SUBFOLDER = "paper-reader-index"  # the index cache's folder inside $PAPER_READER_CACHE
CONFIG_NAME = "config.toml"


def _from_env(name: str) -> Path | None:
    """The path an environment variable names (``~`` expanded), or None when it is unset or empty."""
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def store_path() -> Path:
    """The annotation store: ``$PAPER_READER_DB``, else ``store.json`` in the user data folder."""
    return _from_env(STORE_ENV) or Path(platformdirs.user_data_dir(APP, appauthor=False)) / "store.json"


def index_cache_dir() -> Path:
    """The search index cache: ``$PAPER_READER_CACHE/paper-reader-index``, else ``index`` in the user cache folder."""
    chosen = _from_env(CACHE_ENV)
    if chosen is not None:
        return chosen / CACHE_SUBFOLDER
    return Path(platformdirs.user_cache_dir(APP, appauthor=False)) / "index"


def config_path() -> Path:
    """The config file: ``$PAPER_READER_CONFIG``, else ``config.toml`` in the user config folder."""
    return _from_env(CONFIG_ENV) or Path(platformdirs.user_config_dir(APP, appauthor=False)) / CONFIG_NAME


def digests_folder() -> Path:
    """Where fetched digests go when the config names no folder: ``$PAPER_READER_DIGESTS``, else
    ``digests`` in the user data folder."""
    return _from_env(DIGESTS_ENV) or Path(platformdirs.user_data_dir(APP, appauthor=False)) / "digests"
