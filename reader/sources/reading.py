"""Which reader turns a structured digest file's bytes into entries (JSON lines, feeds, emails)."""

from __future__ import annotations

from reader.sources.decoding import EncodingProblem, cannot_decode, text_encoding
from reader.sources.feed import read_feed
from reader.sources.formats import EMAIL, FEED, JSONL, FormatError, Parsed, read_jsonl
from reader.sources.mail import read_mail

# Bumped whenever reading the same bytes gives other papers (line ends, title/abstract rules,
# ids, fields): cached segments keyed with another value are parsed again.
PARSE_FORMAT = 2


def parse(kind: str, data: bytes, source: str, encoding: str | None = None) -> Parsed:
    """The entries of a structured file's bytes; FormatError if it cannot be read at all."""
    if kind == JSONL:
        if encoding is None:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as err:
                raise FormatError(f"not UTF-8 JSON lines ({err.__class__.__name__})") from None
        else:
            try:
                text = data.decode(text_encoding(encoding))
            except EncodingProblem as err:
                raise FormatError(str(err)) from None
            except (UnicodeError, ValueError) as err:
                raise FormatError(cannot_decode(encoding, err)) from None
        return read_jsonl(text, source)
    try:
        if kind == FEED:
            return read_feed(data, source)
        if kind == EMAIL:
            return read_mail(data, source)
    except RecursionError:  # the email parser recurses once a nested part (a JSON line is skipped alone)
        raise FormatError(f"not a readable {kind} file (nested too deeply)") from None
    raise FormatError(f"unknown format {kind!r}")
