"""Pausing the cyclic garbage collector while a library's objects are made.

Opening a big library makes millions of small objects (papers, ids, titles, dictionary
entries) and none of them is cyclic garbage. CPython's collector still walks the young ones
every few hundred allocations and, as the heap grows, the old ones too: measured here, that
is half of the time it takes to make a million papers. So the collector rests while a
library is read and indexed, and what was made is then frozen (``gc.freeze``): later
collections, such as one that would land between two keystrokes, never walk it again.
Papers and their records hold no cycles, so they are still freed when no longer referenced.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # how many bulk_allocation blocks are open (the app loads and indexes on two workers)
_was_enabled = False


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Within this block the collector does not run; when the last open block ends, what is
    alive is frozen and the collector runs again as it did before (also when the block raised)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.freeze()
                if _was_enabled:
                    gc.enable()
