"""Reading digest files: a title line then its abstract line, again and again."""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import accumulate, islice
from pathlib import Path
from typing import IO, Any

import numpy as np

from reader.index.merge import Part, merge, split
from reader.index.segment import LoadCancelled, RawIndex, Segment
from reader.index.segments import FileHasher, SegmentCache, paths_signature, set_key, stat_signature, worth_merging
from reader.paper import Paper, PaperMeta, paper_id
from reader.sources import decoding, formats, reading
from reader.sources.folder import DIGEST_SUFFIXES
from reader.text import clean_line

# Lines the digest service puts above the papers.
_HEADER = re.compile(r"^(get trending papers in your email inbox.*|subscribe|trending papers.*)$", re.I)
# "SubscribePAON: ..." loses the glued word; "Subscriber churn ..." is a real title and stays.
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?=\S)(?!(?:r|rs|d|s)(?![a-z]))")
# A line this long is an abstract whatever the title before it.
ABSTRACT_MIN = 200
# A line this much longer than the title before it is that title's abstract.
ABSTRACT_RATIO = 1.8
CHECK_CHARS = 1 << 16  # how much of a file is parsed up front to check it holds papers


class DigestError(Exception):
    """A digest that cannot be read; ``str()`` is ``PATH: what is wrong``."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(f"{os.fspath(path)}: {message}")
        self.path = os.fspath(path)
        self.message = message


@dataclass
class Library:
    """Papers from one or more digests, each paper once, in file order."""

    papers: list[Paper] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Other files a paper also appeared in (its first file is ``Paper.source``).
    also_in: dict[str, list[str]] = field(default_factory=dict)
    # A hash of the bytes parsed (every file, in order, and the encoding) when the papers
    # are exactly what LibraryLoader made of them: they follow from it (reader.index.cache).
    content_key: str | None = None
    encoding: str | None = None  # what the digests were read as (None: UTF-8)
    # The papers' index from the files' segments (reader.index.segments), when they were read that way.
    segments: Combined | None = field(default=None, repr=False, compare=False)

    def raw_index(self) -> RawIndex | None:
        """The index of the digests' papers from their segments (built and cached for files that had
        none), or None when the papers were not read through segments (then build it from them)."""
        if self.segments is None or self.segments.library is not self:
            return None
        return self.segments.index_now()

    def save_segments(self, stop: Callable[[], bool] | None = None) -> None:
        """Cache what this open built that the next one can use (a merged run of segments): after search is ready."""
        if self.segments is not None:
            self.segments.save(stop)


# A line that ends a sentence (or holds a URL) reads as an abstract, however short.
_PROSE_END = re.compile(r"\.[)\]\"'”’]*$|https?://", re.I)
# How many odd-entry warnings are kept one by one; the rest are counted in one last line.
MAX_WARNINGS = 10
_MORE = re.compile(r"^\.\.\. and (\d+) more odd entr(?:y|ies) not listed$")


def _much_longer(line: str, title: str) -> bool:
    return len(line) >= ABSTRACT_MIN or len(line) >= ABSTRACT_RATIO * len(title) + 20


def _reads_as_abstract(line: str, title: str) -> bool:
    """Whether ``line``, following ``title``, is its abstract: it reads as prose or is much longer."""
    return _much_longer(line, title) or bool(_PROSE_END.search(line))


def _made_up_title(abstract: str) -> str:
    """A title for an abstract whose title line is missing: its start, cut at a word."""
    if len(abstract) <= 80:
        return abstract
    return abstract[:80].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def add_warning(warnings: list[str], message: str) -> None:
    """Add a warning; past MAX_WARNINGS, only count it in the list's last line."""
    if len(warnings) < MAX_WARNINGS:
        warnings.append(message)
        return
    more = _MORE.match(warnings[-1]) if len(warnings) > MAX_WARNINGS else None
    count = int(more.group(1)) + 1 if more else 1
    line = f"... and {count} more odd entr{'y' if count == 1 else 'ies'} not listed"
    if more:
        warnings[-1] = line
    else:
        warnings.append(line)


def add_warnings(warnings: list[str], more: list[str]) -> None:
    """Add another list's warnings, its count of unlisted ones too: what ``add_warning`` gives, one by one.

    A list with a count listed MAX_WARNINGS of its own first, so ``warnings`` is full by its count.
    """
    for message in more:
        counted = _MORE.match(message)
        if counted is None:
            add_warning(warnings, message)
            continue
        last = _MORE.match(warnings[-1]) if len(warnings) > MAX_WARNINGS else None
        total = (int(last.group(1)) if last else 0) + int(counted.group(1))
        line = f"... and {total} more odd entr{'y' if total == 1 else 'ies'} not listed"
        if last:
            warnings[-1] = line
        else:
            warnings.append(line)


# A line ends at LF, CRLF, or a bare CR (old Mac files), never inside a line.
_LINE_END = re.compile(r"\r\n?|\n")


def _split_lines(text: str) -> list[str]:
    """``text`` cut at its line ends; CRLF-only text (most files) by the faster ``str.split``,
    each line keeping its CR, which the caller strips."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return _LINE_END.split(text)
    return text.split("\n")


def _content_lines(text: str | Iterable[str], cleaned: bool) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines, the service's header lines left out."""
    seen_paper = False
    lines = _split_lines(text) if isinstance(text, str) else text
    for number, raw in enumerate(lines, start=1):
        line = raw.strip() if cleaned else clean_line(raw.rstrip("\r")).strip()
        if not line:
            continue
        if not line.isascii():
            # One spelling of each text (é as one code point), so exact search finds it however typed.
            line = unicodedata.normalize("NFC", line)
        if not seen_paper:
            if _HEADER.match(line):
                continue
            line = _GLUED_SUBSCRIBE.sub("", line).strip()
            if not line:
                continue
            seen_paper = True
        yield number, line


