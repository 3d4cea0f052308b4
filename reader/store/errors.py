"""The store's errors: each reads ``PATH: what is wrong`` on one line."""

from __future__ import annotations

import os


class StoreError(Exception):
    """The store cannot be read or written; ``str()`` is ``PATH: what is wrong``."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(f"{os.fspath(path)}: {message}")
        self.path = os.fspath(path)
        self.message = message


class StoreCorrupt(StoreError):
    """The store file exists but does not parse, or is from a newer schema."""


class InvalidText(StoreError):
    """Text given to the store is not valid UTF-8 (a stray byte, a lone surrogate); nothing was changed."""


def check_text(path: str | os.PathLike[str], what: str, text: str) -> str:
    """``text`` itself when it encodes as UTF-8, else InvalidText naming ``what``.

    Arguments decoded with surrogateescape (a stray ``\\xff`` on the command line) and lone
    surrogates from a JSON file both land here before anything reaches the disk.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        bad = ascii(text[err.start : err.end])
        raise InvalidText(
            path, f"the {what} is not valid UTF-8 text ({bad} at character {err.start}); nothing was changed"
        ) from None
    return text


def stat_or_none(path: str | os.PathLike[str], what: str) -> os.stat_result | None:
    """The file's stat, None when it does not exist yet; StoreError naming ``what`` when it cannot be read."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StoreError(path, f"cannot read {what}: {err.strerror}") from None
