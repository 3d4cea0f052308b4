"""The one error a fetch ends with: which source, what went wrong, what to do."""

from __future__ import annotations


class FetchError(Exception):
    """A fetch that failed; ``str()`` is one line naming the source and what to do."""
