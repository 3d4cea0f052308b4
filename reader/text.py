"""Text hygiene: strip what must never reach a terminal, and fold text for matching."""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences (CSI, OSC, DCS/PM/APC/SOS strings, two-byte escapes),
# then any C0/C1 control, DEL, and bidi overrides/isolates that can reorder what is shown.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]?"  # other escapes
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|\x9d[^\x07\x9c]*(?:\x07|\x9c)?"  # 8-bit OSC
)
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
# ASCII folding as one str.translate: A-Z to a-z, anything else not a letter or digit to a space.
ASCII_FOLD = {c: " " for c in range(128) if not chr(c).isalnum()}
ASCII_FOLD.update({c: chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})
# The same as a bytes table (bytes.translate runs in C without a dict look-up per character).
ASCII_FOLD_BYTES = bytes(ord(ASCII_FOLD.get(c, chr(c))) if c < 128 else c for c in range(256))
_NON_ALNUM = re.compile(r"[\W_]+")


def clean_line(text: str) -> str:
    """Return ``text`` with escape sequences and control characters removed.

    Tabs, form feeds, vertical tabs, a carriage return inside the line and the Unicode
    line/paragraph separators (which split a line for ``str.splitlines`` and many viewers)
    become spaces, so the words they part stay apart; runs of whitespace are kept as they are.
    """
    # isprintable() is False for every character _UNSAFE matches (controls, format and
    # separator characters), and it runs in C: most lines take this exit.
    if text.isprintable() or not _UNSAFE.search(text):
        return text
    text = _ESCAPES.sub("", text)
    text = text.translate(_SPACES)
    return _CONTROLS.sub("", text)


_SPACES = str.maketrans(dict.fromkeys("\t\x0b\x0c\r\u2028\u2029", " "))


def inert(text: str) -> str:
    """``text`` with every control, bidi and separator character written as a visible escape.

    For names that must be shown as they are without acting on the terminal (a path holding
    ESC prints as ``\\x1b[2J``, a tab as ``\\t``); printable text comes back unchanged.
    """
    return text if text.isprintable() else "".join(map(_visible, text))


def inert_lines(text: str) -> str:
    """``inert`` line by line: the line breaks are kept (a note, a notice), every other control shows."""
    return "\n".join(inert(line) for line in text.split("\n"))


def _visible(ch: str) -> str:
    if ch.isprintable():
        return ch
    return _ESCAPE_NAMES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


_ESCAPE_NAMES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def fold(text: str) -> str:
    """Fold text for matching: Unicode-normalize, drop accents, casefold, punctuation to spaces."""
    if text.isascii():  # the common case, without a regex (paper ids fold every title)
        return fold_ascii(text).decode("ascii")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", stripped.casefold()).strip()


def fold_ascii(text: str) -> bytes:
    """``fold(text)`` for ASCII ``text``, as bytes: letters lowered, the rest to single spaces, trimmed."""
    return b" ".join(text.encode("ascii").translate(ASCII_FOLD_BYTES).split())


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` like :func:`fold` per character, keeping where each folded char came from.

    Returns the folded string (same punctuation-to-space rule, no stripping) and,
    for each of its characters, the index in ``text`` it came from.
    """
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            piece = ch.lower()
        else:
            piece = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).casefold()
        for c in piece:
            out.append(c if c.isalnum() else " ")
            where.append(i)
    return "".join(out), where
