"""After a digest was read from a pipe on stdin (``paper-reader -``), the app reads its keys from the terminal."""

from __future__ import annotations

import os


def keys_from_terminal() -> str | None:
    """Put the controlling terminal on file descriptor 0 when stdin is not one (it held the digest).

    Returns None when done (or not needed), else one line saying why the app cannot read keys.
    """
    try:
        if os.isatty(0):
            return None
    except OSError:
        pass
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError as err:
        return f"-: no terminal to read keys from ({err.strerror}); use 'paper-reader list -' instead"
    os.dup2(tty, 0)  # Textual reads keys from file descriptor 0
    os.close(tty)
    return None
