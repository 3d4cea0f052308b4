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
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from reader.paper import Paper, PaperMeta, paper_id
from reader.sources import formats, reading
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


def _content_lines(text: str | Iterable[str], cleaned: bool) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines, the service's header lines left out."""
    seen_paper = False
    lines = text.split("\n") if isinstance(text, str) else text
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


def _open(path: Path) -> tuple[IO[bytes], bool]:
    """A digest opened for reading, and whether it is a regular file.

    Anything else (a pipe, ``/dev/stdin``, ``<(command)``, ``-``) can be read only once:
    it is read whole here and handed back as bytes in memory.
    """
    try:
        if str(path) == STDIN:
            return io.BytesIO(sys.stdin.buffer.read()), False
        handle = path.open("rb")
        if stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return handle, True
        with handle:
            return io.BytesIO(handle.read()), False
    except IsADirectoryError:
        raise DigestError(path, "is a folder, not a digest file") from None
    except PermissionError:
        raise DigestError(path, "permission denied") from None
    except OSError as err:
        raise DigestError(path, f"cannot read: {err.strerror or err}") from None


def _total_size(handle: IO[bytes]) -> int:
    if isinstance(handle, io.BytesIO):
        return len(handle.getbuffer())
    return os.fstat(handle.fileno()).st_size


def _decoder(path: Path, encoding: str | None) -> codecs.IncrementalDecoder:
    try:
        return codecs.getincrementaldecoder(encoding or "utf-8-sig")("strict")
    except LookupError:
        raise DigestError(path, f"unknown encoding {encoding!r}") from None


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
            if size == 0 and encoding is None:
                if chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                    raise DigestError(path, "UTF-16 text, not UTF-8; convert it or pass --encoding utf-16")
                if b"\0" in chunk[:65536]:
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
        lines = text.split("\n")
        rest = lines.pop()
        if not lines:
            continue
        # The first line began in the chunk before (rest): it is cleaned whatever this chunk holds.
        lines[0] = clean_line(lines[0].rstrip("\r"))
        if not (fast and _needs_no_cleaning(chunk)):
            lines[1:] = [clean_line(line.rstrip("\r")) for line in lines[1:]]
        yield from lines
    rest += _decode(path, decoder, b"", offset, encoding)
    yield from (clean_line(line.rstrip("\r")) for line in rest.split("\n"))


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
    handle, _regular = _open(path)
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
        if source != known.source:
            library.also_in.setdefault(known.id, []).append(source)
        return None
    paper = Paper(pid, title, abstract, source, len(library.papers), meta=meta)
    index[pid] = paper
    if arxiv:
        index[arxiv] = paper
    library.papers.append(paper)
    return paper


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
        raise DigestError(path, f"no papers found in this {kind} file")
    return parsed, len(data)


class LibraryLoader:
    """Digests checked up front (errors before any UI), then parsed in batches, streaming.

    The check reads each file once without keeping its text (emptiness, binary,
    encoding, at least one paper at its start); :meth:`batches` then reads it again
    in chunks and yields papers as it goes, so the app can show the first ones while
    the rest load on a worker, and a big file is never held whole in memory. A file
    stays open from its check to its parse, so one deleted in between is still read;
    a pipe or the standard input is read once, at the check, and parsed from memory.
    """

    def __init__(
        self, paths: list[str | os.PathLike[str]], encoding: str | None = None, check_whole: bool = True
    ) -> None:
        """Check the files (``check_whole`` false: only their start, see ``_check_file``)."""
        self.files = expand_paths(paths)
        self.encoding = encoding
        self.size = 0
        self._pending: list[tuple[Path, IO[bytes] | None, int, formats.Parsed | None]] = []
        # Hashing the bytes stands for them (reader.index_cache) only where a file can be read again.
        self.regular = True
        try:
            for path in self.files:
                handle, regular = _open(path)
                self.regular = self.regular and regular
                structured = _read_structured(path, handle, encoding)
                if structured is not None:
                    parsed, size = structured
                    self.size += size
                    self._pending.append((path, None, size, parsed))
                    continue
                size = _check_file(path, encoding, check_whole, handle)
                self.size += size
                if regular and len(self._pending) >= KEEP_OPEN:
                    handle.close()
                    self._pending.append((path, None, size, None))
                else:
                    self._pending.append((path, handle, size, None))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the files not parsed yet (a loader dropped before :meth:`batches` ran)."""
        for _path, handle, _size, _parsed in self._pending:
            if handle is not None:
                handle.close()
        self._pending = []

    def batches(self, library: Library, batch: int = 5000) -> Iterator[tuple[list[Paper], float]]:
        """Parse into ``library``; yield each batch of new papers and the fraction done."""
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
            path, handle, size, parsed = self._pending.pop(0)
            if parsed is not None:
                new = self._add_structured(library, index, path, parsed, content)
            else:
                if handle is None:
                    handle, _regular = _open(path)
                with handle:
                    new = yield from self._parse(library, index, path, handle, done, batch, content)
            done += size
            if not self._pending and content is not None:
                library.content_key = content.hexdigest()
            yield new, min(1.0, done / max(self.size, 1))

    def _parse(
        self,
        library: Library,
        index: dict[str, Paper],
        path: Path,
        handle: IO[bytes],
        done: int,
        batch: int,
        content: Any,
    ) -> Generator[tuple[list[Paper], float], None, list[Paper]]:
        """One file's papers into ``library``, a batch at a time; returns the last (partial) batch."""
        source = str(path)
        library.files.append(source)
        new: list[Paper] = []
        consumed = 0
        file_hash = hashlib.blake2b(digest_size=32)
        lines = _read_lines(path, self.encoding, handle, file_hash)
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
                yield new, min(1.0, (done + consumed) / max(self.size, 1))
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
    """
    return LibraryLoader(paths, encoding, check_whole).load()


def bundled_digest() -> Path:
    """Path of the sample digest shipped inside the package."""
    return Path(__file__).with_name("data") / "trending-papers.txt"
