"""Which encodings a digest may be read in, and how to tell a binary file from text by its first bytes.

Python's codec registry also holds codecs that are not text encodings (``base64``, ``hex``,
``zlib`` turn bytes into bytes, ``rot13`` str into str): asked to decode a digest they fail
with errors of their own, so they are refused before any file is read.
"""

from __future__ import annotations

import codecs

HEAD = 1 << 16  # how many bytes of a file decide whether it is binary


class EncodingProblem(ValueError):
    """An ``--encoding`` that cannot read a digest; ``str()`` says why."""


def text_encoding(name: str) -> str:
    """The codec's canonical name if ``name`` is a text encoding (bytes to str); else EncodingProblem.

    ``str.encode`` refuses, with LookupError, a codec that is not a text encoding (the public
    way to ask; ``bytes.decode`` of nothing does not look); the incremental decoder the
    digests are read with is built and must turn bytes into text.
    """
    try:
        canonical = codecs.lookup(name).name
    except (LookupError, TypeError, ValueError):
        raise EncodingProblem(f"unknown encoding {name!r}") from None
    try:
        "".encode(name)
        if not isinstance(codecs.getincrementaldecoder(name)("strict").decode(b"", final=False), str):
            raise LookupError(name)
    except LookupError:
        raise EncodingProblem(
            f"{canonical!r} is not a text encoding; give one such as utf-8, latin-1 or cp1252"
        ) from None
    except (UnicodeError, ValueError, TypeError) as err:
        raise EncodingProblem(f"{canonical!r} cannot decode text ({err})") from None
    return canonical


def _wide(encoding: str | None) -> bool:
    """Whether text in this encoding holds NUL bytes (UTF-16 and UTF-32: one in most ASCII characters)."""
    if encoding is None:
        return False
    try:
        return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    except LookupError:
        return False


def looks_binary(head: bytes, encoding: str | None) -> bool:
    """Whether a file starting with ``head`` is binary, not text in ``encoding`` (None: UTF-8).

    No digest holds a NUL character: in a byte encoding that is a NUL byte in the first
    HEAD bytes; in UTF-16/32 a NUL character once they are decoded.
    """
    head = head[:HEAD]
    if not _wide(encoding):
        return b"\0" in head
    assert encoding is not None
    return "\0" in head.decode(encoding, "replace")


def cannot_decode(encoding: str, err: Exception) -> str:
    """What to say about a file that ``encoding``'s decoder failed on with ``err`` (not a bad byte)."""
    return f"cannot decode as {encoding} ({err})"