def iter_entries(
    text: str | Iterable[str], source: str, warnings: list[str], cleaned: bool = False
) -> Iterator[tuple[str, str]]:
    """Yield (title, abstract) pairs from digest text (or its lines), adding warnings for odd entries.

    Lines alternate, title then abstract; the alternation is trusted except where it is
    clearly broken. The line after a title is its abstract when it reads as one (it ends
    a sentence, holds a URL, or is much longer than the title), so short abstracts stay
    abstracts. Otherwise that line is the next title and the first keeps an empty
    abstract (a warning). A long line where a title belongs, with no longer line after
    it, is an abstract whose title is missing: it is kept under its first words (a
    warning). ``cleaned`` says the lines already went through ``clean_line`` (as
    ``_read_lines`` yields them). Past MAX_WARNINGS, warnings are only counted.
    """
    lines = _content_lines(text, cleaned)
    current = next(lines, None)
    while current is not None:
        number, line = current
        following = next(lines, None)
        after = following[1] if following is not None else None
        if len(line) >= ABSTRACT_MIN and (after is None or len(after) <= len(line)):
            add_warning(warnings, f"{source}:{number}: abstract with no title: {line[:60]}")
            yield _made_up_title(line), line
            current = following
        elif after is not None and _reads_as_abstract(after, line):
            yield line, after
            current = next(lines, None)
        else:
            add_warning(warnings, f"{source}:{number}: title with no abstract: {line[:60]}")
            yield line, ""
            current = following


def parse_digest(text: str, source: str = "") -> tuple[list[tuple[str, str]], list[str]]:
    """Split digest text into (title, abstract) pairs, with warnings for odd entries."""
    warnings: list[str] = []
    entries = list(iter_entries(text, source, warnings))
    return entries, warnings


def expand_paths(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """Turn files and folders into the list of digest files, checking each exists.

    A folder stands for its digests (``*.txt``, ``*.jsonl``, feeds, emails), newest name
    first (daily digests are named by date). ``-`` stands for the standard input.
    """
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if str(given) == STDIN:
            files.append(path)
        elif path.is_dir():
            try:
                found = sorted(
                    (p for p in path.iterdir() if p.suffix in DIGEST_SUFFIXES and p.is_file()),
                    reverse=True,
                )
            except OSError as err:
                raise DigestError(path, f"cannot list folder: {err.strerror}") from None
            if not found:
                raise DigestError(path, "folder has no *.txt digests in it (nor .jsonl, .rss, .eml, ...)")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise DigestError(path, "no such file or folder")
    return files


CHUNK = 8 << 20  # bytes read at a time from a digest
STDIN = "-"  # the path that names the standard input
# Files kept open from their check to their parse (so one deleted meanwhile is still read);
# past this many, a file is opened again to be parsed.
KEEP_OPEN = 128


def _open(path: Path, encoding: str | None = None) -> tuple[IO[bytes], bool]:
    """A digest opened for reading, and whether it is a regular file.

    Anything else (a pipe, ``/dev/stdin``, ``<(command)``, ``-``, a terminal) can be read only
    once: it is read whole here and handed back as bytes in memory, once its first bytes
    showed it is text (``/dev/urandom`` through a pipe is refused after one chunk). A device
    (``/dev/zero``) is refused before anything is read: it never ends.
    """
    try:
        if str(path) == STDIN:
            _refuse_device(path, sys.stdin.buffer)
            return _read_stream(path, sys.stdin.buffer, encoding), False
        mode = path.stat().st_mode
        if stat.S_ISBLK(mode):
            raise DigestError(path, "a device, not a digest")
        handle = path.open("rb")
        if stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return handle, True
        with handle:
            _refuse_device(path, handle)
            return _read_stream(path, handle, encoding), False
    except IsADirectoryError:
        raise DigestError(path, "is a folder, not a digest file") from None
    except PermissionError:
        raise DigestError(path, "permission denied") from None
    except OSError as err:
        raise DigestError(path, f"cannot read: {err.strerror or err}") from None


def _refuse_device(path: Path, handle: IO[bytes]) -> None:
    """DigestError for a device that is not a terminal (a terminal ends when its user types ctrl+d)."""
    mode = os.fstat(handle.fileno()).st_mode
    if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and not handle.isatty():
        raise DigestError(path, "a device, not a digest")


def _read_stream(path: Path, handle: IO[bytes], encoding: str | None) -> io.BytesIO:
    """All of a stream, after its first HEAD bytes showed it is not binary."""
    head = handle.read(decoding.HEAD)
    if decoding.looks_binary(head, encoding):
        raise DigestError(path, "binary file, not a text digest")
    return io.BytesIO(head + handle.read())


def _total_size(handle: IO[bytes]) -> int:
    if isinstance(handle, io.BytesIO):
        return len(handle.getbuffer())
    return os.fstat(handle.fileno()).st_size


def _decoder(path: Path, encoding: str | None) -> codecs.IncrementalDecoder:
    if encoding is not None:
        try:
            decoding.text_encoding(encoding)
        except decoding.EncodingProblem as err:
            raise DigestError(path, str(err)) from None
    return codecs.getincrementaldecoder(encoding or "utf-8-sig")("strict")


def _held(decoder: codecs.IncrementalDecoder) -> int:
    """How many bytes of the last chunk the decoder holds, waiting for the rest of a character."""
    state = decoder.getstate()
    return len(state[0]) if isinstance(state, tuple) and state and isinstance(state[0], bytes) else 0


def _decode(path: Path, decoder: codecs.IncrementalDecoder, chunk: bytes, offset: int, encoding: str | None) -> str:
    """The next chunk's text (``b""``: the end of the file), the file's ``offset`` bytes in;
    DigestError naming where the bad bytes start if it does not decode."""
    held = _held(decoder)  # an error's position counts from the bytes held back
    try:
        return decoder.decode(chunk, final=not chunk)
    except UnicodeDecodeError as err:
        raise _bad_bytes(path, err, offset - held, encoding) from None
    except (UnicodeError, ValueError) as err:  # UTF-16 without a byte-order mark, say
        raise DigestError(path, decoding.cannot_decode(encoding or "utf-8", err)) from None


def _bad_bytes(path: Path, err: UnicodeDecodeError, offset: int, encoding: str | None) -> DigestError:
    where = offset + err.start
    if encoding is None:
        return DigestError(
            path,
            f"not UTF-8 text (bad byte 0x{err.object[err.start]:02x} at offset {where}); convert it or pass --encoding",
        )
    return DigestError(path, f"not valid {encoding} text (offset {where})")


def _check_file(path: Path, encoding: str | None, whole: bool, handle: IO[bytes]) -> int:
    """Read a digest once, keeping nothing but its start: raise DigestError if it is unusable.

    The ``handle`` is left at the file's start again, for the parse.

    Returns its size in bytes. With ``whole`` false, only the first CHUNK is read: bytes
    that do not decode further on are then reported by the parse (``_read_lines``), for
    callers that show nothing before the parse ends (the command line).
    """
    decoder = _decoder(path, encoding)
    fast = _is_utf8(encoding)
    head: list[str] = []
    head_chars = 0
    size = 0
    blank = True
    try:
        while chunk := handle.read(CHUNK):
            if size == 0:
                if encoding is None and chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                    raise DigestError(path, "UTF-16 text, not UTF-8; convert it or pass --encoding utf-16")
                if decoding.looks_binary(chunk, encoding):
                    raise DigestError(path, "binary file, not a text digest")
            if fast and chunk.isascii() and not _held(decoder):
                # Decodes to itself: no need to build the text of a big file just to check it.
                # One byte goes through the decoder all the same: a utf-8-sig decoder that
                # saw nothing yet would take a U+FEFF opening a later chunk for the file's BOM.
                decoder.decode(chunk[:1])
                text = chunk[: max(0, CHECK_CHARS - head_chars)].decode("ascii")
                blank = blank and not chunk.translate(None, _ASCII_SPACES)
            else:
                text = _decode(path, decoder, chunk, size, encoding)
                blank = blank and not text.strip()
            size += len(chunk)
            if head_chars < CHECK_CHARS:
                head.append(text[: CHECK_CHARS - head_chars])
                head_chars += len(head[-1])
            if not whole:
                rest = _total_size(handle) - size
                if rest > 0:  # not read: whether it decodes, or is blank, the parse tells
                    size += rest
                    blank = False
                    break
        else:
            _decode(path, decoder, b"", size, encoding)
    except OSError as err:
        raise DigestError(path, f"cannot read: {err.strerror or err}") from None
    handle.seek(0)
    if size == 0:
        raise DigestError(path, "empty file, no papers in it")
    if blank:
        raise DigestError(path, "only whitespace, no papers in it")
    start = "".join(head).removeprefix("\ufeff")
    # No paper in the first CHECK_CHARS: only then is the whole text worth reading.
    if not list(islice(iter_entries(start, str(path), []), 1)) and (
        size <= CHECK_CHARS or not _has_entry(path, encoding, handle)
    ):
        raise DigestError(path, "no papers found (expected a title line then its abstract line)")
    return size


def _has_entry(path: Path, encoding: str | None, handle: IO[bytes]) -> bool:
    found = bool(list(islice(iter_entries(_read_lines(path, encoding, handle), str(path), [], True), 1)))
    handle.seek(0)
    return found


def _read_lines(path: Path, encoding: str | None, handle: IO[bytes], hasher: Any = None) -> Iterator[str]:
    """The lines of a digest through ``clean_line``, read and decoded a chunk at a time.

    A UTF-8 chunk with nothing to clean (the usual digest) is checked in one pass over
    its bytes and its lines are yielded as they are; only other chunks are cleaned line by line.
    """
    decoder = _decoder(path, encoding)
    fast = _is_utf8(encoding)
    rest = ""
    first = True
    offset = 0
    while chunk := _read(path, handle):
        if hasher is not None:
            hasher.update(chunk)
        # A file checked only at its start (see _check_file) may not decode further on.
        text = rest + _decode(path, decoder, chunk, offset, encoding)
        offset += len(chunk)
        if first:
            text, first = text.removeprefix("\ufeff"), False
        held = ""
        if text.endswith("\r"):  # a CR that ends the chunk: its LF may open the next one
            text, held = text[:-1], "\r"
        lines = _split_lines(text)
        rest = lines.pop() + held
        if not lines:
            continue
        # The first line began in the chunk before (rest): it is cleaned whatever this chunk holds.
        lines[0] = clean_line(lines[0].rstrip("\r"))
        if not (fast and _needs_no_cleaning(chunk)):
            lines[1:] = [clean_line(line.rstrip("\r")) for line in lines[1:]]
        yield from lines
    rest += _decode(path, decoder, b"", offset, encoding)
    yield from (clean_line(line.rstrip("\r")) for line in _split_lines(rest))


def _read(path: Path, handle: Any) -> bytes:
    try:
        return handle.read(CHUNK)
    except OSError as err:
        raise DigestError(path, f"cannot read: {err.strerror or err}") from None


_ASCII_SPACES = bytes(c for c in range(128) if chr(c).isspace())  # what str.strip() strips of ASCII
# The bytes that start, in UTF-8, a character clean_line removes: C0 controls but the newline,
# DEL, and the lead bytes of C1 controls (0xc2), of line separators and bidi controls (0xe2)
# and of the byte-order mark (0xef).
_SUSPECT = bytes([*range(0x0A), *range(0x0B, 0x20), 0x7F, 0xC2, 0xE2, 0xEF])
_NOT_SUSPECT = bytes(c for c in range(256) if c not in _SUSPECT)
_UTF8 = {"utf-8", "utf-8-sig"}


def _is_utf8(encoding: str | None) -> bool:
    if encoding is None:
        return True
    try:
        return codecs.lookup(encoding).name in _UTF8
    except LookupError:
        return False


def _needs_no_cleaning(chunk: bytes) -> bool:
    """Whether no line of this UTF-8 chunk has anything for clean_line to remove.

    One pass over the bytes; a carriage return only before a newline is allowed (it is
    stripped with the line). A chunk with any suspect byte is cleaned line by line.
    """
    left = chunk.translate(None, _NOT_SUSPECT)
    return not left or (left.count(b"\r") == len(left) and chunk.count(b"\r\n") == len(left))


def read_digest(path: str | os.PathLike[str], encoding: str | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """Read one digest file into (title, abstract) pairs and warnings; raise DigestError."""
    path = Path(path)
    handle, _regular = _open(path, encoding)
    with handle:
        _check_file(path, encoding, True, handle)
        warnings: list[str] = []
        entries = list(iter_entries(_read_lines(path, encoding, handle), str(path), warnings, True))
    return entries, warnings


def _add_paper(
    library: Library, index: dict[str, Paper], source: str, title: str, abstract: str, meta: PaperMeta | None = None
) -> Paper | None:
    """Add a paper to the library; None when it is there already (its longest abstract kept).

    A paper is known by its folded title, and also by its arXiv id when a source gives one
    (a retitled paper stays one paper).
    """
    pid = paper_id(title)
    arxiv = f"arxiv:{meta.arxiv_id.lower()}" if meta is not None and meta.arxiv_id else ""
    known = index.get(pid) or (index.get(arxiv) if arxiv else None)
    if known is not None:
        if len(abstract) > len(known.abstract):
            known.abstract = abstract
        if known.meta is None and meta is not None:
            known.meta = meta
        if arxiv:
            index.setdefault(arxiv, known)
        _also_in(library, known, source)
        return None
    paper = Paper(pid, title, abstract, source, len(library.papers), meta=meta)
    index[pid] = paper
    if arxiv:
        index[arxiv] = paper
    library.papers.append(paper)
    return paper


def _also_in(library: Library, paper: Paper, source: str) -> None:
    if source != paper.source:
        others = library.also_in.setdefault(paper.id, [])
        if source not in others:
            others.append(source)


def _read_structured(path: Path, handle: IO[bytes], encoding: str | None) -> tuple[formats.Parsed, int] | None:
    """A JSON-lines, feed or email file read whole and parsed, with its size; None for a text digest."""
    try:
        head = handle.read(4096)
        handle.seek(0)
        kind = formats.sniff(path.suffix, head)
        if kind == formats.TEXT:
            return None
        with handle:
            data = handle.read()
    except OSError as err:
        raise DigestError(path, f"cannot read: {err.strerror or err}") from None
    if not data.strip():
        raise DigestError(path, "empty file, no papers in it")
    try:
        parsed = reading.parse(kind, data, str(path), encoding)
    except formats.FormatError as err:
        raise DigestError(path, str(err)) from None
    for before, lines in reversed(parsed.texts):  # an email's text, read as a text digest
        found = [formats.Entry(t, a) for t, a in iter_entries(lines, str(path), parsed.warnings)]
        parsed.entries[before:before] = found
    if not parsed.entries:
        # What was wrong with the first entry skipped: "line 1: JSON nested too deeply, skipped".
        why = parsed.warnings[0].removeprefix(f"{path}").removeprefix(":").strip() if parsed.warnings else ""
        why = f"line {why}" if why[:1].isdigit() else why
        raise DigestError(path, f"no papers found in this {kind} file" + (f" ({why})" if why else ""))
    return parsed, len(data)


@dataclass
class _Part:
    """A segment in an open: where its papers went (``papers[k]``: the library's number of its paper k;
    ``first[k]``: whether that copy is the paper's first), and what is left to do with it."""

    segment: Segment
    papers: np.ndarray
    first: np.ndarray
    sig: str | None = None
    save: bool = False  # to be cached once indexed


class Combined:
    """The segments of an open, combined into one library: the same paper in two files is one paper.

    The rules are ``_add_paper``'s, applied to each segment's papers in file order: a paper
    keeps its first place and title, the longest abstract (the first of equals) and the first
    meta; the other files it was in are noted. ``index`` merges the segments' indexes to match.
    """

    def __init__(self, library: Library, cache: SegmentCache, given: list[str], encoding: str | None) -> None:
        self.library = library
        self.cache = cache
        self.given = given
        self.encoding = encoding
        self.index_of: dict[str, Paper] = {}  # by id and by arXiv id, as _add_paper keeps them
        self.indexed = 0  # how many of the library's papers index_of holds
        self.parts: list[_Part] = []
        self.first_part: list[int] = []  # per paper: the part of its first copy, and where in it
        self.first_local: list[int] = []
        self.abstract_part: list[int] = []  # per paper: the part whose copy gave its abstract
        self.abstract_local: list[int] = []
        self._unlisted = 0  # the first part's papers, one each in order, not in those lists yet (see _listed)
        self.files: list[tuple[str | None, str]] = []  # per file: stat signature, key
        self.file_warnings: list[list[str]] = []
        self.complete = False  # every file has a key: the whole run can be cached merged
        self.builder: Any = None  # indexes the files parsed, as they are parsed (reader.index.build)
        self.engine: Any = None  # the engine the helper built, when one part holds every paper
        self._index: RawIndex | None = None
        self._together: tuple[list[Segment], RawIndex] | None = None  # files parsed, indexed as one

    @property
    def index(self) -> dict[str, Paper]:
        """Papers by id and by arXiv id, for the next segment's copies to be found in."""
        for paper in self.library.papers[self.indexed :]:
            self.index_of.setdefault(paper.id, paper)
            if paper.public_id != paper.id:
                self.index_of.setdefault(f"arxiv:{paper.public_id.lower()}", paper)
        self.indexed = len(self.library.papers)
        return self.index_of

    def add(self, seg: Segment, files: list[tuple[str | None, str]]) -> list[Paper]:
        """Combine a segment's papers into the library; the papers new to it."""
        library = self.library
        for k, path in enumerate(seg.files):
            library.files.append(path)
            add_warnings(library.warnings, seg.warnings[k])
            self.file_warnings.append(seg.warnings[k])
        self.files.extend(files)
        s = len(self.parts)
        m = len(seg.papers)
        if not library.papers:
            library.papers.extend(seg.papers)
            for p, f in seg.also_in:
                _also_in(library, seg.papers[p], seg.files[f])
            self._register(s, range(m))
            self.parts.append(_Part(seg, np.arange(m, dtype=np.int64), np.ones(m, dtype=bool)))
            return list(seg.papers)
        index = self.index  # every paper before this segment's
        also: dict[int, list[str]] = {}
        for p, f in seg.also_in:
            also.setdefault(p, []).append(seg.files[f])
        keys = [
            f"arxiv:{p.meta.arxiv_id.lower()}" if p.meta is not None and p.meta.arxiv_id else "" for p in seg.papers
        ]
        # A segment's papers are each other's copies never (its own parse kept one of each): only
        # copies of earlier papers are merged one by one; the others go in at once, in order.
        seen = [k for k, (p, key) in enumerate(zip(seg.papers, keys)) if p.id in index or (key and key in index)]
        self._listed()
        placed = np.empty(m, dtype=np.int64)
        first = np.ones(m, dtype=bool)
        first[seen] = False
        fresh = np.flatnonzero(first)
        start = len(library.papers)
        new = [seg.papers[k] for k in fresh.tolist()] if seen else list(seg.papers)
        for order, paper in enumerate(new, start):
            paper.order = order
        library.papers.extend(new)
        placed[fresh] = np.arange(start, start + len(new))
        fresh_list = fresh.tolist()
        self.first_part.extend([s] * len(new))
        self.first_local.extend(fresh_list)
        self.abstract_part.extend([s] * len(new))
        self.abstract_local.extend(fresh_list)
        for local in also.keys() & set(fresh_list):
            for source in also[local]:
                _also_in(library, seg.papers[local], source)
        for local in seen:
            paper, arxiv = seg.papers[local], keys[local]
            known = index.get(paper.id) or index[arxiv]
            g = placed[local] = known.order
            longer = len(paper.abstract) > len(known.abstract)
            meta = known.meta is None and paper.meta is not None
            if longer or meta:
                self._detach(g, known)
            if longer:
                known.abstract = paper.abstract
                self.abstract_part[g], self.abstract_local[g] = s, local
            if meta:
                known.meta = paper.meta
            if arxiv:
                index.setdefault(arxiv, known)
            for source in (paper.source, *also.get(local, ())):
                _also_in(library, known, source)
        self.parts.append(_Part(seg, placed, first))
        return new

    def add_parsed(self, seg: Segment, sig: str | None, key: str | None, first: bool) -> list[Paper]:
        """Combine a segment just parsed (``first``: its papers went straight into the library as read);
        its index is built later, by ``index``, unless the cache has it already (the file was renamed)."""
        if key is not None:
            cached = self.cache.load(key, seg.files)
            if cached is not None and len(cached.papers) == len(seg.papers):
                seg.index = cached.index
                self.cache.remember_file(sig, key)
        if first:
            m = len(seg.papers)
            self.file_warnings.append(seg.warnings[0])
            self.files.append((sig, key or ""))
            self.indexed = len(self.library.papers)
            self._register(len(self.parts), range(m))
            self.parts.append(_Part(seg, np.arange(m, dtype=np.int64), np.ones(m, dtype=bool)))
            new: list[Paper] = []
        else:
            new = self.add(seg, [(sig, key or "")])
        part = self.parts[-1]
        part.sig, part.save = sig, key is not None and seg.index is None
        return new

    def _register(self, s: int, locals_: range) -> None:
        if s == 0 and not self.first_part and locals_.start == 0:
            self._unlisted = len(locals_)  # one segment alone never needs them: listed when a second comes
            return
        self._listed()
        self.first_part.extend([s] * len(locals_))
        self.first_local.extend(locals_)
        self.abstract_part.extend([s] * len(locals_))
        self.abstract_local.extend(locals_)

    def _listed(self) -> None:
        """Put the first part's papers in the per-paper lists (a million papers cost a tenth of a second)."""
        m, self._unlisted = self._unlisted, 0
        if m:
            self.first_part.extend([0] * m)
            self.first_local.extend(range(m))
            self.abstract_part.extend([0] * m)
            self.abstract_local.extend(range(m))

    def _detach(self, g: int, known: Paper) -> None:
        """Before a paper takes a later copy's abstract or meta: a segment still to be indexed and
        cached keeps its own copy as its file has it."""
        self._listed()
        part = self.parts[self.first_part[g]]
        if part.segment.index is None or part.save:
            part.segment.papers[self.first_local[g]] = replace(known)

    def finish(self, keys_known: bool) -> None:
        """Every file is in: note whether the whole run could be cached merged."""
        self.complete = keys_known or all(key for _sig, key in self.files)

    def index_now(self) -> RawIndex:
        """The index of the library's papers: the segments' indexes (the files parsed indexed first), merged."""
        if self._index is not None:
            return self._index
        unbuilt = [part.segment for part in self.parts if part.segment.index is None]
        if unbuilt:
            papers = [p for seg in unbuilt for p in seg.papers]
            if self.builder is not None:
                self.engine = self.builder.engine(papers)
                together = RawIndex.of(self.engine)
                self.builder = None
            else:
                together = RawIndex.build(papers)
            if len(unbuilt) == 1:
                unbuilt[0].index = together
            else:  # cut apart for the cache once search is ready (see save)
                self._together = (unbuilt, together)
        if len(self.parts) == 1:
            only = self.parts[0].segment.index
            assert only is not None
            self._index = only
            return only
        self.engine = None
        self._index = self._merge()
        return self._index

    def _merge(self) -> RawIndex:
        self._listed()
        papers = self.library.papers
        n = len(papers)
        abstract_part = np.array(self.abstract_part, dtype=np.int64)
        abstract_local = np.array(self.abstract_local, dtype=np.int64)
        ascii_flags = np.zeros(n, dtype=bool)
        pieces: list[tuple[RawIndex, list[int]]] = []
        together = self._together
        for s, part in enumerate(self.parts):
            if part.segment.index is not None:
                pieces.append((part.segment.index, [s]))
        if together is not None:
            ids = {id(seg) for seg in together[0]}
            pieces.append((together[1], [s for s, part in enumerate(self.parts) if id(part.segment) in ids]))
        parts = []
        for index, numbers in pieces:
            placed = np.concatenate([self.parts[s].papers for s in numbers])
            first = np.concatenate([self.parts[s].first for s in numbers])
            keep = np.concatenate(
                [_abstract_keep(abstract_part, abstract_local, s, len(self.parts[s].papers)) for s in numbers]
            )
            ascii_flags[placed[first]] = index.ascii[first]
            parts.append(Part(index, placed, first, keep))
        for g in np.flatnonzero(abstract_part != np.array(self.first_part, dtype=np.int64)).tolist():
            ascii_flags[g] = papers[g].title.isascii() and papers[g].abstract.isascii()
        return merge(parts, n, ascii_flags)

    def save(self, stop: Callable[[], bool] | None = None) -> None:
        """Cache the segments parsed on this open, and the whole run merged when that pays (see
        reader.index.segments.worth_merging). Called once search is ready: it only saves time later."""
        if self._together is not None:
            segments, together = self._together
            self._together = None
            bounds = [0, *accumulate(len(seg.papers) for seg in segments)]
            for seg, index in zip(segments, split(together, bounds)):
                seg.index = index
        saved = False
        for part in self.parts:
            if part.save and part.segment.index is not None:
                part.save = False
                if self.cache.save(part.segment, stop):
                    self.cache.remember_file(part.sig, part.segment.key)
                    saved = True
        sizes = [len(part.segment.papers) for part in self.parts]
        if not (self.complete and worth_merging(sizes)):
            if saved:
                self.cache.prune()  # once per open, whatever was written (a big single file too)
            return
        library = self.library
        keys = [key for _sig, key in self.files]
        where = {path: k for k, path in reversed(list(enumerate(library.files)))}
        also_in = [
            (p.order, where[source])
            for p in library.papers
            for source in library.also_in.get(p.id, ())
            if source in where
        ]
        merged = Segment(
            set_key(keys),
            keys,
            list(library.files),
            list(library.papers),
            np.array([where.get(p.source, 0) for p in library.papers], dtype=np.int32),
            also_in,
            self.file_warnings,
            self.index_now(),
        )
        if self.cache.save(merged, stop):
            self.cache.remember_set(paths_signature(self.given, self.encoding), merged.key, self.files)


def _abstract_keep(abstract_part: np.ndarray, abstract_local: np.ndarray, s: int, m: int) -> np.ndarray:
    """Which of part ``s``'s ``m`` copies gave their paper its abstract."""
    keep = np.zeros(m, dtype=bool)
    keep[abstract_local[abstract_part == s]] = True
    return keep


@dataclass
class _File:
    """A digest to open: checked (``handle`` kept open, or ``parsed`` for a structured file), or
    recognised by its stat signature as the file of a cached segment (``key``; not read at all)."""

    path: Path
    handle: IO[bytes] | None
    size: int
    parsed: formats.Parsed | None = None
    sig: str | None = None  # stat signature (None: not a regular file, or no segment cache)
    key: str | None = None  # the key of its segment, when known


class LibraryLoader:
    """Digests checked up front (errors before any UI), then parsed in batches, streaming.

    The check reads each file once without keeping its text (emptiness, binary,
    encoding, at least one paper at its start); :meth:`batches` then reads it again
    in chunks and yields papers as it goes, so the app can show the first ones while
    the rest load on a worker, and a big file is never held whole in memory. A file
    stays open from its check to its parse, so one deleted in between is still read;
    a pipe or the standard input is read once, at the check, and parsed from memory.

    With a ``segments`` cache (reader.index.segments), a file whose stat signature names a
    cached segment is neither checked nor parsed: its papers and index come from the segment
    (it was checked when the segment was built, and has not changed since). The files read
    are parsed into segments of their own, indexed (``Library.raw_index``) and cached.
    """

    def __init__(
        self,
        paths: list[str | os.PathLike[str]],
        encoding: str | None = None,
        check_whole: bool = True,
        segments: SegmentCache | None = None,
        builder: Any = None,
    ) -> None:
        """Check the files (``check_whole`` false: only their start, see ``_check_file``).

        ``builder`` (reader.index.build.IndexBuilder): indexes the one file to parse in a helper process.
        """
        self.files = expand_paths(paths)
        self.encoding = encoding
        self.size = 0
        self.segments = segments
        self.builder = builder
        self._given = [os.fspath(p) for p in paths]
        self._cancel = False
        self._pending: list[_File] = []
        self._last_set: tuple[str, list[tuple[str, str]]] | None = None
        # Hashing the bytes stands for them (reader.index_cache) only where a file can be read again.
        self.regular = True
        try:
            known: dict[str, str] = {}
            if segments is not None:
                self._last_set = segments.last_set(paths_signature(self._given, encoding))
                known = dict(self._last_set[1]) if self._last_set is not None else {}
            for path in self.files:
                sig = stat_signature(path, encoding) if segments is not None and str(path) != STDIN else None
                key = known.get(sig) if sig is not None else None
                if sig is not None and key is None and segments is not None:
                    key = segments.file_key(sig)
                if key is not None:
                    try:
                        size = path.stat().st_size
                    except OSError:
                        size = 0
                    self.size += size
                    self._pending.append(_File(path, None, size, None, sig, key))
                    continue
                handle, regular = _open(path, encoding)
                self.regular = self.regular and regular
                if not regular:
                    sig = None
                structured = _read_structured(path, handle, encoding)
                if structured is not None:
                    parsed, size = structured
                    self.size += size
                    self._pending.append(_File(path, None, size, parsed, sig))
                    continue
                size = _check_file(path, encoding, check_whole, handle)
                self.size += size
                kept: IO[bytes] | None = handle
                if regular and len(self._pending) >= KEEP_OPEN:
                    handle.close()
                    kept = None
                self._pending.append(_File(path, kept, size, None, sig))
        except BaseException:
            self.close()
            raise

    def cancel(self) -> None:
        """Stop reading cached segments (the app is quitting): :meth:`batches` raises LoadCancelled soon."""
        self._cancel = True

    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancel

    def close(self) -> None:
        """Close the files not parsed yet (a loader dropped before :meth:`batches` ran)."""
        for file in self._pending:
            if file.handle is not None:
                file.handle.close()
        self._pending = []

    def batches(self, library: Library, batch: int = 5000) -> Iterator[tuple[list[Paper], float]]:
        """Parse into ``library``; yield each batch of new papers and the fraction done."""
        if self.segments is not None and not library.papers:
            yield from self._segment_batches(library, self.segments, batch)
            return
        for new, progress in self._flat_batches(library, batch):
            if self.builder is not None:
                self.builder.add(new)
            yield new, progress

    def _flat_batches(self, library: Library, batch: int) -> Iterator[tuple[list[Paper], float]]:
        index: dict[str, Paper] = {p.id: p for p in library.papers}
        index.update((f"arxiv:{p.public_id.lower()}", p) for p in library.papers if p.public_id != p.id)
        # The content key holds only if this loader makes all of the library's papers.
        content = (
            hashlib.blake2b(f"{self.encoding}\n".encode(), digest_size=20)
            if not library.papers and self.regular
            else None
        )
        library.encoding = self.encoding
        done = 0
        while self._pending:
            file = self._pending.pop(0)
            path, size = file.path, file.size
            if file.parsed is not None:
                new = self._add_structured(library, index, path, file.parsed, content)
            else:
                handle = file.handle
                if handle is None:
                    handle, _regular = _open(path)
                with handle:
                    new = yield from self._parse(library, index, path, handle, done, batch, content)
            done += size
            if not self._pending and content is not None:
                library.content_key = content.hexdigest()
            yield new, min(1.0, done / max(self.size, 1))

    def _segment_batches(
        self, library: Library, cache: SegmentCache, batch: int
    ) -> Iterator[tuple[list[Paper], float]]:
        """The files' papers from their cached segments, parsing (into new segments) only the files without one."""
        library.encoding = self.encoding
        files, self._pending = self._pending, []
        combined = Combined(library, cache, self._given, self.encoding)
        library.segments = combined
        keys = [f.key for f in files]
        total = max(self.size, 1)
        run = self._cached_run(files, cache)
        to_parse = [f for k, f in enumerate(files) if f.key is None or not (run and run[0] <= k < run[1])]
        combined.builder = self.builder
        if self.builder is not None and not to_parse:
            self.builder.close()
        done = 0
        k = 0
        while k < len(files):
            if run is not None and k == run[0]:
                start, end, key = run
                seg = cache.load(key, [str(f.path) for f in files[start:end]], merged=True, stop=self.cancelled)
                if seg is not None:
                    new = combined.add(seg, [(f.sig, f.key or "") for f in files[start:end]])
                    done += sum(f.size for f in files[start:end])
                    for from_ in range(0, max(len(new), 1), batch):
                        yield new[from_ : from_ + batch], min(1.0, done / total)
                    k = end
                    continue
                run = None  # unsound: its files one by one
            file = files[k]
            if self.cancelled():
                raise LoadCancelled
            seg = cache.load(file.key, [str(file.path)], stop=self.cancelled) if file.key is not None else None
            if seg is not None:
                if file.handle is not None:
                    file.handle.close()
                new = combined.add(seg, [(file.sig, file.key or "")])
            else:
                new = yield from self._parse_segment(combined, file, done, total, batch, self.builder)
            done += file.size
            yield new, min(1.0, done / total)
            k += 1
        combined.finish(keys_known=all(keys))

    def _cached_run(self, files: list[_File], cache: SegmentCache) -> tuple[int, int, str] | None:
        """Where a cached merged run of segments covers several of the files: (start, end, its key).

        All of them when their merged entry is there; else the run last opened from the same
        paths (yesterday's folder, before today's file), if its files are unchanged and side by side.
        """
        keys = [f.key for f in files]
        if len(files) > 1 and all(keys):
            whole = set_key([k for k in keys if k])
            if cache.has(whole, merged=True):
                return 0, len(files), whole
        if self._last_set is None:
            return None
        key, members = self._last_set
        sigs = [f.sig for f in files]
        wanted = [s for s, _k in members]
        for start in range(len(files) - len(wanted) + 1):
            if sigs[start : start + len(wanted)] == wanted:
                return start, start + len(wanted), key
        return None

    def _parse_segment(
        self, combined: Combined, file: _File, done: int, total: int, batch: int, builder: Any
    ) -> Generator[tuple[list[Paper], float], None, list[Paper]]:
        """Parse one file into a segment of its own (the first one streams straight into the library)."""
        path = file.path
        first = not combined.library.papers and not combined.parts
        local = combined.library if first else Library()
        index: dict[str, Paper] = combined.index if first else {}
        hasher = FileHasher(self.encoding) if file.sig is not None else None
        start = len(local.papers)
        if file.parsed is not None:
            new = self._add_structured(local, index, path, file.parsed, None)
            if builder is not None:
                builder.add(local.papers[start:])
            if hasher is not None:
                for entry in file.parsed.entries:
                    hasher.update(f"{entry}\n".encode("utf-8", "surrogatepass"))
        else:
            handle = file.handle
            if handle is None:
                handle, _regular = _open(path)
            feed = builder.add if builder is not None else None
            with handle:
                new = yield from self._parse(local, index, path, handle, done, batch, None, hasher, feed, total)
            if builder is not None:
                builder.add(new)
        if not first:
            local.files.clear()
        warnings = list(local.warnings) if not first else list(combined.library.warnings)
        papers = local.papers[start:]
        key = hasher.hexdigest() if hasher is not None else None
        seg = Segment(
            key or "",
            [key or ""],
            [str(path)],
            papers,
            np.zeros(len(papers), dtype=np.int32),
            [],
            [warnings],
            None,
        )
        added = combined.add_parsed(seg, file.sig, key, first)
        return new if first else added

    def _parse(
        self,
        library: Library,
        index: dict[str, Paper],
        path: Path,
        handle: IO[bytes],
        done: int,
        batch: int,
        content: Any,
        hasher: Any = None,
        feed: Any = None,
        total: int = 0,
    ) -> Generator[tuple[list[Paper], float], None, list[Paper]]:
        """One file's papers into ``library``, a batch at a time; returns the last (partial) batch."""
        source = str(path)
        library.files.append(source)
        new: list[Paper] = []
        consumed = 0
        file_hash = hasher if hasher is not None else hashlib.sha256()
        lines = _read_lines(path, self.encoding, handle, file_hash)
        total = total or max(self.size, 1)
        for title, abstract in iter_entries(lines, source, library.warnings, True):
            consumed += len(title) + len(abstract) + 2
            pid = paper_id(title)
            if pid in index:  # seen before: _add_paper keeps the longest abstract
                _add_paper(library, index, source, title, abstract)
                continue
            paper = Paper(pid, title, abstract, source, len(library.papers))  # the common case, inline
            index[pid] = paper
            library.papers.append(paper)
            new.append(paper)
            if len(new) >= batch:
                if feed is not None:
                    feed(new)
                yield new, min(1.0, (done + consumed) / total)
                new = []
        if content is not None:
            content.update(file_hash.digest())
        return new

    def _add_structured(
        self, library: Library, index: dict[str, Paper], path: Path, parsed: formats.Parsed, content: Any
    ) -> list[Paper]:
        """A structured file's papers (read at the check) into ``library``."""
        source = str(path)
        library.files.append(source)
        for warning in parsed.warnings:
            add_warning(library.warnings, warning)
        new: list[Paper] = []
        for entry in parsed.entries:
            if content is not None:
                content.update(f"{entry}\n".encode("utf-8", "surrogatepass"))
            paper = _add_paper(library, index, source, entry.title, entry.abstract, entry.meta)
            if paper is not None:
                new.append(paper)
        return new

    def load(self) -> Library:
        """Parse everything now."""
        library = Library()
        for _ in self.batches(library):
            pass
        return library


def load_library(paths: list[str | os.PathLike[str]], encoding: str | None = None, check_whole: bool = True) -> Library:
    """Load digests (files or folders) as one library; a paper in several files appears once.

    ``check_whole``: see LibraryLoader (either way, a file that is not usable raises DigestError).
    Every file is parsed (no segment cache: see reader.core.opening.read_digests for that).
    """
    return LibraryLoader(paths, encoding, check_whole).load()


def bundled_digest() -> Path:
    """Path of the sample digest shipped inside the package."""
    return Path(__file__).with_name("data") / "trending-papers.txt"
